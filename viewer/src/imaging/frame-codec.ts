// What a compressed frame really is, read from its own bit stream rather than trusted from the
// transfer syntax: a JPEG's start-of-frame marker names its coding process (only SOF3, lossless
// Huffman, goes to the JPEG lossless decoder); JPEG-LS and JPEG 2000 have their own signatures.
// Markers are big endian, read with dicom-parser's ByteStream; every length is bounds-checked by it.
import dicomParser from 'dicom-parser';

export type FrameCodec = 'jpeg-lossless' | 'jpeg-other' | 'jpeg-ls' | 'jpeg2000' | 'unknown';

// The markers that carry no length field (RSTn, SOI, EOI, TEM).
const STANDALONE = new Set([0xff01, 0xffd0, 0xffd1, 0xffd2, 0xffd3, 0xffd4, 0xffd5, 0xffd6, 0xffd7, 0xffd8, 0xffd9]);

export function frameCodec(bytes: Uint8Array): FrameCodec {
  if (bytes.length < 4) return 'unknown';
  // JP2 file (signature box) or a bare J2K code stream (SOC then SIZ).
  if (bytes[0] === 0x00 && bytes[1] === 0x00 && bytes[2] === 0x00 && bytes[3] === 0x0c) return 'jpeg2000';
  if (bytes[0] === 0xff && bytes[1] === 0x4f && bytes[2] === 0xff && bytes[3] === 0x51) return 'jpeg2000';
  try {
    const stream = new dicomParser.ByteStream(dicomParser.bigEndianByteArrayParser, bytes, 0);
    if (stream.readUint16() !== 0xffd8) return 'unknown';
    while (stream.position + 4 <= bytes.length) {
      const marker = stream.readUint16();
      if (marker >> 8 !== 0xff) return 'unknown';
      if (marker === 0xffff) {
        stream.seek(-1); // fill byte: the marker follows
        continue;
      }
      if (STANDALONE.has(marker)) continue;
      if (marker === 0xfff7) return 'jpeg-ls'; // SOF55
      if (marker === 0xffc3) return 'jpeg-lossless';
      if (marker >= 0xffc0 && marker <= 0xffcf && marker !== 0xffc4 && marker !== 0xffc8 && marker !== 0xffcc) {
        // Baseline, extended, progressive, or arithmetic-coded / hierarchical lossless: not ours.
        return 'jpeg-other';
      }
      if (marker === 0xffda) return 'unknown'; // start of scan before any start of frame
      const length = stream.readUint16();
      if (length < 2) return 'unknown';
      stream.seek(length - 2);
    }
  } catch {
    // ByteStream throws when a segment runs past the end: a truncated or foreign stream.
  }
  return 'unknown';
}
