/**
 * Native (uncompressed) pixel data: little/big endian, 1/8/16/32 bits allocated, planar configuration,
 * and subsampled YBR_FULL_422 (PS3.3 C.7.6.3.1.2: two luminance samples share one Cb/Cr pair).
 * The full size of all frames is checked against the bytes actually present before anything is read.
 */
import type { DataSet } from 'dicom-parser';
import { malformed } from './errors.js';
import type { ImageInfo } from './image-info.js';
import { allocateSamples, storedValueReader, type SampleArray } from './samples.js';

/** Bits one frame occupies in the pixel data element. */
function frameBits(info: ImageInfo): number {
  const pixels = info.rows * info.columns;
  // Native YBR_FULL_422 stores Y0 Y1 Cb Cr per pair of pixels: 2 samples per pixel on average.
  const storedSamples = info.photometric === 'YBR_FULL_422' ? 2 : info.samplesPerPixel;
  return pixels * storedSamples * info.bitsAllocated;
}

/** Bytes of the pixel data element that really exist in the buffer (a header can claim more than the file holds). */
function availableBytes(dataSet: DataSet, info: ImageInfo): number {
  const element = info.pixelData;
  const inBuffer = Math.max(0, dataSet.byteArray.length - element.dataOffset);
  return Math.min(element.length, inBuffer);
}

export function readNativeFrame(dataSet: DataSet, info: ImageInfo, frame: number, bigEndian: boolean): SampleArray {
  if (info.pixelData.encapsulatedPixelData) {
    throw malformed('pixel data is encapsulated (compressed) but the transfer syntax says it is native');
  }
  if (info.photometric === 'YBR_FULL_422' && (info.planarConfiguration !== 0 || info.columns % 2 !== 0)) {
    throw malformed('YBR_FULL_422 pixel data needs Planar Configuration 0 and an even number of columns');
  }
  const bitsPerFrame = frameBits(info);
  const needed = Math.ceil((bitsPerFrame * info.numberOfFrames) / 8);
  const available = availableBytes(dataSet, info);
  if (needed > available) {
    throw malformed(
      `pixel data holds ${available} bytes but ${info.numberOfFrames} frame(s) of ${info.columns}×${info.rows}` +
        ` × ${info.samplesPerPixel} sample(s) at ${info.bitsAllocated} bits need ${needed}`,
    );
  }
  const bytes = dataSet.byteArray;
  const base = info.pixelData.dataOffset;
  if (info.bitsAllocated === 1) return readBitFrame(bytes, base, info, frame * bitsPerFrame, bigEndian);

  const frameOffset = (frame * bitsPerFrame) / 8; // whole bytes: BitsAllocated is 8, 16 or 32 here
  const view = new DataView(bytes.buffer, bytes.byteOffset + base + frameOffset, bitsPerFrame / 8);
  // In big endian, 8-bit data with VR OW is byte-swapped in 16-bit words (PS3.5 A.3); OB is not.
  // Words are counted from the start of the element, so swap on the element-relative index.
  const swap8 = bigEndian && info.pixelData.vr === 'OW';
  const readRaw: (index: number) => number =
    info.bitsAllocated === 8
      ? (i) => bytes[base + wordSwapped(frameOffset + i, swap8)] ?? 0
      : info.bitsAllocated === 16
        ? (i) => view.getUint16(i * 2, !bigEndian)
        : (i) => view.getUint32(i * 4, !bigEndian);

  if (info.photometric === 'YBR_FULL_422') return readYbr422(readRaw, info);
  return readInterleaved(readRaw, info);
}

/** Index of a byte after swapping the two bytes of each 16-bit word (arithmetic, not ^, to stay exact past 2^31). */
function wordSwapped(index: number, swap: boolean): number {
  if (!swap) return index;
  return index % 2 === 0 ? index + 1 : index - 1;
}

/** Copies samples into pixel-interleaved order, undoing Planar Configuration 1 (RRR…GGG…BBB…). */
function readInterleaved(readRaw: (index: number) => number, info: ImageInfo): SampleArray {
  const pixels = info.rows * info.columns;
  const spp = info.samplesPerPixel;
  const out = allocateSamples(info, pixels * spp);
  const stored = storedValueReader(info);
  if (spp === 1 || info.planarConfiguration === 0) {
    for (let i = 0; i < out.length; i++) out[i] = stored(readRaw(i));
    return out;
  }
  for (let s = 0; s < spp; s++) {
    for (let p = 0; p < pixels; p++) out[p * spp + s] = stored(readRaw(s * pixels + p));
  }
  return out;
}

/** Expands Y0 Y1 Cb Cr groups to full resolution Y Cb Cr triplets (values stay YCbCr; window.ts converts). */
function readYbr422(readRaw: (index: number) => number, info: ImageInfo): SampleArray {
  const pixels = info.rows * info.columns;
  const out = allocateSamples(info, pixels * 3);
  const stored = storedValueReader(info);
  for (let pair = 0; pair < pixels / 2; pair++) {
    const y0 = stored(readRaw(pair * 4));
    const y1 = stored(readRaw(pair * 4 + 1));
    const cb = stored(readRaw(pair * 4 + 2));
    const cr = stored(readRaw(pair * 4 + 3));
    const o = pair * 6;
    out[o] = y0;
    out[o + 1] = cb;
    out[o + 2] = cr;
    out[o + 3] = y1;
    out[o + 4] = cb;
    out[o + 5] = cr;
  }
  return out;
}

/**
 * 1-bit data is packed 8 pixels per byte, first pixel in the least significant bit (PS3.5 8.1.1);
 * frames follow each other bit by bit, so a frame may start in the middle of a byte.
 */
export function readBitFrame(
  bytes: Uint8Array,
  base: number,
  info: ImageInfo,
  startBit: number,
  bigEndian: boolean,
): Uint8Array {
  const pixels = info.rows * info.columns;
  const out = new Uint8Array(pixels);
  const swap = bigEndian && info.pixelData.vr === 'OW';
  for (let p = 0; p < pixels; p++) {
    const bit = startBit + p; // may exceed 2^32 for long multi-frame data: no >>> on it
    const byte = bytes[base + wordSwapped(Math.floor(bit / 8), swap)] ?? 0;
    out[p] = (byte >>> (bit % 8)) & 1;
  }
  return out;
}
