// Frame bytes → the pixel arrays cornerstone draws: stored values (before Rescale and VOI) for
// greyscale, RGBA bytes for colour. Pure (no DOM), so it is unit-tested; lengths are checked
// against the image size before any value is read.
import { Undisplayable } from './errors.js';
import type { ImageInfo } from './image-info.js';

export type GreyPixels = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

export interface DecodedPixels {
  color: boolean;
  /** Greyscale: one stored value per pixel. Colour: RGBA, 4 bytes per pixel. */
  pixels: GreyPixels;
  min: number;
  max: number;
}

/**
 * Greyscale frame bytes (little endian, as the hub sends native pixel data) → stored values.
 * Bits above Bits Stored are masked off (they may carry overlay planes), signed values sign-extended.
 */
export function greyscalePixels(bytes: Uint8Array, info: ImageInfo): DecodedPixels {
  const count = info.rows * info.columns;
  const signed = info.pixelRepresentation === 1;
  let pixels: GreyPixels;
  if (info.bitsAllocated === 1) {
    need(bytes, Math.ceil(count / 8));
    pixels = new Uint8Array(count);
    // PS3.5 8.1.1: the first pixel is the least significant bit of the first byte.
    for (let i = 0; i < count; i++) pixels[i] = (bytes[i >> 3] >> (i & 7)) & 1;
  } else {
    const width = info.bitsAllocated / 8;
    need(bytes, count * width);
    // A copy: the frame sits at any offset in the response, and typed arrays need alignment.
    const buffer = bytes.slice(0, count * width).buffer;
    pixels =
      width === 1 ? (signed ? new Int8Array(buffer) : new Uint8Array(buffer))
      : width === 2 ? (signed ? new Int16Array(buffer) : new Uint16Array(buffer))
      : signed ? new Int32Array(buffer) : new Uint32Array(buffer);
    if (info.bitsStored < info.bitsAllocated) keepStoredBits(pixels, info.bitsStored, signed);
  }
  const [min, max] = range(pixels);
  return { color: false, pixels, min, max };
}

function keepStoredBits(pixels: GreyPixels, bitsStored: number, signed: boolean): void {
  const shift = 32 - bitsStored;
  const mask = bitsStored >= 32 ? 0xffffffff : (1 << bitsStored) - 1;
  for (let i = 0; i < pixels.length; i++) {
    pixels[i] = signed ? (pixels[i] << shift) >> shift : (pixels[i] & mask) >>> 0;
  }
}

function range(pixels: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return pixels.length ? [min, max] : [0, 0];
}

/**
 * Colour frame bytes → RGBA. `photometric` is what the bytes are now (the loader says RGB for
 * lossy JPEG the hub decoded); planar configuration applies to native pixel data only.
 */
export function colourPixels(bytes: Uint8Array, info: ImageInfo, photometric: string, planar: boolean): DecodedPixels {
  const count = info.rows * info.columns;
  if (photometric === 'PALETTE COLOR' || !['RGB', 'YBR_FULL', 'YBR_FULL_422'].includes(photometric)) {
    throw new Undisplayable('unsupportedPhotometric', { photometric });
  }
  // YBR_FULL_422 stays subsampled in native pixel data; decoded by the hub it is full size.
  const subsampled = photometric === 'YBR_FULL_422' && bytes.length < count * 3 * (info.bitsAllocated / 8);
  const samples = eightBitSamples(bytes, info, subsampled ? count * 2 : count * 3);
  const rgba = new Uint8Array(count * 4);
  if (subsampled) {
    // Native 4:2:2: each pair of pixels in a row is stored Y1 Y2 Cb Cr (PS3.3 C.7.6.3.1.2).
    if (info.columns % 2) throw new Undisplayable('unsupportedPixels', { detail: 'YBR_FULL_422 with an odd number of columns' });
    for (let p = 0, s = 0; p < count; p += 2, s += 4) {
      ybrToRgba(samples[s], samples[s + 2], samples[s + 3], rgba, p * 4);
      ybrToRgba(samples[s + 1], samples[s + 2], samples[s + 3], rgba, p * 4 + 4);
    }
    return { color: true, pixels: rgba, min: 0, max: 255 };
  }
  const ybr = photometric !== 'RGB';
  for (let p = 0; p < count; p++) {
    const [a, b, c] = planar ? [samples[p], samples[p + count], samples[p + 2 * count]] : [samples[p * 3], samples[p * 3 + 1], samples[p * 3 + 2]];
    if (ybr) ybrToRgba(a, b, c, rgba, p * 4);
    else {
      rgba[p * 4] = a;
      rgba[p * 4 + 1] = b;
      rgba[p * 4 + 2] = c;
      rgba[p * 4 + 3] = 255;
    }
  }
  return { color: true, pixels: rgba, min: 0, max: 255 };
}

/** The samples as 8-bit values (16-bit colour is shifted down to its top 8 stored bits). */
function eightBitSamples(bytes: Uint8Array, info: ImageInfo, sampleCount: number): Uint8Array {
  if (info.bitsAllocated === 8) {
    need(bytes, sampleCount);
    return bytes.subarray(0, sampleCount);
  }
  if (info.bitsAllocated !== 16) throw new Undisplayable('unsupportedPixels', { detail: `colour with Bits Allocated ${info.bitsAllocated}` });
  need(bytes, sampleCount * 2);
  const wide = new Uint16Array(bytes.slice(0, sampleCount * 2).buffer);
  const shift = Math.max(0, info.bitsStored - 8);
  return Uint8Array.from(wide, (v) => v >> shift);
}

/** YCbCr full range (ITU-R BT.601, PS3.3 C.7.6.3.1.2) → RGB. */
function ybrToRgba(y: number, cb: number, cr: number, out: Uint8Array, at: number): void {
  out[at] = clamp(y + 1.402 * (cr - 128));
  out[at + 1] = clamp(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128));
  out[at + 2] = clamp(y + 1.772 * (cb - 128));
  out[at + 3] = 255;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

function need(bytes: Uint8Array, length: number): void {
  if (bytes.length < length) throw new Undisplayable('decodeFailed', { detail: `the frame has ${bytes.length} bytes, the image needs ${length}` });
}
