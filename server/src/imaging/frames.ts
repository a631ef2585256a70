// Frames for WADO-RS `frames/{n}` (PS3.18 §10.4.1.1.3). Native pixel data is read straight from
// the stored object at the frame's offset (no parse) and always leaves as explicit VR little
// endian; encapsulated frames leave as stored, or decoded to native where the hub has a decoder
// (RLE, JPEG baseline). Numbers are checked against the instance's frame count first.
import type { DataSet } from 'dicom-parser';
import { NotAcceptable, NotFound, Unprocessable } from '../fhir/errors.js';
import type { BlobStore } from './blob-store.js';
import { isNativeSyntax, parseInstance, TS } from './parse-instance.js';
import { decodeFrame, RenderError } from './render/index.js';
import { readEncapsulatedFrame } from './render/encapsulated.js';
import { readImageInfo } from './render/image-info.js';

export interface FrameSource {
  blob_key: string;
  size: string | number;
  transfer_syntax: string;
  frames: number | null;
  bits_allocated: number | null;
  pixel_offset: string | number | null;
  frame_length: string | number | null;
  encapsulated: boolean;
}

export interface FramePart {
  bytes: Uint8Array;
  transferSyntax: string;
  mediaType: string;
}

/** PS3.18 Table 8.7.3-3: the image media type of each compressed transfer syntax. */
const MEDIA_TYPES: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'image/jpeg',
  '1.2.840.10008.1.2.4.51': 'image/jpeg',
  '1.2.840.10008.1.2.4.57': 'image/jpeg',
  '1.2.840.10008.1.2.4.70': 'image/jpeg',
  '1.2.840.10008.1.2.4.80': 'image/jls',
  '1.2.840.10008.1.2.4.81': 'image/jls',
  '1.2.840.10008.1.2.4.90': 'image/jp2',
  '1.2.840.10008.1.2.4.91': 'image/jp2',
  '1.2.840.10008.1.2.4.201': 'image/jphc',
  '1.2.840.10008.1.2.4.202': 'image/jphc',
  '1.2.840.10008.1.2.4.203': 'image/jphc',
  '1.2.840.10008.1.2.5': 'image/x-dicom-rle',
};
const DECODABLE = new Set<string>(['1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.50']);
const JPEG = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70']);

export function storedMediaType(transferSyntax: string): string {
  return MEDIA_TYPES[transferSyntax] ?? 'application/octet-stream';
}

/** Whether frames of this instance can be sent uncompressed (explicit VR LE). */
export function canSendUncompressed(source: FrameSource): boolean {
  return !source.encapsulated || DECODABLE.has(source.transfer_syntax);
}

/**
 * Parses "1,3,5" against the instance's frame count; 404 names the frames it does not have. A
 * frame asked for twice is sent once, so no list asks for more than the instance holds.
 */
export function frameNumbers(list: string, source: FrameSource): number[] {
  const count = source.frames ?? (source.pixel_offset === null && !source.encapsulated ? 0 : 1);
  if (count === 0) throw new NotFound('This instance has no pixel data, so no frames');
  const numbers = list.split(',').map((n) => n.trim());
  if (numbers.some((n) => !/^\d{1,9}$/.test(n))) throw new NotFound(`Frame list '${list.slice(0, 40)}' must be comma-separated frame numbers (from 1)`);
  const bad = numbers.map(Number).filter((n) => n < 1 || n > count);
  if (bad.length) throw new NotFound(`Frame ${[...new Set(bad)].slice(0, 20).join(', ')} does not exist; this instance has ${count} frame(s)`);
  return [...new Set(numbers.map(Number))];
}

export async function readFrames(blobs: BlobStore, source: FrameSource, numbers: number[], uncompressed: boolean): Promise<FramePart[]> {
  const native = isNativeSyntax(source.transfer_syntax);
  if (native && source.transfer_syntax !== TS.deflatedLE && source.frame_length !== null && source.pixel_offset !== null) {
    const length = Number(source.frame_length);
    const swap = source.transfer_syntax === TS.explicitBE ? (source.bits_allocated ?? 8) / 8 : 1;
    // One read from the first frame asked for to the last: at most the pixel data once.
    const first = Math.min(...numbers);
    const span = await blobs.read(source.blob_key, Number(source.pixel_offset) + (first - 1) * length, (Math.max(...numbers) - first + 1) * length);
    return numbers.map((n) => {
      const bytes = span.subarray((n - first) * length, (n - first + 1) * length);
      if (bytes.length < length) throw new Unprocessable(`Frame ${n} runs past the end of the stored object`);
      return uncompressedPart(swap > 1 ? swapBytes(bytes, swap) : bytes);
    });
  }
  if (!native && uncompressed && !DECODABLE.has(source.transfer_syntax)) {
    throw new NotAcceptable(`Frames are stored as ${source.transfer_syntax}, which this hub cannot decode; ask with transfer-syntax=* (or for ${storedMediaType(source.transfer_syntax)})`);
  }
  const { dataSet, transferSyntax } = parseInstance(await blobs.read(source.blob_key, 0, Number(source.size)));
  return numbers.map((n) => (native || uncompressed ? decodedPart(dataSet, transferSyntax, n - 1) : storedPart(dataSet, transferSyntax, n - 1)));
}

function storedPart(dataSet: DataSet, transferSyntax: string, frame: number): FramePart {
  try {
    const bytes = readEncapsulatedFrame(dataSet, readImageInfo(dataSet), frame, JPEG.has(transferSyntax));
    return { bytes, transferSyntax, mediaType: storedMediaType(transferSyntax) };
  } catch (err) {
    if (err instanceof RenderError) throw new Unprocessable(`Frame ${frame + 1} cannot be read: ${err.message}`);
    throw err;
  }
}

/** Native (or decoded) values back to stored-value bytes, little endian, pixel-interleaved. */
function decodedPart(dataSet: DataSet, transferSyntax: string, frame: number): FramePart {
  let decoded;
  try {
    decoded = decodeFrame(dataSet, transferSyntax, frame);
  } catch (err) {
    if (err instanceof RenderError) throw err.status === 415 ? new NotAcceptable(err.message) : new Unprocessable(err.message);
    throw err;
  }
  const bits = readImageInfo(dataSet).bitsAllocated;
  const values = decoded.values;
  const bytes =
    bits <= 8 ? Uint8Array.from(values) : bits === 16 ? new Uint8Array(Uint16Array.from(values, (v) => v & 0xffff).buffer) : new Uint8Array(Uint32Array.from(values, (v) => v >>> 0).buffer);
  return uncompressedPart(bytes);
}

function uncompressedPart(bytes: Uint8Array): FramePart {
  return { bytes, transferSyntax: TS.explicitLE, mediaType: 'application/octet-stream' };
}

function swapBytes(bytes: Uint8Array, width: number): Uint8Array {
  const out = Buffer.from(bytes);
  if (width === 2) out.swap16();
  else if (width === 4) out.swap32();
  else if (width === 8) out.swap64();
  return out;
}
