/**
 * Turns raw container values (what sits in BitsAllocated bits) into stored pixel values:
 * keep only the BitsStored bits ending at HighBit (other bits may hold overlays or garbage),
 * then sign-extend when Pixel Representation is 1.
 */
import type { ImageInfo } from './image-info.js';

export type SampleArray = Int32Array | Float32Array | Uint8Array;

/** Chooses the narrowest array that holds every possible stored value exactly (32-bit unsigned needs floats). */
export function allocateSamples(info: ImageInfo, length: number): SampleArray {
  if (info.bitsStored <= 8 && !info.isSigned) return new Uint8Array(length);
  if (info.bitsStored === 32 && !info.isSigned) return new Float32Array(length);
  return new Int32Array(length);
}

/** Returns a function mapping a raw container value (0 … 2^BitsAllocated − 1) to its stored value. */
export function storedValueReader(info: ImageInfo): (raw: number) => number {
  const { bitsStored, highBit, isSigned } = info;
  const shift = highBit + 1 - bitsStored;
  if (bitsStored === 32) {
    // Whole 32-bit container: only the sign interpretation matters.
    return isSigned ? (raw) => raw | 0 : (raw) => raw >>> 0;
  }
  const mask = 2 ** bitsStored - 1; // < 2^31, so bitwise AND is safe
  const signBit = 2 ** (bitsStored - 1);
  const range = 2 ** bitsStored;
  if (!isSigned) return (raw) => (raw >>> shift) & mask;
  return (raw) => {
    const value = (raw >>> shift) & mask;
    return value >= signBit ? value - range : value;
  };
}
