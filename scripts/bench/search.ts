// `npm run bench:search [-- --pglite] [--patients N] [--seconds S] [--no-docs]
//                       [--keep-db NAME | --reuse-db NAME] [--seed N] [--load-clients N]
//                       [--log-level L] [--watchdog-minutes M] [--doc FILE]`
//
// FHIR search at population scale. Starts the real hub (server.ts) in a child process on a fresh
// PostgreSQL database (created here, dropped at the end) or on in-memory PGlite, loads a
// deterministic synthetic population (search-data.ts: ~250 resources per patient) through
// POST /fhir transaction Bundles, ANALYZEs, then times the query classes of search-queries.ts
// over HTTP (load.ts): each alone with 1 client (p50/p95/p99), then all of them mixed with 16
// clients. Every latency is printed beside two baselines measured in the same run:
//   - the HTTP floor: a trivial node:http server answering 'ok' (child process, same client);
//   - the hub's cheapest indexed request: GET /fhir/Patient/<id>.
// A class the hub answers with a non-200 is reported (status and the OperationOutcome's first
// line) and left out of the timings; the run goes on.
//
// Loading 500k resources takes minutes: --keep-db NAME loads into a database of that name and
// keeps it (marked complete with a COMMENT ON DATABASE), --reuse-db NAME times an earlier load.
// Bounded: a watchdog ends the run; the child processes and any database this run created (and
// did not finish loading for --keep-db) are removed on every way out.
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Bundle } from '@medplum/fhirtypes';
import { createTestDatabase } from '../../test/helpers/hub.js';
import { clientCredentialsToken, newBootstrapClient } from '../../test/helpers/auth.js';
import { POSTGRES_ADMIN_URL } from '../../test/helpers/parts.js';
import { http, percentile, runLoad, setAuthorization, type LoadResult } from './load.js';
import { formatNumber, mdTable, replaceSection, textTable } from './report.js';
import { DATA_VERSION, DEFAULT_SEED, RESIDENT_ID_SYSTEM, describePatients, searchData, type PatientSummary } from './search-data.js';
import { settleWrites } from './writes-settle.js';
import { MIX_P99_TARGET, mixDeck, queryClasses, type KnownPatient, type Query, type QueryClass } from './search-queries.js';
import { Cleanups, runToEnd } from './cleanups.js';
import { startServer as startChild, type RunningServer } from './child-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = resolve(ROOT, 'docs/PERFORMANCE.md');
const BENCH_CLIENT = newBootstrapClient();

/** A child server (child-server.ts) whose stop() joins this run's cleanups. */
function startServer(serverArgs: string[], execArgv: string[] = []): Promise<RunningServer> {
  return startChild(serverArgs, { client: BENCH_CLIENT, execArgv, onStart: (stop) => cleanups.push(stop), say });
}
const MIX_CLIENTS = 16;

const { values: args } = parseArgs({
  options: {
    pglite: { type: 'boolean', default: false },
    patients: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    seed: { type: 'string', default: String(DEFAULT_SEED) },
    'load-clients': { type: 'string', default: '3' },
    'keep-db': { type: 'string' },
    'reuse-db': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    'watchdog-minutes': { type: 'string' },
    'no-docs': { type: 'boolean', default: false },
    /** Where the section goes (docs/PERFORMANCE.md); another file to try the output. */
    doc: { type: 'string' },
  },
});
const backend = args.pglite ? 'pglite' : 'postgres';
const PHASE_SECONDS = Number(args.seconds);
const SEED = Number(args.seed);
const LOAD_CLIENTS = Number(args['load-clients']);
const keepDb = args['keep-db'];
const reuseDb = args['reuse-db'];
const say = (line: string) => process.stdout.write(`${line}\n`);

function checkArgs(): void {
  if (!(PHASE_SECONDS > 0 && PHASE_SECONDS <= 120)) throw new Error('--seconds must be between 0 and 120');
  if (!Number.isSafeInteger(SEED)) throw new Error('--seed must be a whole number');
  if (!(Number.isInteger(LOAD_CLIENTS) && LOAD_CLIENTS >= 1 && LOAD_CLIENTS <= 16)) throw new Error('--load-clients must be 1..16');
  if (keepDb && reuseDb) throw new Error('--keep-db loads a database, --reuse-db times one loaded before: use one of them');
  for (const name of [keepDb, reuseDb]) {
    if (name === undefined) continue;
    if (args.pglite) throw new Error('--keep-db and --reuse-db need PostgreSQL (PGlite lives inside the hub process)');
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`database name '${name}' must be lower-case letters, digits and _`);
  }
  if (args.patients !== undefined && !/^[1-9]\d*$/.test(args.patients)) throw new Error('--patients must be a positive whole number');
}

// ---------------------------------------------------------------------------------------------
// Cleanup, however the run ends (normal end, error, Ctrl-C, SIGTERM, watchdog).
const cleanups = new Cleanups(say);
/** Undoes what this run created, once, newest first (so the hub is down before its database is dropped). */
const cleanup = () => cleanups.run();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130); // a second signal: leave now
    interrupted = true;
    say(`${signal}: stopping the servers and removing what this run created (again to leave at once) ...`);
    void cleanup().finally(() => process.exit(130));
  });
}
function startWatchdog(minutes: number): void {
  setTimeout(() => {
    say(`Watchdog: the benchmark ran for ${minutes} minutes; stopping.`);
    interrupted = true; // the load loop stops taking new bundles
    void cleanup().finally(() => process.exit(1));
  }, minutes * 60_000).unref();
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The database: fresh (dropped at the end), kept (--keep-db) or reused (--reuse-db).

/** What a completed --keep-db load records on its database, so --reuse-db knows what is in it. */
interface LoadMarker {
  tool: 'bench:search';
  dataVersion: number;
  seed: number;
  patients: number;
  resources: number;
  loadedAt: string;
  loadSeconds: number;
  loadClients: number;
}

const databaseUrl = (name: string) => {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
};

async function adminQuery<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    return (await admin.query<T>(sql, params)).rows;
  } finally {
    await admin.end();
  }
}

async function readMarker(name: string): Promise<{ exists: boolean; marker?: LoadMarker }> {
  const rows = await adminQuery<{ comment: string | null }>(
    `select shobj_description(oid, 'pg_database') as comment from pg_database where datname = $1`,
    [name],
  );
  if (rows.length === 0) return { exists: false };
  try {
    const marker = JSON.parse(rows[0].comment ?? '') as LoadMarker;
    return { exists: true, marker: marker.tool === 'bench:search' ? marker : undefined };
  } catch {
    return { exists: true };
  }
}

// ---------------------------------------------------------------------------------------------
// Timing: load.ts runs the clients; latencies are kept here too, for p95.

interface Timing {
  ok: number;
  errors: number;
  seconds: number;
  rate: number;
  p50: number;
  p95: number;
  p99: number;
  firstError?: string;
}

function timing(latencies: number[], run: Pick<LoadResult, 'errors' | 'seconds' | 'firstError'>): Timing {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    ok: sorted.length,
    errors: run.errors,
    seconds: run.seconds,
    rate: sorted.length / run.seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    firstError: run.firstError,
  };
}

/** GETs `urlFor(n)` with `clients` clients for `seconds`; `sink(n)` also receives each latency. */
async function timeGets(name: string, clients: number, seconds: number, urlFor: (n: number) => string, sink?: (n: number, ms: number) => void, progress = false): Promise<Timing> {
  const latencies: number[] = [];
  const run = await runLoad({
    name,
    clients,
    seconds,
    progress: progress ? say : undefined,
    op: async (n) => {
      const t0 = performance.now();
      await http(urlFor(n), {}, [200]);
      const ms = performance.now() - t0;
      latencies.push(ms);
      sink?.(n, ms);
    },
  });
  const t = timing(latencies, run);
  say(`  → ${name}: ${t.ok} ok, ${t.errors} failed, ${formatNumber(t.rate)}/s, p50 ${ms(t.p50)}, p95 ${ms(t.p95)}, p99 ${ms(t.p99)}`);
  if (t.firstError) say(`    first failure: ${t.firstError.slice(0, 300)}`);
  return t;
}

const ms = (n: number) => `${formatNumber(n)} ms`;

// ---------------------------------------------------------------------------------------------
// Loading

interface Loaded {
  patients: KnownPatient[];
  resources: number;
  seconds: number;
  failedBundles: number;
  firstError?: string;
}

/**
 * Sends the population as transaction Bundles: the shared Practitioners and Organizations
 * first, then one Bundle per patient from `clients` concurrent clients. The Patient is entry 0
 * of its Bundle, so its id is the first `location` of the response.
 */
async function load(base: string, patients: number, renewToken: () => Promise<void>): Promise<Loaded> {
  const bundles = searchData({ seed: SEED, patients });
  const send = async (bundle: Bundle): Promise<Bundle> => {
    const body = JSON.stringify(bundle);
    const post = () => http(base, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body }, [200]);
    // A token can still expire between renewals (a suspended laptop, a slow Bundle): renew, retry once.
    const res = await post().catch(async (err: Error) => {
      if (!/→ 401:/.test(err.message)) throw err;
      await renewToken();
      return post();
    });
    return JSON.parse(res.text) as Bundle;
  };
  const shared = bundles.next();
  if (shared.done) throw new Error('the generator yielded nothing');
  await send(shared.value.bundle);
  let resources = shared.value.bundle.entry?.length ?? 0;

  const known: KnownPatient[] = [];
  const total = patients * 245; // the generator's mean, for the ETA only
  let done = 0;
  let failedBundles = 0;
  let firstError: string | undefined;
  let aborted = false; // one client gave up: the others stop taking Bundles too
  const started = performance.now();
  let last = { at: started, resources };
  const ticker = setInterval(() => {
    const now = performance.now();
    const rate = resources / ((now - started) / 1000);
    const recent = (resources - last.resources) / ((now - last.at) / 1000);
    last = { at: now, resources };
    const eta = Math.max(0, (total - resources) / rate);
    say(
      `  load: ${((100 * done) / patients).toFixed(1)}% (${done}/${patients} patients, ${resources.toLocaleString('en-US')} resources), ` +
        `${formatNumber(rate)} resources/s (last 5 s: ${formatNumber(recent)}/s), ETA ${duration(eta)}${failedBundles ? `, ${failedBundles} bundles FAILED` : ''}`,
    );
  }, 5000);
  try {
    await Promise.all(
      Array.from({ length: LOAD_CLIENTS }, async () => {
        // The generator is synchronous: each client takes the next Bundle when it is free.
        for (let next = bundles.next(); !next.done && !interrupted && !aborted; next = bundles.next()) {
          const { bundle, summary } = next.value;
          try {
            const response = await send(bundle);
            const id = /^Patient\/([^/]+)/.exec(response.entry?.[0]?.response?.location ?? '')?.[1];
            if (!id || !summary) throw new Error(`the response names no Patient: ${JSON.stringify(response.entry?.[0]?.response)}`);
            known.push({ ...summary, id });
            resources += bundle.entry?.length ?? 0;
          } catch (err) {
            failedBundles++;
            firstError ??= (err as Error).message;
            if (failedBundles <= 3) say(`  patient ${summary?.index}: bundle FAILED: ${(err as Error).message.slice(0, 300)}`);
            // A few failures are reported; a pattern of them means the data does not load at all.
            if (failedBundles >= 10 && failedBundles > done * 0.05) {
              aborted = true;
              throw new Error(`${failedBundles} of ${done + 1} bundles failed; first: ${firstError}`);
            }
          }
          done++;
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  if (interrupted) throw new Error('interrupted during the load');
  known.sort((a, b) => a.index - b.index);
  return { patients: known, resources, seconds: (performance.now() - started) / 1000, failedBundles, firstError };
}

/** For a reused database: the ids of the generated patients, found by their resident IDs. */
async function findPatients(base: string, summaries: PatientSummary[]): Promise<KnownPatient[]> {
  const idOf = new Map<string, string>();
  let url: string | undefined = `${base}/Patient?identifier=${encodeURIComponent(`${RESIDENT_ID_SYSTEM}|`)}&_count=1000&_total=none`;
  while (url) {
    const page = JSON.parse((await http(url, {}, [200])).text) as Bundle;
    for (const entry of page.entry ?? []) {
      const patient = entry.resource as { id?: string; identifier?: { system?: string; value?: string }[] };
      const value = patient.identifier?.find((i) => i.system === RESIDENT_ID_SYSTEM)?.value;
      if (value && patient.id) idOf.set(value, patient.id);
    }
    url = page.link?.find((l) => l.relation === 'next')?.url;
  }
  const known = summaries.flatMap((s) => (idOf.has(s.residentId) ? [{ ...s, id: idOf.get(s.residentId)! }] : []));
  if (known.length < summaries.length) say(`  note: ${summaries.length - known.length} generated patients are not in the database (failed bundles when it was loaded)`);
  return known;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL-side facts: where the rows are, and which tables the queries scan.

interface TableStats {
  seqScan: number;
  seqTupRead: number;
  idxScan: number;
  idxTupFetch: number;
}

async function tableStats(monitor: pg.Client): Promise<Map<string, TableStats>> {
  const { rows } = await monitor.query<{ relname: string; seq_scan: string; seq_tup_read: string; idx_scan: string | null; idx_tup_fetch: string | null }>(
    'select relname, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch from pg_stat_user_tables',
  );
  return new Map(
    rows.map((r) => [r.relname, { seqScan: Number(r.seq_scan), seqTupRead: Number(r.seq_tup_read), idxScan: Number(r.idx_scan ?? 0), idxTupFetch: Number(r.idx_tup_fetch ?? 0) }]),
  );
}

/** Rows read per request by sequential scans, and by index, between two snapshots; the table read most by seq scans. */
function scanSummary(before: Map<string, TableStats>, after: Map<string, TableStats>, requests: number): string {
  let seq = 0;
  let fetched = 0;
  let top: [string, number] = ['', 0];
  for (const [table, a] of after) {
    const b = before.get(table) ?? { seqScan: 0, seqTupRead: 0, idxScan: 0, idxTupFetch: 0 };
    const read = a.seqTupRead - b.seqTupRead;
    seq += read;
    fetched += a.idxTupFetch - b.idxTupFetch;
    if (read > top[1]) top = [table, read];
  }
  const per = (n: number) => formatNumber(n / Math.max(1, requests));
  return `${per(fetched)} rows by index, ${per(seq)} by seq scan per request${top[1] > 0 ? ` (most from ${top[0]}: ${per(top[1])})` : ''}`;
}

/** PostgreSQL publishes a backend's counters when it goes idle, at most once a second. */
const statsSettle = () => new Promise((done) => setTimeout(done, 1200));

// ---------------------------------------------------------------------------------------------
// Checking what a class returns before timing it.

interface Probe {
  ok: boolean;
  /** e.g. "400: Search parameter 'subject:Patient.identifier': chained ... not supported yet" */
  failure?: string;
  summary: string;
  warnings: string[];
}

const ANY_STATUS = Array.from({ length: 500 }, (_, i) => i + 100);

/** Sends the first few queries of a class; a non-200 fails the class, a wrong count warns. */
async function probe(base: string, queries: Query[], count = 3): Promise<Probe> {
  const seen: string[] = [];
  const warnings: string[] = [];
  for (const query of queries.slice(0, count)) {
    const t0 = performance.now();
    const res = await http(`${base}/${query.path}`, {}, ANY_STATUS);
    const took = performance.now() - t0;
    if (res.status !== 200) return { ok: false, failure: `${res.status}: ${firstLine(res.text)}`, summary: '', warnings };
    const bundle = JSON.parse(res.text) as Bundle;
    const entries = bundle.entry ?? [];
    const matches = entries.filter((e) => (e.search?.mode ?? 'match') === 'match').length;
    const included = entries.length - matches;
    const total = bundle.total;
    const more = bundle.link?.some((l) => l.relation === 'next') ?? false;
    seen.push(`${total === undefined ? 'no total' : `total ${total}`}, ${matches} match${included ? ` + ${included} included` : ''}${more ? ' (more pages)' : ''} in ${formatNumber(took)} ms`);
    // Without a total, a short first page proves nothing unless it is the last page.
    const found = total ?? (more ? undefined : matches);
    if (query.matches !== undefined && found !== undefined && found !== query.matches) {
      warnings.push(`${query.path}: expected ${query.matches} matches, got ${found}`);
    }
    if (query.included !== undefined && included !== query.included) {
      warnings.push(`${query.path}: expected ${query.included} included, got ${included}${more ? ' (on the first page)' : ''}`);
    }
  }
  return { ok: true, summary: seen.join('; '), warnings };
}

/** The first line of an OperationOutcome's first issue, or of the body. */
function firstLine(text: string): string {
  try {
    const outcome = JSON.parse(text) as { issue?: { diagnostics?: string; details?: { text?: string }; code?: string }[] };
    const issue = outcome.issue?.[0];
    const line = issue?.diagnostics ?? issue?.details?.text ?? issue?.code;
    if (line) return line.split('\n')[0].slice(0, 300);
  } catch {
    // not JSON
  }
  return text.split('\n')[0].slice(0, 300) || '(empty body)';
}

// ---------------------------------------------------------------------------------------------

interface ClassResult {
  cls: QueryClass;
  probe: Probe;
  single?: Timing;
  scans?: string;
  mix?: Timing;
}

async function main(): Promise<void> {
  checkArgs();
  const started = Date.now();
  const cpus = os.cpus();
  const loadBefore = os.loadavg()[0];
  say(`Suhe FHIR search benchmark on ${backend === 'pglite' ? 'PGlite (in memory)' : 'PostgreSQL'}: ${cpus.length} cores, Node ${process.version}, phases of ${PHASE_SECONDS} s`);
  if (loadBefore > cpus.length / 2) say(`Note: load average ${loadBefore.toFixed(2)} on ${cpus.length} cores: other work is running, numbers will be noisy.`);

  // --- Which database, and what is (or will be) in it ---------------------------------------
  let url: string | undefined;
  let patientCount = Number(args.patients ?? (args.pglite ? 200 : 2000));
  let marker: LoadMarker | undefined;
  let markComplete: ((m: LoadMarker) => Promise<void>) | undefined;
  if (reuseDb) {
    const found = await readMarker(reuseDb);
    if (!found.exists) throw new Error(`database ${reuseDb} does not exist: load it first with --keep-db ${reuseDb}`);
    marker = found.marker;
    if (!marker) throw new Error(`database ${reuseDb} holds no completed bench:search load (no marker): load it again with --keep-db`);
    if (marker.dataVersion !== DATA_VERSION) throw new Error(`database ${reuseDb} was loaded by data version ${marker.dataVersion}; this generator is version ${DATA_VERSION}: load it again`);
    if (args.patients !== undefined && Number(args.patients) !== marker.patients) throw new Error(`database ${reuseDb} holds ${marker.patients} patients, not ${args.patients}`);
    if (marker.seed !== SEED) throw new Error(`database ${reuseDb} was loaded with --seed ${marker.seed}`);
    patientCount = marker.patients;
    url = databaseUrl(reuseDb);
    say(`Reusing database ${reuseDb}: ${marker.patients} patients, ${marker.resources.toLocaleString('en-US')} resources loaded ${marker.loadedAt}`);
  } else if (keepDb) {
    const found = await readMarker(keepDb);
    if (found.exists) {
      throw new Error(
        `database ${keepDb} exists${found.marker ? ` with a completed load of ${found.marker.patients} patients: time it with --reuse-db ${keepDb}` : ' (no completed load)'}; ` +
          `to load it again, drop it first: psql -h 127.0.0.1 -U postgres -d test -c 'drop database ${keepDb}'`,
      );
    }
    await adminQuery(`create database ${keepDb}`);
    url = databaseUrl(keepDb);
    let complete = false;
    // Kept only once the load is complete; a half-loaded database is worth nothing later.
    cleanups.push(async () => {
      if (!complete) await adminQuery(`drop database if exists ${keepDb} with (force)`).then(() => say(`Dropped the incomplete database ${keepDb}`));
    });
    markComplete = async (m) => {
      await adminQuery(`comment on database ${keepDb} is '${JSON.stringify(m).replace(/'/g, "''")}'`);
      complete = true;
    };
    say(`Created database ${keepDb} (kept after a complete load)`);
  } else if (backend === 'postgres') {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    url = database.url;
    say(`Created database ${new URL(url).pathname.slice(1)} (dropped at the end)`);
  }
  const loading = !reuseDb;
  // The load's own time (at a pessimistic 400 resources/s) plus a quarter of an hour for the rest.
  const watchdogMinutes = Number(args['watchdog-minutes'] ?? Math.ceil(15 + (loading ? (patientCount * 250) / 400 / 60 : 0)));
  startWatchdog(watchdogMinutes);
  say(`${patientCount} patients, seed ${SEED}; the run stops itself after ${watchdogMinutes} minutes`);

  // --- Baseline: the HTTP floor -------------------------------------------------------------
  say("Baseline: node:http server answering 'ok' (child process)");
  const okServer = await startServer(['ok']);
  const okUrl = `${okServer.url}/fhir/Patient?name=abc`;
  await runLoad({ name: 'warm-up', clients: 8, seconds: 0.5, op: async () => void (await http(okUrl, {}, [200])) });
  const floor1 = await timeGets("HTTP 'ok' GET, 1 client", 1, Math.min(3, PHASE_SECONDS), () => okUrl);
  const floor16 = await timeGets(`HTTP 'ok' GET, ${MIX_CLIENTS} clients`, MIX_CLIENTS, Math.min(3, PHASE_SECONDS), () => okUrl);
  await okServer.stop();

  // --- The hub ------------------------------------------------------------------------------
  say(`Starting the hub on ${backend} (child process, log level ${args['log-level']}) ...`);
  const hub = await startServer(['hub', url ?? 'memory', args['log-level']!]);
  const base = `${hub.url}/fhir`;
  // A client_credentials token lives minutes (5 for this client); a load of 500k resources takes
  // longer. Renew at half its lifetime, read from the token itself.
  let renewal: NodeJS.Timeout | undefined;
  const renew = async (): Promise<void> => {
    const token = await clientCredentialsToken(hub.url, BENCH_CLIENT);
    setAuthorization(`Bearer ${token}`);
    clearTimeout(renewal);
    renewal = setTimeout(() => void renew().catch((err) => say(`token renewal failed: ${(err as Error).message}`)), tokenLifetimeMs(token) / 2);
    renewal.unref();
  };
  await renew();
  cleanups.push(async () => clearTimeout(renewal));
  say(`  hub at ${base} (${hub.database})`);
  let monitor: pg.Client | undefined;
  if (url) {
    const m = new pg.Client({ connectionString: url });
    m.on('error', () => undefined); // terminated when a fresh database is dropped at the end
    await m.connect();
    cleanups.push(() => m.end());
    monitor = m;
  }

  // --- Data ---------------------------------------------------------------------------------
  let patients: KnownPatient[];
  let loaded: Loaded | undefined;
  if (loading) {
    say(`Loading ${patientCount} patients (~${(patientCount * 245).toLocaleString('en-US')} resources) as transaction Bundles, ${LOAD_CLIENTS} at a time ...`);
    loaded = await load(base, patientCount, renew);
    patients = loaded.patients;
    say(
      `  → ${loaded.resources.toLocaleString('en-US')} resources in ${duration(loaded.seconds)}: ${formatNumber(loaded.resources / loaded.seconds)} resources/s` +
        `${loaded.failedBundles ? `; ${loaded.failedBundles} bundles FAILED, first: ${loaded.firstError}` : ''}`,
    );
    if (patients.length === 0) throw new Error('no patient bundle loaded');
    await markComplete?.({
      tool: 'bench:search',
      dataVersion: DATA_VERSION,
      seed: SEED,
      patients: patientCount,
      resources: loaded.resources,
      loadedAt: new Date().toISOString(),
      loadSeconds: Math.round(loaded.seconds),
      loadClients: LOAD_CLIENTS,
    });
    if (markComplete) say(`  database ${keepDb} kept: time it again with --reuse-db ${keepDb}`);
  } else {
    say('Finding the generated patients in the database ...');
    patients = await findPatients(base, describePatients(SEED, patientCount));
    say(`  ${patients.length} patients found`);
  }

  // Statistics as a live system has them: a fresh load has none, and the planner would guess.
  // VACUUM too after a load, so autovacuum does not start on the new rows during the timings.
  if (monitor) {
    const t0 = performance.now();
    await monitor.query(loading ? 'vacuum (analyze)' : 'analyze');
    say(`${loading ? 'VACUUM (ANALYZE)' : 'ANALYZE'} in ${duration((performance.now() - t0) / 1000)}`);
  } else {
    say('PGlite: no ANALYZE (the database lives inside the hub process); the planner works without statistics');
  }
  const stored = monitor ? await storedFacts(monitor) : undefined;
  if (stored) say(`  stored: ${stored}`);

  // --- Baseline: the hub's cheapest indexed request ----------------------------------------
  const readUrl = (n: number) => `${base}/Patient/${patients[(n * 7919) % patients.length].id}`;
  say('Baseline: GET /fhir/Patient/<id>');
  await runLoad({ name: 'warm-up', clients: 4, seconds: 1, op: async (n) => void (await http(readUrl(n), {}, [200])) });
  const read1 = await timeGets('read Patient/<id>, 1 client', 1, PHASE_SECONDS, readUrl);
  const read16 = await timeGets(`read Patient/<id>, ${MIX_CLIENTS} clients`, MIX_CLIENTS, PHASE_SECONDS, readUrl);

  // --- Each class alone, 1 client -----------------------------------------------------------
  const classes = queryClasses(patients, SEED);
  const results: ClassResult[] = [];
  for (const cls of classes) {
    say(`Class ${cls.key}: ${cls.shape}`);
    const p = await probe(base, cls.queries);
    const result: ClassResult = { cls, probe: p };
    results.push(result);
    if (!p.ok) {
      say(`  FAILED: ${p.failure}`);
      continue;
    }
    say(`  check: ${p.summary}`);
    for (const w of p.warnings) say(`  WARNING: ${w}`);
    const urlOf = (n: number) => `${base}/${cls.queries[n % cls.queries.length].path}`;
    // Warm-up on the list's far end, so the timed queries are not the ones just cached.
    const far = (n: number) => urlOf(cls.queries.length - 1 - (n % cls.queries.length));
    await runLoad({ name: 'warm-up', clients: 2, seconds: 1, maxOps: 100, op: async (n) => void (await http(far(n), {}, [200])) }).catch(() => undefined);
    if (monitor) await settleWrites(monitor, say);
    if (monitor) await statsSettle();
    const before = monitor ? await tableStats(monitor) : undefined;
    result.single = await timeGets(`${cls.key}, 1 client`, 1, PHASE_SECONDS, urlOf);
    if (monitor && before) {
      await statsSettle();
      result.scans = scanSummary(before, await tableStats(monitor), result.single.ok + result.single.errors);
      say(`  PostgreSQL: ${result.scans}`);
    }
  }

  // --- All classes mixed, 16 clients --------------------------------------------------------
  const mixed = results.filter((r) => r.probe.ok && r.single && r.single.ok > 0);
  let mixAll: Timing | undefined;
  let mixNoEverything: Timing | undefined;
  if (mixed.length) {
    if (monitor) await settleWrites(monitor, say);
    const deck = mixDeck(mixed.map((r) => r.cls), SEED);
    const perClass = mixed.map(() => [] as number[]);
    const errorsPerClass = mixed.map(() => 0);
    const turn = mixed.map(() => 0);
    say(`Mix: ${mixed.map((r) => `${r.cls.key} ${r.cls.weight}`).join(', ')} (weights), ${MIX_CLIENTS} clients`);
    const latencies: number[] = [];
    const run = await runLoad({
      name: `mix, ${MIX_CLIENTS} clients`,
      clients: MIX_CLIENTS,
      seconds: PHASE_SECONDS * 2,
      progress: say,
      op: async (n) => {
        const k = deck[n % deck.length];
        const queries = mixed[k].cls.queries;
        // A stride of 7 (coprime to the list length): another order than the class alone ran, so the
        // mix does not replay the queries whose pages that phase just cached.
        const path = queries[(turn[k]++ * 7) % queries.length].path;
        const t0 = performance.now();
        try {
          await http(`${base}/${path}`, {}, [200]);
        } catch (err) {
          errorsPerClass[k]++;
          throw err;
        }
        const took = performance.now() - t0;
        latencies.push(took);
        perClass[k].push(took);
      },
    });
    mixAll = timing(latencies, run);
    mixed.forEach((r, k) => (r.mix = timing(perClass[k], { errors: errorsPerClass[k], seconds: run.seconds })));
    // Without $everything too: one slow, rare class can own the p99 of the whole mix.
    const quick = mixed.flatMap((r, k) => (r.cls.group === 'everything' ? [] : perClass[k]));
    if (quick.length < latencies.length) mixNoEverything = timing(quick, { errors: 0, seconds: run.seconds });
    say(`  → mix: ${mixAll.ok} ok, ${mixAll.errors} failed, ${formatNumber(mixAll.rate)}/s, p50 ${ms(mixAll.p50)}, p95 ${ms(mixAll.p95)}, p99 ${ms(mixAll.p99)}`);
    if (run.firstError) say(`    first failure: ${run.firstError.slice(0, 300)}`);
  }
  await hub.stop();

  // --- Report ---------------------------------------------------------------------------------
  const header = ['query class', 'n', 'p50', 'p95', 'p99', 'req/s', 'p50 target', 'met', 'p50 ÷ HTTP floor', 'p50 ÷ hub read', `mix p50 (${MIX_CLIENTS} cl.)`, 'mix p99'];
  const num = (n: number | undefined) => (n === undefined ? '—' : formatNumber(n));
  const count = (n: number | undefined) => (n === undefined ? '—' : n.toLocaleString('en-US'));
  const msCell = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : `${formatNumber(n)} ms`);
  const ratio = (a: number | undefined, b: number) => (a === undefined || !Number.isFinite(a) ? '—' : `${formatNumber(a / b)}×`);
  const cells: string[][] = [
    ["HTTP floor ('ok' server)", count(floor1.ok), msCell(floor1.p50), msCell(floor1.p95), msCell(floor1.p99), num(floor1.rate), '—', '', '1×', '—', msCell(floor16.p50), msCell(floor16.p99)],
    ['hub read Patient/{id}', count(read1.ok), msCell(read1.p50), msCell(read1.p95), msCell(read1.p99), num(read1.rate), '—', '', ratio(read1.p50, floor1.p50), '1×', msCell(read16.p50), msCell(read16.p99)],
    ...results.map((r) => {
      const s = r.single;
      const failed = !r.probe.ok ? `FAILED (${r.probe.failure!.split(':')[0]})` : s && s.ok === 0 ? 'FAILED' : undefined;
      const met = failed ?? (s && s.p50 <= r.cls.targetP50 ? 'met' : 'MISSED');
      return [r.cls.key, count(s?.ok), msCell(s?.p50), msCell(s?.p95), msCell(s?.p99), num(s?.rate), `≤ ${r.cls.targetP50} ms`, met, ratio(s?.p50, floor1.p50), ratio(s?.p50, read1.p50), msCell(r.mix?.p50), msCell(r.mix?.p99)];
    }),
  ];
  const mixHeader = ['mixed load', 'n', 'p50', 'p95', 'p99', 'req/s', 'p99 target', 'met', 'p99 ÷ HTTP floor', 'p99 ÷ hub read'];
  const mixCells: string[][] = [];
  if (mixAll) {
    mixCells.push([`all classes that answer, ${MIX_CLIENTS} clients`, count(mixAll.ok), msCell(mixAll.p50), msCell(mixAll.p95), msCell(mixAll.p99), num(mixAll.rate), `≤ ${MIX_P99_TARGET} ms`, mixAll.p99 <= MIX_P99_TARGET ? 'met' : 'MISSED', ratio(mixAll.p99, floor16.p99), ratio(mixAll.p99, read16.p99)]);
    if (mixNoEverything) mixCells.push(['the same without $everything', count(mixNoEverything.ok), msCell(mixNoEverything.p50), msCell(mixNoEverything.p95), msCell(mixNoEverything.p99), '—', '—', '', ratio(mixNoEverything.p99, floor16.p99), ratio(mixNoEverything.p99, read16.p99)]);
  }
  const failures = results.filter((r) => !r.probe.ok).map((r) => `${r.cls.key} (\`${r.cls.shape}\`): ${r.probe.failure}`);
  const warnings = results.flatMap((r) => r.probe.warnings.map((w) => `${r.cls.key}: ${w}`));
  const errors = results.filter((r) => (r.single?.errors ?? 0) > 0 || (r.mix?.errors ?? 0) > 0).map((r) => `${r.cls.key}: ${r.single?.errors ?? 0} failed alone, ${r.mix?.errors ?? 0} in the mix; first: ${r.single?.firstError ?? '(in the mix)'}`);
  const scans = results.filter((r) => r.scans).map((r) => `${r.cls.key}: ${r.scans}`);

  say('');
  say(textTable(header, cells));
  if (mixCells.length) say(`\n${textTable(mixHeader, mixCells)}`);
  say('Ratios: the class\'s latency over the baseline\'s (HTTP floor: 1 client, or 16 for the mix; hub read likewise).');
  for (const f of failures) say(`FAILED ${f}`);
  for (const w of warnings) say(`WRONG RESULTS? ${w}`);
  for (const e of errors) say(`ERRORS ${e}`);

  const resources = loaded?.resources ?? marker?.resources ?? 0;
  const loadLine = loaded
    ? `loaded in this run in ${duration(loaded.seconds)} (${formatNumber(loaded.resources / loaded.seconds)} resources/s, ${LOAD_CLIENTS} concurrent Bundles${loaded.failedBundles ? `, ${loaded.failedBundles} Bundles FAILED` : ''})`
    : `reused database loaded ${marker!.loadedAt} in ${duration(marker!.loadSeconds)} (${formatNumber(marker!.resources / marker!.loadSeconds)} resources/s, ${marker!.loadClients} concurrent Bundles)`;
  const command = `npm run bench:search${backend === 'pglite' ? ' -- --pglite' : ''}`;
  const body = [
    `Measured ${new Date().toISOString()} by \`${command}\` (scripts/bench/search.ts).`,
    '',
    `- Machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; Node ${process.version}; load average ${loadBefore.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end`,
    `- Database: ${hub.database?.split(',')[0] ?? backend}${backend === 'postgres' ? ' on 127.0.0.1' : ' in memory (no ANALYZE possible)'}`,
    `- Data: ${patientCount.toLocaleString('en-US')} synthetic patients (seed ${SEED}), ${resources.toLocaleString('en-US')} resources sent as one transaction Bundle per patient, ${loadLine}`,
    ...(stored ? [`- Stored: ${stored}`] : []),
    `- Each class alone: 1 client for ${PHASE_SECONDS} s over 500 seeded queries${monitor ? ', started once the AuditEvents of the phase before are stored' : ''}; mix: ${MIX_CLIENTS} clients for ${PHASE_SECONDS * 2} s, weights ${mixed.map((r) => `${r.cls.key} ${r.cls.weight}`).join(', ') || '(none)'}`,
    '',
    mdTable(header, cells),
    '',
    ...(mixCells.length ? [mdTable(mixHeader, mixCells), ''] : []),
    'Ratios: latency over the baseline\'s latency in the same run. HTTP floor: a node:http server answering `ok`, same client and concurrency; hub read: `GET /fhir/Patient/<id>`.',
    ...(failures.length ? ['', 'Classes the hub did not answer with 200 (not timed):', '', ...failures.map((f) => `- ${f}`)] : []),
    ...(warnings.length ? ['', 'Results that differ from the generated data:', '', ...warnings.map((w) => `- ${w}`)] : []),
    ...(errors.length ? ['', 'Failed requests while timing:', '', ...errors.map((e) => `- ${e}`)] : []),
    ...(scans.length ? ['', 'Rows PostgreSQL read per request, by class (pg_stat_user_tables; a large seq-scan count means a missing index):', '', ...scans.map((s) => `- ${s}`)] : []),
  ].join('\n');
  if (args['no-docs']) {
    say('\n(docs/PERFORMANCE.md not written: --no-docs)');
  } else {
    const heading = `## FHIR search benchmark on ${backend === 'pglite' ? 'PGlite' : 'PostgreSQL'}`;
    const doc = args.doc ? resolve(args.doc) : DOC;
    replaceSection(doc, heading, body, '# Performance\n');
    say(`\nWrote the section "${heading.slice(3)}" of ${doc}`);
  }
  say(`Done in ${duration((Date.now() - started) / 1000)}.`);
}

/** Resources by type and the database's size (the hub's own tables; best effort). */
async function storedFacts(monitor: pg.Client): Promise<string | undefined> {
  try {
    const { rows } = await monitor.query<{ type: string; n: number }>('select type, count(*)::int as n from resource group by type order by n desc');
    const [{ bytes }] = (await monitor.query<{ bytes: string }>('select pg_database_size(current_database())::text as bytes')).rows;
    const total = rows.reduce((n, r) => n + r.n, 0);
    return `${total.toLocaleString('en-US')} resources (${rows.map((r) => `${r.type} ${r.n.toLocaleString('en-US')}`).join(', ')}), database ${(Number(bytes) / 2 ** 30).toFixed(2)} GiB`;
  } catch (err) {
    return `(could not count: ${(err as Error).message})`;
  }
}

/** How long a JWT is valid from now (its `exp` claim), at least 10 s; 5 minutes if it has none. */
function tokenLifetimeMs(token: string): number {
  try {
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp?: number };
    if (typeof exp === 'number') return Math.max(10_000, exp * 1000 - Date.now());
  } catch {
    // not a JWT: fall through
  }
  return 5 * 60_000;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
}

await runToEnd(main, cleanups, say, () => interrupted);
