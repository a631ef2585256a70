// Pull sync of one source. A source that advertises Bulk Data `$export` is pulled that way
// (bulk-pull.ts); otherwise, for each resource type, the pages of
// `Type?_lastUpdated=ge<checkpoint>&_sort=_lastUpdated`, each page ingested in one transaction
// with the new checkpoint (the last lastUpdated on it), so a crash resumes at the last committed
// page and re-reads at most that page (unchanged records are recognised by content and not
// stored again). Then the deletes since the last pass, from `Type/_history`. Types run
// `concurrency` at a time; a failing type is reported and the others go on.
import type { SqlExecutor } from '../db/database.js';
import type { Actor } from '../fhir/access/access-control.js';
import { bulkPull, advertisesExport } from './bulk-pull.js';
import type { FederationIngest } from './ingest.js';
import { SourceClient, type RetryPolicy } from './source-client.js';
import { sourceUri, type Source } from './source.js';
import { addSummary, deletesCheckpointNow, eachConcurrently, emptyResult, failureMessage, matches, pages, pullDeletes, rate, readCheckpoint, saveCheckpoint, type TypeResult } from './sync-steps.js';

export type { TypeResult };

export interface PullOptions {
  retry?: RetryPolicy;
  onProgress?: (line: string) => void;
  /** Most pages per type in one run (a guard against a source that pages forever). */
  maxPages?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PullResult {
  source: string;
  status: 'ok' | 'partial' | 'failed';
  types: TypeResult[];
  seconds: number;
  error?: string;
}

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
    const capabilities = await client.capabilities();
    const bulk = source.bulk && advertisesExport(capabilities) ? await bulkPull(source, client, ingest, db, actor, options, say) : undefined;
    results.push(...(bulk ?? []));
    if (!bulk) await eachConcurrently(source.types, source.concurrency, async (type) => void results.push(await pullType(source, type, client, ingest, db, actor, options, say)));
  } catch (err) {
    fatal = failureMessage(err);
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
  const result = emptyResult(type);
  const started = Date.now();
  try {
    const cp = await readCheckpoint(db, source, type);
    // _total=none: a total would make the source count every match again for every page.
    const params = new URLSearchParams({ _sort: '_lastUpdated', _count: String(source.pageSize), _total: 'none' });
    if (cp?.lastUpdated) params.set('_lastUpdated', `ge${cp.lastUpdated}`);
    let lastUpdated = cp?.lastUpdated;
    const passStarted = deletesCheckpointNow();
    for await (const page of pages(client, `${type}?${params}`, options.maxPages)) {
      const entries = matches(page, type);
      result.fetched += entries.length;
      for (const e of entries) if (e.resource?.meta?.lastUpdated && (!lastUpdated || e.resource.meta.lastUpdated > lastUpdated)) lastUpdated = e.resource.meta.lastUpdated;
      const checkpoint = lastUpdated;
      addSummary(result, await ingest.ingest(source, entries, actor, (sql) => saveCheckpoint(sql, source, type, { lastUpdated: checkpoint })));
      say(`[${source.name}] ${type}: ${result.fetched} fetched, ${result.created + result.updated} stored, ${result.unchanged} unchanged, ${result.quarantined} quarantined (${rate(result.fetched, started)}/s)`);
    }
    await pullDeletes(source, type, cp, passStarted, client, ingest, db, actor, result, options.maxPages);
  } catch (err) {
    result.error = failureMessage(err);
  }
  return result;
}

