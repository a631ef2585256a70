// The versioned FHIR store: every write is one transaction (resource, history, indexes).
// Callers above (routes, bundles, modules) go through this class, never through the tables.
import { randomUUID } from 'node:crypto';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import type { Database, SqlExecutor } from '../db/database.js';
import { LazyTransaction } from '../db/lazy-transaction.js';
import { Conflict, Gone, Invalid, NotFound, PreconditionFailed } from './errors.js';
import { emptyIndexRows, extractIndexRows } from './index/extract.js';
import { FAMILY_ID, isVerbatimValue, member, planFamily, replaceStrings } from './index/family.js';
import { rewriteIndexRows, writeVersions, type VersionWrite } from './index/write-index.js';
import { registerSearchParameter } from './custom-search-parameters.js';
import { applyJsonPatch } from './json-patch.js';
import type { SearchParameterRegistry } from './search/parameters.js';
import type { AccessRestriction, IncludeSpec, SearchRequest } from './search/model.js';
import { rejectingUnfitValues } from './search/rejected-values.js';
import { compileSearch, cursorAfter } from './search/sql.js';
import { runIncludes, type IncludeResult } from './search/include.js';
import { resolveTerminology } from './search/terminology.js';
import { shapeStatementName } from '../db/statement-names.js';

export interface SearchOptions {
  /** Types whose resources the caller may read: includes of other types are not fetched. */
  canRead?: (type: string) => boolean;
  maxIncludes?: number;
}

const DEFAULT_MAX_INCLUDES = 1000;

/** Checks a resource before it is stored; throws Invalid with the FHIRPath of each problem. */
export interface ResourceValidator {
  validate(resource: Resource): void;
}

export interface WriteOptions {
  /** The version the client last saw (from If-Match); a different current version → 412. */
  ifMatch?: string;
}

export interface UpdateResult<T extends Resource = Resource> {
  resource: T;
  created: boolean;
}

export interface StoredJson {
  json: string;
  versionId: string;
  lastUpdated: string;
}

export interface SearchResult {
  resources: Resource[];
  /** Resources added by `_include` / `_revinclude` (search mode `include`). */
  included?: Resource[];
  /** The include bound was reached. */
  includesTruncated?: boolean;
  total?: number;
  /** Opaque position after the last resource on this page; absent on the last page. */
  nextCursor?: string;
}

export interface HistoryEntry {
  resource: Resource;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  deleted: boolean;
}

export interface HistoryRequest {
  type?: string;
  id?: string;
  since?: string;
  count: number;
  cursor?: string;
}

export interface HistoryResult {
  entries: HistoryEntry[];
  total?: number;
  nextCursor?: string;
}

interface Current {
  versionId: number;
  deleted: boolean;
}

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/** Writes buffered inside a transaction are sent together once this many wait. */
const MAX_PENDING_WRITES = 500;

/** A kind of resource that ties an actor to a patient (see patientsLinkedTo). */
export interface PatientLink {
  type: string;
  /** The search parameter that names the actor. */
  param: string;
  /** Only actors of these types count (all when absent). */
  actorTypes?: readonly string[];
  /** The link lapses while the resource's `status` is one of these. */
  closedStatuses?: readonly string[];
}

export class FhirRepository {
  /**
   * Inside a transaction, writes wait here and go to the database together (one statement), before
   * the next read of any kind and at commit, so the transaction still reads its own writes.
   */
  private pending: VersionWrite[] = [];

  constructor(
    private readonly db: Database,
    readonly registry: SearchParameterRegistry,
    private readonly validator: ResourceValidator,
    private readonly tx?: SqlExecutor,
  ) {}

  /**
   * Runs `work` with a repository whose every call joins one database transaction. The
   * transaction begins at the first read or lock (LazyTransaction); work that only writes is
   * sent as one statement at the end, which is atomic on its own.
   */
  async transaction<T>(work: (repo: FhirRepository) => Promise<T>): Promise<T> {
    if (this.tx) return work(this);
    const lazy = new LazyTransaction(this.db);
    const repo = new FhirRepository(this.db, this.registry, this.validator, lazy);
    let result: T;
    try {
      result = await work(repo);
      if (lazy.opened) {
        await repo.flush();
      } else {
        await repo.flushTo(this.db);
      }
    } catch (err) {
      await lazy.rollback();
      throw err;
    }
    await lazy.commit();
    return result;
  }

  /** The executor for a read: pending writes are sent first so the read sees them. */
  private async reader(): Promise<SqlExecutor> {
    await this.flush();
    return this.executor;
  }

  private async flush(): Promise<void> {
    await this.flushTo(this.executor);
  }

  private async flushTo(executor: SqlExecutor): Promise<void> {
    if (this.pending.length === 0) return;
    const writes = this.pending;
    this.pending = [];
    await sendWrites(executor, writes);
  }

  private async enqueue(write: VersionWrite): Promise<void> {
    if (!this.tx) return sendWrites(this.executor, [write]);
    this.pending.push(write);
    if (this.pending.length >= MAX_PENDING_WRITES) await this.flush();
  }

  private get executor(): SqlExecutor {
    return this.tx ?? this.db;
  }

  /**
   * Creates with a server-assigned id (`assignedId` lets a transaction choose it in advance).
   * `trusted`: built by the hub itself (AuditEvents), whose builders are tested against the
   * validators, so it is not validated again on every write.
   */
  async create<T extends Resource>(resource: T, assignedId: string = randomUUID(), options: { trusted?: boolean } = {}): Promise<T> {
    this.checkType(resource.resourceType);
    const stored = this.prepare({ ...resource, id: assignedId }, 1, options.trusted);
    // A create is one statement (atomic on its own): no BEGIN/COMMIT round trips around it.
    await this.write(stored, 'POST', false);
    return stored;
  }

  /**
   * Creates one resource per value: `template` with `slot` replaced by the value wherever it
   * occurs, each under a new id. The template is serialised and indexed once and each member
   * copied from it (index/family.ts), unless that copy would differ from indexing the member
   * itself; then, as for a value that is not an id-like string, the member is created on its own.
   */
  async createFamily<T extends Resource>(template: T, slot: string, values: readonly string[], options: { trusted?: boolean } = {}): Promise<void> {
    this.checkType(template.resourceType);
    const prepared = this.prepare({ ...template, id: FAMILY_ID }, 1, options.trusted);
    // A stored SearchParameter changes the registry as it is written (write()): never copied.
    const plan = values.length > 1 && template.resourceType !== 'SearchParameter' ? planFamily(prepared, slot, this.registry) : undefined;
    for (const value of values) {
      if (!plan || !isVerbatimValue(value)) {
        await this.create(replaceStrings(template, slot, value), undefined, options);
        continue;
      }
      const id = randomUUID();
      const { content, rows } = member(plan, value, id);
      await this.enqueue({ type: prepared.resourceType, id, versionId: 1, lastUpdated: prepared.meta!.lastUpdated!, deleted: false, method: 'POST', content, rows, exists: false });
    }
  }

  async read(type: string, id: string): Promise<Resource> {
    return JSON.parse((await this.readJson(type, id)).json) as Resource;
  }

  /**
   * The current row (deleted or not) with the patients whose compartment holds it, in one
   * statement: what a guarded read needs to decide between 200, 404 and 410.
   */
  async readCurrent(type: string, id: string, compartmentParams: readonly string[]): Promise<(StoredJson & { deleted: boolean; patients: string[] }) | undefined> {
    this.checkType(type);
    const rows = await (await this.reader()).query<{ content: string; deleted: boolean; version_id: number; last_updated: string; patients: string[] }>(
      `select content::text as content, deleted, version_id, content->'meta'->>'lastUpdated' as last_updated,
              array(select distinct i.target_id from idx_reference i
                     where i.res_type = r.type and i.res_id = r.id and i.param = any($3::text[])
                       and i.target_type = 'Patient' and i.target_id is not null) as patients
         from resource r where type = $1 and id = $2`,
      [type, id, compartmentParams],
      { name: 'suhe_read_current_with_patients' },
    );
    if (!rows.length) return undefined;
    const row = rows[0];
    const patients = withOwnCompartment(type, id, row.patients, !row.deleted);
    return { json: row.content, versionId: String(row.version_id), lastUpdated: row.last_updated, deleted: row.deleted, patients };
  }

  /** The current version as stored JSON text, for answering a read without parse + stringify. */
  async readJson(type: string, id: string): Promise<StoredJson> {
    this.checkType(type);
    const rows = await (await this.reader()).query<{ content: string; deleted: boolean; version_id: number; last_updated: string }>(
      "select content::text as content, deleted, version_id, content->'meta'->>'lastUpdated' as last_updated from resource where type = $1 and id = $2",
      [type, id],
      { name: 'suhe_read_current' },
    );
    if (rows.length === 0) throw new NotFound(`${type}/${id} not found`);
    if (rows[0].deleted) throw new Gone(`${type}/${id} was deleted (version ${rows[0].version_id})`);
    return { json: rows[0].content, versionId: String(rows[0].version_id), lastUpdated: rows[0].last_updated };
  }

  /**
   * The patients whose compartment holds the current version of type/id, from its reference index
   * (`params` are the compartment's search parameters for the type). A Patient is in its own.
   */
  async compartmentPatients(type: string, id: string, params: readonly string[]): Promise<string[]> {
    const [row] = await (await this.reader()).query<{ patients: string[]; live: boolean }>(
      `select array(select distinct i.target_id from idx_reference i
                     where i.res_type = $1 and i.res_id = $2 and i.param = any($3::text[])
                       and i.target_type = 'Patient' and i.target_id is not null) as patients,
              exists(select 1 from resource where type = $1 and id = $2 and not deleted) as live`,
      [type, id, params],
      { name: 'suhe_compartment_patients' },
    );
    return withOwnCompartment(type, id, row.patients, row.live);
  }

  /**
   * Patients referenced (through `patientParams`) by resources that point at `actors` through one
   * of `links`: e.g. the subjects of the Encounters a practitioner took part in. A link may count
   * only for some actor types (`actorTypes`, e.g. a Task owned by a person, not by an institution)
   * and lapse once the resource's `status` is one of `closedStatuses` (a completed Task).
   */
  async patientsLinkedTo(actors: readonly string[], links: readonly PatientLink[], patientParams: readonly string[]): Promise<string[]> {
    if (!actors.length || !links.length) return [];
    const rows = await (await this.reader()).query<{ target_id: string }>(
      `select distinct p.target_id
         from unnest($1::text[], $2::text[]) as actor(type, id)
         join idx_reference a on a.target_type = actor.type and a.target_id = actor.id
         join unnest($3::text[], $4::text[], $6::text[], $7::text[]) as l(type, param, actor_types, closed) on a.res_type = l.type and a.param = l.param
         join idx_reference p on p.res_type = a.res_type and p.res_id = a.res_id and p.param = any($5::text[]) and p.target_type = 'Patient'
        where p.target_id is not null
          and (l.actor_types = '' or a.target_type = any(string_to_array(l.actor_types, ',')))
          and (l.closed = '' or not exists (select 1 from idx_token s
                                             where s.res_type = a.res_type and s.res_id = a.res_id and s.param = 'status'
                                               and s.code = any(string_to_array(l.closed, ','))))`,
      [
        actors.map((a) => a.split('/')[0]),
        actors.map((a) => a.split('/')[1]),
        links.map((l) => l.type),
        links.map((l) => l.param),
        patientParams,
        links.map((l) => (l.actorTypes ?? []).join(',')),
        links.map((l) => (l.closedStatuses ?? []).join(',')),
      ],
    );
    return rows.map((r) => r.target_id);
  }

  async vread(type: string, id: string, versionId: string): Promise<Resource> {
    this.checkType(type);
    // Versions are PostgreSQL integers: nine digits always fit, and no resource reaches more.
    if (!/^\d{1,9}$/.test(versionId)) throw new NotFound(`${type}/${id} has no version '${versionId.slice(0, 40)}'`);
    const rows = await (await this.reader()).query<{ content: Resource; deleted: boolean }>(
      'select content, deleted from resource_history where type = $1 and id = $2 and version_id = $3',
      [type, id, Number(versionId)],
      { name: 'suhe_read_version' },
    );
    if (rows.length === 0) throw new NotFound(`${type}/${id}/_history/${versionId} not found`);
    if (rows[0].deleted) throw new Gone(`${type}/${id} version ${versionId} is a deletion`);
    return rows[0].content;
  }

  /** Update, or create with the client's id when it does not exist yet (update-as-create). */
  async update<T extends Resource>(resource: T, options: WriteOptions = {}): Promise<UpdateResult<T>> {
    this.checkType(resource.resourceType);
    const id = resource.id;
    if (!id || !ID_PATTERN.test(id)) throw new Invalid(`Resource id '${id ?? ''}' is not a valid FHIR id`, [`${resource.resourceType}.id`]);
    return this.transaction(async (repo) => {
      const current = await repo.lockCurrent(resource.resourceType, id);
      checkIfMatch(current, options.ifMatch, `${resource.resourceType}/${id}`);
      const stored = this.prepare(resource, (current?.versionId ?? 0) + 1);
      await repo.write(stored, 'PUT', current !== undefined);
      return { resource: stored, created: !current || current.deleted };
    });
  }

  /**
   * update() for many resources at once (federation ingest): one locking read for all of them
   * instead of one each, then one write statement with the rest of the transaction. `trusted`
   * skips validation for resources the caller has just validated itself.
   */
  async updateMany<T extends Resource>(resources: T[], options: { trusted?: boolean } = {}): Promise<UpdateResult<T>[]> {
    if (resources.length === 0) return [];
    const keys = new Set<string>();
    for (const r of resources) {
      this.checkType(r.resourceType);
      if (!r.id || !ID_PATTERN.test(r.id)) throw new Invalid(`Resource id '${r.id ?? ''}' is not a valid FHIR id`, [`${r.resourceType}.id`]);
      // Two versions of one resource in one statement would collide: the caller keeps the last.
      if (keys.has(`${r.resourceType}/${r.id}`)) throw new Invalid(`${r.resourceType}/${r.id} appears twice in one write`);
      keys.add(`${r.resourceType}/${r.id}`);
    }
    return this.transaction(async (repo) => {
      const rows = await (await repo.reader()).query<{ type: string; id: string; version_id: number; deleted: boolean }>(
        `select r.type, r.id, r.version_id, r.deleted from resource r
           join unnest($1::text[], $2::text[]) as w(type, id) on r.type = w.type and r.id = w.id
          order by r.type, r.id for update of r`,
        [resources.map((r) => r.resourceType), resources.map((r) => r.id!)],
      );
      const current = new Map(rows.map((row) => [`${row.type}/${row.id}`, { versionId: Number(row.version_id), deleted: row.deleted }]));
      const results: UpdateResult<T>[] = [];
      for (const resource of resources) {
        const now = current.get(`${resource.resourceType}/${resource.id}`);
        const stored = this.prepare(resource, (now?.versionId ?? 0) + 1, options.trusted);
        await repo.write(stored, 'PUT', now !== undefined);
        results.push({ resource: stored, created: !now || now.deleted });
      }
      return results;
    });
  }

  /**
   * The executor for SQL of a module's own tables that must join this repository's transaction
   * (federation bookkeeping): pending writes are sent first, as before any read.
   */
  async sql(): Promise<SqlExecutor> {
    return this.reader();
  }

  async patch(type: string, id: string, patch: unknown, options: WriteOptions = {}): Promise<Resource> {
    this.checkType(type);
    return this.transaction(async (repo) => {
      const current = await repo.lockCurrent(type, id);
      if (!current) throw new NotFound(`${type}/${id} not found`);
      if (current.deleted) throw new Gone(`${type}/${id} was deleted`);
      checkIfMatch(current, options.ifMatch, `${type}/${id}`);
      const before = await repo.read(type, id);
      const after = applyJsonPatch(before, patch) as Resource;
      if (!after || typeof after !== 'object' || after.resourceType !== type || after.id !== id) {
        throw new Invalid('A patch may not change resourceType or id');
      }
      const stored = this.prepare(after, current.versionId + 1);
      await repo.write(stored, 'PATCH', true);
      return stored;
    });
  }

  /** Deletes (a new version marked deleted). Deleting what does not exist is not an error. */
  async delete(type: string, id: string, options: WriteOptions = {}): Promise<void> {
    this.checkType(type);
    await this.transaction(async (repo) => {
      const current = await repo.lockCurrent(type, id);
      checkIfMatch(current, options.ifMatch, `${type}/${id}`);
      if (!current || current.deleted) return;
      const versionId = current.versionId + 1;
      const tombstone = { resourceType: type, id, meta: { versionId: String(versionId), lastUpdated: new Date().toISOString() } } as Resource;
      await repo.enqueue({
        type, id, versionId, lastUpdated: tombstone.meta!.lastUpdated!, deleted: true, method: 'DELETE',
        content: JSON.stringify(tombstone), rows: emptyIndexRows(), exists: true,
      });
    });
  }

  /** The page, count and includes of a search; values PostgreSQL cannot take are a 400. */
  search(request: SearchRequest, options: SearchOptions = {}): Promise<SearchResult> {
    return rejectingUnfitValues(() => this.#search(request, options));
  }

  async #search(request: SearchRequest, options: SearchOptions): Promise<SearchResult> {
    for (const type of request.types ?? [request.resourceType]) this.checkType(type);
    await resolveTerminology(request, (type, url) => this.findCanonical(type, url));
    const compiled = compileSearch(request, { matchSet: this.db.kind === 'postgres' });
    const db = await this.reader();
    const result: SearchResult = { resources: [] };
    let totalInPage: number | undefined;
    if (request.summary !== 'count') {
      const rows = await db.query<Record<string, unknown>>(compiled.sql, compiled.params, { name: shapeStatementName(compiled.sql) });
      if (compiled.countInPage && rows.length && rows[0].total != null) totalInPage = Number(rows[0].total);
      const page = rows.slice(0, request.count);
      result.resources = page.map((row) => JSON.parse(row.content as string) as Resource);
      if (rows.length > request.count && page.length > 0) result.nextCursor = cursorAfter(page[page.length - 1], request);
    }
    if (request.include.length && result.resources.length) {
      const { resources, truncated } = await this.includes(request.include, result.resources, { ...options, restriction: request.restriction });
      result.included = resources;
      if (truncated) result.includesTruncated = true;
    }
    if (compiled.countSql && request.total === 'estimate') {
      // The planner's row estimate: instant on any table size, and what `estimate` allows.
      const [plan] = await db.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${compiled.countSql.replace('select count(*)::int as total', 'select 1')}`, compiled.countParams);
      const json = plan['QUERY PLAN'];
      const parsed = (typeof json === 'string' ? JSON.parse(json) : json) as { Plan: { 'Plan Rows': number } }[];
      result.total = Math.round(parsed[0].Plan['Plan Rows']);
    } else if (compiled.countSql) {
      // A first page without a next one holds every match: its length is the total, no count needed.
      const complete = request.summary !== 'count' && request.count > 0 && !request.cursor && !result.nextCursor;
      result.total = complete
        ? result.resources.length
        : (totalInPage ?? Number((await db.query<{ total: number }>(compiled.countSql, compiled.countParams, { name: shapeStatementName(compiled.countSql) }))[0].total));
    }
    return result;
  }

  /** What `_include` / `_revinclude` specs add to `matches` (see search/include.ts). */
  async includes(specs: IncludeSpec[], matches: Resource[], options: SearchOptions & { restriction?: AccessRestriction }): Promise<IncludeResult> {
    if (specs.length === 0 || matches.length === 0) return { resources: [], truncated: false };
    const db = await this.reader();
    const query = (sql: string, params: unknown[]) => db.query<{ content: string }>(sql, params, { name: shapeStatementName(sql) });
    return runIncludes(query, specs, matches, this.registry, {
      restriction: options.restriction,
      canRead: options.canRead ?? (() => true),
      max: options.maxIncludes ?? DEFAULT_MAX_INCLUDES,
    });
  }

  /** Every live resource of a type (small conformance types only: SearchParameter at start). */
  async allOfType<T extends Resource>(type: string): Promise<T[]> {
    const rows = await (await this.reader()).query<{ content: string }>('select content::text as content from resource where type = $1 and not deleted order by seq', [type]);
    return rows.map((r) => JSON.parse(r.content) as T);
  }

  /**
   * Live resources of `type` after position `afterSeq`, in creation order, for batch jobs
   * ($reindex): a keyset walk that new writes cannot disturb.
   */
  async batchAfter(type: string, afterSeq: string, limit: number): Promise<{ resource: Resource; seq: string }[]> {
    // The position leaves as text under another name: `order by seq` must sort the bigint.
    const rows = await (await this.reader()).query<{ content: string; position: string }>(
      'select content::text as content, seq::text as position from resource where type = $1 and not deleted and seq > $2::bigint order by seq limit $3',
      [type, afterSeq, limit],
    );
    return rows.map((r) => ({ resource: JSON.parse(r.content) as Resource, seq: r.position }));
  }

  /** Rewrites the index rows of current versions (no new version): after a new SearchParameter. */
  async reindex(resources: Resource[]): Promise<void> {
    await rewriteIndexRows(await this.reader(), resources.map((r) => ({ type: r.resourceType, id: r.id!, rows: extractIndexRows(r, this.registry) })));
  }

  async countOfType(type: string): Promise<number> {
    const [row] = await (await this.reader()).query<{ n: number }>('select count(*)::int as n from resource where type = $1 and not deleted', [type]);
    return Number(row.n);
  }

  /** A stored conformance resource by canonical URL (`url|version` picks a version), or by `Type/id`. */
  async findCanonical(type: string, canonical: string): Promise<Resource | undefined> {
    const [url, version] = canonical.split('|');
    const local = new RegExp(`^${type}/([A-Za-z0-9\\-.]{1,64})$`).exec(url);
    const db = await this.reader();
    const rows = local
      ? await db.query<{ content: string }>('select content::text as content from resource where type = $1 and id = $2 and not deleted', [type, local[1]])
      : await db.query<{ content: string }>(
          `select r.content::text as content from idx_uri i join resource r on r.type = i.res_type and r.id = i.res_id
            where i.res_type = $1 and i.param = 'url' and i.value = $2 and not r.deleted order by r.last_updated desc`,
          [type, url],
        );
    const found = rows.map((r) => JSON.parse(r.content) as Resource & { version?: string });
    return version ? found.find((r) => r.version === version) : found[0];
  }

  /** Instance, type or system history, newest first, keyset-paged on the history sequence. */
  async history(request: HistoryRequest): Promise<HistoryResult> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const add = (v: unknown) => `$${params.push(v)}`;
    if (request.type) {
      this.checkType(request.type);
      conditions.push(`type = ${add(request.type)}`);
    }
    if (request.id) conditions.push(`id = ${add(request.id)}`);
    if (request.since) conditions.push(`last_updated >= ${add(request.since)}::timestamptz`);
    const filter = conditions.length ? conditions.join(' and ') : 'true';
    const countParams = [...params];
    const page = request.cursor ? ` and hseq < ${add(request.cursor)}::bigint` : '';
    const db = await this.reader();
    // The position leaves as text under another name: `order by hseq` would otherwise sort the text
    // alias ('9' after '47'), not the bigint.
    const rows = await db.query<{ content: string; method: HistoryEntry['method']; deleted: boolean; position: string }>(
      `select content::text as content, method, deleted, hseq::text as position from resource_history
       where ${filter}${page} order by hseq desc limit ${add(request.count + 1)}`,
      params,
    );
    const [count] = await db.query<{ total: number }>(`select count(*)::int as total from resource_history where ${filter}`, countParams);
    const entries = rows.slice(0, request.count).map((r) => ({ resource: JSON.parse(r.content) as Resource, method: r.method, deleted: r.deleted }));
    const result: HistoryResult = { entries, total: Number(count.total) };
    if (rows.length > request.count) result.nextCursor = rows[request.count - 1].position;
    return result;
  }

  /** A lock held until the surrounding transaction ends, keyed by any text. */
  async lock(key: string): Promise<void> {
    await (await this.reader()).query('select pg_advisory_xact_lock(hashtext($1))', [key]);
  }

  private checkType(type: string): void {
    if (!this.registry.isResourceType(type)) throw new NotFound(`Unknown resource type '${type}'`);
  }

  /** Sets the server-owned meta, then validates. */
  private prepare<T extends Resource>(resource: T, versionId: number, trusted = false): T {
    const stored = { ...resource, meta: { ...resource.meta, versionId: String(versionId), lastUpdated: new Date().toISOString() } };
    if (!trusted) this.validator.validate(stored);
    return stored;
  }

  private async lockCurrent(type: string, id: string): Promise<Current | undefined> {
    const rows = await (await this.reader()).query<{ version_id: number; deleted: boolean }>(
      'select version_id, deleted from resource where type = $1 and id = $2 for update',
      [type, id],
      { name: 'suhe_lock_current' },
    );
    return rows.length ? { versionId: Number(rows[0].version_id), deleted: rows[0].deleted } : undefined;
  }

  private async write(resource: Resource, method: 'POST' | 'PUT' | 'PATCH', exists: boolean): Promise<void> {
    if (resource.resourceType === 'SearchParameter') registerSearchParameter(resource as SearchParameter, this.registry);
    await this.enqueue({
      type: resource.resourceType,
      id: resource.id!,
      versionId: Number(resource.meta!.versionId),
      lastUpdated: resource.meta!.lastUpdated!,
      deleted: false,
      method,
      content: JSON.stringify(resource),
      rows: extractIndexRows(resource, this.registry),
      exists,
    });
  }

}

async function sendWrites(executor: SqlExecutor, writes: VersionWrite[]): Promise<void> {
  try {
    await writeVersions(executor, writes);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      const what = writes.length === 1 ? `${writes[0].type}/${writes[0].id}` : 'A resource of this transaction';
      throw new Conflict(`${what} was written concurrently; retry`);
    }
    throw err;
  }
}

function checkIfMatch(current: Current | undefined, ifMatch: string | undefined, label: string): void {
  if (ifMatch === undefined) return;
  if (!current || current.deleted) throw new PreconditionFailed(`If-Match: ${label} does not exist`);
  if (String(current.versionId) !== ifMatch) {
    throw new PreconditionFailed(`If-Match: ${label} is at version ${current.versionId}, not ${ifMatch}`);
  }
}

/** A live Patient is in its own compartment, besides any it is linked into. */
function withOwnCompartment(type: string, id: string, patients: string[], live: boolean): string[] {
  return type === 'Patient' && live && !patients.includes(id) ? [...patients, id] : patients;
}
