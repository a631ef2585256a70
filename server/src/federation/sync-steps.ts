// The steps both ways of pulling share (search paging and bulk export): a type's checkpoint,
// the pages of a search, and the deletes since the last pass from the source's `_history`.
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { SqlExecutor } from '../db/database.js';
import type { Actor } from '../fhir/access/access-control.js';
import type { FederationIngest, IngestSummary, IncomingEntry } from './ingest.js';
import { SourceRequestError, type SourceClient } from './source-client.js';
import type { Source } from './source.js';

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

export interface Checkpoint {
  lastUpdated?: string;
  deletesSince?: string;
}

const DEFAULT_MAX_PAGES = 100_000;
// History is read from a little before the previous pass began: clocks of two servers differ.
const DELETE_OVERLAP_MS = 60_000;

/** A source's failure as it is; anything else (a database error such as a deadlock) named as ours. */
export function failureMessage(err: unknown): string {
  return err instanceof SourceRequestError ? err.message : `the hub failed while storing: ${(err as Error).message}`;
}

/** Runs `work` for each item, `concurrency` at a time. */
export async function eachConcurrently<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

export function emptyResult(type: string): TypeResult {
  return { type, fetched: 0, created: 0, updated: 0, unchanged: 0, deleted: 0, quarantined: 0 };
}

export function addSummary(result: TypeResult, s: IngestSummary): void {
  result.created += s.created;
  result.updated += s.updated;
  result.unchanged += s.unchanged;
  result.deleted += s.deleted;
  result.quarantined += s.quarantined;
}

export async function readCheckpoint(db: SqlExecutor, source: Source, type: string): Promise<Checkpoint | undefined> {
  const [cp] = await db.query<{ last_updated: string | null; deletes_since: string | null }>(
    'select last_updated, deletes_since from fed_checkpoint where endpoint_id = $1 and resource_type = $2',
    [source.endpointId, type],
  );
  return cp ? { lastUpdated: cp.last_updated ?? undefined, deletesSince: cp.deletes_since ?? undefined } : undefined;
}

export async function saveCheckpoint(sql: SqlExecutor, source: Source, type: string, value: Checkpoint): Promise<void> {
  await sql.query(
    `insert into fed_checkpoint (endpoint_id, resource_type, last_updated, deletes_since) values ($1, $2, $3, $4)
     on conflict (endpoint_id, resource_type) do update set
       last_updated = coalesce(excluded.last_updated, fed_checkpoint.last_updated),
       deletes_since = coalesce(excluded.deletes_since, fed_checkpoint.deletes_since), updated_at = now()`,
    [source.endpointId, type, value.lastUpdated ?? null, value.deletesSince ?? null],
  );
}

/** When a pass that starts now should next read deletes from. */
export function deletesCheckpointNow(): string {
  return new Date(Date.now() - DELETE_OVERLAP_MS).toISOString();
}

/**
 * Deletes at the source since the last pass (only after a first full pass: before it, nothing
 * here can be deleted), from `Type/_history`; `passStarted` becomes the next pass's start.
 */
export async function pullDeletes(source: Source, type: string, cp: Checkpoint | undefined, passStarted: string, client: SourceClient, ingest: FederationIngest, db: SqlExecutor, actor: Actor, result: TypeResult, maxPages?: number): Promise<void> {
  if (!cp) {
    await saveCheckpoint(db, source, type, { deletesSince: passStarted });
    return;
  }
  const since = cp.deletesSince ?? cp.lastUpdated;
  const history = new URLSearchParams({ _count: String(source.pageSize), _total: 'none' });
  if (since) history.set('_since', since);
  const latest = new Map<string, BundleEntry>();
  for await (const page of pages(client, `${type}/_history?${history}`, maxPages)) {
    for (const e of page.entry ?? []) {
      const id = historyId(e);
      if (id && !latest.has(id)) latest.set(id, e); // newest first: the first word on an id is its last
    }
  }
  const gone = deletions([...latest.values()], type);
  if (gone.length) addSummary(result, await ingest.ingest(source, gone, actor, (sql) => saveCheckpoint(sql, source, type, { deletesSince: passStarted })));
  else await saveCheckpoint(db, source, type, { deletesSince: passStarted });
}

/**
 * The pages of a search, following `next` links. The next page is asked for while the caller
 * ingests this one (a type's pages would otherwise alternate between waiting on the source and
 * writing). A link seen before means the source loops: what came before is still yielded.
 */
export async function* pages(client: SourceClient, first: string, maxPages = DEFAULT_MAX_PAGES): AsyncGenerator<Bundle> {
  // The first URL is relative, next links absolute: compare them in one form.
  const absolute = (u: string) => (/^https?:\/\//.test(u) ? u : `${client.baseUrl}/${u}`);
  const seen = new Set<string>([absolute(first)]);
  const fetchPage = (url: string): Promise<Bundle> => {
    const page = client.get(url).then((p) => {
      if (p.resourceType !== 'Bundle') throw new SourceRequestError(`GET ${url} answered a ${String(p.resourceType)}, not a Bundle`);
      return p as Bundle;
    });
    page.catch(() => undefined); // awaited below; a caller that stops early must not leave it unhandled
    return page;
  };
  let current = fetchPage(first);
  for (let n = 1; ; n++) {
    const page = await current;
    const next = page.link?.find((l) => l.relation === 'next')?.url;
    let stop: SourceRequestError | undefined;
    if (next && seen.has(absolute(next))) stop = new SourceRequestError(`the source's paging links loop (${next} came twice); stopped`);
    else if (next && n >= maxPages) stop = new SourceRequestError(`stopped after ${maxPages} pages of ${first}: the source keeps paging`);
    else if (next) {
      seen.add(absolute(next));
      current = fetchPage(next);
    }
    yield page;
    if (stop) throw stop;
    if (!next) return;
  }
}

export function matches(page: Bundle, type: string): IncomingEntry[] {
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

export function rate(n: number, since: number): number {
  return Math.round(n / Math.max(0.001, (Date.now() - since) / 1000));
}
