// What a C-MOVE or C-GET identifier names (PS3.4 C.4.2.2, C.4.3.2): the unique keys of its level
// (Patient ID, Study/Series/SOP Instance UID lists) select stored instances, each with the blob
// that holds it and the transfer syntax it is kept in.
import type { Database } from '../../db/database.js';
import { QueryRefused, queryLevel } from './identifier.js';
import { isUid } from './part10.js';

export interface RetrieveItem {
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntax: string;
  blobKey: string;
  studyUid: string;
  imagingStudyId: string;
  patientRef: string | null;
}

export async function retrieveItems(db: Database, identifier: Record<string, unknown>, root: 'patient' | 'study', maxInstances: number): Promise<RetrieveItem[]> {
  const level = queryLevel(identifier, root);
  const where: string[] = [];
  const values: unknown[] = [];
  const bind = (value: unknown) => `$${values.push(value)}`;
  const patientId = listOf(identifier.PatientID);
  const studies = uidList(identifier.StudyInstanceUID, 'Study Instance UID');
  const series = uidList(identifier.SeriesInstanceUID, 'Series Instance UID');
  const instances = uidList(identifier.SOPInstanceUID, 'SOP Instance UID');
  const required = { PATIENT: patientId, STUDY: studies, SERIES: series, IMAGE: instances }[level];
  const name = { PATIENT: 'Patient ID', STUDY: 'Study Instance UID', SERIES: 'Series Instance UID', IMAGE: 'SOP Instance UID' }[level];
  if (!required.length) throw new QueryRefused(0xa900, `A ${level} level retrieve needs ${name}`);
  if (patientId.length) where.push(`s.patient_id = any(${bind(patientId)})`);
  if (studies.length && level !== 'PATIENT') where.push(`i.study_uid = any(${bind(studies)})`);
  if (series.length && (level === 'SERIES' || level === 'IMAGE')) where.push(`i.series_uid = any(${bind(series)})`);
  if (instances.length && level === 'IMAGE') where.push(`i.sop_instance_uid = any(${bind(instances)})`);
  const rows = await db.query<{ sop_instance_uid: string; sop_class_uid: string; transfer_syntax: string; blob_key: string; study_uid: string; imaging_study_id: string; patient_ref: string | null }>(
    `select i.sop_instance_uid, i.sop_class_uid, i.transfer_syntax, i.blob_key, i.study_uid, s.imaging_study_id, s.patient_ref
       from dicom_instance i join dicom_study s on s.study_uid = i.study_uid
      where ${where.join(' and ')}
      order by s.seq, i.series_uid, i.instance_number nulls last, i.seq
      limit ${bind(maxInstances + 1)}`,
    values,
  );
  if (rows.length > maxInstances) throw new QueryRefused(0xa702, `More than ${maxInstances} instances match; retrieve a smaller set`);
  return rows.map((r) => ({
    sopInstanceUid: r.sop_instance_uid,
    sopClassUid: r.sop_class_uid,
    transferSyntax: r.transfer_syntax,
    blobKey: r.blob_key,
    studyUid: r.study_uid,
    imagingStudyId: r.imaging_study_id,
    patientRef: r.patient_ref,
  }));
}

function listOf(value: unknown): string[] {
  const parts = Array.isArray(value) ? value : typeof value === 'string' ? value.split('\\') : [];
  return parts.map((v) => String(v ?? '').replace(/[\0 ]+$/, '').trim()).filter((v) => v && !/[*?]/.test(v));
}

function uidList(value: unknown, name: string): string[] {
  const uids = listOf(value);
  const bad = uids.find((u) => !isUid(u));
  if (bad) throw new QueryRefused(0xa900, `${name} '${bad.slice(0, 40)}' is not a UID`);
  return uids;
}
