// QIDO-RS result objects (PS3.18 Table 10.6.3-3..5) from index rows, in the DICOM JSON model.
// Strings leave the hub as UTF-8 JSON, so the Specific Character Set returned is ISO_IR 192.
import type { QidoLevel } from './qido.js';

type Attribute = { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string };
export type DicomJson = Record<string, Attribute>;

interface Row {
  [column: string]: unknown;
}

const put = (out: DicomJson, tag: string, vr: string, value: unknown) => {
  out[tag] = value === null || value === undefined || value === '' ? { vr } : { vr, Value: Array.isArray(value) ? value : [value] };
};

function studyPart(out: DicomJson, row: Row, base: string): void {
  put(out, '00080005', 'CS', 'ISO_IR 192');
  put(out, '00080020', 'DA', row.study_date);
  put(out, '00080030', 'TM', row.study_time);
  put(out, '00080050', 'SH', row.accession_number);
  put(out, '00080061', 'CS', (row.modalities as string[] | null)?.length ? row.modalities : null);
  put(out, '00080080', 'LO', row.institution_name);
  put(out, '00080090', 'PN', row.referring_physician_name ? JSON.parse(row.referring_physician_name as string) : null);
  put(out, '00081030', 'LO', row.study_description);
  put(out, '00100010', 'PN', row.patient_name ? JSON.parse(row.patient_name as string) : null);
  put(out, '00100020', 'LO', row.patient_id);
  put(out, '00100021', 'LO', row.issuer_of_patient_id);
  put(out, '00100030', 'DA', row.patient_birth_date);
  put(out, '00100040', 'CS', row.patient_sex);
  put(out, '0020000D', 'UI', row.study_uid);
  put(out, '00200010', 'SH', row.study_id);
  put(out, '00201206', 'IS', Number(row.series_count));
  put(out, '00201208', 'IS', Number(row.instance_count));
  put(out, '00081190', 'UR', `${base}/studies/${row.study_uid}`);
}

function seriesPart(out: DicomJson, row: Row, base: string): void {
  put(out, '00080060', 'CS', row.modality);
  put(out, '0008103E', 'LO', row.series_description);
  put(out, '00180015', 'CS', row.body_part);
  put(out, '0020000E', 'UI', row.series_uid);
  put(out, '00200011', 'IS', row.series_number);
  put(out, '00201209', 'IS', Number(row.instance_count));
  put(out, '00400244', 'DA', row.performed_start_date);
  put(out, '00400245', 'TM', row.performed_start_time);
  put(out, '00081190', 'UR', `${base}/studies/${row.study_uid}/series/${row.series_uid}`);
}

function instancePart(out: DicomJson, row: Row, base: string): void {
  put(out, '00080016', 'UI', row.sop_class_uid);
  put(out, '00080018', 'UI', row.sop_instance_uid);
  put(out, '00083002', 'UI', row.transfer_syntax);
  put(out, '00200013', 'IS', row.instance_number);
  put(out, '00280008', 'IS', row.frames);
  put(out, '00280010', 'US', row.rows);
  put(out, '00280011', 'US', row.columns);
  put(out, '00280100', 'US', row.bits_allocated);
  put(out, '00081190', 'UR', `${base}/studies/${row.study_uid}/series/${row.series_uid}/instances/${row.sop_instance_uid}`);
}

/**
 * One result: the level's own attributes, the higher levels' (PS3.18 asks for them when the
 * query does not name the parent), and any `includefield` attributes from a stored instance.
 */
export function qidoResult(level: QidoLevel, row: Row, base: string, includeFields: Set<string> | 'all'): DicomJson {
  const out: DicomJson = {};
  studyPart(out, row, base);
  if (level !== 'study') seriesPart(out, row, base);
  if (level === 'instance') instancePart(out, row, base);
  if (typeof row.sample_metadata === 'string') {
    const sample = JSON.parse(withBase(row.sample_metadata, base)) as DicomJson;
    for (const [tag, attribute] of Object.entries(sample)) {
      if (out[tag]) continue;
      if (includeFields === 'all' || includeFields.has(tag)) out[tag] = attribute;
    }
  }
  return sortByTag(out);
}

/** Stored metadata names bulk data by path under the DICOMweb root; this makes them absolute. */
export function withBase(metadata: string, base: string): string {
  return metadata.replaceAll('"BulkDataURI":"/studies/', `"BulkDataURI":${JSON.stringify(`${base}/studies/`).slice(0, -1)}`);
}

function sortByTag(json: DicomJson): DicomJson {
  return Object.fromEntries(Object.entries(json).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
