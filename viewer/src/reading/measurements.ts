// The measurements of a reading session, each on one image, its points in image pixel
// coordinates (so they stay on the anatomy whatever the zoom, pan, rotation or flip): lengths,
// angles (angle.ts) and rectangle and ellipse regions (roi-stats.ts). The length in mm follows
// Pixel Spacing (row spacing vertical, column spacing horizontal, PS3.3 C.7.6.2.1.1); without it
// the length is given in pixels and says so. Pure: unit-tested.
import type { RoiArea, RoiKind, RoiStatistics } from './roi-stats.js';

export interface Point {
  x: number;
  y: number;
}

interface OnImage {
  id: number;
  imageId: string;
  /** 1-based position in the stack, for the side panel. */
  imageNumber: number;
}

export interface LengthMeasurement extends OnImage {
  kind: 'length';
  start: Point;
  end: Point;
  /** Undefined when the image has no Pixel Spacing. */
  millimetres?: number;
  pixels: number;
}

export interface AngleMeasurement extends OnImage {
  kind: 'angle';
  /** The end of the first arm, the vertex, the end of the second arm. */
  points: [Point, Point, Point];
  degrees: number;
  /** False when the image has no Pixel Spacing (the pixels were taken as square). */
  spacingUsed: boolean;
}

export interface RoiMeasurement extends OnImage {
  kind: RoiKind;
  /** Opposite corners of the rectangle, or of the ellipse's bounding box. */
  start: Point;
  end: Point;
  area: RoiArea;
  /** Undefined on a colour image (or when no pixel centre lies inside). */
  stats?: RoiStatistics;
  /** True on a colour image: no statistics. */
  colour: boolean;
  /** The unit of the modality values ("HU" on CT; empty when they have none). */
  unit: string;
}

export type Measurement = LengthMeasurement | AngleMeasurement | RoiMeasurement;
export type MeasurementKind = Measurement['kind'];
/** A measurement as the tools hand it over, before the list numbers it. */
export type NewMeasurement = Omit<LengthMeasurement, 'id'> | Omit<AngleMeasurement, 'id'> | Omit<RoiMeasurement, 'id'>;

/**
 * A measurement as plain data, for saving elsewhere (e.g. as FHIR Observations): the points in
 * image pixel coordinates (column, row; length: start, end; angle: arm, vertex, arm; rectangle
 * and ellipse: two opposite corners) and the values with UCUM units where UCUM has one — mm,
 * mm2, deg, [hnsf'U] (Hounsfield), 1 (a count, or a value without unit) — and px / px2 for
 * lengths and areas of images without Pixel Spacing.
 */
export interface MeasurementRecord {
  kind: MeasurementKind;
  imageId: string;
  imageNumber: number;
  points: Point[];
  values: { name: 'length' | 'angle' | 'area' | 'mean' | 'stdDev' | 'min' | 'max' | 'pixelCount'; value: number; unit: string }[];
}

export function measureLength(start: Point, end: Point, rowSpacing?: number, columnSpacing?: number): { millimetres?: number; pixels: number } {
  const dx = end.x - start.x;
  const dy = end.y - start.y;
  const pixels = Math.hypot(dx, dy);
  if (!rowSpacing || !columnSpacing) return { pixels };
  return { pixels, millimetres: Math.hypot(dx * columnSpacing, dy * rowSpacing) };
}

export function formatLength(m: { millimetres?: number; pixels: number }): string {
  return m.millimetres !== undefined ? `${m.millimetres.toFixed(1)} mm` : `${m.pixels.toFixed(1)} px`;
}

/** The measurements of a reading session, in the order they were drawn. */
export class MeasurementList {
  private items: Measurement[] = [];
  private nextId = 1;
  private readonly listeners = new Set<() => void>();

  all(): readonly Measurement[] {
    return this.items;
  }

  on(imageId: string): Measurement[] {
    return this.items.filter((m) => m.imageId === imageId);
  }

  add(measurement: NewMeasurement): Measurement {
    const added = { ...measurement, id: this.nextId++ } as Measurement;
    this.items.push(added);
    this.changed();
    return added;
  }

  remove(id: number): void {
    this.items = this.items.filter((m) => m.id !== id);
    this.changed();
  }

  clear(): void {
    this.items = [];
    this.changed();
  }

  /** Every measurement as plain data (copies: changing them changes nothing here). */
  records(): MeasurementRecord[] {
    return this.items.map(measurementRecord);
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

const HOUNSFIELD_UCUM = "[hnsf'U]";

export function measurementRecord(m: Measurement): MeasurementRecord {
  const base = { kind: m.kind, imageId: m.imageId, imageNumber: m.imageNumber };
  const copy = (p: Point): Point => ({ x: p.x, y: p.y });
  switch (m.kind) {
    case 'length':
      return {
        ...base,
        points: [copy(m.start), copy(m.end)],
        values: [m.millimetres !== undefined ? { name: 'length', value: m.millimetres, unit: 'mm' } : { name: 'length', value: m.pixels, unit: 'px' }],
      };
    case 'angle':
      return { ...base, points: m.points.map(copy), values: [{ name: 'angle', value: m.degrees, unit: 'deg' }] };
    case 'rectangle':
    case 'ellipse': {
      const unit = m.unit === 'HU' ? HOUNSFIELD_UCUM : m.unit || '1';
      const values: MeasurementRecord['values'] = [{ name: 'area', value: m.area.value, unit: m.area.unit === 'mm²' ? 'mm2' : 'px2' }];
      if (m.stats) {
        values.push(
          { name: 'mean', value: m.stats.mean, unit },
          { name: 'stdDev', value: m.stats.stdDev, unit },
          { name: 'min', value: m.stats.min, unit },
          { name: 'max', value: m.stats.max, unit },
          { name: 'pixelCount', value: m.stats.pixels, unit: '1' },
        );
      }
      return { ...base, points: [copy(m.start), copy(m.end)], values };
    }
  }
}
