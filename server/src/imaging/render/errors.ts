/**
 * Typed failures of the renderer. The HTTP layer maps `status` straight onto the response, so every
 * message must say in plain words what is wrong with the instance (it is shown to the client).
 */

/** 415: we cannot render this kind of object; 422: the object is inconsistent or its pixel data is malformed. */
export class RenderError extends Error {
  constructor(
    message: string,
    readonly status: 415 | 422,
  ) {
    super(message);
    this.name = 'RenderError';
  }
}

/** The requested frame number does not exist in the instance (WADO-RS answers 404). */
export class FrameNotFound extends Error {
  readonly status = 404 as const;
  constructor(
    readonly frame: number,
    readonly numberOfFrames: number,
  ) {
    super(`frame ${frame} does not exist: the instance has ${numberOfFrames} frame(s) (frames are numbered from 0 here)`);
    this.name = 'FrameNotFound';
  }
}

/** Shorthand for the most common case: malformed or inconsistent pixel data. */
export function malformed(message: string): RenderError {
  return new RenderError(message, 422);
}

/** Shorthand for "we do not support rendering this". */
export function unsupported(message: string): RenderError {
  return new RenderError(message, 415);
}
