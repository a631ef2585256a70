// Angle measurements: three points in image pixel coordinates, the vertex in the middle. The
// angle is taken between the two arms in millimetres (columns scaled by column spacing, rows by
// row spacing), so an image with non-square pixels gives the angle as it is in the patient, not
// as it looks in the pixel grid. Without Pixel Spacing the pixels are taken as square, and the
// result says so. Pure: unit-tested.
import type { Point } from './measurements.js';

export interface AngleResult {
  /** 0–180. */
  degrees: number;
  /** False when the image has no Pixel Spacing and the pixels were taken as square. */
  spacingUsed: boolean;
}

export function measureAngle(arm1: Point, vertex: Point, arm2: Point, rowSpacing?: number, columnSpacing?: number): AngleResult {
  const spacingUsed = Boolean(rowSpacing && columnSpacing);
  const sx = spacingUsed ? columnSpacing! : 1;
  const sy = spacingUsed ? rowSpacing! : 1;
  const ux = (arm1.x - vertex.x) * sx;
  const uy = (arm1.y - vertex.y) * sy;
  const wx = (arm2.x - vertex.x) * sx;
  const wy = (arm2.y - vertex.y) * sy;
  // atan2 of |cross| and dot: accurate near 0° and 180°, where acos of a ratio is not.
  const radians = Math.atan2(Math.abs(ux * wy - uy * wx), ux * wx + uy * wy);
  return { degrees: (radians * 180) / Math.PI, spacingUsed };
}

export function formatAngle(degrees: number): string {
  return `${degrees.toFixed(1)}°`;
}
