// Measurements saved to the study (the hub keeps them as FHIR Observations, see docs/IMAGING.md):
// what the viewer sends for a measurement drawn here, and how a saved one becomes a measurement
// on the open series again. Pure conversions (unit-tested) and the two API calls.
import type { HubClient } from '../dicomweb/http.js';
import type { MeasurementRecord, NewMeasurement, Point } from '../reading/measurements.js';

/** A measurement as the hub's /imaging/studies/{uid}/measurements takes and gives it. */
export interface ApiMeasurement {
  id?: string;
  reader?: string;
  kind: MeasurementRecord['kind'];
  seriesUid: string;
  sopInstanceUid: string;
  frame: number;
  points: Point[];
  values: MeasurementRecord['values'];
}

const FRAME_OF = /\/series\/([0-9.]+)\/instances\/([0-9.]+)\/frames\/(\d+)$/;

/** The hub's form of a measurement drawn here; undefined when its image id names no instance. */
export function toApiMeasurement(record: MeasurementRecord): ApiMeasurement | undefined {
  const match = FRAME_OF.exec(record.imageId);
  if (!match) return undefined;
  return { kind: record.kind, seriesUid: match[1], sopInstanceUid: match[2], frame: Number(match[3]), points: record.points, values: record.values };
}

/** Where a saved measurement's frame is in the open stack: its image id and 1-based position. */
export type FrameLocator = (sopInstanceUid: string, frame: number) => { imageId: string; imageNumber: number } | undefined;

export function locatorFor(imageIds: readonly string[]): FrameLocator {
  const index = new Map<string, number>();
  imageIds.forEach((id, i) => {
    const match = FRAME_OF.exec(id);
    if (match) index.set(`${match[2]}/${match[3]}`, i);
  });
  return (sop, frame) => {
    const i = index.get(`${sop}/${frame}`);
    return i === undefined ? undefined : { imageId: imageIds[i], imageNumber: i + 1 };
  };
}

/** A saved measurement as one to draw on the open series (values as saved, not recomputed). */
export function fromApiMeasurement(saved: ApiMeasurement, locate: FrameLocator): NewMeasurement | undefined {
  const where = locate(saved.sopInstanceUid, saved.frame);
  if (!where) return undefined;
  const value = (name: string) => saved.values.find((v) => v.name === name);
  const [a, b, c] = saved.points;
  switch (saved.kind) {
    case 'length': {
      const length = value('length');
      if (!a || !b || !length) return undefined;
      return { kind: 'length', ...where, start: a, end: b, pixels: length.unit === 'px' ? length.value : Math.hypot(b.x - a.x, b.y - a.y), ...(length.unit === 'mm' ? { millimetres: length.value } : {}) };
    }
    case 'angle': {
      const angle = value('angle');
      if (!a || !b || !c || !angle) return undefined;
      return { kind: 'angle', ...where, points: [a, b, c], degrees: angle.value, spacingUsed: true };
    }
    case 'rectangle':
    case 'ellipse': {
      const area = value('area');
      if (!a || !b || !area) return undefined;
      const mean = value('mean');
      const unit = mean?.unit === "[hnsf'U]" ? 'HU' : mean?.unit === '1' ? '' : (mean?.unit ?? '');
      const stats = mean
        ? { mean: mean.value, stdDev: value('stdDev')?.value ?? NaN, min: value('min')?.value ?? NaN, max: value('max')?.value ?? NaN, pixels: value('pixelCount')?.value ?? NaN }
        : undefined;
      return { kind: saved.kind, ...where, start: a, end: b, area: { value: area.value, unit: area.unit === 'mm2' ? 'mm²' : 'px²' }, stats, colour: !stats, unit };
    }
  }
}

export class MeasurementApi {
  constructor(
    private readonly client: HubClient,
    /** The hub's /imaging root. */
    private readonly imaging: string,
  ) {}

  async ofStudy(studyUid: string): Promise<ApiMeasurement[]> {
    return (await this.client.json<{ measurements: ApiMeasurement[] }>(`${this.imaging}/studies/${encodeURIComponent(studyUid)}/measurements`)).measurements;
  }

  async save(studyUid: string, measurements: ApiMeasurement[]): Promise<ApiMeasurement[]> {
    const res = await this.client.request(`${this.imaging}/studies/${encodeURIComponent(studyUid)}/measurements`, { method: 'POST', json: { measurements }, accept: 'application/json' });
    return ((await res.json()) as { measurements: ApiMeasurement[] }).measurements;
  }

  async withdraw(id: string): Promise<void> {
    await this.client.request(`${this.imaging}/measurements/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }
}
