/**
 * Thumbnail downscaling: area (box) averaging, which is cheap and avoids the aliasing of nearest-neighbour.
 * Never upscales; keeps the aspect ratio.
 */
import type { DisplayImage } from './window.js';

/** Start index (inclusive) of the source span covering output position i of n, over a source of length size. */
function spanStarts(size: number, n: number): Int32Array {
  const starts = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) starts[i] = Math.floor((i * size) / n);
  return starts;
}

/** Returns an image no larger than maxWidth × maxHeight (the input itself when it already fits). */
export function fitWithin(image: DisplayImage, maxWidth: number, maxHeight: number): DisplayImage {
  if (!(maxWidth >= 1) || !(maxHeight >= 1)) throw new RangeError('maximum thumbnail size must be at least 1×1');
  const { width, height, channels, data } = image;
  const scale = Math.min(maxWidth / width, maxHeight / height, 1);
  if (scale === 1) return image;
  const outWidth = Math.max(1, Math.min(Math.floor(maxWidth), Math.round(width * scale)));
  const outHeight = Math.max(1, Math.min(Math.floor(maxHeight), Math.round(height * scale)));
  // Each output pixel averages the source block [xs[x], xs[x+1]) × [ys[y], ys[y+1]); blocks tile the source.
  const xs = spanStarts(width, outWidth);
  const ys = spanStarts(height, outHeight);
  const out = new Uint8Array(outWidth * outHeight * channels);
  const sums = new Float64Array(channels);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      sums.fill(0);
      for (let sy = ys[y]; sy < ys[y + 1]; sy++) {
        let index = (sy * width + xs[x]) * channels;
        for (let sx = xs[x]; sx < xs[x + 1]; sx++) {
          for (let c = 0; c < channels; c++) sums[c] += data[index++];
        }
      }
      const count = (ys[y + 1] - ys[y]) * (xs[x + 1] - xs[x]);
      const o = (y * outWidth + x) * channels;
      for (let c = 0; c < channels; c++) out[o + c] = Math.round(sums[c] / count);
    }
  }
  return { width: outWidth, height: outHeight, channels, data: out };
}
