// The hub side of the federation sync benchmark (sync.ts), run as a child process (fork) so that
// the load generator, the source and the target never share an event loop:
//   sync-hub.ts <databaseUrl|memory> <logLevel>
// Starts the real hub (createHub) on 127.0.0.1:0, like server.ts, and reports {ready, url} over
// IPC. It then answers calls from the parent: add a federation source, run `federation.sync`,
// and report what the process did so far: CPU time, and the time spent inside a few of the hub's
// own methods, measured by wrapping them on their prototypes in this process only (the server
// code is not changed). Those timers are what "where the time goes" is made of:
//   source GET       SourceClient.get (a page from the source, as the target waits for it);
//                    SourceClient.raw for bulk export: kick-off, status polls, and each NDJSON
//                    file until its headers (the body is then read while it is ingested)
//   ingest           FederationIngest.ingest (one page, one transaction, checkpoint included)
//   MPI link         MasterPatientIndex.link
//   to hub form      FederationIngest.toHub (clone, reference rewrite)
//   validate         R4Validator.validate
//   updateMany       FhirRepository.updateMany (lock read + prepare + queue the writes)
//   write            FhirRepository.write (JSON + index rows of one version, queued)
//   flush            FhirRepository.flushTo (the multi-row INSERTs of queued versions), split
//                    into flushes that hold clinical resources and flushes of only
//                    Provenance/AuditEvent
//   commit           LazyTransaction.commit
//   search, history  FhirRepository.search / .history (the source answering pages)
// The timers add up wall time of each call; calls of concurrent workers overlap, and an async
// call's time includes waiting for the event loop, so read them as shares, not as CPU.
import { createHub } from '../../server/src/app.js';
import { createLogger } from '../../server/src/audit/logger.js';
import { loadConfig } from '../../server/src/config/config.js';
import { LazyTransaction } from '../../server/src/db/lazy-transaction.js';
import { FederationIngest } from '../../server/src/federation/ingest.js';
import { MasterPatientIndex } from '../../server/src/federation/mpi/master-patient-index.js';
import { SourceClient } from '../../server/src/federation/source-client.js';
import type { SourceInput } from '../../server/src/federation/source-registry.js';
import { FhirRepository } from '../../server/src/fhir/repository.js';
import { R4Validator } from '../../server/src/fhir/validation.js';

export interface Timer {
  calls: number;
  ms: number;
  /** What the calls carried: entries of the pages read, versions flushed. */
  items: number;
}

export interface Snapshot {
  /** CPU time (user + system) of this process so far, ms. */
  cpuMs: number;
  timers: Record<string, Timer>;
  /** When the first call of each timer began, in ms after the last snapshot taken with `mark`. */
  firsts: Record<string, number>;
  /** Since that mark, each call of the LOGGED timers: [label, start ms after the mark, ms]. */
  log: [string, number, number][];
  /** performance.now() of this process when taken. */
  at: number;
}

export type HubCall =
  | { method: 'addSource'; input: SourceInput }
  | { method: 'sync'; name: string }
  | { method: 'snapshot'; mark?: boolean }
  | { method: 'counts' };

export type HubMessage =
  | { type: 'ready'; url: string; database: string; missing: string[] }
  | { type: 'failed'; message: string }
  | { type: 'progress'; line: string }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

export type CountsReply = { type: string; n: number }[];

// ---------------------------------------------------------------------------------------------
// Timers

const timers = new Map<string, Timer>();
let markAt = performance.now();
let firsts = new Map<string, number>();
/** The timers whose every call is logged (a sync's pages and batches: a few hundred). */
const LOGGED = new Set(['source GET', 'ingest']);
let log: [string, number, number][] = [];
/** Methods this hub does not have (the server code moved on): reported, not timed. */
const missing: string[] = [];

function add(label: string, started: number, ms: number, items = 0): void {
  const t = timers.get(label) ?? { calls: 0, ms: 0, items: 0 };
  t.calls++;
  t.ms += ms;
  t.items += items;
  timers.set(label, t);
  if (!firsts.has(label)) firsts.set(label, started - markAt);
  if (LOGGED.has(label) && log.length < 100_000) log.push([label, started - markAt, ms]);
}

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Wraps `proto[method]` so that each call's wall time is added to the timer `label(this, args)`.
 * `items` counts what the call carried (from its arguments, its result, or `this` before the call).
 */
function instrument(
  owner: string,
  proto: object,
  method: string,
  label: string | ((self: unknown, args: unknown[]) => string),
  items?: { before?: (self: unknown, args: unknown[]) => number; after?: (self: unknown, args: unknown[], result: unknown) => number },
): void {
  const p = proto as Record<string, unknown>;
  const original = p[method] as AnyMethod | undefined;
  if (typeof original !== 'function') {
    missing.push(`${owner}.${method}`);
    return;
  }
  p[method] = function (this: unknown, ...args: unknown[]) {
    const name = typeof label === 'string' ? label : label(this, args);
    // Read before the call: a flush empties the queue it is about to send.
    const before = items?.before?.(this, args);
    const t0 = performance.now();
    const done = (result: unknown) => add(name, t0, performance.now() - t0, before ?? items?.after?.(this, args, result) ?? 0);
    let out: unknown;
    try {
      out = original.apply(this, args);
    } catch (err) {
      done(undefined);
      throw err;
    }
    if (out instanceof Promise) {
      return out.then(
        (value) => {
          done(value);
          return value;
        },
        (err) => {
          done(undefined);
          throw err;
        },
      );
    }
    done(out);
    return out;
  };
}

const AUDIT_TYPES = new Set(['AuditEvent', 'Provenance']);
const pendingOf = (self: unknown) => (self as { pending?: { type: string }[] }).pending ?? [];
const entriesOf = (result: unknown) => {
  const bundle = result as { resourceType?: string; entry?: unknown[] } | undefined;
  return bundle?.resourceType === 'Bundle' ? (bundle.entry?.length ?? 0) : 0;
};

/** What a GET to the source is, from its URL. */
function sourceCall(url: string): string {
  if (url === 'metadata') return 'source GET (metadata)';
  if (url.includes('/_history')) return 'source GET (_history)';
  if (url.startsWith('$export') || url.includes('/$export')) return 'source $export kick-off';
  if (/\/bulk-jobs\/[^/]+\/files\//.test(url)) return 'source NDJSON file (until headers)';
  if (/\/bulk-jobs\//.test(url)) return 'source export status';
  return 'source GET';
}

instrument('SourceClient', SourceClient.prototype, 'get', (_s, args) => sourceCall(String(args[0])), { after: (_s, _a, result) => entriesOf(result) });
instrument('SourceClient', SourceClient.prototype, 'raw', (_s, args) => sourceCall(String(args[0])));
instrument('FederationIngest', FederationIngest.prototype, 'ingest', 'ingest', { before: (_s, args) => (args[1] as unknown[]).length });
instrument('FederationIngest', FederationIngest.prototype, 'toHub', 'to hub form');
instrument('MasterPatientIndex', MasterPatientIndex.prototype, 'link', 'MPI link', { before: (_s, args) => (args[1] as unknown[]).length });
instrument('R4Validator', R4Validator.prototype, 'validate', 'validate');
instrument('FhirRepository', FhirRepository.prototype, 'updateMany', 'updateMany', { before: (_s, args) => (args[0] as unknown[]).length });
instrument('FhirRepository', FhirRepository.prototype, 'write', 'write (JSON + index rows)');
instrument(
  'FhirRepository',
  FhirRepository.prototype,
  'flushTo',
  (self) => {
    const pending = pendingOf(self);
    if (!pending.length) return 'flush (empty)';
    return pending.every((w) => AUDIT_TYPES.has(w.type)) ? 'flush: Provenance/AuditEvent only' : 'flush: with resources';
  },
  { before: (self) => pendingOf(self).length },
);
instrument('LazyTransaction', LazyTransaction.prototype, 'commit', 'commit');
instrument('FhirRepository', FhirRepository.prototype, 'search', 'search', { after: (_s, _a, result) => (result as { resources?: unknown[] } | undefined)?.resources?.length ?? 0 });
instrument('FhirRepository', FhirRepository.prototype, 'history', 'history', { after: (_s, _a, result) => (result as { entries?: unknown[] } | undefined)?.entries?.length ?? 0 });

// ---------------------------------------------------------------------------------------------

const [target = 'memory', logLevel = 'info'] = process.argv.slice(2);
const send = (message: HubMessage) => process.send?.(message);

async function main(): Promise<void> {
  const databaseUrl = target === 'memory' ? undefined : target;
  const bootstrapClient = { clientId: process.env.SUHE_BOOTSTRAP_CLIENT_ID ?? '', secret: process.env.SUHE_BOOTSTRAP_CLIENT_SECRET ?? '' };
  const config = loadConfig({ port: 0, host: '127.0.0.1', databaseUrl, logLevel, dataDir: 'memory://', bootstrapClient }, {});
  // loadConfig resolves dataDir to an absolute path; 'memory://' is the in-memory PGlite marker.
  const hub = await createHub({ ...config, dataDir: 'memory://' }, { logger: createLogger(logLevel) });
  const { url } = await hub.listen();
  const [{ version }] = await hub.db.query<{ version: string }>('select version()');

  const handle = async (call: HubCall): Promise<unknown> => {
    switch (call.method) {
      case 'addSource':
        return hub.federation.sources.add(call.input);
      case 'sync':
        return hub.federation.sync(call.name, { onProgress: (line) => send({ type: 'progress', line }) });
      case 'snapshot': {
        const { user, system } = process.cpuUsage();
        const snapshot: Snapshot = { cpuMs: (user + system) / 1000, timers: Object.fromEntries([...timers].map(([k, v]) => [k, { ...v }])), firsts: Object.fromEntries(firsts), log, at: performance.now() };
        if (call.mark) {
          markAt = performance.now();
          firsts = new Map();
          log = [];
        }
        return snapshot;
      }
      case 'counts':
        return (await hub.db.query<{ type: string; n: number }>('select type, count(*)::int as n from resource group by type order by n desc')).map((r) => ({ type: r.type, n: Number(r.n) }));
    }
  };

  let closing = false;
  const stop = async (code: number) => {
    if (closing) return;
    closing = true;
    await hub.close().catch((err) => process.stderr.write(`close failed: ${(err as Error).message}\n`));
    process.exit(code);
  };
  process.on('message', (message: { type?: string; id?: number; call?: HubCall }) => {
    if (message?.type === 'close') return void stop(0);
    if (message?.type !== 'call' || message.id === undefined || !message.call) return;
    const id = message.id;
    handle(message.call).then(
      (value) => send({ type: 'reply', id, ok: true, value }),
      (err: Error) => send({ type: 'reply', id, ok: false, error: err.stack ?? err.message }),
    );
  });
  process.on('disconnect', () => void stop(0));
  // Ctrl-C reaches the whole process group: the parent decides when to stop (it sends close).
  process.on('SIGINT', () => undefined);
  send({ type: 'ready', url, database: version, missing });
}

try {
  await main();
} catch (err) {
  send({ type: 'failed', message: (err as Error).stack ?? String(err) });
  process.exit(1);
}
