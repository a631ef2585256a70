// Writes the study/series/instance index rows for a batch of stored instances in one transaction
// (a STOW request's instances commit together: one WAL flush, not one per instance). Each study
// is locked first, in UID order, with an advisory lock (it may not have a row yet): concurrent
// batches into one study take turns, so the checks and count increments that follow see each
// other's committed rows. Only then are studies written, and only for instances that passed the
// checks: a rejected instance changes nothing. Counts are kept by increment (only for rows this
// batch really inserted), never recounted.
import type { SqlExecutor } from '../db/database.js';
import type { InstanceRecord, PersonNameParts } from './instance-record.js';

export interface StoredBlob {
  key: string;
  size: number;
}

export interface IndexItem {
  record: InstanceRecord;
  blob: StoredBlob;
  metadata: string;
  imagingStudyId: string;
}

export type IndexResult =
  | {
      ok: true;
      /** Blobs this instance no longer points at: its stored copy's, and an earlier copy's in the same batch (if other blobs). */
      replacedBlobs?: string[];
    }
  | { ok: false; reason: string };

const upper = (text: string | undefined) => text?.toUpperCase() ?? null;
const nameKey = (name: PersonNameParts | undefined) => (name ? [name.Alphabetic ?? '', name.Ideographic ?? '', name.Phonetic ?? ''].join('=').toUpperCase() : null);

export async function indexBatch(tx: SqlExecutor, items: IndexItem[]): Promise<IndexResult[]> {
  const results: IndexResult[] = items.map(() => ({ ok: true }));
  const studyUids = [...new Set(items.map((i) => i.record.studyUid))];
  await tx.query('select pg_advisory_xact_lock(h) from (select distinct hashtext(u) as h from unnest($1::text[]) u order by 1) s', [studyUids.map((u) => `dicom-study:${u}`)]);

  // A series belongs to one study; an instance to one series.
  const seriesUids = [...new Set(items.map((i) => i.record.seriesUid))];
  const seriesStudy = new Map((await tx.query<{ series_uid: string; study_uid: string }>('select series_uid, study_uid from dicom_series where series_uid = any($1)', [seriesUids])).map((r) => [r.series_uid, r.study_uid]));
  const existing = new Map(
    (await tx.query<{ sop_instance_uid: string; series_uid: string; blob_key: string }>('select sop_instance_uid, series_uid, blob_key from dicom_instance where sop_instance_uid = any($1) for update', [items.map((i) => i.record.sopInstanceUid)])).map((r) => [r.sop_instance_uid, r]),
  );
  const accepted: IndexItem[] = [];
  const acceptedAt = new Map<string, number>(); // SOP Instance UID -> the item's index in `items`
  items.forEach((item, n) => {
    const { record } = item;
    const owner = seriesStudy.get(record.seriesUid);
    const before = existing.get(record.sopInstanceUid);
    if (owner && owner !== record.studyUid) results[n] = { ok: false, reason: `Series ${record.seriesUid} is already stored in study ${owner}, not ${record.studyUid}` };
    else if (before && before.series_uid !== record.seriesUid) results[n] = { ok: false, reason: `SOP Instance ${record.sopInstanceUid} is already stored in series ${before.series_uid}` };
    else {
      const replaced = new Set(before ? [before.blob_key] : []);
      // The same instance twice in one batch (one request, or callers grouped into one commit):
      // the later copy replaces the earlier one, whose blob it lets go of.
      const earlier = acceptedAt.get(record.sopInstanceUid);
      if (earlier !== undefined) {
        accepted.splice(accepted.indexOf(items[earlier]), 1);
        replaced.add(items[earlier].blob.key);
      }
      acceptedAt.set(record.sopInstanceUid, n);
      accepted.push(item);
      replaced.delete(item.blob.key);
      if (replaced.size) results[n] = { ok: true, replacedBlobs: [...replaced] };
    }
  });
  if (!accepted.length) return results;

  const byStudy = new Map<string, IndexItem>();
  for (const item of accepted) byStudy.set(item.record.studyUid, item); // the last instance's attributes win
  for (const uid of [...byStudy.keys()].sort()) await upsertStudy(tx, byStudy.get(uid)!);
  const newSeries = await upsertSeries(tx, accepted);
  const inserted = await upsertInstances(tx, accepted);
  const perSeries = new Map<string, number>();
  const perStudy = new Map<string, { instances: number; series: number; modalities: Set<string> }>();
  for (const item of accepted) {
    const { studyUid, seriesUid, series } = item.record;
    const study = perStudy.get(studyUid) ?? { instances: 0, series: 0, modalities: new Set<string>() };
    perStudy.set(studyUid, study);
    if (series.modality) study.modalities.add(series.modality);
    if (inserted.has(item.record.sopInstanceUid)) {
      perSeries.set(seriesUid, (perSeries.get(seriesUid) ?? 0) + 1);
      study.instances += 1;
    }
  }
  for (const uid of newSeries) {
    const studyUid = accepted.find((a) => a.record.seriesUid === uid)!.record.studyUid;
    perStudy.get(studyUid)!.series += 1;
  }
  if (perSeries.size) {
    await tx.query(
      `update dicom_series s set instance_count = s.instance_count + v.n
       from unnest($1::text[], $2::int[]) as v(uid, n) where s.series_uid = v.uid`,
      [[...perSeries.keys()], [...perSeries.values()]],
    );
  }
  for (const [uid, delta] of perStudy) {
    await tx.query(
      `update dicom_study set instance_count = instance_count + $2, series_count = series_count + $3,
         modalities = (select coalesce(array_agg(distinct m order by m), '{}') from unnest(modalities || $4::text[]) as m),
         updated_at = now()
       where study_uid = $1`,
      [uid, delta.instances, delta.series, [...delta.modalities]],
    );
  }
  return results;
}

async function upsertStudy(tx: SqlExecutor, item: IndexItem): Promise<void> {
  const { record } = item;
  const { patient, study } = record;
  await tx.query(
    `insert into dicom_study (study_uid, imaging_study_id, patient_id, issuer_of_patient_id, patient_name, patient_name_key,
       patient_name_alphabetic, patient_name_ideographic, patient_name_phonetic,
       patient_birth_date, patient_sex, study_date, study_time, accession_number, study_id, study_description,
       referring_physician_name, institution_name, charset)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
     on conflict (study_uid) do update set
       patient_id = coalesce(excluded.patient_id, dicom_study.patient_id),
       issuer_of_patient_id = coalesce(excluded.issuer_of_patient_id, dicom_study.issuer_of_patient_id),
       patient_name = coalesce(excluded.patient_name, dicom_study.patient_name),
       patient_name_key = coalesce(excluded.patient_name_key, dicom_study.patient_name_key),
       patient_name_alphabetic = coalesce(excluded.patient_name_alphabetic, dicom_study.patient_name_alphabetic),
       patient_name_ideographic = coalesce(excluded.patient_name_ideographic, dicom_study.patient_name_ideographic),
       patient_name_phonetic = coalesce(excluded.patient_name_phonetic, dicom_study.patient_name_phonetic),
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
      record.studyUid, item.imagingStudyId, patient.id ?? null, patient.issuer ?? null, patient.name ? JSON.stringify(patient.name) : null,
      nameKey(patient.name), upper(patient.name?.Alphabetic), upper(patient.name?.Ideographic), upper(patient.name?.Phonetic),
      patient.birthDate ?? null, patient.sex ?? null, study.date ?? null, study.time ?? null,
      study.accessionNumber ?? null, study.studyId ?? null, study.description ?? null,
      study.referringPhysician ? JSON.stringify(study.referringPhysician) : null, study.institution ?? null, record.charset ?? null,
    ],
  );
}

/** Upserts each series of the batch once; returns the UIDs of series that are new. */
async function upsertSeries(tx: SqlExecutor, items: IndexItem[]): Promise<string[]> {
  const bySeries = new Map<string, IndexItem>();
  for (const item of items) bySeries.set(item.record.seriesUid, item);
  const columns = ['series_uid', 'study_uid', 'modality', 'series_number', 'series_description', 'body_part', 'performed_start_date', 'performed_start_time'];
  const rows = [...bySeries.values()].map(({ record: { seriesUid, studyUid, series } }) => [
    seriesUid, studyUid, series.modality ?? null, series.number ?? null, series.description ?? null, series.bodyPart ?? null, series.performedDate ?? null, series.performedTime ?? null,
  ]);
  const inserted = await tx.query<{ series_uid: string }>(
    `insert into dicom_series (${columns.join(', ')}) values ${placeholders(rows)}
     on conflict (series_uid) do update set
       ${columns.slice(2).map((c) => `${c} = coalesce(excluded.${c}, dicom_series.${c})`).join(', ')}
     returning series_uid, (xmax = 0) as inserted`,
    rows.flat(),
  );
  return inserted.filter((r) => (r as unknown as { inserted: boolean }).inserted).map((r) => r.series_uid);
}

/** Inserts (or, sent again, replaces) each instance; returns the UIDs that were new. */
async function upsertInstances(tx: SqlExecutor, items: IndexItem[]): Promise<Set<string>> {
  const columns = [
    'sop_instance_uid', 'series_uid', 'study_uid', 'sop_class_uid', 'instance_number', 'transfer_syntax', 'blob_key', 'size',
    'rows', 'columns', 'bits_allocated', 'frames', 'pixel_offset', 'pixel_length', 'frame_length', 'encapsulated', 'metadata',
  ];
  const rows = items.map(({ record: r, blob, metadata }) => [
    r.sopInstanceUid, r.seriesUid, r.studyUid, r.sopClassUid, r.instance.number ?? null, r.transferSyntax, blob.key, blob.size,
    r.instance.rows ?? null, r.instance.columns ?? null, r.instance.bitsAllocated ?? null, r.instance.frames ?? null, r.instance.pixelOffset ?? null,
    r.instance.pixelLength ?? null, r.instance.frameLength ?? null, r.instance.encapsulated, metadata,
  ]);
  const result = await tx.query<{ sop_instance_uid: string; inserted: boolean }>(
    `insert into dicom_instance (${columns.join(', ')}) values ${placeholders(rows)}
     on conflict (sop_instance_uid) do update set
       ${columns.slice(3).map((c) => `${c} = excluded.${c}`).join(', ')}, stored_at = now()
     returning sop_instance_uid, (xmax = 0) as inserted`,
    rows.flat(),
  );
  return new Set(result.filter((r) => r.inserted).map((r) => r.sop_instance_uid));
}

function placeholders(rows: unknown[][]): string {
  let n = 0;
  return rows.map((row) => `(${row.map(() => `$${++n}`).join(', ')})`).join(', ');
}

/** Whether any instance still uses a blob (a replaced object may be shared by identical copies). */
export async function blobInUse(db: SqlExecutor, key: string): Promise<boolean> {
  const rows = await db.query('select 1 from dicom_instance where blob_key = $1 limit 1', [key]);
  return rows.length > 0;
}
