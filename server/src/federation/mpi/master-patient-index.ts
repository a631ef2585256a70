// The master patient index in the database: one mpi_record per source Patient (its normalised
// person, blocking keys, golden record and how it got there), golden Patients kept current, and
// uncertain pairs sent to a review queue of Tasks. Link decisions are moves of a source Patient
// between golden records, logged in mpi_log so that every one can be undone.
import { randomUUID } from 'node:crypto';
import type { Patient, Resource, Task } from '@medplum/fhirtypes';
import type { SqlExecutor } from '../../db/database.js';
import { Invalid, NotFound } from '../../fhir/errors.js';
import type { FhirRepository } from '../../fhir/repository.js';
import type { PatientLinking } from '../ingest.js';
import { FEDERATION_CODES } from '../source.js';
import { buildGolden, demographicsOf, withGoldenLink, type MemberDemographics } from './golden.js';
import { MATCH_THRESHOLDS, blockingKeys, compareRecords, type MatchResult } from './match.js';
import { personFromPatient, type PersonRecord } from './person.js';

export const REVIEW_CODE = { system: FEDERATION_CODES, code: 'mpi-review', display: 'Review a possible duplicate patient' };

export type LinkStatus = 'auto' | 'manual' | 'review';

interface StoredPerson {
  record: PersonRecord;
  demographics: MemberDemographics;
}

interface RecordRow {
  patient_id: string;
  golden_id: string | null;
  person: StoredPerson;
  link_status: LinkStatus;
  score: number | null;
}

export interface Candidate {
  goldenId: string;
  result: MatchResult;
  /** The member that matched best. */
  patientId: string;
}

export interface Move {
  patientId: string;
  from?: string;
  to: string;
}

export class MasterPatientIndex implements PatientLinking {
  /** Links source Patients (about to be stored, hub ids set) and returns them with Patient.link, plus golden records and review Tasks. */
  async link(tx: FhirRepository, patients: Patient[]): Promise<{ patients: Patient[]; extra: Resource[] }> {
    const sql = await tx.sql();
    const records = patients.map((p) => personFromPatient(p));
    await lockKeys(sql, records);
    const touched = new Set<string>();
    const tasks: Task[] = [];
    const linked: Patient[] = [];
    for (const [i, patient] of patients.entries()) {
      const record = records[i];
      const person: StoredPerson = { record, demographics: demographicsOf(patient, record.residentId) };
      const [existing] = await sql.query<RecordRow>('select * from mpi_record where patient_id = $1 for update', [patient.id]);
      let golden = existing?.golden_id ?? undefined;
      let status: LinkStatus = existing?.link_status ?? 'auto';
      let score = existing?.score ?? null;
      if (!golden) {
        const decision = await this.decide(sql, patient.id!, record);
        golden = decision.golden ?? randomUUID();
        status = decision.status;
        score = decision.score ?? null;
        if (decision.review) tasks.push(reviewTask(patient.id!, decision.review));
      }
      await sql.query(
        `insert into mpi_record (patient_id, golden_id, keys, person, link_status, score) values ($1, $2, $3, $4, $5, $6)
         on conflict (patient_id) do update set golden_id = excluded.golden_id, keys = excluded.keys, person = excluded.person,
           link_status = excluded.link_status, score = excluded.score, updated_at = now()`,
        [patient.id, golden, blockingKeys(record), JSON.stringify(person), status, score],
      );
      touched.add(golden);
      linked.push(flagDataQuality(withGoldenLink(patient, golden), record));
    }
    return { patients: linked, extra: [...(await this.goldens(sql, touched)), ...tasks] };
  }

  async forget(tx: FhirRepository, patientIds: string[]): Promise<Resource[]> {
    const sql = await tx.sql();
    const rows = await sql.query<{ golden_id: string | null }>('delete from mpi_record where patient_id = any($1::text[]) returning golden_id', [patientIds]);
    return this.goldens(sql, new Set(rows.map((r) => r.golden_id).filter((g): g is string => !!g)));
  }

  /** Golden records that best match a person, best first (for $match and review). */
  async candidates(sql: SqlExecutor, record: PersonRecord, exclude?: string): Promise<Candidate[]> {
    const rows = await sql.query<RecordRow>(
      'select * from mpi_record where keys && $1::text[] and golden_id is not null and ($2::text is null or patient_id <> $2)',
      [blockingKeys(record), exclude ?? null],
    );
    const byGolden = new Map<string, Candidate & { vetoed: boolean }>();
    for (const row of rows) {
      const result = compareRecords(record, row.person.record);
      const seen = byGolden.get(row.golden_id!);
      const vetoed = (seen?.vetoed ?? false) || result.grade === 'certainly-not';
      if (!seen || rank(result) > rank(seen.result)) byGolden.set(row.golden_id!, { goldenId: row.golden_id!, result, patientId: row.patient_id, vetoed });
      else seen.vetoed = vetoed;
    }
    return [...byGolden.values()].filter((c) => !c.vetoed).sort((a, b) => rank(b.result) - rank(a.result));
  }

  /**
   * Where a new source Patient goes: one golden record it matches with certainty or above the
   * auto-link threshold; a new golden record otherwise — with a review Task when a candidate is
   * in the review band, or when two golden records both match (never linked to two).
   */
  private async decide(sql: SqlExecutor, patientId: string, record: PersonRecord): Promise<{ golden?: string; status: LinkStatus; score?: number; review?: Candidate[] }> {
    const candidates = await this.candidates(sql, record, patientId);
    const strong = candidates.filter((c) => c.result.deterministic || c.result.score >= MATCH_THRESHOLDS.autoLink);
    const certain = strong.filter((c) => c.result.deterministic);
    const chosen = certain.length === 1 ? certain[0] : strong.length === 1 ? strong[0] : undefined;
    if (chosen) return { golden: chosen.goldenId, status: 'auto', score: chosen.result.score };
    const possible = candidates.filter((c) => c.result.score >= MATCH_THRESHOLDS.review);
    if (possible.length) return { status: 'review', score: possible[0].result.score, review: possible.slice(0, 5) };
    return { status: 'auto' };
  }

  /** The golden records named, rebuilt from their members as they are now. */
  async goldens(sql: SqlExecutor, ids: Set<string>, replacedBy: Map<string, string> = new Map()): Promise<Patient[]> {
    if (!ids.size) return [];
    const rows = await sql.query<{ golden_id: string; person: StoredPerson }>('select golden_id, person from mpi_record where golden_id = any($1::text[]) order by patient_id', [[...ids]]);
    return [...ids].map((id) => buildGolden(id, rows.filter((r) => r.golden_id === id).map((r) => r.person.demographics), replacedBy.get(id)));
  }

  async goldenOf(sql: SqlExecutor, patientId: string): Promise<string | undefined> {
    const [row] = await sql.query<{ golden_id: string | null }>('select golden_id from mpi_record where patient_id = $1', [patientId]);
    return row?.golden_id ?? undefined;
  }

  /** These Patients and every record of the same people: their golden records and all members. */
  async samePerson(sql: SqlExecutor, patientIds: readonly string[]): Promise<string[]> {
    if (!patientIds.length) return [];
    const rows = await sql.query<{ id: string }>(
      `with person as (select golden_id as g from mpi_record where patient_id = any($1::text[]) and golden_id is not null
                       union select unnest($1::text[]))
       select p.g as id from person p union select m.patient_id from mpi_record m where m.golden_id in (select g from person)`,
      [patientIds],
    );
    return [...new Set([...patientIds, ...rows.map((r) => r.id)])];
  }

  /** For each Patient id given: the person it belongs to — its golden record, else itself. */
  async personKeys(sql: SqlExecutor, patientIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map(patientIds.map((id) => [id, id]));
    if (!patientIds.length) return out;
    const rows = await sql.query<{ patient_id: string; golden_id: string }>('select patient_id, golden_id from mpi_record where patient_id = any($1::text[]) and golden_id is not null', [patientIds]);
    for (const r of rows) out.set(r.patient_id, r.golden_id);
    return out;
  }

  /** For each golden id given: its members. Ids that are not golden records are left out. */
  async members(sql: SqlExecutor, goldenIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!goldenIds.length) return out;
    const rows = await sql.query<{ golden_id: string; patient_id: string }>('select golden_id, patient_id from mpi_record where golden_id = any($1::text[]) order by patient_id', [goldenIds], {
      name: 'suhe_mpi_members',
    });
    for (const r of rows) out.set(r.golden_id, [...(out.get(r.golden_id) ?? []), r.patient_id]);
    return out;
  }

  /**
   * Moves source Patients between golden records (link, unlink, merge and their undo), logged as
   * one action. Returns the action id and the resources to store: the moved source Patients with
   * their new link, the golden records on both sides, and closed review Tasks.
   */
  async move(tx: FhirRepository, action: string, moves: Move[], actor: string, reason: string | undefined, replacedBy = new Map<string, string>()): Promise<{ actionId: string; resources: Resource[] }> {
    const sql = await tx.sql();
    const [{ id: actionId }] = await sql.query<{ id: string }>(`select nextval('mpi_action_seq')::text as id`);
    const touched = new Set<string>();
    const patients: Patient[] = [];
    for (const move of moves) {
      const [row] = await sql.query<RecordRow>('select * from mpi_record where patient_id = $1 for update', [move.patientId]);
      if (!row) throw new NotFound(`Patient/${move.patientId} is not a source record of the master patient index`);
      await sql.query(`update mpi_record set golden_id = $2, link_status = 'manual', updated_at = now() where patient_id = $1`, [move.patientId, move.to]);
      await sql.query('insert into mpi_log (action_id, action, patient_id, from_golden, to_golden, actor, reason) values ($1, $2, $3, $4, $5, $6, $7)', [
        actionId, action, move.patientId, row.golden_id, move.to, actor, reason ?? null,
      ]);
      if (row.golden_id) touched.add(row.golden_id);
      touched.add(move.to);
      const current = (await tx.read('Patient', move.patientId)) as Patient;
      patients.push(withGoldenLink(current, move.to));
    }
    const tasks = await this.closeReviews(tx, moves.map((m) => m.patientId), action);
    return { actionId, resources: [...patients, ...(await this.goldens(sql, touched, replacedBy)), ...tasks] };
  }

  /** The moves of an action, reversed (an action already undone cannot be undone again). */
  async undoMoves(sql: SqlExecutor, actionId: string): Promise<Move[]> {
    const rows = await sql.query<{ id: string; patient_id: string; from_golden: string | null; to_golden: string | null; undone_by: string | null }>(
      'select id::text, patient_id, from_golden, to_golden, undone_by::text from mpi_log where action_id = $1 order by id desc',
      [actionId],
    );
    if (!rows.length) throw new NotFound(`No master patient index action ${actionId}`);
    if (rows.some((r) => r.undone_by)) throw new Invalid(`Action ${actionId} was already undone`);
    return rows.map((r) => ({ patientId: r.patient_id, from: r.to_golden ?? undefined, to: r.from_golden ?? randomUUID() }));
  }

  async markUndone(sql: SqlExecutor, actionId: string, undoneBy: string): Promise<void> {
    await sql.query('update mpi_log set undone_by = $2 where action_id = $1', [actionId, undoneBy]);
  }

  /** Open review Tasks about these source Patients, completed by the decision just taken. */
  private async closeReviews(tx: FhirRepository, patientIds: string[], action: string): Promise<Task[]> {
    const closed: Task[] = [];
    for (const id of patientIds) {
      const open = (await tx.search({
        resourceType: 'Task', filters: [
          { kind: 'value', param: tx.registry.get('Task', 'focus')!, values: [`Patient/${id}`] },
          { kind: 'value', param: tx.registry.get('Task', 'code')!, values: [`${REVIEW_CODE.system}|${REVIEW_CODE.code}`] },
          { kind: 'value', param: tx.registry.get('Task', 'status')!, values: ['requested'] },
        ], sort: [], count: 50, total: 'none', include: [], ignored: [], query: [],
      })).resources as Task[];
      for (const task of open) closed.push({ ...task, status: 'completed', lastModified: new Date().toISOString(), statusReason: { text: `decided: ${action}` } });
    }
    return closed;
  }
}

/**
 * Two sources' records of one person, ingested at the same moment, must not both find no
 * candidate and make two golden records: batches that could match each other (they share a
 * blocking key) take the keys' locks, all at once and in one order (no deadlock), until commit.
 */
async function lockKeys(sql: SqlExecutor, records: PersonRecord[]): Promise<void> {
  const keys = [...new Set(records.flatMap((r) => blockingKeys(r)))];
  if (!keys.length) return;
  await sql.query('select pg_advisory_xact_lock(h) from (select distinct hashtext(k) as h from unnest($1::text[]) k order by 1) s', [keys.map((k) => `mpi:${k}`)]);
}

export const INVALID_ID_TAG = { system: FEDERATION_CODES, code: 'invalid-resident-id' };

/** A resident ID number that fails ID-01 is kept as received and marked, never used as a link key. */
function flagDataQuality(patient: Patient, record: PersonRecord): Patient {
  const tags = (patient.meta?.tag ?? []).filter((t) => !(t.system === INVALID_ID_TAG.system && t.code === INVALID_ID_TAG.code));
  if (record.residentIdProblem) tags.push({ ...INVALID_ID_TAG, display: `Data-quality problem: the resident ID number fails ID-01 (${record.residentIdProblem})` });
  const meta = { ...patient.meta };
  if (tags.length) meta.tag = tags;
  else delete meta.tag;
  return { ...patient, meta };
}

function rank(result: MatchResult): number {
  return result.deterministic ? Number.MAX_SAFE_INTEGER : result.score;
}

function reviewTask(patientId: string, candidates: Candidate[]): Task {
  const best = candidates[0];
  return {
    resourceType: 'Task',
    id: randomUUID(),
    status: 'requested',
    intent: 'proposal',
    priority: 'routine',
    code: { coding: [REVIEW_CODE], text: REVIEW_CODE.display },
    focus: { reference: `Patient/${patientId}` },
    for: { reference: `Patient/${best.goldenId}` },
    authoredOn: new Date().toISOString(),
    description: `Patient/${patientId} may be the same person as golden record Patient/${best.goldenId} (score ${best.result.score.toFixed(1)}: ${best.result.reasons.join('; ')}). Link it with Patient/$mpi-link, or keep it apart by completing this Task with $mpi-unlink.`,
    input: candidates.map((c) => ({
      type: { text: 'candidate' },
      valueReference: { reference: `Patient/${c.goldenId}`, display: `score ${c.result.score.toFixed(1)} (${c.result.grade})` },
    })),
  };
}
