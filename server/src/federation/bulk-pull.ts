// Pull by FHIR Bulk Data export, for sources that advertise `$export`: one kick-off for all the
// source's types (`_since` = the oldest checkpoint among them), polling the status URL as the
// source asks (Retry-After), then each NDJSON file streamed line by line and ingested in batches.
// Each type's checkpoint becomes the export's transactionTime, committed with its last batch.
// Deletes still come from `_history` (an export holds no deletes). A source that refuses the
// kick-off (e.g. 403 for a client limited by consent) is pulled by search instead.
import type { CapabilityStatement, Resource } from '@medplum/fhirtypes';
import type { SqlExecutor } from '../db/database.js';
import type { Actor } from '../fhir/access/access-control.js';
import type { FederationIngest, IncomingEntry } from './ingest.js';
import type { PullOptions } from './pull.js';
import { SourceRequestError, type SourceClient } from './source-client.js';
import type { Source } from './source.js';
import { addSummary, deletesCheckpointNow, eachConcurrently, emptyResult, failureMessage, pullDeletes, rate, readCheckpoint, saveCheckpoint, type Checkpoint, type TypeResult } from './sync-steps.js';

interface Manifest {
  transactionTime: string;
  output: { type: string; url: string; count?: number }[];
  error?: { type: string; url: string }[];
}

const MAX_EXPORT_WAIT_MS = 3_600_000;
const MAX_POLL_INTERVAL_MS = 10_000;
const FILE_TIMEOUT_MS = 600_000;

export function advertisesExport(capabilities: CapabilityStatement): boolean {
  return (capabilities.rest ?? []).some((rest) => (rest.operation ?? []).some((op) => op.name === 'export'));
}

/** The types' results, or undefined when the source refused the export (pull by search then). */
export async function bulkPull(source: Source, client: SourceClient, ingest: FederationIngest, db: SqlExecutor, actor: Actor, options: PullOptions, say: (line: string) => void): Promise<TypeResult[] | undefined> {
  const checkpoints = new Map<string, Checkpoint | undefined>();
  for (const type of source.types) checkpoints.set(type, await readCheckpoint(db, source, type));
  const known = [...checkpoints.values()].map((c) => c?.lastUpdated);
  const since = known.every((c) => c) ? (known as string[]).sort()[0] : undefined;
  const passStarted = deletesCheckpointNow();
  const query = new URLSearchParams({ _type: source.types.join(','), _outputFormat: 'application/fhir+ndjson' });
  if (since) query.set('_since', since);

  let statusUrl: string;
  try {
    const kickoff = await client.raw(`$export?${query}`, { prefer: 'respond-async' });
    statusUrl = kickoff.headers.get('content-location') ?? '';
    if (kickoff.status !== 202 || !statusUrl) throw new SourceRequestError(`${source.name}: $export answered ${kickoff.status} without a status URL`);
  } catch (err) {
    if (!(err instanceof SourceRequestError) || err.status === undefined || err.status >= 500) throw err;
    say(`[${source.name}] the source refused $export (${err.message}); pulling by search instead`);
    return undefined;
  }

  const manifest = await waitForExport(client, statusUrl, source, options, say);
  const results = new Map(source.types.map((t) => [t, emptyResult(t)]));
  const started = Date.now();
  // Types are ingested `concurrency` at a time, as search paging does; each type's files in order.
  await eachConcurrently(source.types, source.concurrency, async (type) => {
    const result = results.get(type)!;
    try {
      let batch: IncomingEntry[] = [];
      const flush = async (last: boolean) => {
        const entries = batch;
        batch = [];
        addSummary(result, await ingest.ingest(source, entries, actor, last ? (sql) => saveCheckpoint(sql, source, type, { lastUpdated: manifest.transactionTime }) : undefined));
      };
      for (const file of manifest.output.filter((o) => o.type === type)) {
        for await (const entry of ndjsonEntries(client, file.url, type)) {
          batch.push(entry);
          result.fetched++;
          if (batch.length >= source.pageSize) {
            await flush(false);
            say(`[${source.name}] ${type}: ${result.fetched} fetched by bulk export, ${result.created + result.updated} stored, ${result.unchanged} unchanged, ${result.quarantined} quarantined (${rate(result.fetched, started)}/s)`);
          }
        }
      }
      if (batch.length) await flush(true);
      else await saveCheckpoint(db, source, type, { lastUpdated: manifest.transactionTime });
      await pullDeletes(source, type, checkpoints.get(type), passStarted, client, ingest, db, actor, result, options.maxPages);
    } catch (err) {
      result.error = failureMessage(err);
    }
  });
  await client.release(statusUrl); // the source may drop the files now
  return [...results.values()];
}

async function waitForExport(client: SourceClient, statusUrl: string, source: Source, options: PullOptions, say: (line: string) => void): Promise<Manifest> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + MAX_EXPORT_WAIT_MS;
  for (;;) {
    const res = await client.raw(statusUrl);
    if (res.status === 200) {
      const manifest = (await res.json()) as Manifest;
      if (!manifest.transactionTime || !Array.isArray(manifest.output)) throw new SourceRequestError(`${source.name}: the export manifest has no transactionTime or output`);
      return manifest;
    }
    if (res.status !== 202) throw new SourceRequestError(`${source.name}: the export status answered ${res.status}`);
    if (Date.now() > deadline) throw new SourceRequestError(`${source.name}: the export did not finish within ${MAX_EXPORT_WAIT_MS / 60_000} minutes`);
    const progress = res.headers.get('x-progress');
    if (progress) say(`[${source.name}] export at the source: ${progress}`);
    const after = Number(res.headers.get('retry-after'));
    await sleep(Math.min(MAX_POLL_INTERVAL_MS, Number.isFinite(after) && after > 0 ? after * 1000 : 1000));
  }
}

/** The resources of one NDJSON file as ingest entries, read as they arrive; a bad line becomes a quarantined entry. */
async function* ndjsonEntries(client: SourceClient, url: string, type: string): AsyncGenerator<IncomingEntry> {
  const res = await client.raw(url, { accept: 'application/fhir+ndjson' }, FILE_TIMEOUT_MS);
  if (!res.body) return;
  const decoder = new TextDecoder();
  let rest = '';
  let line = 0;
  const entry = (text: string): IncomingEntry => {
    line++;
    try {
      const resource = JSON.parse(text) as Resource;
      return { type: resource.resourceType ?? type, sourceId: resource.id ?? '', resource };
    } catch {
      return { type, sourceId: `ndjson-line-${line}`, problem: `line ${line} of ${url} is not JSON` };
    }
  };
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(chunk, { stream: true });
    const lines = rest.split('\n');
    rest = lines.pop()!;
    for (const text of lines) if (text.trim()) yield entry(text);
  }
  rest += decoder.decode();
  if (rest.trim()) yield entry(rest);
}
