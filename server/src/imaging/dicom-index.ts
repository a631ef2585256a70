// Writes the study/series/instance index rows for a batch of stored instances in one transaction
// (a STOW request's instances commit together: one WAL flush, not one per instance). Each study
// is locked first, in UID order, with an advisory lock (it may not have a row yet): concurrent
// batches into one study take turns, so the checks and count increments that follow see each
// other's committed rows. Only then are studies written, and only for instances that passed the
// checks: a rejected instance changes nothing. Counts are kept by increment (only for rows this
// batch really inserted), never recounted.
//
// Four statements per batch, whatever its size: lock, read, write, count. A C-STORE association
// sends one instance at a time, so most of its batches hold one or two instances and every round
// trip is paid per instance, while the next batch waits (`npm run bench:cstore-stages` times it).
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
  // Its own statement: in READ COMMITTED the next statement's snapshot is taken after the lock is
  // granted, so it sees what the batch that held the lock committed.
  await tx.query('select pg_advisory_xact_lock(h) from (select distinct hashtext(u) as h from unnest($1::text[]) u order by 1) s', [studyUids.map((u) => `dicom-study:${u}`)]);

  // A series belongs to one study; an instance to one series.
  const { seriesStudy, existing } = await storedRows(tx, [...new Set(items.map((i) => i.record.seriesUid))], items.map((i) => i.record.sopInstanceUid));
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

  const { newSeries, newInstances } = await upsertRows(tx, accepted);
  const perSeries = new Map<string, number>();
  const perStudy = new Map<string, { instances: number; series: number; modalities: Set<string> }>();
  for (const item of accepted) {
    const { studyUid, seriesUid, series } = item.record;
    const study = perStudy.get(studyUid) ?? { instances: 0, series: 0, modalities: new Set<string>() };
    perStudy.set(studyUid, study);
    if (series.modality) study.modalities.add(series.modality);
    if (newInstances.has(item.record.sopInstanceUid)) {
      perSeries.set(seriesUid, (perSeries.get(seriesUid) ?? 0) + 1);
      study.instances += 1;
    }
  }
  for (const uid of newSeries) {
    const studyUid = accepted.find((a) => a.record.seriesUid === uid)!.record.studyUid;
    perStudy.get(studyUid)!.series += 1;
  }
  const studies = [...perStudy.entries()];
  await tx.query(
    `with series_counts as (
       update dicom_series s set instance_count = s.instance_count + v.n
       from unnest($1::text[], $2::int[]) as v(uid, n) where s.series_uid = v.uid)
     update dicom_study d set instance_count = d.instance_count + v.instances, series_count = d.series_count + v.series,
       modalities = (select coalesce(array_agg(distinct m order by m), '{}') from unnest(d.modalities || array(select jsonb_array_elements_text(v.modalities::jsonb))) as m),
       updated_at = now()
     from unnest($3::text[], $4::int[], $5::int[], $6::text[]) as v(uid, instances, series, modalities)
     where d.study_uid = v.uid`,
    [
      [...perSeries.keys()], [...perSeries.values()],
      studies.map(([uid]) => uid), studies.map(([, d]) => d.instances), studies.map(([, d]) => d.series), studies.map(([, d]) => JSON.stringify([...d.modalities])),
    ],
  );
  return results;
}

/** The batch's series already stored (with their study) and its instances already stored, locked for update. */
async function storedRows(tx: SqlExecutor, seriesUids: string[], sopInstanceUids: string[]) {
  const rows = await tx.query<{ kind: 'series' | 'instance'; uid: string; parent: string; blob_key: string | null }>(
    `with instance as (select sop_instance_uid, series_uid, blob_key from dicom_instance where sop_instance_uid = any($2) for update)
     select 'series' as kind, series_uid as uid, study_uid as parent, null as blob_key from dicom_series where series_uid = any($1)
     union all
     select 'instance', sop_instance_uid, series_uid, blob_key from instance`,
    [seriesUids, sopInstanceUids],
  );
  const seriesStudy = new Map<string, string>();
  const existing = new Map<string, { series_uid: string; blob_key: string }>();
  for (const row of rows) {
    if (row.kind === 'series') seriesStudy.set(row.uid, row.parent);
    else existing.set(row.uid, { series_uid: row.parent, blob_key: row.blob_key! });
  }
  return { seriesStudy, existing };
}

const STUDY_COLUMNS = [
  'study_uid', 'imaging_study_id', 'patient_id', 'issuer_of_patient_id', 'patient_name', 'patient_name_key',
  'patient_name_alphabetic', 'patient_name_ideographic', 'patient_name_phonetic',
  'patient_birth_date', 'patient_sex', 'study_date', 'study_time', 'accession_number', 'study_id', 'study_description',
  'referring_physician_name', 'institution_name', 'charset',
];
const SERIES_COLUMNS = ['series_uid', 'study_uid', 'modality', 'series_number', 'series_description', 'body_part', 'performed_start_date', 'performed_start_time'];
const INSTANCE_COLUMNS = [
  'sop_instance_uid', 'series_uid', 'study_uid', 'sop_class_uid', 'instance_number', 'transfer_syntax', 'blob_key', 'size',
  'rows', 'columns', 'bits_allocated', 'frames', 'pixel_offset', 'pixel_length', 'frame_length', 'encapsulated', 'metadata',
];

/**
 * Upserts the batch's studies, series and instances in one statement (foreign keys are checked
 * at its end, when all three are written). A study or series named by several instances is
 * written once, with the last instance's attributes; a study or series attribute an instance
 * leaves empty keeps its stored value. Returns the series and instances that are new.
 */
async function upsertRows(tx: SqlExecutor, items: IndexItem[]): Promise<{ newSeries: string[]; newInstances: Set<string> }> {
  const byStudy = new Map<string, IndexItem>();
  const bySeries = new Map<string, IndexItem>();
  for (const item of items) {
    byStudy.set(item.record.studyUid, item);
    bySeries.set(item.record.seriesUid, item);
  }
  const params: unknown[] = [];
  const values = (rows: unknown[][]) =>
    rows.map((row) => `(${row.map((value) => `$${params.push(value)}`).join(', ')})`).join(', ');
  const studyValues = values([...byStudy.keys()].sort().map((uid) => studyRow(byStudy.get(uid)!)));
  const seriesValues = values([...bySeries.values()].map(seriesRow));
  const instanceValues = values(items.map(instanceRow));
  const rows = await tx.query<{ kind: 'series' | 'instance'; uid: string; inserted: boolean }>(
    `with study as (
       insert into dicom_study (${STUDY_COLUMNS.join(', ')}) values ${studyValues}
       on conflict (study_uid) do update set
         ${STUDY_COLUMNS.slice(2).map((c) => `${c} = coalesce(excluded.${c}, dicom_study.${c})`).join(', ')}, updated_at = now()),
     series as (
       insert into dicom_series (${SERIES_COLUMNS.join(', ')}) values ${seriesValues}
       on conflict (series_uid) do update set
         ${SERIES_COLUMNS.slice(2).map((c) => `${c} = coalesce(excluded.${c}, dicom_series.${c})`).join(', ')}
       returning series_uid, (xmax = 0) as inserted),
     instance as (
       insert into dicom_instance (${INSTANCE_COLUMNS.join(', ')}) values ${instanceValues}
       on conflict (sop_instance_uid) do update set
         ${INSTANCE_COLUMNS.slice(3).map((c) => `${c} = excluded.${c}`).join(', ')}, stored_at = now()
       returning sop_instance_uid, (xmax = 0) as inserted)
     select 'series' as kind, series_uid as uid, inserted from series
     union all
     select 'instance', sop_instance_uid, inserted from instance`,
    params,
  );
  return {
    newSeries: rows.filter((r) => r.kind === 'series' && r.inserted).map((r) => r.uid),
    newInstances: new Set(rows.filter((r) => r.kind === 'instance' && r.inserted).map((r) => r.uid)),
  };
}

function studyRow({ record, imagingStudyId }: IndexItem): unknown[] {
  const { patient, study } = record;
  return [
    record.studyUid, imagingStudyId, patient.id ?? null, patient.issuer ?? null, patient.name ? JSON.stringify(patient.name) : null,
    nameKey(patient.name), upper(patient.name?.Alphabetic), upper(patient.name?.Ideographic), upper(patient.name?.Phonetic),
    patient.birthDate ?? null, patient.sex ?? null, study.date ?? null, study.time ?? null,
    study.accessionNumber ?? null, study.studyId ?? null, study.description ?? null,
    study.referringPhysician ? JSON.stringify(study.referringPhysician) : null, study.institution ?? null, record.charset ?? null,
  ];
}

function seriesRow({ record: { seriesUid, studyUid, series } }: IndexItem): unknown[] {
  return [seriesUid, studyUid, series.modality ?? null, series.number ?? null, series.description ?? null, series.bodyPart ?? null, series.performedDate ?? null, series.performedTime ?? null];
}

function instanceRow({ record: r, blob, metadata }: IndexItem): unknown[] {
  return [
    r.sopInstanceUid, r.seriesUid, r.studyUid, r.sopClassUid, r.instance.number ?? null, r.transferSyntax, blob.key, blob.size,
    r.instance.rows ?? null, r.instance.columns ?? null, r.instance.bitsAllocated ?? null, r.instance.frames ?? null, r.instance.pixelOffset ?? null,
    r.instance.pixelLength ?? null, r.instance.frameLength ?? null, r.instance.encapsulated, metadata,
  ];
}

/** Whether any instance still uses a blob (a replaced object may be shared by identical copies). */
export async function blobInUse(db: SqlExecutor, key: string): Promise<boolean> {
  const rows = await db.query('select 1 from dicom_instance where blob_key = $1 limit 1', [key]);
  return rows.length > 0;
}
