// jpeg-lossless-decoder-js 2.1.2 names a declaration file it does not ship; the one class used here.
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    constructor(buffer?: ArrayBuffer | null, numBytes?: number);
    /** Decodes a JPEG lossless (Huffman, processes 14/SV1) bit stream; 8-bit → Uint8Array, otherwise Uint16Array. */
    decode(buffer?: ArrayBuffer, offset?: number, length?: number, numBytes?: number): Uint8Array | Uint16Array;
  }
}
