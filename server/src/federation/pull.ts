// Pull sync of one source: for each resource type, the pages of
// `Type?_lastUpdated=ge<checkpoint>&_sort=_lastUpdated`, each page ingested in one transaction
// with the new checkpoint (the last lastUpdated on it), so a crash resumes at the last committed
// page and re-reads at most that page (unchanged records are recognised by content and not
// stored again). Then the deletes since the last pass, from `Type/_history`. Types run
// `concurrency` at a time; a failing type is reported and the others go on.
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { SqlExecutor } from '../db/database.js';
import type { Actor } from '../fhir/access/access-control.js';
import type { FederationIngest, IngestSummary, IncomingEntry } from './ingest.js';
import { SourceClient, SourceRequestError, type RetryPolicy } from './source-client.js';
import { sourceUri, type Source } from './source.js';

export interface PullOptions {
  retry?: RetryPolicy;
  onProgress?: (line: string) => void;
  /** Most pages per type in one run (a guard against a source that pages forever). */
  maxPages?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface TypeResult {
  type: string;
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  quarantined: number;
  error?: string;
}

export interface PullResult {
  source: string;
  status: 'ok' | 'partial' | 'failed';
  types: TypeResult[];
  seconds: number;
  error?: string;
}

const DEFAULT_MAX_PAGES = 100_000;
// History is read from a little before the previous pass began: clocks of two servers differ.
const DELETE_OVERLAP_MS = 60_000;

export async function pullSource(source: Source, secret: string | undefined, ingest: FederationIngest, db: SqlExecutor, options: PullOptions = {}): Promise<PullResult> {
  const started = Date.now();
  const say = options.onProgress ?? (() => undefined);
  const [run] = await db.query<{ id: string }>(`insert into fed_run (endpoint_id, kind) values ($1, 'pull') returning id::text`, [source.endpointId]);
  const client = new SourceClient(source, secret, options.retry, options.sleep);
  const actor: Actor = { clientId: 'suhe-sync', source: sourceUri(source), organization: source.organization };
  const results: TypeResult[] = [];
  let fatal: string | undefined;
  try {
    // Fails fast (and for every type at once) when the source is down or refuses us.
    await client.capabilities();
    const queue = [...source.types];
    const worker = async () => {
      for (let type = queue.shift(); type; type = queue.shift()) results.push(await pullType(source, type, client, ingest, db, actor, options, say));
    };
    await Promise.all(Array.from({ length: Math.min(source.concurrency, source.types.length) }, worker));
  } catch (err) {
    if (!(err instanceof SourceRequestError)) throw err;
    fatal = err.message;
  }
  const failed = results.filter((r) => r.error);
  const status: PullResult['status'] = fatal || (failed.length && failed.length === results.length) ? 'failed' : failed.length ? 'partial' : 'ok';
  const sum = (k: keyof Omit<TypeResult, 'type' | 'error'>) => results.reduce((n, r) => n + r[k], 0);
  const error = fatal ?? (failed.length ? failed.map((f) => `${f.type}: ${f.error}`).join('; ') : undefined);
  await db.query(
    `update fed_run set finished_at = now(), status = $2, fetched = $3, stored = $4, unchanged = $5, deleted = $6, quarantined = $7, error = $8 where id = $1`,
    [run.id, status, sum('fetched'), sum('created') + sum('updated'), sum('unchanged'), sum('deleted'), sum('quarantined'), error ?? null],
  );
  const seconds = (Date.now() - started) / 1000;
  say(`[${source.name}] ${status}: ${sum('fetched')} fetched, ${sum('created')} new, ${sum('updated')} changed, ${sum('unchanged')} unchanged, ${sum('deleted')} deleted, ${sum('quarantined')} quarantined in ${seconds.toFixed(1)} s${error ? ` — ${error}` : ''}`);
  return { source: source.name, status, types: results.sort((a, b) => a.type.localeCompare(b.type)), seconds, error };
}

async function pullType(source: Source, type: string, client: SourceClient, ingest: FederationIngest, db: SqlExecutor, actor: Actor, options: PullOptions, say: (line: string) => void): Promise<TypeResult> {
  const result: TypeResult = { type, fetched: 0, created: 0, updated: 0, unchanged: 0, deleted: 0, quarantined: 0 };
  const add = (s: IngestSummary) => {
    result.created += s.created;
    result.updated += s.updated;
    result.unchanged += s.unchanged;
    result.deleted += s.deleted;
    result.quarantined += s.quarantined;
  };
  const started = Date.now();
  try {
    const [cp] = await db.query<{ last_updated: string | null; deletes_since: string | null }>(
      'select last_updated, deletes_since from fed_checkpoint where endpoint_id = $1 and resource_type = $2',
      [source.endpointId, type],
    );
    const params = new URLSearchParams({ _sort: '_lastUpdated', _count: String(source.pageSize) });
    if (cp?.last_updated) params.set('_lastUpdated', `ge${cp.last_updated}`);
    let lastUpdated = cp?.last_updated ?? undefined;
    const passStarted = new Date(Date.now() - DELETE_OVERLAP_MS).toISOString();
    for await (const page of pages(client, `${type}?${params}`, options.maxPages)) {
      const entries = matches(page, type);
      result.fetched += entries.length;
      for (const e of entries) if (e.resource?.meta?.lastUpdated && (!lastUpdated || e.resource.meta.lastUpdated > lastUpdated)) lastUpdated = e.resource.meta.lastUpdated;
      const checkpoint = lastUpdated;
      add(await ingest.ingest(source, entries, actor, (sql) => saveCheckpoint(sql, source, type, { lastUpdated: checkpoint })));
      say(`[${source.name}] ${type}: ${result.fetched} fetched, ${result.created + result.updated} stored, ${result.unchanged} unchanged, ${result.quarantined} quarantined (${rate(result.fetched, started)}/s)`);
    }
    // Deletes: only after a first full pass (before it, nothing here can be deleted).
    if (cp) {
      const since = cp.deletes_since ?? cp.last_updated;
      const history = new URLSearchParams({ _count: String(source.pageSize) });
      if (since) history.set('_since', since);
      const latest = new Map<string, BundleEntry>();
      for await (const page of pages(client, `${type}/_history?${history}`, options.maxPages)) {
        for (const e of page.entry ?? []) {
          const id = historyId(e);
          if (id && !latest.has(id)) latest.set(id, e); // newest first: the first word on an id is its last
        }
      }
      const gone = deletions([...latest.values()], type);
      if (gone.length) add(await ingest.ingest(source, gone, actor, (sql) => saveCheckpoint(sql, source, type, { deletesSince: passStarted })));
      else await saveCheckpoint(db, source, type, { deletesSince: passStarted });
    } else {
      await saveCheckpoint(db, source, type, { deletesSince: passStarted });
    }
  } catch (err) {
    if (!(err instanceof SourceRequestError)) throw err;
    result.error = err.message;
  }
  return result;
}

/** The pages of a search, following `next` links; a link seen before means the source loops. */
async function* pages(client: SourceClient, first: string, maxPages = DEFAULT_MAX_PAGES): AsyncGenerator<Bundle> {
  const seen = new Set<string>();
  let url: string | undefined = first;
  for (let n = 0; url; n++) {
    if (n >= maxPages) throw new SourceRequestError(`stopped after ${maxPages} pages of ${first}: the source keeps paging`);
    const page = (await client.get(url)) as Bundle;
    if (page.resourceType !== 'Bundle') throw new SourceRequestError(`GET ${url} answered a ${String(page.resourceType)}, not a Bundle`);
    yield page;
    const next = page.link?.find((l) => l.relation === 'next')?.url;
    if (next && seen.has(next)) throw new SourceRequestError(`the source's paging links loop (${next} came twice); stopped`);
    if (next) seen.add(next);
    url = next;
  }
}

function matches(page: Bundle, type: string): IncomingEntry[] {
  return (page.entry ?? [])
    .filter((e: BundleEntry) => e.resource && (e.search?.mode ?? 'match') === 'match')
    .map((e) => {
      const resource = e.resource as Resource;
      return { type: resource.resourceType ?? type, sourceId: resource.id ?? '', resource };
    });
}

/** `Type/id` of a history entry: from its resource, else its request URL (a delete has no resource). */
function historyId(entry: BundleEntry): string | undefined {
  if (entry.resource?.id) return `${entry.resource.resourceType}/${entry.resource.id}`;
  const [t, id] = (entry.request?.url ?? '').split('?')[0].split('/');
  return t && id ? `${t}/${id}` : undefined;
}

/** The entries whose latest version is a delete. */
function deletions(latest: BundleEntry[], type: string): IncomingEntry[] {
  return latest
    .filter((e) => e.request?.method === 'DELETE' && !e.resource)
    .map((e) => {
      const [t, id] = historyId(e)!.split('/');
      return { type: t, sourceId: id, deleted: true };
    })
    .filter((e) => e.type === type);
}

async function saveCheckpoint(sql: SqlExecutor, source: Source, type: string, value: { lastUpdated?: string; deletesSince?: string }): Promise<void> {
  await sql.query(
    `insert into fed_checkpoint (endpoint_id, resource_type, last_updated, deletes_since) values ($1, $2, $3, $4)
     on conflict (endpoint_id, resource_type) do update set
       last_updated = coalesce(excluded.last_updated, fed_checkpoint.last_updated),
       deletes_since = coalesce(excluded.deletes_since, fed_checkpoint.deletes_since), updated_at = now()`,
    [source.endpointId, type, value.lastUpdated ?? null, value.deletesSince ?? null],
  );
}

function rate(n: number, since: number): number {
  return Math.round(n / Math.max(0.001, (Date.now() - since) / 1000));
}
