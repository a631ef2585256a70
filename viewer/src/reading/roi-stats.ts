// Region-of-interest statistics for the rectangle and ellipse tools. A shape is given by two
// opposite corners (of the rectangle, or of the ellipse's bounding box) in image pixel
// coordinates, where pixel (column c, row r) covers [c, c+1) × [r, r+1): a pixel belongs to the
// region when its centre (c + ½, r + ½) lies inside the shape (on the edge counts as inside).
// Values are modality values — stored value × Rescale Slope + Rescale Intercept, i.e. HU on CT —
// and the standard deviation is the population one (divided by n), as PACS viewers report it.
// The area is the shape's own geometric area, in mm² from Pixel Spacing, else in px².
// Greyscale only (one value per pixel). Pure: unit-tested with small arrays.
import type { Point } from './measurements.js';

export type RoiKind = 'rectangle' | 'ellipse';

export interface RoiShape {
  kind: RoiKind;
  start: Point;
  end: Point;
}

export interface RoiStatistics {
  /** Number of pixels inside. */
  pixels: number;
  mean: number;
  stdDev: number;
  min: number;
  max: number;
}

export interface RoiArea {
  value: number;
  unit: 'mm²' | 'px²';
}

/** The statistics of the pixels inside the shape; undefined when no pixel centre lies inside. */
export function roiStatistics(pixels: ArrayLike<number>, width: number, height: number, slope: number, intercept: number, shape: RoiShape): RoiStatistics | undefined {
  let n = 0;
  let mean = 0;
  let squares = 0; // sum of squared differences from the running mean (Welford)
  let min = Infinity;
  let max = -Infinity;
  forEachPixelInside(width, height, shape, (index) => {
    const value = pixels[index] * slope + intercept;
    n++;
    const delta = value - mean;
    mean += delta / n;
    squares += delta * (value - mean);
    if (value < min) min = value;
    if (value > max) max = value;
  });
  if (n === 0) return undefined;
  return { pixels: n, mean, stdDev: Math.sqrt(squares / n), min, max };
}

export function roiArea(shape: RoiShape, rowSpacing?: number, columnSpacing?: number): RoiArea {
  const { width, height } = extent(shape);
  const box = rowSpacing && columnSpacing ? width * columnSpacing * height * rowSpacing : width * height;
  const value = shape.kind === 'ellipse' ? (Math.PI / 4) * box : box;
  return { value, unit: rowSpacing && columnSpacing ? 'mm²' : 'px²' };
}

/** Calls `visit` with the index (row × width + column) of every image pixel whose centre is inside. */
export function forEachPixelInside(width: number, height: number, shape: RoiShape, visit: (index: number) => void): void {
  const { left, top, width: w, height: h } = extent(shape);
  if (shape.kind === 'rectangle') {
    const [c0, c1] = centresBetween(left, left + w, width);
    const [r0, r1] = centresBetween(top, top + h, height);
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) visit(r * width + c);
    return;
  }
  const rx = w / 2;
  const ry = h / 2;
  if (rx <= 0 || ry <= 0) return;
  const cx = left + rx;
  const cy = top + ry;
  const [r0, r1] = centresBetween(top, top + h, height);
  for (let r = r0; r <= r1; r++) {
    const dy = (r + 0.5 - cy) / ry;
    if (dy * dy > 1) continue;
    const half = rx * Math.sqrt(1 - dy * dy);
    const [c0, c1] = centresBetween(cx - half, cx + half, width);
    for (let c = c0; c <= c1; c++) visit(r * width + c);
  }
}

/** The first and last index i in [0, count) with from ≤ i + ½ ≤ to (an empty range when none). */
function centresBetween(from: number, to: number, count: number): [number, number] {
  return [Math.max(0, Math.ceil(from - 0.5)), Math.min(count - 1, Math.floor(to - 0.5))];
}

function extent(shape: RoiShape): { left: number; top: number; width: number; height: number } {
  const left = Math.min(shape.start.x, shape.end.x);
  const top = Math.min(shape.start.y, shape.end.y);
  return { left, top, width: Math.abs(shape.end.x - shape.start.x), height: Math.abs(shape.end.y - shape.start.y) };
}
