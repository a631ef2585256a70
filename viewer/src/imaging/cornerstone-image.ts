// The Cornerstone Image Object for decoded pixels. Greyscale keeps stored values (cornerstone
// applies Rescale Slope/Intercept and the VOI window itself); without a window in the header
// the default window spans the image's own value range.
import type { Image } from 'cornerstone-core';
import { Undisplayable } from './errors.js';
import type { ImageInfo } from './image-info.js';
import type { DecodedPixels } from './pixel-data.js';

// cornerstone builds a lookup table over [min, max]; past this span it would take gigabytes.
const MAX_VALUE_SPAN = 1 << 24;

export function cornerstoneImage(imageId: string, info: ImageInfo, decoded: DecodedPixels): Image {
  const { pixels, min, max, color } = decoded;
  if (max - min > MAX_VALUE_SPAN) throw new Undisplayable('unsupportedPixels', { detail: `values span ${min}…${max}` });
  let center = info.windowCenter;
  let width = info.windowWidth;
  if (color) {
    center = 128;
    width = 255;
  } else if (center === undefined || width === undefined) {
    const low = min * info.slope + info.intercept;
    const high = max * info.slope + info.intercept;
    center = (low + high) / 2;
    width = Math.max(1, high - low);
  }
  return {
    imageId,
    minPixelValue: min,
    maxPixelValue: max,
    slope: color ? 1 : info.slope,
    intercept: color ? 0 : info.intercept,
    windowCenter: center,
    windowWidth: width,
    getPixelData: () => pixels,
    rows: info.rows,
    columns: info.columns,
    height: info.rows,
    width: info.columns,
    color,
    rgba: false,
    rowPixelSpacing: info.rowSpacing,
    columnPixelSpacing: info.columnSpacing,
    invert: !color && info.photometric === 'MONOCHROME1',
    sizeInBytes: pixels.byteLength,
  };
}
