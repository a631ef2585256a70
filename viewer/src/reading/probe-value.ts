// What the pixel value probe reads at a point of the image: the pixel's column and row, and its
// modality value (stored value × Rescale Slope + Intercept) for greyscale, or its red, green and
// blue for colour (the viewer's colour images hold four values per pixel, RGBA). Pure.
import type { Point } from './measurements.js';

export interface ProbeImage {
  width: number;
  height: number;
  color: boolean;
  slope: number;
  intercept: number;
  getPixelData: () => ArrayLike<number>;
}

export type ProbeReading =
  | { column: number; row: number; kind: 'grey'; value: number }
  | { column: number; row: number; kind: 'rgb'; red: number; green: number; blue: number };

/** The reading at `point` (image pixel coordinates), or undefined outside the image. */
export function probeAt(image: ProbeImage, point: Point): ProbeReading | undefined {
  const column = Math.floor(point.x);
  const row = Math.floor(point.y);
  if (!(column >= 0 && row >= 0 && column < image.width && row < image.height)) return undefined;
  const pixels = image.getPixelData();
  const index = row * image.width + column;
  if (image.color) return { column, row, kind: 'rgb', red: pixels[index * 4], green: pixels[index * 4 + 1], blue: pixels[index * 4 + 2] };
  return { column, row, kind: 'grey', value: pixels[index] * image.slope + image.intercept };
}

/** The value as shown: whole numbers as they are, others to two decimals; the unit after it. */
export function formatProbeValue(reading: ProbeReading, unit: string): string {
  if (reading.kind === 'rgb') return `R ${reading.red} G ${reading.green} B ${reading.blue}`;
  return `${formatModalityValue(reading.value)}${unit ? ` ${unit}` : ''}`;
}

export function formatModalityValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) >= 100 ? 1 : 2);
}
