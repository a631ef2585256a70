// Writes the study/series/instance index rows for one stored instance, in the caller's
// transaction. The study row is upserted first: its row lock makes concurrent stores into one
// study take turns, so the counts each recomputes include the other's committed rows.
import type { SqlExecutor } from '../db/database.js';
import { Conflict } from '../fhir/errors.js';
import { nameKey, type InstanceRecord } from './instance-record.js';

export interface StoredBlob {
  key: string;
  size: number;
}

export interface IndexResult {
  /** The blob the instance pointed at before this store (same instance sent again), if another. */
  replacedBlob?: string;
}

export async function indexInstance(tx: SqlExecutor, record: InstanceRecord, blob: StoredBlob, metadata: string, imagingStudyId: string): Promise<IndexResult> {
  const { patient, study, series, instance } = record;
  await tx.query(
    `insert into dicom_study (study_uid, imaging_study_id, patient_id, issuer_of_patient_id, patient_name, patient_name_key,
       patient_birth_date, patient_sex, study_date, study_time, accession_number, study_id, study_description,
       referring_physician_name, institution_name, charset)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     on conflict (study_uid) do update set
       patient_id = coalesce(excluded.patient_id, dicom_study.patient_id),
       issuer_of_patient_id = coalesce(excluded.issuer_of_patient_id, dicom_study.issuer_of_patient_id),
       patient_name = coalesce(excluded.patient_name, dicom_study.patient_name),
       patient_name_key = coalesce(excluded.patient_name_key, dicom_study.patient_name_key),
       patient_birth_date = coalesce(excluded.patient_birth_date, dicom_study.patient_birth_date),
       patient_sex = coalesce(excluded.patient_sex, dicom_study.patient_sex),
       study_date = coalesce(excluded.study_date, dicom_study.study_date),
       study_time = coalesce(excluded.study_time, dicom_study.study_time),
       accession_number = coalesce(excluded.accession_number, dicom_study.accession_number),
       study_id = coalesce(excluded.study_id, dicom_study.study_id),
       study_description = coalesce(excluded.study_description, dicom_study.study_description),
       referring_physician_name = coalesce(excluded.referring_physician_name, dicom_study.referring_physician_name),
       institution_name = coalesce(excluded.institution_name, dicom_study.institution_name),
       charset = coalesce(excluded.charset, dicom_study.charset),
       updated_at = now()`,
    [
      record.studyUid, imagingStudyId, patient.id ?? null, patient.issuer ?? null, patient.name ? JSON.stringify(patient.name) : null,
      nameKey(patient.name) ?? null, patient.birthDate ?? null, patient.sex ?? null, study.date ?? null, study.time ?? null,
      study.accessionNumber ?? null, study.studyId ?? null, study.description ?? null,
      study.referringPhysician ? JSON.stringify(study.referringPhysician) : null, study.institution ?? null, record.charset ?? null,
    ],
  );
  const [existingSeries] = await tx.query<{ study_uid: string }>('select study_uid from dicom_series where series_uid = $1', [record.seriesUid]);
  if (existingSeries && existingSeries.study_uid !== record.studyUid) {
    throw new Conflict(`Series ${record.seriesUid} is already stored in study ${existingSeries.study_uid}, not ${record.studyUid}`);
  }
  await tx.query(
    `insert into dicom_series (series_uid, study_uid, modality, series_number, series_description, body_part, performed_start_date, performed_start_time)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (series_uid) do update set
       modality = coalesce(excluded.modality, dicom_series.modality),
       series_number = coalesce(excluded.series_number, dicom_series.series_number),
       series_description = coalesce(excluded.series_description, dicom_series.series_description),
       body_part = coalesce(excluded.body_part, dicom_series.body_part),
       performed_start_date = coalesce(excluded.performed_start_date, dicom_series.performed_start_date),
       performed_start_time = coalesce(excluded.performed_start_time, dicom_series.performed_start_time)`,
    [record.seriesUid, record.studyUid, series.modality ?? null, series.number ?? null, series.description ?? null, series.bodyPart ?? null, series.performedDate ?? null, series.performedTime ?? null],
  );
  const [existing] = await tx.query<{ series_uid: string; blob_key: string }>('select series_uid, blob_key from dicom_instance where sop_instance_uid = $1 for update', [record.sopInstanceUid]);
  if (existing && existing.series_uid !== record.seriesUid) {
    throw new Conflict(`SOP Instance ${record.sopInstanceUid} is already stored in series ${existing.series_uid}`);
  }
  // The same instance sent again (perhaps in another transfer syntax) replaces the stored one.
  await tx.query(
    `insert into dicom_instance (sop_instance_uid, series_uid, study_uid, sop_class_uid, instance_number, transfer_syntax, blob_key, size,
       rows, columns, bits_allocated, frames, pixel_offset, pixel_length, frame_length, encapsulated, metadata)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
     on conflict (sop_instance_uid) do update set
       sop_class_uid = excluded.sop_class_uid, instance_number = excluded.instance_number, transfer_syntax = excluded.transfer_syntax,
       blob_key = excluded.blob_key, size = excluded.size, rows = excluded.rows, columns = excluded.columns,
       bits_allocated = excluded.bits_allocated, frames = excluded.frames, pixel_offset = excluded.pixel_offset,
       pixel_length = excluded.pixel_length, frame_length = excluded.frame_length, encapsulated = excluded.encapsulated, metadata = excluded.metadata, stored_at = now()`,
    [
      record.sopInstanceUid, record.seriesUid, record.studyUid, record.sopClassUid, instance.number ?? null, record.transferSyntax, blob.key, blob.size,
      instance.rows ?? null, instance.columns ?? null, instance.bitsAllocated ?? null, instance.frames ?? null, instance.pixelOffset ?? null,
      instance.pixelLength ?? null, instance.frameLength ?? null, instance.encapsulated, metadata,
    ],
  );
  if (!existing) {
    await tx.query('update dicom_series set instance_count = (select count(*) from dicom_instance where series_uid = $1) where series_uid = $1', [record.seriesUid]);
    await tx.query(
      `update dicom_study set
         series_count = (select count(*) from dicom_series where study_uid = $1),
         instance_count = (select count(*) from dicom_instance where study_uid = $1),
         modalities = (select coalesce(array_agg(distinct modality order by modality) filter (where modality is not null), '{}') from dicom_series where study_uid = $1)
       where study_uid = $1`,
      [record.studyUid],
    );
  }
  return { replacedBlob: existing && existing.blob_key !== blob.key ? existing.blob_key : undefined };
}

/** Whether any instance still uses a blob (a replaced object may be shared by identical copies). */
export async function blobInUse(db: SqlExecutor, key: string): Promise<boolean> {
  const rows = await db.query('select 1 from dicom_instance where blob_key = $1 limit 1', [key]);
  return rows.length > 0;
}
