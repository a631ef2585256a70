// Length measurements: two points in image pixel coordinates, on one image. The length in mm
// follows Pixel Spacing (row spacing vertical, column spacing horizontal, PS3.3 C.7.6.2.1.1);
// without it the length is given in pixels and says so. Pure: unit-tested.
export interface Point {
  x: number;
  y: number;
}

export interface LengthMeasurement {
  id: number;
  imageId: string;
  /** 1-based position in the stack, for the side panel. */
  imageNumber: number;
  start: Point;
  end: Point;
  /** Undefined when the image has no Pixel Spacing. */
  millimetres?: number;
  pixels: number;
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
  private items: LengthMeasurement[] = [];
  private nextId = 1;
  private readonly listeners = new Set<() => void>();

  all(): readonly LengthMeasurement[] {
    return this.items;
  }

  on(imageId: string): LengthMeasurement[] {
    return this.items.filter((m) => m.imageId === imageId);
  }

  add(measurement: Omit<LengthMeasurement, 'id'>): LengthMeasurement {
    const added = { ...measurement, id: this.nextId++ };
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

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
