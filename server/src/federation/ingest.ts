// The one pipeline every source record goes through, pulled or pushed: check it, give it its hub
// id (the same one every time: fed_map), rewrite its references to hub ids, store it only when
// its content changed, link Patients through the master patient index, and record where it came
// from (meta.source = the source Endpoint, a Provenance naming the source Organization, an
// AuditEvent per patient). A batch is one transaction, together with the caller's checkpoint, so
// a crash leaves either the whole batch and its checkpoint or neither. A record that fails its
// checks is quarantined with the reason and does not stop the rest.
import { randomUUID } from 'node:crypto';
import type { OperationOutcome, Patient, Provenance, Resource } from '@medplum/fhirtypes';
import type { Logger } from '../audit/logger.js';
import type { SqlExecutor } from '../db/database.js';
import type { Actor } from '../fhir/access/access-control.js';
import type { AuditTrail } from '../fhir/access/audit-trail.js';
import type { PatientCompartment } from '../fhir/access/compartment.js';
import { FhirError, operationOutcome } from '../fhir/errors.js';
import type { FhirRepository } from '../fhir/repository.js';
import { parseSearchRequest } from '../fhir/search/parse.js';
import type { R4Validator } from '../fhir/validation.js';
import { keyString, referencedKey, referencesIn, replaceReferences, type SourceKey } from './source-references.js';
import { contentHash } from '../fhir/content-hash.js';
import { sourceUri, type Source } from './source.js';

/** One record as the source sent it: a resource, or the news that it was deleted. */
export interface IncomingEntry {
  type: string;
  sourceId: string;
  resource?: Resource;
  deleted?: boolean;
  /** The entry's fullUrl in a pushed Bundle (`urn:uuid:...`), which other entries may reference. */
  fullUrl?: string;
  /** Why the record could not even be read (a broken NDJSON line): quarantined with this reason. */
  problem?: string;
}

export type EntryOutcome = 'created' | 'updated' | 'unchanged' | 'deleted' | 'quarantined';

export interface EntryResult {
  type: string;
  sourceId: string;
  outcome: EntryOutcome;
  hubId?: string;
  versionId?: string;
  problem?: OperationOutcome;
}

export interface IngestSummary {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  quarantined: number;
  results: EntryResult[];
}

/** The master patient index, as the pipeline needs it (federation/mpi/ implements it). */
export interface PatientLinking {
  /** Sets Patient.link on source Patients about to be stored; returns them and what else to store (golden records, review Tasks). */
  link(tx: FhirRepository, patients: Patient[]): Promise<{ patients: Patient[]; extra: Resource[] }>;
  /** Source Patients deleted at their source leave their golden records; returns golden records to store. */
  forget(tx: FhirRepository, patientIds: string[]): Promise<Resource[]>;
}

export interface IngestDeps {
  repo: FhirRepository;
  validator: R4Validator;
  compartment: PatientCompartment;
  audit?: AuditTrail;
  mpi?: PatientLinking;
  logger: Logger;
}

/** Types a source may not write: the hub's own records and what would change how the hub behaves. */
const REFUSED_TYPES = new Set(['AuditEvent', 'Endpoint', 'SearchParameter', 'StructureDefinition', 'OperationDefinition', 'CapabilityStatement', 'Subscription']);

interface MapRow {
  hubId: string;
  hash?: string;
  arrived: boolean;
  deleted: boolean;
}

export class FederationIngest {
  constructor(private readonly deps: IngestDeps) {}

  /**
   * Ingests one batch in one transaction. `checkpoint` runs inside it (pull sync records how far
   * it got, so the data and the checkpoint commit together).
   */
  async ingest(source: Source, entries: IncomingEntry[], actor: Actor, checkpoint?: (sql: SqlExecutor) => Promise<void>): Promise<IngestSummary> {
    const latest = lastOfEach(entries);
    const summary: IngestSummary = { created: 0, updated: 0, unchanged: 0, deleted: 0, quarantined: 0, results: [] };
    const isType = (t: string) => this.deps.repo.registry.isResourceType(t);
    const bundleIds = new Map<string, SourceKey>();
    for (const e of latest) if (e.fullUrl) bundleIds.set(e.fullUrl, { type: e.type, sourceId: e.sourceId });

    return this.deps.repo.transaction(async (tx) => {
      const sql = await tx.sql();
      const quarantine = async (entry: IncomingEntry, problem: OperationOutcome) => {
        await sql.query('insert into fed_quarantine (endpoint_id, resource_type, source_id, content, outcome) values ($1, $2, $3, $4, $5)', [
          source.endpointId, entry.type, entry.sourceId, entry.resource ? JSON.stringify(entry.resource) : null, JSON.stringify(problem),
        ]);
        summary.quarantined++;
        summary.results.push({ type: entry.type, sourceId: entry.sourceId, outcome: 'quarantined', problem });
      };

      // Checks that need nothing from the hub.
      const candidates: IncomingEntry[] = [];
      for (const entry of latest) {
        const problem = this.shapeProblem(entry);
        if (problem) await quarantine(entry, operationOutcome('error', 'invalid', problem));
        else candidates.push(entry);
      }

      // Hub ids: for the entries and everything they reference, reserving ids for what has not arrived.
      const keys = new Map<string, SourceKey>();
      for (const e of candidates) {
        keys.set(keyString(e), e);
        for (const ref of e.resource ? referencesIn(e.resource) : []) {
          const key = referencedKey(ref, source.baseUrl, bundleIds, isType);
          if (key) keys.set(keyString(key), key);
        }
      }
      const map = await mapKeys(sql, source.endpointId, [...keys.values()], new Set(candidates.map((e) => keyString(e))));

      const writes: Resource[] = [];
      const writeEntries: IncomingEntry[] = [];
      const hashes = new Map<string, string>();
      const deletes: IncomingEntry[] = [];
      for (const entry of candidates) {
        const row = map.get(keyString(entry))!;
        if (entry.deleted) {
          deletes.push(entry);
          continue;
        }
        const hash = contentHash(entry.resource!);
        if (row.arrived && !row.deleted && row.hash === hash) {
          summary.unchanged++;
          summary.results.push({ type: entry.type, sourceId: entry.sourceId, outcome: 'unchanged', hubId: row.hubId });
          continue;
        }
        try {
          const resource = await this.toHub(tx, source, entry, row.hubId, map, bundleIds);
          this.deps.validator.validate(resource, { skipExtraRules: true });
          writes.push(resource);
          writeEntries.push(entry);
          hashes.set(keyString(entry), hash);
        } catch (err) {
          if (!(err instanceof FhirError)) throw err;
          await quarantine(entry, err.toOperationOutcome());
        }
      }

      // Patients through the MPI before they are stored (Patient.link), with their golden records.
      let extra: Resource[] = [];
      if (this.deps.mpi) {
        const patients = writes.filter((r): r is Patient => r.resourceType === 'Patient');
        if (patients.length) {
          const linked = await this.deps.mpi.link(tx, patients);
          const byId = new Map(linked.patients.map((p) => [p.id!, p]));
          for (let i = 0; i < writes.length; i++) if (writes[i].resourceType === 'Patient') writes[i] = byId.get(writes[i].id!) ?? writes[i];
          extra = linked.extra;
        }
      }
      const stored = await tx.updateMany([...writes, ...extra], { trusted: true });
      for (let i = 0; i < writeEntries.length; i++) {
        const { resource, created } = stored[i];
        const entry = writeEntries[i];
        if (created) summary.created++;
        else summary.updated++;
        summary.results.push({ type: entry.type, sourceId: entry.sourceId, outcome: created ? 'created' : 'updated', hubId: resource.id, versionId: resource.meta?.versionId });
      }

      // Deletes at the source are deletes here.
      const deletedPatients: string[] = [];
      for (const entry of deletes) {
        const row = map.get(keyString(entry))!;
        if (row.arrived && !row.deleted) {
          await tx.delete(entry.type, row.hubId);
          if (entry.type === 'Patient') deletedPatients.push(row.hubId);
        }
        summary.deleted++;
        summary.results.push({ type: entry.type, sourceId: entry.sourceId, outcome: 'deleted', hubId: row.hubId });
      }
      if (deletedPatients.length && this.deps.mpi) {
        const goldens = await this.deps.mpi.forget(tx, deletedPatients);
        if (goldens.length) await tx.updateMany(goldens, { trusted: true });
      }

      await recordMapping(await tx.sql(), source.endpointId, writeEntries.map((e) => ({ key: e, hash: hashes.get(keyString(e))! })), deletes);
      const writtenResources = stored.slice(0, writeEntries.length).map((s) => s.resource);
      for (const provenance of provenanceFor(source, writtenResources, this.deps.compartment)) await tx.create(provenance, undefined, { trusted: true });
      if (this.deps.audit) {
        const patients = new Set<string>();
        for (const r of [...writtenResources, ...extra]) for (const p of patientsOf(r, this.deps.compartment)) patients.add(p);
        for (const e of deletes) if (e.type === 'Patient') patients.add(map.get(keyString(e))!.hubId);
        const record = { kind: 'operation' as const, outcome: 'success' as const, patients: [...patients], query: `$ingest source=${source.name}` };
        if (patients.size || writes.length || deletes.length) await this.deps.audit.writeIn(tx, actor, record);
      }
      if (checkpoint) await checkpoint(await tx.sql());
      return summary;
    });
  }

  /** Why an entry cannot even be looked at, or undefined. */
  private shapeProblem(entry: IncomingEntry): string | undefined {
    if (entry.problem) return entry.problem;
    if (!this.deps.repo.registry.isResourceType(entry.type)) return `'${entry.type}' is not a FHIR R4 resource type`;
    if (REFUSED_TYPES.has(entry.type)) return `${entry.type} resources are not taken from sources`;
    if (!/^[A-Za-z0-9\-.:]{1,200}$/.test(entry.sourceId)) return `the source id '${entry.sourceId.slice(0, 80)}' is not usable`;
    if (entry.deleted) return undefined;
    const r = entry.resource as unknown;
    if (!r || typeof r !== 'object' || Array.isArray(r)) return 'the entry holds no resource';
    if ((r as Resource).resourceType !== entry.type) return `expected a ${entry.type}, got '${String((r as Resource).resourceType)}'`;
    return undefined;
  }

  /** The resource as the hub stores it: hub id, hub references, meta.source = the source Endpoint. */
  private async toHub(tx: FhirRepository, source: Source, entry: IncomingEntry, hubId: string, map: Map<string, MapRow>, bundleIds: Map<string, SourceKey>): Promise<Resource> {
    const resource = structuredClone(entry.resource!) as Resource;
    const isType = (t: string) => this.deps.repo.registry.isResourceType(t);
    const conditional = new Map<string, string>();
    for (const ref of referencesIn(resource)) {
      if (/^[A-Z][A-Za-z]+\?/.test(ref) && !conditional.has(ref)) conditional.set(ref, await this.resolveConditional(tx, source, ref));
    }
    replaceReferences(resource, (ref) => {
      if (conditional.has(ref)) return conditional.get(ref);
      const key = referencedKey(ref, source.baseUrl, bundleIds, isType);
      return key ? `${key.type}/${map.get(keyString(key))!.hubId}` : undefined;
    });
    const meta = { ...(resource.meta ?? {}), source: sourceUri(source) };
    delete meta.versionId;
    delete meta.lastUpdated;
    return { ...resource, id: hubId, meta };
  }

  /** `Practitioner?identifier=x|y` from a source: the one resource of that source that matches. */
  private async resolveConditional(tx: FhirRepository, source: Source, reference: string): Promise<string> {
    const [type, query] = [reference.slice(0, reference.indexOf('?')), reference.slice(reference.indexOf('?') + 1)];
    const request = parseSearchRequest(type, [...new URLSearchParams(query).entries(), ['_source', sourceUri(source)]], tx.registry, { defaultCount: 2, maxCount: 2, defaultTotal: 'none' });
    const found = (await tx.search(request)).resources;
    if (found.length !== 1) throw new FhirError(422, 'processing', `the conditional reference ${reference} matches ${found.length ? 'more than one' : 'no'} resource from this source`);
    return `${type}/${found[0].id}`;
  }
}

/** When a batch names one record several times, its last word counts. */
function lastOfEach(entries: IncomingEntry[]): IncomingEntry[] {
  const last = new Map<string, IncomingEntry>();
  for (const e of entries) {
    last.delete(keyString(e));
    last.set(keyString(e), e);
  }
  return [...last.values()];
}

/**
 * The hub ids of these keys, reserving new ones (in one statement) for keys never seen; the rows
 * of the batch's own entries (`owned`) stay locked until commit, so two batches never write one
 * record at once. Batches of several types run at once and reference each other's records: every
 * insert and lock goes in one (type, id) order, or two of them could wait on each other.
 */
async function mapKeys(sql: SqlExecutor, endpointId: string, keys: SourceKey[], owned: Set<string>): Promise<Map<string, MapRow>> {
  const map = new Map<string, MapRow>();
  if (!keys.length) return map;
  const sorted = [...keys].sort((a, b) => (a.type === b.type ? (a.sourceId < b.sourceId ? -1 : 1) : a.type < b.type ? -1 : 1));
  // Insert what is missing (a concurrent batch of the same source may win: then its id is used).
  await sql.query(
    `insert into fed_map (endpoint_id, resource_type, source_id, hub_id)
     select $1, k.type, k.id, k.hub from unnest($2::text[], $3::text[], $4::text[]) with ordinality as k(type, id, hub, n) order by k.n
     on conflict (endpoint_id, resource_type, source_id) do nothing`,
    [endpointId, sorted.map((k) => k.type), sorted.map((k) => k.sourceId), sorted.map(() => randomUUID())],
  );
  type Row = { resource_type: string; source_id: string; hub_id: string; content_hash: string | null; arrived: boolean; deleted: boolean };
  const select = (lock: boolean, list: SourceKey[]) =>
    list.length
      ? sql.query<Row>(
          `select m.resource_type, m.source_id, m.hub_id, m.content_hash, m.arrived, m.deleted
             from fed_map m join unnest($2::text[], $3::text[]) as k(type, id) on m.resource_type = k.type and m.source_id = k.id
            where m.endpoint_id = $1 order by m.resource_type, m.source_id${lock ? ' for update of m' : ''}`,
          [endpointId, list.map((k) => k.type), list.map((k) => k.sourceId)],
        )
      : Promise.resolve([] as Row[]);
  const rows = [...(await select(true, sorted.filter((k) => owned.has(keyString(k))))), ...(await select(false, sorted.filter((k) => !owned.has(keyString(k)))))];
  for (const r of rows) map.set(`${r.resource_type}/${r.source_id}`, { hubId: r.hub_id, hash: r.content_hash ?? undefined, arrived: r.arrived, deleted: r.deleted });
  return map;
}

async function recordMapping(sql: SqlExecutor, endpointId: string, written: { key: SourceKey; hash: string }[], deleted: SourceKey[]): Promise<void> {
  const rows = [
    ...written.map((w) => ({ type: w.key.type, id: w.key.sourceId, hash: w.hash as string | null, deleted: false })),
    ...deleted.map((d) => ({ type: d.type, id: d.sourceId, hash: null, deleted: true })),
  ];
  if (!rows.length) return;
  await sql.query(
    `update fed_map m set content_hash = k.hash, deleted = k.deleted, arrived = true, updated_at = now()
       from unnest($2::text[], $3::text[], $4::text[], $5::boolean[]) as k(type, id, hash, deleted)
      where m.endpoint_id = $1 and m.resource_type = k.type and m.source_id = k.id`,
    [endpointId, rows.map((r) => r.type), rows.map((r) => r.id), rows.map((r) => r.hash), rows.map((r) => r.deleted)],
  );
}

function patientsOf(resource: Resource, compartment: PatientCompartment): string[] {
  if (resource.resourceType === 'Patient') return [resource.id!];
  return compartment.includes(resource.resourceType) ? compartment.patientsOf(resource) : [];
}

/**
 * One Provenance per patient touched by the batch (and one for resources in no patient's
 * compartment), so a patient's Provenance never names another patient's records.
 */
function provenanceFor(source: Source, written: Resource[], compartment: PatientCompartment): Provenance[] {
  const groups = new Map<string, Resource[]>();
  for (const r of written) {
    const key = patientsOf(r, compartment).sort().join(',');
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const recorded = new Date().toISOString();
  return [...groups.values()].map((resources) => ({
    resourceType: 'Provenance',
    target: resources.map((r) => ({ reference: `${r.resourceType}/${r.id}/_history/${r.meta!.versionId}` })),
    recorded,
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE', display: 'revise' }], text: 'received from source' },
    agent: [{
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author', display: 'Author' }] },
      who: { reference: source.organization },
    }],
    entity: [{ role: 'source', what: { reference: sourceUri(source), display: source.name } }],
  }));
}
