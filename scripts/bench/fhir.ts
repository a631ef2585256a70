// `npm run bench:fhir [-- --pglite] [--profile] [--seconds N] [--no-docs]`
//
// Starts the real hub (createHub) on 127.0.0.1 in a child process, on a fresh PostgreSQL database
// (created here and dropped at the end) or, with --pglite, on in-memory PGlite, and drives it over
// HTTP with node:http on a keep-alive agent (load.ts). Each number is printed beside a baseline
// measured in the same run:
//   - create / read / search latency  vs. a trivial node:http server answering 'ok' (same client
//     concurrency, also in a child process): the cost of HTTP itself on this machine;
//   - create / bundle ingest          vs. raw multi-row INSERTs of the same JSON rows into a plain
//     table with one jsonb column (pg directly; PGlite directly with --pglite): the database floor.
// The table also goes into docs/PERFORMANCE.md, in this backend's section (the rest is kept).
// Bounded: every phase has a time box or a fixed count; the run ends by itself.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { createTestDatabase } from '../../test/helpers/hub.js';
import { clientCredentialsToken, newBootstrapClient } from '../../test/helpers/auth.js';
import { http, runLoad, setAuthorization, type LoadResult } from './load.js';
import { cpuDelta, cpuOfPids } from './cpu.js';
import { summariseProfile, type ProfileWindow } from './profile.js';
import { consoleTable, formatNumber, markdownTable, mdTable, replaceSection, textTable, type Row } from './report.js';
import { Cleanups, runToEnd } from './cleanups.js';
import { startServer as startChild, type RunningServer } from './child-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SYNTHEA_DIR = resolve(ROOT, '../shared/testdata/fhir/synthea/smart');
const DOC = resolve(ROOT, 'docs/PERFORMANCE.md');

/** The admin client the benchmark's hub is started with (random per run). */
const BENCH_CLIENT = newBootstrapClient();

/** A child server (child-server.ts) whose stop() joins this run's cleanups. */
function startServer(serverArgs: string[], execArgv: string[] = []): Promise<RunningServer> {
  return startChild(serverArgs, { client: BENCH_CLIENT, execArgv, onStart: (stop) => cleanups.push(stop), say });
}

const TARGETS = { creates8: 800, reads8: 2500, ingest: 1500, searchP50: 3 } as const;

const { values: args } = parseArgs({
  options: {
    pglite: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    seconds: { type: 'string', default: '3' },
    'log-level': { type: 'string', default: 'info' },
    'no-docs': { type: 'boolean', default: false },
  },
});
const backend = args.pglite ? 'pglite' : 'postgres';
const PHASE_SECONDS = Number(args.seconds);
if (!(PHASE_SECONDS > 0 && PHASE_SECONDS <= 60)) throw new Error('--seconds must be a number of seconds between 0 and 60');
const profiling = args.profile || args['cpu-prof'];
const JSON_HEADERS = { 'content-type': 'application/fhir+json' };
const say = (line: string) => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// Cleanup that runs however the run ends (normal end, error, Ctrl-C, watchdog).
const cleanups = new Cleanups(say);
const cleanup = () => cleanups.run();
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130); // a second Ctrl-C: leave now
  interrupted = true;
  say('Interrupted: stopping the servers and dropping the database (Ctrl-C again to leave at once) ...');
  void cleanup().finally(() => process.exit(130));
});
setTimeout(() => {
  say('Watchdog: the benchmark ran for 10 minutes; stopping.');
  void cleanup().finally(() => process.exit(1));
}, 10 * 60_000).unref();

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Raw baseline: multi-row INSERT of JSON rows into one plain table with a jsonb column.
interface RawTarget {
  label: string;
  query(sql: string, params?: unknown[]): Promise<unknown>;
  /** Opens `clients` connections and returns one query function per connection. */
  connections(clients: number): Promise<((sql: string, params: unknown[]) => Promise<unknown>)[]>;
  close(): Promise<void>;
}

async function openRawTarget(databaseUrl: string | undefined): Promise<RawTarget> {
  if (!databaseUrl) {
    const db = await PGlite.create();
    return {
      label: 'PGlite in memory',
      query: (sql, params) => db.query(sql, params),
      // One connection, as the hub has: extra "connections" share PGlite's single queue.
      connections: async (clients) => Array.from({ length: clients }, () => (sql: string, params: unknown[]) => db.query(sql, params)),
      close: () => db.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
  // Dropping the database at the end terminates idle connections: not an error for a benchmark.
  pool.on('error', () => undefined);
  return {
    label: 'PostgreSQL',
    query: (sql, params) => pool.query(sql, params),
    connections: async (clients) => {
      const held = await Promise.all(Array.from({ length: clients }, () => pool.connect()));
      held.forEach((c) => c.release());
      return held.map(() => (sql: string, params: unknown[]) => pool.query(sql, params));
    },
    close: () => pool.end(),
  };
}

/** Inserts `rows` (JSON text) in multi-row INSERTs of `batch` rows over `clients` connections. */
async function rawInsert(target: RawTarget, rows: string[], clients: number, batch: number): Promise<{ rate: number; seconds: number }> {
  await target.query('drop table if exists bench_raw');
  await target.query('create table bench_raw (id bigserial primary key, content jsonb not null)');
  const batches: string[][] = [];
  for (let i = 0; i < rows.length; i += batch) batches.push(rows.slice(i, i + batch));
  const sqlFor = new Map<number, string>();
  const sql = (n: number) => {
    if (!sqlFor.has(n)) sqlFor.set(n, `insert into bench_raw (content) values ${Array.from({ length: n }, (_, i) => `($${i + 1}::jsonb)`).join(', ')}`);
    return sqlFor.get(n)!;
  };
  const connections = await target.connections(clients);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    connections.map(async (query) => {
      while (next < batches.length) {
        const b = batches[next++];
        await query(sql(b.length), b);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { rate: rows.length / seconds, seconds };
}

// ---------------------------------------------------------------------------------------------
interface SyntheaFile {
  name: string;
  text: string;
  resources: string[];
}

function loadSynthea(): { files: SyntheaFile[]; patients: Patient[] } {
  const files: SyntheaFile[] = [];
  const patients: Patient[] = [];
  for (const name of readdirSync(SYNTHEA_DIR).filter((f) => f.endsWith('.json')).sort()) {
    const text = readFileSync(join(SYNTHEA_DIR, name), 'utf8');
    const bundle = JSON.parse(text) as Bundle;
    if (bundle.resourceType !== 'Bundle' || bundle.type !== 'transaction') continue;
    const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => !!r);
    for (const r of resources) if (r.resourceType === 'Patient') patients.push(r);
    files.push({ name, text, resources: resources.map((r) => JSON.stringify(r)) });
  }
  if (files.length === 0 || patients.length === 0) throw new Error(`no Synthea transaction bundles with patients in ${SYNTHEA_DIR}`);
  return { files, patients };
}

/** A Synthea patient with a unique made-up name, so created copies never match the name searches. */
function createBody(patients: Patient[], n: number): string {
  const { id: _id, ...patient } = patients[n % patients.length];
  return JSON.stringify({ ...patient, name: [{ use: 'official', family: `Bench${n.toString(36)}`, given: ['Load'] }] });
}

/** Phase windows on the monotonic clock, to cut the hub's CPU profile by phase. */
const phases: ProfileWindow[] = [];

/** Where the CPU went in each phase: the hub process, PostgreSQL backends, this load generator. */
interface CpuRow {
  name: string;
  ops: number;
  seconds: number;
  hubMs: number;
  dbMs?: number;
  clientMs: number;
}
const cpuRows: CpuRow[] = [];
interface CpuProbe {
  hub(): Promise<number>;
  /** CPU ms of each PostgreSQL backend serving the hub's database; undefined for PGlite. */
  db(): Promise<Map<number, number> | undefined>;
}
let probe: CpuProbe | undefined;

async function phase<T>(name: string, run: () => Promise<T>, ops: (result: T) => number): Promise<T> {
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const [hub0, db0] = probe ? await Promise.all([probe.hub(), probe.db()]) : [0, undefined];
  const client0 = process.cpuUsage();
  const result = await run();
  const client = process.cpuUsage(client0);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  phases.push({ name, fromUs, toUs });
  if (probe) {
    const [hub1, db1] = await Promise.all([probe.hub(), probe.db()]);
    cpuRows.push({
      name,
      ops: ops(result),
      seconds: (toUs - fromUs) / 1e6,
      hubMs: hub1 - hub0,
      dbMs: db0 && db1 ? cpuDelta(db0, db1) : undefined,
      clientMs: (client.user + client.system) / 1000,
    });
  }
  return result;
}

function report(result: LoadResult): LoadResult {
  say(
    `  → ${result.name}: ${result.ok} ok, ${result.errors} failed in ${result.seconds.toFixed(1)} s: ` +
      `${formatNumber(result.rate)}/s, p50 ${formatNumber(result.p50)} ms, p99 ${formatNumber(result.p99)} ms`,
  );
  if (result.firstError) say(`    first failure: ${result.firstError}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  const started = Date.now();
  const cpus = os.cpus();
  const loadBefore = os.loadavg()[0];
  if (loadBefore > cpus.length / 2) say(`Note: load average ${loadBefore.toFixed(2)} on ${cpus.length} cores: other work is running, numbers will be noisy.`);
  say(`Suhe FHIR benchmark on ${backend === 'pglite' ? 'PGlite (in memory)' : 'PostgreSQL'}: ${cpus.length} cores, Node ${process.version}, phases of ${PHASE_SECONDS} s${profiling ? ', hub CPU-profiled' : ''}`);

  say(`Loading Synthea bundles from ${SYNTHEA_DIR} ...`);
  const { files, patients } = loadSynthea();
  const totalResources = files.reduce((n, f) => n + f.resources.length, 0);
  const families = [...new Set(patients.map((p) => p.name?.[0]?.family).filter((f): f is string => !!f && f.length >= 3))];
  const prefixes = [...new Set(families.map((f) => [...f].slice(0, 3).join('')))];
  say(`  ${files.length} bundles, ${totalResources} resources, ${patients.length} patients, ${prefixes.length} family-name prefixes`);

  // --- Baseline: trivial HTTP server ----------------------------------------------------------
  say("Baseline: node:http server answering 'ok' (child process)");
  const ok = await startServer(['ok']);
  const okPost = (clients: number) =>
    runLoad({
      name: `HTTP 'ok' POST, ${clients} client${clients > 1 ? 's' : ''}`,
      clients,
      seconds: Math.min(2, PHASE_SECONDS),
      op: async (n) => void (await http(`${ok.url}/fhir/Patient`, { method: 'POST', headers: JSON_HEADERS, body: createBody(patients, n) }, [200])),
      progress: say,
    }).then(report);
  await runLoad({ name: 'warm-up', clients: 8, seconds: 0.5, op: async () => void (await http(`${ok.url}/`, {}, [200])) });
  await runLoad({ name: 'warm-up', clients: 8, seconds: 0.5, op: async (n) => void (await http(`${ok.url}/`, { method: 'POST', headers: JSON_HEADERS, body: createBody(patients, n) }, [200])) });
  const okPost1 = await okPost(1);
  const okPost8 = await okPost(8);
  const okGet8 = report(
    await runLoad({ name: "HTTP 'ok' GET, 8 clients", clients: 8, seconds: Math.min(2, PHASE_SECONDS), op: async () => void (await http(`${ok.url}/fhir/Patient/x`, {}, [200])), progress: say }),
  );
  const okGet1 = report(
    await runLoad({ name: "HTTP 'ok' GET, 1 client", clients: 1, seconds: 2, maxOps: 300, op: async () => void (await http(`${ok.url}/fhir/Patient?name=abc`, {}, [200])), progress: say }),
  );
  await ok.stop();

  // --- The hub -------------------------------------------------------------------------------
  let databaseUrl: string | undefined;
  if (backend === 'postgres') {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    databaseUrl = database.url;
    say(`Created database ${new URL(databaseUrl).pathname.slice(1)} (dropped at the end)`);
  }
  let profileDir: string | undefined;
  if (profiling) profileDir = mkdtempSync(join(os.tmpdir(), 'suhe-bench-prof-'));
  say(`Starting the hub on ${backend} (child process, log level ${args['log-level']}) ...`);
  const hubStart = performance.now();
  const hub = await startServer(['hub', databaseUrl ?? 'memory', args['log-level']!], profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
  const base = `${hub.url}/fhir`;
  // Every request carries a token, as in production (the 'ok' baseline gets the same header).
  setAuthorization(`Bearer ${await clientCredentialsToken(hub.url, BENCH_CLIENT)}`);
  say(`  hub at ${base} after ${((performance.now() - hubStart) / 1000).toFixed(1)} s (${hub.database})`);
  let monitor: pg.Client | undefined;
  if (databaseUrl) {
    const m = new pg.Client({ connectionString: databaseUrl });
    m.on('error', () => undefined); // terminated by the final drop of the database
    await m.connect();
    cleanups.push(() => m.end());
    monitor = m;
  }
  probe = {
    hub: () => hub.cpuMs(),
    db: async () => {
      if (!monitor) return undefined;
      const { rows } = await monitor.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      return cpuOfPids(rows.map((r) => r.pid));
    },
  };

  // Creates.
  const ids: string[] = [];
  const createdBodies: string[] = [];
  const create = async (n: number) => {
    const body = createBody(patients, n);
    const res = await http(`${base}/Patient`, { method: 'POST', headers: JSON_HEADERS, body }, [201]);
    const m = /\/Patient\/([^/]+)\/_history\//.exec(String(res.headers.location ?? ''));
    if (!m) throw new Error(`201 without a Location naming the Patient: ${res.headers.location}`);
    ids.push(m[1]);
    createdBodies.push(body);
  };
  let counter = 0;
  say('Warm-up: creates and reads for 1.5 s each (not counted)');
  await runLoad({ name: 'warm-up', clients: 4, seconds: 1.5, op: () => create(counter++) });
  await runLoad({ name: 'warm-up', clients: 4, seconds: 1.5, op: async (n) => void (await http(`${base}/Patient/${ids[n % ids.length]}`, {}, [200])) });
  say('Phase 1: create Patient');
  const create1 = report(await phase('create, 1 client', () => runLoad({ name: 'create, 1 client', clients: 1, seconds: PHASE_SECONDS, op: () => create(counter++), progress: say }), (r) => r.ok));
  const before8 = createdBodies.length;
  const create8 = report(await phase('create, 8 clients', () => runLoad({ name: 'create, 8 clients', clients: 8, seconds: PHASE_SECONDS, op: () => create(counter++), progress: say }), (r) => r.ok));
  const rows8 = createdBodies.slice(before8);

  say('Phase 2: read Patient by id');
  const read8 = report(
    await phase('read, 8 clients', () =>
      runLoad({
        name: 'read, 8 clients',
        clients: 8,
        seconds: PHASE_SECONDS,
        op: async (n) => void (await http(`${base}/Patient/${ids[(n * 7919) % ids.length]}`, {}, [200])),
        progress: say,
      }),
    (r) => r.ok,
    ),
  );

  say(`Phase 3: Synthea transaction bundles, ${files.length} bundles (${totalResources} resources), 2 at a time`);
  let nextFile = 0;
  let ingested = 0;
  let failedBundles = 0;
  let firstBundleError: string | undefined;
  const ingestStart = performance.now();
  await phase('bundle ingest', () => Promise.all(
    [0, 1].map(async () => {
      while (nextFile < files.length && !interrupted) {
        const n = nextFile++;
        const file = files[n];
        const t0 = performance.now();
        try {
          // An ingesting system needs the ids, not its own resources echoed back.
          await http(`${base}`, { method: 'POST', headers: { ...JSON_HEADERS, prefer: 'return=minimal' }, body: file.text }, [200]);
          ingested += file.resources.length;
          const s = (performance.now() - t0) / 1000;
          const total = (performance.now() - ingestStart) / 1000;
          say(`  [bundle ${n + 1}/${files.length}] ${file.resources.length} resources in ${s.toFixed(2)} s; ${ingested} so far, ${Math.round(ingested / total)}/s`);
        } catch (err) {
          failedBundles++;
          firstBundleError ??= `${file.name}: ${(err as Error).message}`;
          say(`  [bundle ${n + 1}/${files.length}] FAILED: ${(err as Error).message.slice(0, 200)}`);
        }
      }
    }),
  ), () => ingested);
  const ingestSeconds = (performance.now() - ingestStart) / 1000;
  const ingestRate = ingested / ingestSeconds;
  say(`  → ${ingested} resources in ${ingestSeconds.toFixed(1)} s: ${formatNumber(ingestRate)} resources/s, ${failedBundles} bundles failed`);

  say(`Phase 4: Patient?name=<prefix> over ${prefixes.length} family-name prefixes`);
  const searchUrl = (n: number, extra = '') => `${base}/Patient?name=${encodeURIComponent(prefixes[n % prefixes.length])}${extra}`;
  let matches = 0;
  for (let n = 0; n < prefixes.length; n++) {
    const bundle = JSON.parse((await http(searchUrl(n), {}, [200])).text) as Bundle;
    matches += bundle.total ?? bundle.entry?.length ?? 0;
  }
  say(`  check: ${prefixes.length} searches found ${matches} patients (${(matches / prefixes.length).toFixed(1)} per prefix)`);
  const search = report(
    await phase('name search', () =>
      runLoad({ name: 'name search, 1 client', clients: 1, seconds: 10, maxOps: 300, op: async (n) => void (await http(searchUrl(n), {}, [200])), progress: say }),
    (r) => r.ok,
    ),
  );
  const searchNoTotal = report(
    await runLoad({ name: 'name search _total=none, 1 client', clients: 1, seconds: 5, maxOps: 200, op: async (n) => void (await http(searchUrl(n, '&_total=none'), {}, [200])), progress: say }),
  );
  const hubDatabase = hub.database;
  await hub.stop();

  // --- Baseline: raw INSERTs -----------------------------------------------------------------
  const raw = await openRawTarget(databaseUrl);
  cleanups.push(() => raw.close());
  const facts = await databaseFacts(raw, hubDatabase);
  const stored = databaseUrl ? await storedStats(raw) : undefined;
  if (stored) say(`  stored by the hub: ${stored}`);
  say(`Baseline: raw multi-row INSERT into a plain jsonb table (${raw.label})`);
  const rawPatients = await rawInsert(raw, rows8, 8, 100);
  say(`  → ${rows8.length} Patient rows (8 connections, 100 rows per INSERT): ${formatNumber(rawPatients.rate)} rows/s`);
  const bundleRows = files.flatMap((f) => f.resources);
  const rawBundles = await rawInsert(raw, bundleRows, 2, 500);
  say(`  → ${bundleRows.length} Synthea rows (2 connections, 500 rows per INSERT): ${formatNumber(rawBundles.rate)} rows/s`);
  await cleanup(); // closes the raw target, drops the database

  // --- Report ---------------------------------------------------------------------------------
  const rows: Row[] = [
    { metric: 'create Patient, 1 client', value: create1.rate, unit: 'req/s', baseline: okPost1.rate, baselineLabel: "HTTP 'ok' POST, 1 client" },
    { metric: 'create Patient, 8 clients', value: create8.rate, unit: 'req/s', baseline: okPost8.rate, baselineLabel: "HTTP 'ok' POST, 8 clients", target: { op: '>=', value: TARGETS.creates8 } },
    { metric: 'create Patient, 8 clients (vs DB)', value: create8.rate, unit: 'req/s', baseline: rawPatients.rate, baselineUnit: 'rows/s', baselineLabel: `raw INSERT of the same ${rows8.length} rows` },
    { metric: 'read Patient by id, 8 clients', value: read8.rate, unit: 'req/s', baseline: okGet8.rate, baselineLabel: "HTTP 'ok' GET, 8 clients", target: { op: '>=', value: TARGETS.reads8 } },
    { metric: 'Synthea bundle ingest, 2 concurrent', value: ingestRate, unit: 'resources/s', baseline: rawBundles.rate, baselineUnit: 'rows/s', baselineLabel: `raw INSERT of the same ${bundleRows.length} rows`, target: { op: '>=', value: TARGETS.ingest } },
    { metric: 'name search p50', value: search.p50, unit: 'ms', baseline: okGet1.p50, baselineLabel: "HTTP 'ok' GET p50", target: { op: '<=', value: TARGETS.searchP50 } },
    { metric: 'name search p99', value: search.p99, unit: 'ms', baseline: okGet1.p99, baselineLabel: "HTTP 'ok' GET p99" },
    { metric: 'name search p50, _total=none', value: searchNoTotal.p50, unit: 'ms', baseline: okGet1.p50, baselineLabel: "HTTP 'ok' GET p50" },
  ];
  const failures = [create1, create8, read8, search, searchNoTotal].filter((r) => r.errors > 0);
  say('');
  say(consoleTable(rows));
  say('ratio = value / baseline (for latencies, above 1 means slower than the baseline).');
  const cpuHeader = ['phase', 'ops', 'hub CPU ms/op', 'PostgreSQL CPU ms/op', 'load generator CPU ms/op', 'hub busy (% of a core)'];
  const cpuCells = cpuRows.map((c) => [
    c.name,
    String(c.ops),
    formatNumber(c.hubMs / c.ops),
    c.dbMs === undefined ? 'in the hub (PGlite)' : formatNumber(c.dbMs / c.ops),
    formatNumber(c.clientMs / c.ops),
    `${Math.round((100 * c.hubMs) / (c.seconds * 1000))}%`,
  ]);
  say('');
  say(textTable(cpuHeader, cpuCells));
  say(`CPU per operation by process (${cpus.length} cores for all of them); an op is a request, or a resource for bundle ingest.`);

  const date = new Date().toISOString();
  const counts =
    `${create1.ok} + ${create8.ok} creates (1 / 8 clients, ${PHASE_SECONDS} s each), ${read8.ok} reads, ` +
    `${files.length} bundles (${ingested} resources${failedBundles ? `, ${failedBundles} bundles FAILED` : ''}), ` +
    `${search.ok} + ${searchNoTotal.ok} name searches over ${prefixes.length} prefixes (${(matches / prefixes.length).toFixed(1)} matches each)`;
  const body = [
    `Measured ${date} by \`npm run bench:fhir${backend === 'pglite' ? ' -- --pglite' : ''}\`${profiling ? ' (hub CPU-profiled: numbers are lower than usual)' : ''}.`,
    '',
    `- Machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`,
    `- Node ${process.version}; load average ${loadBefore.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end (other work on the machine makes numbers noisy)`,
    `- Database: ${facts}`,
    `- Hub: the real \`createHub\` in a child process on 127.0.0.1, log level ${args['log-level']} (request lines to /dev/null); ` +
      'load from the parent process over node:http (keep-alive agent). Baselines run in the same way, in the same run.',
    `- Counts: ${counts}.`,
    ...(failures.length ? [`- Failed requests: ${failures.map((f) => `${f.name}: ${f.errors} (${f.firstError})`).join('; ')}`] : []),
    ...(firstBundleError ? [`- First failed bundle: ${firstBundleError}`] : []),
    ...(stored ? [`- Stored by the hub at the end: ${stored}`] : []),
    '',
    markdownTable(rows),
    '',
    'ratio = value / baseline; for latencies a ratio above 1 means slower than the baseline.',
    '',
    `Where the CPU went, per operation (a request; a resource for bundle ingest), on ${cpus.length} cores shared by all three:`,
    '',
    mdTable(cpuHeader, cpuCells),
  ].join('\n');
  if (profiling || args['no-docs']) {
    say(`\n(docs/PERFORMANCE.md not written: ${profiling ? 'a profiled run' : '--no-docs'})`);
  } else {
    const heading = `## FHIR REST benchmark on ${backend === 'pglite' ? 'PGlite' : 'PostgreSQL'}`;
    replaceSection(DOC, heading, body, INTRO);
    say(`\nWrote the section "${heading.slice(3)}" of ${DOC}`);
  }
  if (profileDir) {
    // One profile per thread; the largest is the main thread (the others are loader workers).
    const [main] = readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(profileDir!, f))
      .sort((a, b) => statSync(b).size - statSync(a).size);
    if (main) {
      writeFileSync(join(profileDir, 'phases.json'), JSON.stringify(phases));
      say(`\nPhase windows for \`node --import tsx scripts/bench/profile.ts ${main} 20 ${join(profileDir, 'phases.json')}\``);
      say(`\n${summariseProfile(main, 20)}`);
      for (const window of phases) say(`\n${summariseProfile(main, 15, window)}`);
    }
  }
  say(`Done in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

/** Rows and size of what the hub stored (PostgreSQL only: the raw target is the same database). */
async function storedStats(raw: RawTarget): Promise<string> {
  const tables = ['resource', 'resource_history', 'idx_string', 'idx_token', 'idx_date', 'idx_number', 'idx_quantity', 'idx_reference', 'idx_uri'];
  const { rows } = (await raw.query(
    `select ${tables.map((t) => `(select count(*) from ${t})::int as ${t}`).join(', ')}, pg_database_size(current_database())::bigint as bytes`,
  )) as { rows: Record<string, number>[] };
  const r = rows[0];
  const index = tables.filter((t) => t.startsWith('idx_')).reduce((n, t) => n + Number(r[t]), 0);
  const split = tables.filter((t) => t.startsWith('idx_')).map((t) => `${t.slice(4)} ${r[t]}`).join(', ');
  return `${r.resource} resources, ${r.resource_history} history rows, ${index} search-index rows (${(index / Number(r.resource)).toFixed(1)} per resource: ${split}), database ${Math.round(Number(r.bytes) / 2 ** 20)} MB`;
}

async function databaseFacts(raw: RawTarget, hubVersion: string | undefined): Promise<string> {
  if (backend === 'pglite') {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string };
    return `PGlite ${pkg.version} in memory (${hubVersion?.split(' on ')[0] ?? 'unknown'}), single connection`;
  }
  const settings = (await raw.query(
    `select name, setting, unit from pg_settings where name in ('synchronous_commit', 'fsync', 'shared_buffers', 'max_connections') order by name`,
  )) as { rows: { name: string; setting: string; unit: string | null }[] };
  const shown = settings.rows.map((s) => `${s.name}=${s.name === 'shared_buffers' ? `${(Number(s.setting) * 8) / 1024}MB` : s.setting}`).join(', ');
  return `${hubVersion?.split(',')[0] ?? 'PostgreSQL'} on 127.0.0.1 (${shown}); a fresh database; the hub's pool holds 10 connections`;
}

const INTRO = `# Performance

Numbers measured on this repository's own benchmarks. The sections below are rewritten by the
benchmark scripts on each run; text outside them is kept.
`;

await runToEnd(main, cleanups, say, () => interrupted);
