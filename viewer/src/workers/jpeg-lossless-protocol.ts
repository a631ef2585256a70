// Messages between the page and the JPEG lossless worker. Buffers are transferred, not copied.
export interface DecodeRequest {
  id: number;
  /** The frame's JPEG bit stream, alone in its buffer. */
  frame: ArrayBuffer;
  /** Bytes per sample: 1 for ≤ 8 bits, 2 otherwise. */
  bytesPerSample: 1 | 2;
}

export type DecodeReply =
  | { id: number; ok: true; pixels: ArrayBuffer; bytesPerSample: 1 | 2 }
  | { id: number; ok: false; error: string };
