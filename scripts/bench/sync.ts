// `npm run bench:sync [-- --postgres URL] [--source-postgres] [--patients N]
//                     [--syncs bulk,search:2,search:4] [--page-size N] [--rate N]
//                     [--load-clients N] [--seed N] [--log-level L] [--profile] [--no-docs]
//                     [--doc FILE] [--watchdog-minutes M]`
//
// Federation pull sync against its ceiling, in one run:
//   1. source: a real Suhe hub (in-memory PGlite; --source-postgres: a throwaway PostgreSQL
//      database) loaded with N generated patients (search-data.ts, ~245 resources each) as one
//      transaction Bundle per patient, --load-clients at a time;
//   2. ceiling: the same Bundles POSTed (transaction, Prefer: return=minimal, 3 at a time) to a
//      fresh target hub: resources/s of the hub's own write path;
//   3. full sync: for each of --syncs, a fresh target hub (same backend as 2) registers the
//      source (client credentials with the source's bootstrap admin client, ratePerSecond --rate
//      so the limiter is not what is measured) and runs `federation.sync`; resources/s =
//      fetched / seconds, beside the ceiling. `bulk` is the default way a source that
//      advertises $export is pulled (one export, its NDJSON files ingested type after type);
//      `search:C` turns bulk off and pages `Type?_sort=_lastUpdated`, C types at a time;
//   4. a re-sync of the unchanged source on each sync's target (incremental);
//   5. where the time goes: CPU of every process (source, target, their PostgreSQL backends), the
//      target's time inside its own methods (sync-hub.ts wraps them in the child process only:
//      waiting on the source, ingest, MPI, flushes), the busiest type alone, and one source page
//      with and without the count that `_total=accurate` (the default) adds to every page.
// Every hub runs in its own child process (sync-hub.ts); this script only generates, sends and
// measures. Targets are on in-memory PGlite, or with --postgres URL on fresh databases created
// through that admin URL and dropped at the end. Writes the results to docs/PERFORMANCE.md
// ("## Federation sync benchmark", one subsection per backend) unless --no-docs or --profile.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Bundle } from '@medplum/fhirtypes';
import type { PullResult } from '../../server/src/federation/pull.js';
import type { SourceInput } from '../../server/src/federation/source-registry.js';
import { clientCredentialsToken, newBootstrapClient } from '../../test/helpers/auth.js';
import { Cleanups, runToEnd } from './cleanups.js';
import { writeDocSubsection } from './doc-section.js';
import { cpuDelta, cpuOfPids } from './cpu.js';
import { http } from './load.js';
import { summariseProfile } from './profile.js';
import { formatNumber, mdTable, textTable } from './report.js';
import { DEFAULT_SEED, searchData } from './search-data.js';
import type { CountsReply, HubCall, HubMessage, Snapshot, Timer } from './sync-hub.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = resolve(ROOT, 'docs/PERFORMANCE.md');
const HUB_SCRIPT = fileURLToPath(new URL('./sync-hub.ts', import.meta.url));
const BENCH_CLIENT = newBootstrapClient();
const SOURCE_NAME = 'bench-source';

const { values: args } = parseArgs({
  options: {
    postgres: { type: 'string' },
    'source-postgres': { type: 'boolean', default: false },
    patients: { type: 'string', default: '100' },
    syncs: { type: 'string', default: 'bulk,search:2,search:4' },
    'page-size': { type: 'string', default: '100' },
    rate: { type: 'string', default: '1000' },
    'load-clients': { type: 'string', default: '3' },
    seed: { type: 'string', default: String(DEFAULT_SEED) },
    'log-level': { type: 'string', default: 'info' },
    profile: { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    doc: { type: 'string' },
    'watchdog-minutes': { type: 'string' },
  },
});

const int = (name: string, value: string | undefined, min: number, max: number): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number ${min}..${max}`);
  return n;
};

interface Plan {
  mode: 'bulk' | 'search';
  concurrency: number;
  label: string;
}

function plans(text: string): Plan[] {
  return text.split(',').map((item) => {
    const [mode, c] = item.trim().split(':');
    if (mode === 'bulk') return { mode, concurrency: 2, label: 'sync by bulk export' };
    if (mode === 'search') {
      const concurrency = int('syncs search:C', c ?? '2', 1, 32);
      return { mode, concurrency, label: `sync by search, ${concurrency} type${concurrency > 1 ? 's' : ''} at a time` };
    }
    throw new Error(`--syncs: '${item}' is neither bulk nor search:C (e.g. bulk,search:2,search:4)`);
  });
}

const PATIENTS = int('patients', args.patients, 1, 100_000);
const PLANS = plans(args.syncs!);
const PAGE_SIZE = int('page-size', args['page-size'], 1, 1000);
const RATE = int('rate', args.rate, 1, 100_000);
const LOAD_CLIENTS = int('load-clients', args['load-clients'], 1, 16);
const SEED = int('seed', args.seed, 0, 2 ** 31);
const LOG_LEVEL = args['log-level']!;
if (args['source-postgres'] && !args.postgres) throw new Error('--source-postgres needs --postgres URL (the server to create its database on)');
const targetBackend = args.postgres ? 'PostgreSQL' : 'PGlite';
const sourceBackend = args['source-postgres'] ? 'PostgreSQL' : 'PGlite';

const say = (line: string) => process.stdout.write(`${line}\n`);
// ---------------------------------------------------------------------------------------------
// Cleanup, however the run ends (normal end, error, Ctrl-C, SIGTERM, watchdog).
const cleanups = new Cleanups(say);
const cleanup = () => cleanups.run();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130); // a second signal: leave now
    interrupted = true;
    say(`${signal}: stopping the hubs and removing what this run created (again to leave at once) ...`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** `step` once, however many times it is asked for (explicitly, and again by the cleanups). */
function once(step: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= step());
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: throwaway databases on the server --postgres names, and a monitor connection for
// the CPU of their backends and their statistics.

async function adminQuery<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const admin = new pg.Client({ connectionString: args.postgres });
  await admin.connect();
  try {
    return (await admin.query<T>(sql, params)).rows;
  } finally {
    await admin.end();
  }
}

interface Throwaway {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function throwawayDatabase(role: string): Promise<Throwaway> {
  const name = `suhe_bench_sync_${role.replace(/[^a-z0-9]+/g, '')}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  await adminQuery(`create database ${name}`);
  const drop = once(() => adminQuery(`drop database if exists ${name} with (force)`).then(() => undefined));
  cleanups.push(drop);
  const url = new URL(args.postgres!);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop };
}

let monitor: pg.Client | undefined;

/** The pids of the backends connected to `database` (for their CPU time). */
async function backendPids(database: string | undefined): Promise<number[]> {
  if (!monitor || !database) return [];
  const { rows } = await monitor.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [database]);
  return rows.map((r) => r.pid);
}

interface DbCounters {
  commits: number;
  inserted: number;
  updated: number;
  fetched: number;
}

async function dbCounters(database: string | undefined): Promise<DbCounters | undefined> {
  if (!monitor || !database) return undefined;
  // A backend publishes its counters when it goes idle, within about a second.
  await new Promise((r) => setTimeout(r, 1100));
  const { rows } = await monitor.query<{ xact_commit: string; tup_inserted: string; tup_updated: string; tup_fetched: string }>(
    'select xact_commit, tup_inserted, tup_updated, tup_fetched from pg_stat_database where datname = $1',
    [database],
  );
  const r = rows[0];
  return r ? { commits: Number(r.xact_commit), inserted: Number(r.tup_inserted), updated: Number(r.tup_updated), fetched: Number(r.tup_fetched) } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Hubs in child processes (sync-hub.ts)

interface HubProcess {
  role: string;
  url: string;
  base: string;
  /** Its PostgreSQL database, or undefined on PGlite. */
  database?: Throwaway;
  version: string;
  pid: number;
  /** Hub methods sync-hub.ts could not time (renamed or gone). */
  missing: string[];
  call<T>(call: HubCall): Promise<T>;
  /** CPU and timers so far; `mark` also restarts the clock of the timers' first calls. */
  snapshot(mark?: boolean): Promise<Snapshot>;
  token(): Promise<string>;
  onProgress?: (line: string) => void;
  stop(): Promise<void>;
}

async function startHub(role: string, onPostgres: boolean, profileDir?: string): Promise<HubProcess> {
  const database = onPostgres ? await throwawayDatabase(role) : undefined;
  const child: ChildProcess = fork(HUB_SCRIPT, [database?.url ?? 'memory', LOG_LEVEL], {
    cwd: ROOT,
    env: { ...process.env, SUHE_BOOTSTRAP_CLIENT_ID: BENCH_CLIENT.clientId, SUHE_BOOTSTRAP_CLIENT_SECRET: BENCH_CLIENT.secret },
    execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    // The hub logs one JSON line per request to stdout (as in production); it goes to /dev/null.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  child.on('error', (err) => say(`hub ${role}: ${err.message}`));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stopChild = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      if (child.connected) child.send({ type: 'close' }, () => undefined);
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    await database?.drop();
  };
  const stop = once(stopChild);
  cleanups.push(stop);

  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const hub: Partial<HubProcess> = { role, database, pid: child.pid!, stop };
  const ready = await new Promise<HubMessage>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`hub ${role} did not start within 120 s`)), 120_000);
    child.on('message', (raw) => {
      const m = raw as HubMessage;
      if (m.type === 'ready' || m.type === 'failed') {
        clearTimeout(timer);
        done(m);
      } else if (m.type === 'progress') {
        hub.onProgress?.(m.line);
      } else if (m.type === 'reply') {
        const waiting = pending.get(m.id);
        pending.delete(m.id);
        if (m.ok) waiting?.resolve(m.value);
        else waiting?.reject(new Error(`hub ${role}: ${m.error}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`hub ${role} exited with code ${code} before it was ready`));
      for (const w of pending.values()) w.reject(new Error(`hub ${role} exited (code ${code})`));
    });
  });
  if (ready.type === 'failed') throw new Error(`hub ${role} failed to start: ${ready.message}`);
  if (ready.type !== 'ready') throw new Error(`hub ${role} sent ${ready.type} before it was ready`);
  const call = <T>(c: HubCall) =>
    new Promise<T>((resolveCall, rejectCall) => {
      const id = nextId++;
      pending.set(id, { resolve: resolveCall as (v: unknown) => void, reject: rejectCall });
      child.send({ type: 'call', id, call: c }, (err) => {
        if (!err) return;
        pending.delete(id);
        rejectCall(err);
      });
    });
  // A client_credentials token lives 5 minutes: take a new one after 2.
  let token: { value: string; at: number } | undefined;
  const tokenOf = async () => {
    if (!token || Date.now() - token.at > 120_000) token = { value: await clientCredentialsToken(ready.url, BENCH_CLIENT), at: Date.now() };
    return token.value;
  };
  Object.assign(hub, {
    url: ready.url,
    base: `${ready.url}/fhir`,
    version: ready.database.split(',')[0],
    missing: ready.missing,
    call,
    snapshot: (mark?: boolean) => call<Snapshot>({ method: 'snapshot', mark }),
    token: tokenOf,
  });
  return hub as HubProcess;
}

// ---------------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------------
// Measuring a phase: wall time, CPU of every process involved, the hubs' timers.

interface PhaseProbe {
  hubs: HubProcess[];
  /** Databases whose backends' CPU and counters are measured (the first one's counters). */
  databases: (string | undefined)[];
}

interface PhaseResult {
  seconds: number;
  /** CPU ms by process: each hub's role, 'PostgreSQL', 'this script'. */
  cpu: Map<string, number>;
  /** Machine: share of both cores busy during the phase (all processes, others' work too). */
  machineBusy: number;
  /** By hub role: the timers' calls during the phase. */
  timers: Map<string, Record<string, Timer>>;
  /** By hub role: when each timer's first call of the phase began, s after the phase began. */
  firsts: Map<string, Record<string, number>>;
  /** By hub role: each page and batch of the phase, [timer, start s after the phase began, s]. */
  logs: Map<string, [string, number, number][]>;
  counters?: DbCounters;
}

function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    total += t;
    busy += t - c.times.idle;
  }
  return { busy, total };
}

async function measure<T>(probe: PhaseProbe, work: () => Promise<T>): Promise<{ value: T; phase: PhaseResult }> {
  const databases = probe.databases.filter((d): d is string => !!d);
  const counters0 = databases.length ? await dbCounters(databases[0]) : undefined;
  const snaps0 = await Promise.all(probe.hubs.map((h) => h.snapshot(true)));
  const pids0 = (await Promise.all(databases.map(backendPids))).flat();
  const pg0 = cpuOfPids(pids0);
  const me0 = process.cpuUsage();
  const m0 = machineTimes();
  const t0 = performance.now();
  const value = await work();
  const seconds = (performance.now() - t0) / 1000;
  const m1 = machineTimes();
  const me1 = process.cpuUsage(me0);
  const pids1 = (await Promise.all(databases.map(backendPids))).flat();
  const pg1 = cpuOfPids([...new Set([...pids0, ...pids1])]);
  const snaps1 = await Promise.all(probe.hubs.map((h) => h.snapshot()));
  const counters1 = databases.length ? await dbCounters(databases[0]) : undefined;
  const cpu = new Map<string, number>();
  const timers = new Map<string, Record<string, Timer>>();
  const firsts = new Map<string, Record<string, number>>();
  const logs = new Map<string, [string, number, number][]>();
  probe.hubs.forEach((h, i) => {
    logs.set(h.role, snaps1[i].log.map(([k, at, ms]) => [k, at / 1000, ms / 1000]));
    cpu.set(h.role, snaps1[i].cpuMs - snaps0[i].cpuMs);
    timers.set(h.role, diffTimers(snaps0[i].timers, snaps1[i].timers));
    firsts.set(h.role, Object.fromEntries(Object.entries(snaps1[i].firsts).map(([k, ms]) => [k, ms / 1000])));
  });
  if (databases.length) cpu.set('PostgreSQL', cpuDelta(pg0, pg1));
  cpu.set('this script', (me1.user + me1.system) / 1000);
  const counters =
    counters0 && counters1
      ? { commits: counters1.commits - counters0.commits, inserted: counters1.inserted - counters0.inserted, updated: counters1.updated - counters0.updated, fetched: counters1.fetched - counters0.fetched }
      : undefined;
  return { value, phase: { seconds, cpu, machineBusy: (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total), timers, firsts, logs, counters } };
}

function diffTimers(before: Record<string, Timer>, after: Record<string, Timer>): Record<string, Timer> {
  const out: Record<string, Timer> = {};
  for (const [k, a] of Object.entries(after)) {
    const b = before[k] ?? { calls: 0, ms: 0, items: 0 };
    if (a.calls - b.calls > 0) out[k] = { calls: a.calls - b.calls, ms: a.ms - b.ms, items: a.items - b.items };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Data and loading

interface Body {
  json: string;
  resources: number;
}

function generate(): Body[] {
  const bodies: Body[] = [];
  for (const { bundle } of searchData({ seed: SEED, patients: PATIENTS })) bodies.push({ json: JSON.stringify(bundle), resources: bundle.entry?.length ?? 0 });
  return bodies;
}

interface Loaded {
  resources: number;
  seconds: number;
  failed: number;
  firstError?: string;
}

/** POSTs the Bundles: the shared one first (the others reference it), then `clients` at a time. */
async function postBundles(hub: HubProcess, bodies: Body[], clients: number, label: string): Promise<Loaded> {
  const send = async (body: Body) => {
    const post = async () =>
      http(hub.base, { method: 'POST', headers: { authorization: `Bearer ${await hub.token()}`, 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: body.json }, [200]);
    const res = await post();
    const answer = JSON.parse(res.text) as Bundle;
    const bad = (answer.entry ?? []).find((e) => !/^20[01]/.test(e.response?.status ?? ''));
    if (bad) throw new Error(`an entry answered ${bad.response?.status}`);
  };
  const started = performance.now();
  let resources = 0;
  let done = 0;
  let failed = 0;
  let firstError: string | undefined;
  const total = bodies.reduce((n, b) => n + b.resources, 0);
  let last = { at: started, resources: 0 };
  const ticker = setInterval(() => {
    const now = performance.now();
    const recent = (resources - last.resources) / ((now - last.at) / 1000);
    last = { at: now, resources };
    say(
      `  ${label}: ${done}/${bodies.length} Bundles, ${resources.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} resources, ` +
        `${formatNumber(resources / ((now - started) / 1000))}/s (last 5 s: ${formatNumber(recent)}/s), load average ${os.loadavg()[0].toFixed(2)}${failed ? `, ${failed} FAILED` : ''}`,
    );
  }, 5000);
  const one = async (body: Body) => {
    try {
      await send(body);
      resources += body.resources;
    } catch (err) {
      failed++;
      firstError ??= (err as Error).message;
      if (failed <= 3) say(`  ${label}: a Bundle FAILED: ${(err as Error).message.slice(0, 300)}`);
    }
    done++;
  };
  try {
    await one(bodies[0]);
    let next = 1;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < bodies.length && !interrupted) await one(bodies[next++]);
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  if (interrupted) throw new Error('interrupted');
  return { resources, seconds: (performance.now() - started) / 1000, failed, firstError };
}

// ---------------------------------------------------------------------------------------------
// Sync

interface TypeSpan {
  fetched: number;
  /** When its first and last batch were ingested, s after the sync began (from the progress lines). */
  firstAt: number;
  lastAt: number;
}

interface SyncRun {
  label: string;
  plan: Plan;
  /** The hub role of the target (its timers and CPU in `phase`). */
  role: string;
  result: PullResult;
  phase: PhaseResult;
  fetched: number;
  stored: number;
  unchanged: number;
  quarantined: number;
  spans: Map<string, TypeSpan>;
  /** How the target actually pulled: bulk export or search (a refused export falls back). */
  pulledBy: 'bulk export' | 'search';
  /** federation.sync threw (not a source failure, which is a status): its first line. */
  failed?: string;
}

async function runSync(target: HubProcess, source: HubProcess, plan: Plan, label: string): Promise<SyncRun> {
  const spans = new Map<string, TypeSpan>();
  let started = performance.now();
  let lastLine = '';
  let exportLine = '';
  target.onProgress = (line) => {
    if (/export at the source/.test(line)) exportLine = line.replace(/^\[[^\]]+\] /, '');
    else lastLine = line;
    if (/pulling by search instead/.test(line)) say(`  ${label}: ${line}`);
    const m = /\] ([A-Z]\w+): (\d+) fetched/.exec(line);
    if (!m) return;
    const at = (performance.now() - started) / 1000;
    const span = spans.get(m[1]) ?? { fetched: 0, firstAt: at, lastAt: at };
    span.fetched = Number(m[2]);
    span.lastAt = at;
    spans.set(m[1], span);
  };
  const ticker = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    const fetched = [...spans.values()].reduce((n, t) => n + t.fetched, 0);
    const busy = [...spans.entries()].filter(([, t]) => s - t.lastAt < 5).map(([type, t]) => `${type} ${t.fetched.toLocaleString('en-US')}`);
    say(
      `  ${label}: ${s.toFixed(0)} s, ${fetched.toLocaleString('en-US')} ingested (${formatNumber(fetched / s)}/s)` +
        `${busy.length ? `; now: ${busy.join(', ')}` : !fetched && exportLine ? `; ${exportLine}` : ''}; load average ${os.loadavg()[0].toFixed(2)}`,
    );
  }, 5000);
  try {
    const { value: result, phase } = await measure({ hubs: [target, source], databases: [target.database?.name, source.database?.name] }, async () => {
      started = performance.now();
      try {
        return await target.call<PullResult>({ method: 'sync', name: SOURCE_NAME });
      } catch (err) {
        // federation.sync threw: the run is reported as failed and the benchmark goes on.
        const message = (err as Error).message.replace(/^hub [^:]+: (Error: )?/, '').split('\n')[0];
        const failed: PullResult = { source: SOURCE_NAME, status: 'failed', types: [], seconds: (performance.now() - started) / 1000, error: `federation.sync threw: ${message}` };
        return failed;
      }
    });
    const sum = (k: 'fetched' | 'created' | 'updated' | 'unchanged' | 'quarantined') => result.types.reduce((n, t) => n + t[k], 0);
    say(`  → ${label}: ${lastLine.replace(/^\[[^\]]+\] /, '')}`);
    if (result.status !== 'ok') say(`  ${label}: status ${result.status}: ${result.error}`);
    const pulledBy = phase.timers.get(target.role)?.['source $export kick-off'] && !/pulling by search instead/.test(lastLine) && !phase.timers.get(target.role)?.['source GET'] ? 'bulk export' : 'search';
    const failed = result.error?.startsWith('federation.sync threw') ? result.error.replace(/^federation.sync threw: /, '') : undefined;
    if (failed) say(`  ${label}: FAILED after ${duration(result.seconds)}: ${failed}`);
    return { label, plan, role: target.role, result, phase, fetched: sum('fetched'), stored: sum('created') + sum('updated'), unchanged: sum('unchanged'), quarantined: sum('quarantined'), spans, pulledBy, failed };
  } finally {
    clearInterval(ticker);
    target.onProgress = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The source's pages with and without the count

interface PageProbe {
  page: number;
  pages: number;
  withCount: number;
  withoutCount: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The median time of GET `url` as the sync sends it (the default `_total=accurate`) and with `_total=none`. */
async function probePages(source: HubProcess, type: string): Promise<PageProbe[]> {
  const get = async (url: string) => JSON.parse((await http(url, { headers: { authorization: `Bearer ${await source.token()}`, accept: 'application/fhir+json' } }, [200])).text) as Bundle;
  let url: string | undefined = `${source.base}/${type}?_sort=_lastUpdated&_count=${PAGE_SIZE}`;
  const pages: string[] = [];
  while (url && pages.length < 1000) {
    pages.push(url);
    url = (await get(url)).link?.find((l) => l.relation === 'next')?.url;
  }
  const picked = [...new Set([1, Math.ceil(pages.length / 2), pages.length])];
  const out: PageProbe[] = [];
  for (const page of picked) {
    const u = pages[page - 1];
    const none = `${u}${u.includes('?') ? '&' : '?'}_total=none`;
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 11; i++) {
      for (const [target, list] of [[u, a], [none, b]] as const) {
        const t0 = performance.now();
        await get(target);
        list.push(performance.now() - t0);
      }
    }
    out.push({ page, pages: pages.length, withCount: median(a), withoutCount: median(b) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// docs/PERFORMANCE.md: the section "## Federation sync benchmark" (added at the end with INTRO
// when missing), and in it one "### Results on ..." subsection per backend, rewritten by each
// run. Other subsections (written by hand) and the rest of the file are kept.

const SECTION = '## Federation sync benchmark';

function writeSyncResults(file: string, subheading: string, body: string): void {
  writeDocSubsection(file, SECTION, INTRO, subheading, body);
}

const INTRO = `
\`npm run bench:sync\` (scripts/bench/sync.ts, with the hub side in scripts/bench/sync-hub.ts)
measures a full pull sync of one source beside its ceiling, the same Bundles posted straight to a
hub, in one run.

Running it:

\`\`\`sh
npm run bench:sync                                                   # targets on in-memory PGlite
npm run bench:sync -- --postgres postgres://postgres@127.0.0.1:5432/postgres   # targets on fresh PostgreSQL databases
npm run bench:sync -- --profile --syncs search:2                     # CPU profiles of the hubs per phase; no doc update
\`\`\`

Options: \`--patients N\` (100), \`--syncs bulk,search:2,search:4\` (one full sync and re-sync per
item: \`bulk\` is how a source that advertises \`$export\` is pulled by default, \`search:C\` pages
\`Type?_sort=_lastUpdated\` with C types at a time), \`--page-size N\` (100), \`--rate N\`
(requests/s allowed to the source, 1000, so the limiter is not what is measured),
\`--source-postgres\` (the source on PostgreSQL too; by default it is in-memory PGlite),
\`--load-clients N\` (3), \`--no-docs\`, \`--doc FILE\`. With \`--postgres\` the databases are
created through that admin URL and dropped at the end, however the run ends. A run takes 5–8
minutes on this machine.

What it does: the source, the ceiling target and each sync target are real hubs (\`createHub\`),
each in its own child process on 127.0.0.1. The script generates the patients with
\`search-data.ts\` (~245 resources each, seeded) and loads the source with one transaction Bundle
per patient. The **ceiling** posts the same Bundles (\`Prefer: return=minimal\`, 3 at a time) to a
fresh target. Each **sync** registers the source on another fresh target (client credentials with
the source's bootstrap admin client) and runs \`federation.sync\`: resources/s is fetched ÷
seconds. The **re-sync** runs it again against the unchanged source. Beside the rates it reports
the CPU of every process per resource and the time the target spends inside its own methods
(waiting on the source, ingesting, MPI, flushes), timed by wrapping them in the child process
only. Compare numbers within one run: the machine has 2 cores shared with other work. The
\`### Results\` subsections below are rewritten by each run (one per backend); the others are
written by hand and kept.
`;

// ---------------------------------------------------------------------------------------------

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : '—');
const secs = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '?' : `${formatNumber(x)} s`);

/** The timers shown, in the order a page goes through them; the first five are a worker's top level. */
const TOP_LEVEL = ['source GET (metadata)', 'source $export kick-off', 'source export status', 'source NDJSON file (until headers)', 'source GET', 'source GET (_history)', 'ingest'];
const NESTED = ['MPI link', 'to hub form', 'validate', 'updateMany', 'write (JSON + index rows)', 'flush: with resources', 'flush: Provenance/AuditEvent only', 'commit'];

/** Workers pulling at once: types in parallel for search, one after another for bulk export. */
const workersOf = (r: SyncRun) => (r.pulledBy === 'bulk export' ? 1 : Math.min(r.plan.concurrency, r.result.types.length));

async function main(): Promise<void> {
  const started = Date.now();
  const cpus = os.cpus();
  const loadBefore = os.loadavg()[0];
  const watchdogMinutes = args['watchdog-minutes'] ? int('watchdog-minutes', args['watchdog-minutes'], 1, 1440) : Math.ceil(20 + (PATIENTS * PLANS.length) / 10);
  setTimeout(() => {
    say(`Watchdog: the benchmark ran for ${watchdogMinutes} minutes; stopping.`);
    interrupted = true;
    void cleanup().finally(() => process.exit(1));
  }, watchdogMinutes * 60_000).unref();

  say(
    `Suhe federation sync benchmark: ${cpus.length} cores, Node ${process.version}, load average ${loadBefore.toFixed(2)}; ` +
      `source on ${sourceBackend}, targets on ${targetBackend}; ${PATIENTS} patients; syncs: ${PLANS.map((p) => p.label).join('; ')}; ` +
      `pages of ${PAGE_SIZE}, ${RATE} requests/s allowed; stops itself after ${watchdogMinutes} minutes`,
  );
  if (loadBefore > cpus.length / 2) say(`Note: load average ${loadBefore.toFixed(2)} on ${cpus.length} cores: other work is running, numbers will be noisy.`);
  if (args.postgres) {
    const m = new pg.Client({ connectionString: args.postgres });
    m.on('error', () => undefined);
    await m.connect();
    cleanups.push(() => m.end());
    monitor = m;
  }
  const profileDir = args.profile ? mkdtempSync(join(os.tmpdir(), 'suhe-bench-sync-prof-')) : undefined;
  const windows: { role: string; name: string; fromUs: number; toUs: number }[] = [];
  const mark = () => Number(process.hrtime.bigint() / 1000n);

  // --- Data and the source ------------------------------------------------------------------
  const t0 = performance.now();
  const bodies = generate();
  const resources = bodies.reduce((n, b) => n + b.resources, 0);
  say(`Generated ${bodies.length} transaction Bundles (seed ${SEED}): ${count(resources)} resources, ${(bodies.reduce((n, b) => n + b.json.length, 0) / 1e6).toFixed(1)} MB, in ${duration((performance.now() - t0) / 1000)}`);

  say(`Starting the source hub on ${sourceBackend} ...`);
  const source = await startHub('source', args['source-postgres'], profileDir && join(profileDir, 'source'));
  say(`  source at ${source.base} (${source.version})`);
  if (source.missing.length) say(`  note: the hub has no ${source.missing.join(', ')}: not timed`);
  say(`Loading the source: ${bodies.length} Bundles, ${LOAD_CLIENTS} at a time ...`);
  const sourceLoad = await postBundles(source, bodies, LOAD_CLIENTS, 'source load');
  say(`  → source: ${count(sourceLoad.resources)} resources in ${duration(sourceLoad.seconds)}: ${formatNumber(sourceLoad.resources / sourceLoad.seconds)} resources/s${sourceLoad.failed ? `; ${sourceLoad.failed} Bundles FAILED: ${sourceLoad.firstError}` : ''}`);
  if (sourceLoad.failed) throw new Error(`the source did not load: ${sourceLoad.firstError}`);

  // --- Ceiling ----------------------------------------------------------------------------
  say(`Ceiling: the same Bundles POSTed to a fresh target hub on ${targetBackend}, ${LOAD_CLIENTS} at a time ...`);
  const ceilingHub = await startHub('ceiling', !!args.postgres, profileDir && join(profileDir, 'ceiling'));
  say(`  target at ${ceilingHub.base} (${ceilingHub.version})`);
  const ceilingFrom = mark();
  const { value: ceiling, phase: ceilingPhase } = await measure({ hubs: [ceilingHub], databases: [ceilingHub.database?.name] }, () => postBundles(ceilingHub, bodies, LOAD_CLIENTS, 'ceiling'));
  windows.push({ role: 'ceiling', name: 'POST transaction Bundles', fromUs: ceilingFrom, toUs: mark() });
  if (ceiling.failed) throw new Error(`the ceiling target did not take the Bundles: ${ceiling.firstError}`);
  const ceilingRate = ceiling.resources / ceiling.seconds;
  say(`  → ceiling: ${count(ceiling.resources)} resources in ${duration(ceiling.seconds)}: ${formatNumber(ceilingRate)} resources/s`);
  const ceilingCounts = await ceilingHub.call<CountsReply>({ method: 'counts' });
  await ceilingHub.stop();

  // --- Full syncs, each followed by a re-sync ---------------------------------------------------
  const runs: { sync: SyncRun; resync: SyncRun; counts: CountsReply; storedBefore: number; leftover?: { seconds: number; batches: number } }[] = [];
  for (const [n, plan] of PLANS.entries()) {
    say(`Full ${plan.label} into a fresh target hub on ${targetBackend} ...`);
    const role = `target ${n + 1}`;
    const dir = n === 0 && profileDir ? join(profileDir, 'target') : undefined;
    const target = await startHub(role, !!args.postgres, dir);
    const input: SourceInput = {
      name: SOURCE_NAME,
      baseUrl: source.base,
      organizationName: 'Benchmark source hospital',
      auth: 'client-credentials',
      clientId: BENCH_CLIENT.clientId,
      secret: BENCH_CLIENT.secret,
      scope: 'system/*.rs',
      pageSize: PAGE_SIZE,
      ratePerSecond: RATE,
      concurrency: plan.concurrency,
      bulk: plan.mode === 'bulk',
    };
    await target.call({ method: 'addSource', input });
    const from = mark();
    const sync = await runSync(target, source, plan, plan.label);
    if (dir) windows.push({ role: 'target', name: plan.label, fromUs: from, toUs: mark() }, { role: 'source', name: `serving the ${plan.label}`, fromUs: from, toUs: mark() });
    if (!sync.failed) say(`  → ${plan.label}: ${count(sync.fetched)} fetched, ${count(sync.stored)} stored in ${duration(sync.result.seconds)}: ${formatNumber(sync.fetched / sync.result.seconds)} resources/s, ${formatNumber(sync.fetched / sync.result.seconds / ceilingRate)}× the ceiling${sync.pulledBy !== plan.mode.replace('bulk', 'bulk export') ? ` (pulled by ${sync.pulledBy})` : ''}`);
    const counts = await target.call<CountsReply>({ method: 'counts' });
    let leftover: { seconds: number; batches: number } | undefined;
    if (sync.failed) {
      // pullSource's Promise.all rejects at the first worker that throws; the others go on. Wait
      // until no batch has been ingested for 3 s, so that the re-sync is not mixed with them.
      const t1 = performance.now();
      const batches = async () => (await target.snapshot()).timers.ingest?.calls ?? 0;
      const first = await batches();
      let last = first;
      let lastChange = performance.now();
      while (performance.now() - lastChange < 3000 && performance.now() - t1 < 300_000) {
        await new Promise((r) => setTimeout(r, 500));
        const now = await batches();
        if (now !== last) lastChange = performance.now();
        last = now;
      }
      leftover = { seconds: (lastChange - t1) / 1000, batches: last - first };
      say(`  the other workers went on for ${duration(leftover.seconds)} after sync() had failed: ${leftover.batches} more batches ingested`);
    }
    const before = sync.failed ? await target.call<CountsReply>({ method: 'counts' }) : counts;
    say(`Re-sync of the unchanged source (${plan.label}${sync.failed ? ', resuming the failed sync from its checkpoints' : ''}) ...`);
    const resync = await runSync(target, source, plan, 're-sync');
    say(`  → re-sync: ${duration(resync.result.seconds)}, ${count(resync.fetched)} resources read again, ${count(resync.stored)} stored`);
    runs.push({ sync, resync, counts: sync.failed ? await target.call<CountsReply>({ method: 'counts' }) : counts, storedBefore: before.reduce((n, c) => n + c.n, 0), leftover });
    await target.stop();
  }

  // --- The source's pages -----------------------------------------------------------------------
  const searchRun = runs.find((r) => r.sync.pulledBy === 'search')?.sync;
  const biggest = [...(searchRun?.spans.entries() ?? [])].sort((a, b) => b[1].fetched - a[1].fetched)[0]?.[0];
  let probes: PageProbe[] = [];
  if (biggest) {
    say(`Source pages of ${biggest}: GET as the sync sends it (default _total=accurate) and with _total=none, median of 11 ...`);
    probes = await probePages(source, biggest);
    for (const p of probes) say(`  page ${p.page} of ${p.pages}: ${formatNumber(p.withCount)} ms with the count, ${formatNumber(p.withoutCount)} ms without`);
  }
  await source.stop();
  if (interrupted) return;

  // --- Report -----------------------------------------------------------------------------------
  const loadAfter = os.loadavg()[0];
  const machine = `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
  const rateOf = (r: SyncRun) => r.fetched / r.result.seconds;

  const summaryHeader = ['machine', 'Node', 'backend (targets)', 'patients', 'resources', 'ceiling r/s', 'sync', 'sync r/s', 'sync ÷ ceiling', 're-sync s'];
  const summaryCells = runs.map(({ sync, resync }) => [
    machine,
    process.version,
    targetBackend,
    String(PATIENTS),
    count(resources),
    formatNumber(ceilingRate),
    sync.label.replace(/^sync /, ''),
    sync.failed ? `FAILED after ${formatNumber(sync.result.seconds)} s: ${sync.failed}` : formatNumber(rateOf(sync)),
    sync.failed ? '—' : `${formatNumber(rateOf(sync) / ceilingRate)}×`,
    sync.failed ? `(${formatNumber(resync.result.seconds)}: the rest)` : formatNumber(resync.result.seconds),
  ]);

  // CPU per resource, by process.
  const cpuHeader = ['phase', 'resources', 'wall s', 'resources/s', 'target hub ms/res', 'source hub ms/res', ...(args.postgres ? ['PostgreSQL ms/res'] : []), 'this script ms/res', 'machine busy', ...(args.postgres ? ['commits/res', 'rows inserted/res'] : [])];
  const cpuRow = (name: string, n: number, phase: PhaseResult, targetRole: string, sourceIncluded: boolean): string[] => {
    const per = (ms: number | undefined) => (ms === undefined || !n ? '—' : formatNumber(ms / n));
    return [
      name,
      count(n),
      formatNumber(phase.seconds),
      n ? formatNumber(n / phase.seconds) : '—',
      per(phase.cpu.get(targetRole)),
      per(sourceIncluded ? phase.cpu.get('source') : undefined),
      ...(args.postgres ? [per(phase.cpu.get('PostgreSQL'))] : []),
      per(phase.cpu.get('this script')),
      pct(phase.machineBusy),
      ...(args.postgres ? [phase.counters && n ? formatNumber(phase.counters.commits / n) : '—', phase.counters && n ? formatNumber(phase.counters.inserted / n) : '—'] : []),
    ];
  };
  const cpuCells = [
    cpuRow(`ceiling: POST Bundles, ${LOAD_CLIENTS} at a time`, ceiling.resources, ceilingPhase, 'ceiling', false),
    ...runs.filter(({ sync }) => !sync.failed).map(({ sync }) => cpuRow(sync.label, sync.fetched, sync.phase, sync.role, true)),
  ];

  // Where the target's time goes, beside the ceiling's.
  const timerHeader = ['timer (target hub)', 'ceiling ms/res', ...runs.map(({ sync }) => `${sync.label.replace(/^sync /, '')}: ms/res (share of worker time)`)];
  const timerCells: string[][] = [];
  const ct = ceilingPhase.timers.get('ceiling') ?? {};
  for (const name of [...TOP_LEVEL, ...NESTED]) {
    const cells = runs.map(({ sync }) => {
      const t = sync.phase.timers.get(sync.role)?.[name];
      if (!t || sync.failed) return '—';
      const share = TOP_LEVEL.includes(name) ? ` (${pct(t.ms / (workersOf(sync) * sync.result.seconds * 1000))})` : '';
      return `${formatNumber(t.ms / sync.fetched)}${share}`;
    });
    if (!ct[name] && cells.every((c) => c === '—')) continue;
    timerCells.push([name, ct[name] ? formatNumber(ct[name].ms / ceiling.resources) : '—', ...cells]);
  }
  timerCells.push([
    'rest of worker time (between calls, idle workers)',
    '—',
    ...runs.map(({ sync }) => {
      if (sync.failed) return '—';
      const t = sync.phase.timers.get(sync.role) ?? {};
      const top = TOP_LEVEL.reduce((ms, k) => ms + (t[k]?.ms ?? 0), 0);
      const worker = workersOf(sync) * sync.result.seconds * 1000;
      return `${formatNumber((worker - top) / sync.fetched)} (${pct((worker - top) / worker)})`;
    }),
  ]);

  // Per sync: how it went, and the busiest type.
  const details: string[] = [];
  for (const { sync, resync, counts, storedBefore, leftover } of runs) {
    if (sync.failed) {
      const total = counts.reduce((n, c) => n + c.n, 0);
      details.push(
        `${sync.label}: FAILED after ${secs(sync.result.seconds)}: federation.sync threw \`${sync.failed}\`; ${leftover ? `its other workers went on for ${secs(leftover.seconds)} after that and ingested ${count(leftover.batches)} more batches (pullSource's Promise.all does not stop them); ` : ''}the target had ${count(storedBefore)} resources of all kinds by then; the re-sync resumed from the checkpoints in ${secs(resync.result.seconds)}: ${count(resync.fetched)} fetched, ${count(resync.stored)} stored, ${count(resync.unchanged)} unchanged${resync.result.status !== 'ok' ? ` (status ${resync.result.status}: ${resync.result.error})` : ''}; ${count(total)} resources of all kinds at the end`,
      );
      continue;
    }
    const t = sync.phase.timers.get(sync.role) ?? {};
    const f = sync.phase.firsts.get(sync.role) ?? {};
    const src = sync.phase.timers.get('source') ?? {};
    const [type, span] = [...sync.spans.entries()].sort((a, b) => b[1].fetched - a[1].fetched)[0] ?? ['?', { fetched: 0, firstAt: 0, lastAt: 0 }];
    const othersDone = Math.max(0, ...[...sync.spans.entries()].filter(([k]) => k !== type).map(([, s]) => s.lastAt));
    const busiest =
      `${type}, ${count(span.fetched)} of ${count(sync.fetched)} resources (${pct(span.fetched / Math.max(1, sync.fetched))}), was ingested from ${secs(span.firstAt)} to ${secs(span.lastAt)} of ${secs(sync.result.seconds)} (${formatNumber(span.fetched / Math.max(0.001, span.lastAt - span.firstAt))}/s)` +
      (sync.pulledBy === 'search' ? `; every other type was done by ${secs(othersDone)}` : '');
    const ingest = t.ingest;
    const perBatch = ingest ? `${count(ingest.calls)} batches of ${formatNumber(ingest.items / ingest.calls)} at ${formatNumber(ingest.ms / ingest.calls)} ms each` : 'no batches';
    if (sync.pulledBy === 'bulk export') {
      const polls = t['source export status'];
      details.push(
        `${sync.label}: one export at the source, ready (first NDJSON file requested) ${secs(f['source NDJSON file (until headers)'])} after the sync began, after ${count(polls?.calls ?? 0)} status polls (each followed by the wait the source's Retry-After asks for); then ${perBatch}, the source's concurrency (2 by default) types at a time; ${busiest}`,
      );
    } else {
      const get = t['source GET'];
      details.push(
        `${sync.label}: ${count(get?.calls ?? 0)} pages, the target waited ${get ? formatNumber(get.ms / get.calls) : '?'} ms for each (the source spent ${src.search ? formatNumber(src.search.ms / src.search.calls) : '?'} ms of that in FhirRepository.search); ${perBatch}; ${busiest}`,
      );
      // The end of the sync, when the busiest type was the only one left: one worker, no other type's work.
      const tail = (sync.phase.logs.get(sync.role) ?? []).filter(([, at]) => at >= othersDone);
      const tailWall = sync.result.seconds - othersDone;
      const sumOf = (k: string) => tail.filter(([name]) => name === k).reduce((n, [, , d]) => n + d, 0);
      const tailPages = tail.filter(([name]) => name === 'source GET').length;
      const tailBatches = tail.filter(([name]) => name === 'ingest');
      const tailResources = tailBatches.length ? Math.round((span.fetched * tailBatches.length) / Math.max(1, Math.ceil(span.fetched / PAGE_SIZE))) : 0;
      if (tailWall > 1 && tailPages) {
        details.push(
          `${sync.label}, its last ${secs(tailWall)} (${type} alone, one worker): ${count(tailPages)} pages, ~${count(tailResources)} resources (${formatNumber(tailResources / tailWall)}/s); the worker waited ${secs(sumOf('source GET'))} for pages (${formatNumber((1000 * sumOf('source GET')) / tailPages)} ms each) and ingested for ${secs(sumOf('ingest'))} (${formatNumber((1000 * sumOf('ingest')) / Math.max(1, tailBatches.length))} ms a batch): ${pct((sumOf('source GET') + sumOf('ingest')) / tailWall)} of the time (above 100 %: the next page is fetched while one is ingested)`,
        );
      }
    }
    const rt = resync.phase.timers.get(resync.role) ?? {};
    const hist = rt['source GET (_history)'];
    const pagesRead = rt['source GET'];
    const cpuOf = (k: string) => resync.phase.cpu.get(k);
    details.push(
      `re-sync after the ${sync.label.replace(/^sync /, 'sync ')}: ${secs(resync.result.seconds)} (CPU: target ${formatNumber(cpuOf(resync.role) ?? Number.NaN)} ms, source ${formatNumber(cpuOf('source') ?? Number.NaN)} ms${cpuOf('PostgreSQL') !== undefined ? `, PostgreSQL ${formatNumber(cpuOf('PostgreSQL')!)} ms` : ''}); ${resync.pulledBy === 'bulk export' ? `an export with \`_since\` (${count(rt['source export status']?.calls ?? 0)} status polls) brought ${count(resync.fetched)} resources` : `${count(pagesRead?.calls ?? 0)} search pages (\`_lastUpdated=ge<checkpoint>\`) brought ${count(resync.fetched)} resources`}, and ${count(hist?.calls ?? 0)} \`_history\` pages ${count(hist?.items ?? 0)} entries (deletes are looked for in every type's history since the last pass began, less 60 s); ${count(resync.stored)} stored, ${count(resync.unchanged)} recognised unchanged`,
    );
    const of = (c: CountsReply, k: string) => c.find((x) => x.type === k)?.n ?? 0;
    details.push(
      `stored by the ${sync.label.replace(/^sync /, 'sync ')} target besides the source's resources: AuditEvent ${count(of(counts, 'AuditEvent'))}, Provenance ${count(of(counts, 'Provenance'))}, golden Patients and review Tasks ${count(of(counts, 'Patient') - PATIENTS + of(counts, 'Task'))}`,
    );
  }
  const ceilingAudit = ceilingCounts.find((c) => c.type === 'AuditEvent')?.n ?? 0;
  details.push(`stored by the ceiling target besides the Bundles' resources: AuditEvent ${count(ceilingAudit)} (${formatNumber(ceilingAudit / Math.max(1, ceiling.resources))} per resource)`);
  for (const p of probes) {
    details.push(`source ${biggest} page ${p.page} of ${p.pages}: ${formatNumber(p.withCount)} ms as the sync asks for it (no \`_total\`, so the default \`accurate\`: a count of every match on every page), ${formatNumber(p.withoutCount)} ms with \`_total=none\` (median of 11)`);
  }

  const checks: string[] = [];
  for (const { sync, resync } of runs) {
    if (sync.result.status !== 'ok') checks.push(`${sync.label}: status ${sync.result.status}: ${sync.result.error}`);
    if (sync.failed) continue;
    if (sync.fetched !== resources) checks.push(`${sync.label}: fetched ${count(sync.fetched)}; the source was loaded with ${count(resources)}`);
    if (sync.stored !== sync.fetched) checks.push(`${sync.label}: stored ${count(sync.stored)} of ${count(sync.fetched)} fetched`);
    if (sync.quarantined) checks.push(`${sync.label}: ${count(sync.quarantined)} quarantined`);
    if (sync.pulledBy !== (sync.plan.mode === 'bulk' ? 'bulk export' : 'search')) checks.push(`${sync.label}: pulled by ${sync.pulledBy}`);
    if (resync.result.status !== 'ok') checks.push(`re-sync after the ${sync.label}: status ${resync.result.status}: ${resync.result.error}`);
    if (resync.stored) checks.push(`re-sync after the ${sync.label}: stored ${count(resync.stored)} resources from an unchanged source`);
  }
  const missing = [...new Set([source, ceilingHub].flatMap((h) => h.missing))];
  if (missing.length) checks.push(`not timed (the hub has no such method): ${missing.join(', ')}`);

  say('');
  say(textTable(summaryHeader, summaryCells));
  say('');
  say(textTable(cpuHeader, cpuCells));
  say('');
  say(textTable(timerHeader, timerCells));
  say('');
  for (const d of details) say(`- ${d}`);
  for (const c of checks) say(`CHECK: ${c}`);
  say(`Load average ${loadBefore.toFixed(2)} at the start, ${loadAfter.toFixed(2)} at the end (${cpus.length} cores).`);

  if (profileDir) {
    for (const w of windows) {
      const dir = join(profileDir, w.role);
      const [file] = readdirSync(dir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(dir, f))
        .sort((a, b) => statSync(b).size - statSync(a).size);
      if (file) say(`\n${summariseProfile(file, 25, { name: `${w.role}: ${w.name}`, fromUs: w.fromUs, toUs: w.toUs })}`);
    }
    say(`\nProfiles kept in ${profileDir}`);
  }

  const command = `npm run bench:sync${args.postgres ? ' -- --postgres <admin url>' : ''}${args['source-postgres'] ? ' --source-postgres' : ''}`;
  const body = [
    `Measured ${new Date().toISOString()} by \`${command}\` (scripts/bench/sync.ts).`,
    '',
    `- Machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; Node ${process.version}; load average ${loadBefore.toFixed(2)} at the start, ${loadAfter.toFixed(2)} at the end (other work shared the cores)`,
    `- Source: ${source.version} (${source.database ? 'a throwaway database' : 'in memory'}), loaded with ${PATIENTS} generated patients (seed ${SEED}): ${count(resources)} resources in ${bodies.length} transaction Bundles, ${LOAD_CLIENTS} at a time, ${formatNumber(sourceLoad.resources / sourceLoad.seconds)} resources/s`,
    `- Targets: each a fresh hub on ${ceilingHub.version}${args.postgres ? ' (throwaway databases on 127.0.0.1)' : ' (in memory)'}; every hub in its own child process, log level ${LOG_LEVEL}`,
    `- Syncs: client credentials with the source's bootstrap admin client, scope system/*.rs, the default 22 resource types, batches (pages) of ${PAGE_SIZE}, ${RATE} requests/s allowed`,
    '',
    mdTable(summaryHeader, summaryCells),
    '',
    'CPU per resource by process (user + system time over the phase ÷ resources), and how busy the whole machine was:',
    '',
    mdTable(cpuHeader, cpuCells),
    '',
    "Where the target's time goes: wall time inside the hub's own methods, summed over calls, per resource; for the calls a worker makes itself, the share of worker time (workers × wall time). Nested timers are parts of `ingest`; an async call's time includes waiting for the event loop and the database:",
    '',
    mdTable(timerHeader, timerCells),
    '',
    ...details.map((d) => `- ${d}`),
    ...(checks.length ? ['', 'Checks that failed:', '', ...checks.map((c) => `- ${c}`)] : []),
  ].join('\n');

  if (args['no-docs'] || args.profile) {
    say(`\n(docs/PERFORMANCE.md not written: ${args.profile ? 'a profiled run' : '--no-docs'})`);
  } else {
    const doc = args.doc ? resolve(args.doc) : DOC;
    const heading = `### Results on ${targetBackend}${args['source-postgres'] ? ' (source on PostgreSQL too)' : ''}`;
    writeSyncResults(doc, heading, body);
    say(`\nWrote "${heading.slice(4)}" in the section "Federation sync benchmark" of ${doc}`);
  }
  say(`Done in ${duration((Date.now() - started) / 1000)}.`);
}

await runToEnd(main, cleanups, say, () => interrupted);
