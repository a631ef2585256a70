// Why an image cannot be shown, in terms the viewport's message can explain (see i18n keys
// reason*). Thrown by the loader; anything else thrown is reported as a decoding failure.
export type UndisplayableReason = 'unsupportedSyntax' | 'unsupportedPhotometric' | 'unsupportedPixels' | 'decodeFailed' | 'timeout' | 'network' | 'server';

export class Undisplayable extends Error {
  constructor(
    readonly reason: UndisplayableReason,
    readonly detail: Record<string, string | number> = {},
  ) {
    super(`${reason}: ${JSON.stringify(detail)}`);
  }
}
