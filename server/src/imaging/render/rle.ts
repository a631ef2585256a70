/**
 * RLE Lossless (PS3.5 Annex G), written defensively: one frame is one fragment holding a 64-byte header
 * (segment count + 15 offsets) and one PackBits-style segment per byte plane, most significant byte first.
 * Header offsets are validated, every loop consumes input, and output never grows past the expected plane.
 */
import { malformed } from './errors.js';
import type { ImageInfo } from './image-info.js';
import { readBitFrame } from './native.js';
import { allocateSamples, storedValueReader, type SampleArray } from './samples.js';

const HEADER_LENGTH = 64;
const MAX_SEGMENTS = 15;
/** A replicate run is 2 input bytes for at most 128 output bytes: the best compression RLE can reach. */
const MAX_BYTES_PER_RUN = 128;

function readUint32LE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16)) + bytes[offset + 3] * 0x1000000;
}

/** Reads and checks the RLE header; returns the start offset of every segment. */
export function readRleHeader(bytes: Uint8Array, expectedSegments: number): number[] {
  if (bytes.length < HEADER_LENGTH) throw malformed(`RLE frame is ${bytes.length} bytes, shorter than its 64-byte header`);
  const count = readUint32LE(bytes, 0);
  if (count < 1 || count > MAX_SEGMENTS) throw malformed(`RLE header declares ${count} segments (must be 1 to 15)`);
  if (count !== expectedSegments) {
    throw malformed(`RLE header declares ${count} segments but the image needs ${expectedSegments} (one per byte plane)`);
  }
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    const offset = readUint32LE(bytes, 4 + i * 4);
    const previous = i === 0 ? HEADER_LENGTH - 1 : offsets[i - 1];
    if (i === 0 && offset !== HEADER_LENGTH) throw malformed(`RLE segment 1 starts at ${offset}, not right after the header (64)`);
    if (offset <= previous || offset >= bytes.length) {
      throw malformed(`RLE segment ${i + 1} offset ${offset} is out of order or past the end of the ${bytes.length}-byte frame`);
    }
    offsets.push(offset);
  }
  return offsets;
}

/**
 * Decodes one segment from bytes[start, end) into out[outStart, outStart + length).
 * Returns how many bytes were produced; never writes outside the target range.
 */
export function decodeRleSegment(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outStart: number,
  length: number,
): number {
  let pos = start;
  let written = 0;
  while (pos < end && written < length) {
    const header = bytes[pos++];
    if (header < 128) {
      // Literal run: copy the next header + 1 bytes (clipped to input and output).
      const count = Math.min(header + 1, end - pos, length - written);
      out.set(bytes.subarray(pos, pos + count), outStart + written);
      pos += header + 1;
      written += count;
    } else if (header > 128) {
      // Replicate run: repeat the next byte 257 − header times (2 … 128).
      if (pos >= end) break;
      const value = bytes[pos++];
      const count = Math.min(257 - header, length - written);
      out.fill(value, outStart + written, outStart + written + count);
      written += count;
    }
    // header === 128 (−128) is a no-op by definition.
  }
  return written;
}

export function decodeRleFrame(bytes: Uint8Array, info: ImageInfo): SampleArray {
  const pixels = info.rows * info.columns;
  const bytesPerSample = info.bitsAllocated === 1 ? 1 : info.bitsAllocated / 8;
  const segmentCount = info.samplesPerPixel * bytesPerSample;
  const planeLength = info.bitsAllocated === 1 ? Math.ceil(pixels / 8) : pixels;
  const offsets = readRleHeader(bytes, segmentCount);

  // Refuse before allocating if the segments are too short to ever fill the planes (decompression bombs).
  const minimumSegment = 2 * Math.ceil(planeLength / MAX_BYTES_PER_RUN);
  for (let s = 0; s < segmentCount; s++) {
    const end = s + 1 < segmentCount ? offsets[s + 1] : bytes.length;
    if (end - offsets[s] < minimumSegment) {
      throw malformed(`RLE segment ${s + 1} has ${end - offsets[s]} bytes, too few to decode ${planeLength} bytes`);
    }
  }

  const decoded = new Uint8Array(segmentCount * planeLength);
  for (let s = 0; s < segmentCount; s++) {
    const end = s + 1 < segmentCount ? offsets[s + 1] : bytes.length;
    const produced = decodeRleSegment(bytes, offsets[s], end, decoded, s * planeLength, planeLength);
    if (produced < planeLength) {
      throw malformed(`RLE segment ${s + 1} decodes to ${produced} bytes, expected ${planeLength}`);
    }
  }

  if (info.bitsAllocated === 1) return readBitFrame(decoded, 0, info, 0, false);
  return assemblePlanes(decoded, planeLength, bytesPerSample, info);
}

/** Combines byte planes (sample-major, most significant byte first) into interleaved stored values. */
function assemblePlanes(decoded: Uint8Array, planeLength: number, bytesPerSample: number, info: ImageInfo): SampleArray {
  const spp = info.samplesPerPixel;
  const out = allocateSamples(info, planeLength * spp);
  const stored = storedValueReader(info);
  for (let s = 0; s < spp; s++) {
    const firstPlane = s * bytesPerSample * planeLength;
    for (let p = 0; p < planeLength; p++) {
      let raw = 0;
      // Multiplication instead of << keeps 32-bit values positive.
      for (let b = 0; b < bytesPerSample; b++) raw = raw * 256 + decoded[firstPlane + b * planeLength + p];
      out[p * spp + s] = stored(raw);
    }
  }
  return out;
}
