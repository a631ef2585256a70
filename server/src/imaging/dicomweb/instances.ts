// The stored instances a WADO-RS path names (a study, a series or one instance), in reading order.
import { NotFound } from '../../fhir/errors.js';
import type { DicomwebContext } from './context.js';

export interface InstancePath {
  studyUid: string;
  seriesUid?: string;
  sopInstanceUid?: string;
}

export interface StoredInstance {
  sop_instance_uid: string;
  series_uid: string;
  study_uid: string;
  sop_class_uid: string;
  transfer_syntax: string;
  blob_key: string;
  size: string | number;
  frames: number | null;
  rows: number | null;
  columns: number | null;
  bits_allocated: number | null;
  pixel_offset: string | number | null;
  pixel_length: string | number | null;
  frame_length: string | number | null;
  encapsulated: boolean;
}

const COLUMNS = ['sop_instance_uid', 'series_uid', 'study_uid', 'sop_class_uid', 'transfer_syntax', 'blob_key', 'size', 'frames', 'rows', 'columns', 'bits_allocated', 'pixel_offset', 'pixel_length', 'frame_length', 'encapsulated']
  .map((c) => `i.${c}`)
  .join(', ');

export async function instancesAt(ctx: DicomwebContext, path: InstancePath, extraColumns = ''): Promise<(StoredInstance & Record<string, unknown>)[]> {
  const values: unknown[] = [path.studyUid];
  let where = 'i.study_uid = $1';
  if (path.seriesUid) where += ` and i.series_uid = $${values.push(path.seriesUid)}`;
  if (path.sopInstanceUid) where += ` and i.sop_instance_uid = $${values.push(path.sopInstanceUid)}`;
  const rows = await ctx.db.query<StoredInstance & Record<string, unknown>>(
    `select ${COLUMNS}${extraColumns ? `, ${extraColumns}` : ''} from dicom_instance i join dicom_series se on se.series_uid = i.series_uid
     where ${where} order by se.series_number nulls last, se.seq, i.instance_number nulls last, i.seq`,
    values,
  );
  if (!rows.length) {
    const what = path.sopInstanceUid ? `Instance ${path.sopInstanceUid}` : path.seriesUid ? `Series ${path.seriesUid}` : `Study ${path.studyUid}`;
    throw new NotFound(`${what} is not stored here${path.seriesUid ? ` (in study ${path.studyUid})` : ''}`);
  }
  return rows;
}
