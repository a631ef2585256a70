// Measurements drawn on a study's images, saved as FHIR Observations: one per measurement,
// category imaging, coded with the SNOMED CT concepts DICOM's measurement templates use (length
// 410668003, angle 1483009; a region's area 42798000, mean 373098007, standard deviation
// 386136009, minimum 255605001, maximum 56851009), values in UCUM, derived from the ImagingStudy,
// performed by the reader, and placed on the image by the extension image-region (series,
// instance, frame, shape, points in image pixel coordinates). Like reports, they are written
// through the reporting API and never by plain FHIR writes.
import type { Coding, Extension, Observation, ObservationComponent, Quantity } from '@medplum/fhirtypes';
import { Invalid } from '../fhir/errors.js';

export const MEASUREMENT_TAG = { system: 'https://suhe.example.cn/fhir/CodeSystem/report', code: 'measurement', display: 'Image measurement' };
export const IMAGE_REGION_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/image-region';
const MAX_MEASUREMENTS = 200;
const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;

const SCT = 'http://snomed.info/sct';
const CODES: Record<string, Coding> = {
  length: { system: SCT, code: '410668003', display: 'Length' },
  angle: { system: SCT, code: '1483009', display: 'Angle' },
  area: { system: SCT, code: '42798000', display: 'Area' },
  mean: { system: SCT, code: '373098007', display: 'Mean' },
  stdDev: { system: SCT, code: '386136009', display: 'Standard deviation' },
  min: { system: SCT, code: '255605001', display: 'Minimum' },
  max: { system: SCT, code: '56851009', display: 'Maximum' },
  // No standard code counts the pixels a region's statistics were taken over.
  pixelCount: { system: 'https://suhe.example.cn/fhir/CodeSystem/image-measure', code: 'pixel-count', display: 'Number of pixels' },
};
/** A region measurement as a whole: DICOM's "Measurement Group". */
const REGION_CODE: Coding = { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '125007', display: 'Measurement Group' };
const SHAPES = ['length', 'angle', 'rectangle', 'ellipse'] as const;
const POINTS: Record<Shape, number> = { length: 2, angle: 3, rectangle: 2, ellipse: 2 };
/** UCUM units a value may carry (px/px2: images without Pixel Spacing, not UCUM). */
const UNITS = new Set(['mm', 'mm2', 'deg', "[hnsf'U]", '1', 'px', 'px2']);

type Shape = (typeof SHAPES)[number];
type ValueName = 'length' | 'angle' | 'area' | 'mean' | 'stdDev' | 'min' | 'max' | 'pixelCount';

export interface ImageMeasurement {
  kind: Shape;
  seriesUid: string;
  sopInstanceUid: string;
  /** 1-based. */
  frame: number;
  points: { x: number; y: number }[];
  values: { name: ValueName; value: number; unit: string }[];
}

/** Checks what the viewer sent; Invalid says which measurement and what to fix. */
export function parseMeasurements(body: unknown): ImageMeasurement[] {
  const list = (body as { measurements?: unknown })?.measurements;
  if (!Array.isArray(list) || list.length === 0) throw new Invalid('Send {"measurements": [...]} with at least one measurement');
  if (list.length > MAX_MEASUREMENTS) throw new Invalid(`At most ${MAX_MEASUREMENTS} measurements at once`);
  return list.map((item, i) => parseOne(item as Record<string, unknown>, `measurements[${i}]`));
}

function parseOne(m: Record<string, unknown>, where: string): ImageMeasurement {
  const fail = (what: string): never => {
    throw new Invalid(`${where}: ${what}`);
  };
  if (!SHAPES.includes(m.kind as Shape)) fail(`kind must be one of ${SHAPES.join(', ')}`);
  const kind = m.kind as Shape;
  for (const key of ['seriesUid', 'sopInstanceUid'] as const) {
    if (typeof m[key] !== 'string' || !UID.test(m[key] as string) || (m[key] as string).length > 64) fail(`${key} must be a DICOM UID`);
  }
  if (!Number.isInteger(m.frame) || (m.frame as number) < 1) fail('frame must be a frame number (1, 2, …)');
  const points = m.points as { x: unknown; y: unknown }[];
  if (!Array.isArray(points) || points.length !== POINTS[kind] || !points.every((p) => Number.isFinite(p?.x) && Number.isFinite(p?.y))) fail(`a ${kind} has ${POINTS[kind]} points {x, y}`);
  const values = m.values as { name: unknown; value: unknown; unit: unknown }[];
  if (!Array.isArray(values) || values.length === 0 || values.length > 10) fail('values must list 1 to 10 values');
  for (const v of values) {
    if (!(typeof v?.name === 'string' && v.name in CODES)) fail(`value name must be one of ${Object.keys(CODES).join(', ')}`);
    if (!Number.isFinite(v.value)) fail(`value ${String(v.name)} must be a number`);
    if (typeof v.unit !== 'string' || !UNITS.has(v.unit)) fail(`unit of ${String(v.name)} must be one of ${[...UNITS].join(', ')}`);
  }
  return {
    kind,
    seriesUid: m.seriesUid as string,
    sopInstanceUid: m.sopInstanceUid as string,
    frame: m.frame as number,
    points: points.map((p) => ({ x: p.x as number, y: p.y as number })),
    values: values.map((v) => ({ name: v.name as ValueName, value: v.value as number, unit: v.unit as string })),
  };
}

const quantity = (v: ImageMeasurement['values'][number]): Quantity =>
  v.unit === 'px' || v.unit === 'px2' ? { value: round(v.value), unit: v.unit } : { value: round(v.value), unit: v.unit, system: 'http://unitsofmeasure.org', code: v.unit };
const round = (n: number) => Math.round(n * 1000) / 1000;

export function measurementObservation(m: ImageMeasurement, study: { imagingStudyId: string; patientRef: string | null }, reader: string, when: string): Observation {
  const single = m.kind === 'length' || m.kind === 'angle';
  const main = m.values.find((v) => v.name === m.kind);
  if (single && !main) throw new Invalid(`A ${m.kind} measurement needs its ${m.kind} value`);
  const region: Extension = {
    url: IMAGE_REGION_EXTENSION,
    extension: [
      { url: 'series', valueOid: `urn:oid:${m.seriesUid}` },
      { url: 'instance', valueOid: `urn:oid:${m.sopInstanceUid}` },
      { url: 'frame', valuePositiveInt: m.frame },
      { url: 'shape', valueCode: m.kind },
      { url: 'points', valueString: m.points.map((p) => `${round(p.x)},${round(p.y)}`).join(' ') },
    ],
  };
  return {
    resourceType: 'Observation',
    meta: { tag: [MEASUREMENT_TAG] },
    extension: [region],
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'imaging', display: 'Imaging' }] }],
    code: { coding: [single ? CODES[m.kind] : REGION_CODE], text: m.kind },
    ...(study.patientRef ? { subject: { reference: `Patient/${study.patientRef}` } } : {}),
    effectiveDateTime: when,
    issued: when,
    performer: [{ reference: reader }],
    derivedFrom: [{ reference: `ImagingStudy/${study.imagingStudyId}` }],
    ...(single
      ? { valueQuantity: quantity(main!) }
      : { component: m.values.map((v): ObservationComponent => ({ code: { coding: [CODES[v.name]] }, valueQuantity: quantity(v) })) }),
  };
}

/** The measurement an Observation holds, as the viewer draws it; undefined when it is not one. */
export function measurementOf(o: Observation): (ImageMeasurement & { id: string; reader?: string }) | undefined {
  const region = o.extension?.find((e) => e.url === IMAGE_REGION_EXTENSION)?.extension;
  const part = (url: string) => region?.find((e) => e.url === url);
  const kind = part('shape')?.valueCode as Shape | undefined;
  if (!region || !kind || !o.id) return undefined;
  const nameOf = (coding: Coding[] | undefined) => (Object.entries(CODES).find(([, c]) => coding?.some((x) => x.system === c.system && x.code === c.code))?.[0] ?? kind) as ValueName;
  const value = (name: ValueName, q: Quantity | undefined) => ({ name, value: q?.value ?? NaN, unit: q?.code ?? q?.unit ?? '' });
  return {
    id: o.id,
    reader: o.performer?.[0]?.reference,
    kind,
    seriesUid: (part('series')?.valueOid ?? '').replace(/^urn:oid:/, ''),
    sopInstanceUid: (part('instance')?.valueOid ?? '').replace(/^urn:oid:/, ''),
    frame: part('frame')?.valuePositiveInt ?? 1,
    points: (part('points')?.valueString ?? '').split(' ').map((pair) => {
      const [x, y] = pair.split(',').map(Number);
      return { x, y };
    }),
    values: o.valueQuantity ? [value(nameOf(o.code?.coding), o.valueQuantity)] : (o.component ?? []).map((c) => value(nameOf(c.code?.coding), c.valueQuantity)),
  };
}
