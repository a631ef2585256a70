// `npm run bench:dicom [-- --quick] [--postgres URL] [--no-orthanc] [--profile] [--no-docs]
//                      [--instances N] [--studies N] [--clients N] [--batch N] [--seed-batch N]
//                      [--wado-rounds N] [--metadata-runs N] [--qido-seconds S] [--log-level L]
//                      [--watchdog-minutes M] [--doc FILE]`
//
// The imaging cloud against Orthanc and against the machine's own limits, all in one run:
//   1. data: a CT series of N instances (~0.5 MB each) built in a temp dir from the ct-10 test
//      slices with DCMTK's dcmodify (dicom-series.ts), plus a second copy for C-STORE, and
//      10,000 one-instance studies generated in memory (dicom-studies.ts);
//   2. limits (dicom-limits.ts): write+fsync of the same files; loopback HTTP up and down through
//      a trivial node:http server in a child process; the HTTP floor under a QIDO latency;
//   3. Suhe: the real hub in a child process (server.ts; in-memory PGlite, or a throwaway
//      PostgreSQL database with --postgres), measured by dicom-measure.ts: seeding the studies,
//      STOW-RS, C-STORE (when the hub has a DIMSE listener), WADO-RS series, series metadata,
//      QIDO-RS study searches;
//   4. Orthanc (when installed): the same measurements (dicom-orthanc-run.ts), inside a
//      loopback-only network namespace (`unshare -n`) because Orthanc 1.10 listens on every
//      address; Orthanc dies with that process.
// Prints one table — Suhe, Orthanc, their ratio, each against the limit and the issue's goals —
// and writes it to docs/PERFORMANCE.md ("## Imaging benchmark") unless --no-docs, --profile or
// --quick (a quick run writes only to a file named with --doc).
// Everything it started or created is stopped and removed on every way out (Ctrl-C included).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createThrowawayDatabase } from './throwaway-database.js';
import { clientCredentialsToken, newBootstrapClient } from '../../test/helpers/auth.js';
import { startServer as startChild, type RunningServer } from './child-server.js';
import { Cleanups, runToEnd } from './cleanups.js';
import { cpuOfPids } from './cpu.js';
import { measureLimits, type Limits } from './dicom-limits.js';
import { measureTarget, type Plan, type TargetResult } from './dicom-measure.js';
import { DICOMWEB_PLUGIN, ORTHANC_BINARY } from './dicom-orthanc.js';
import { counterLines, CPU_HEADER, cpuCells, GOALS, RESULT_HEADER, resultCells, writeResults } from './dicom-report.js';
import { buildSeries, CT_SOURCE, type SeriesFiles } from './dicom-series.js';
import { QIDO_LIMIT, uidFor } from './dicom-studies.js';
import { settleWrites } from './writes-settle.js';
import { summariseProfile, type ProfileWindow } from './profile.js';
import { formatNumber, mdTable, textTable } from './report.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = resolve(ROOT, 'docs/PERFORMANCE.md');
const ORTHANC_RUNNER = fileURLToPath(new URL('./dicom-orthanc-run.ts', import.meta.url));
const BENCH_CLIENT = newBootstrapClient();
const CALLING_AET = 'SUHEBENCH';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    postgres: { type: 'string' },
    'no-orthanc': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    instances: { type: 'string' },
    studies: { type: 'string' },
    clients: { type: 'string', default: '4' },
    batch: { type: 'string', default: '10' },
    'seed-batch': { type: 'string', default: '50' },
    'wado-rounds': { type: 'string' },
    'metadata-runs': { type: 'string' },
    'qido-seconds': { type: 'string' },
    seed: { type: 'string', default: '20261130' },
    'log-level': { type: 'string', default: 'info' },
    'watchdog-minutes': { type: 'string' },
    doc: { type: 'string' },
  },
});
const quick = args.quick;
const int = (name: string, value: string | undefined, fallback: number, min: number, max: number): number => {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number ${min}..${max}`);
  return n;
};
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
    say(`${signal}: stopping the servers and removing what this run created (again to leave at once) ...`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** The hub in a child process (server.ts), with a DIMSE listener that takes C-STORE from CALLING_AET. */
function startServer(serverArgs: string[], execArgv: string[]): Promise<RunningServer> {
  process.env.SUHE_BENCH_DIMSE_PEER = CALLING_AET; // child-server.ts passes the environment on
  return startChild(serverArgs, { client: BENCH_CLIENT, execArgv, onStart: (stop) => cleanups.push(stop), say });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a throwaway database on the server --postgres names.

async function throwawayDatabase(adminUrl: string): Promise<string> {
  const database = await createThrowawayDatabase(adminUrl, 'suhe_bench_dicom');
  cleanups.push(() => database.drop().then(() => say(`Dropped database ${database.name}`)));
  say(`Created database ${database.name} (dropped at the end)`);
  return database.url;
}

// ---------------------------------------------------------------------------------------------
// Suhe

interface SuheRun {
  result: TargetResult;
  database: string;
  profile?: string;
  phases: ProfileWindow[];
}

async function runSuhe(plan: Plan): Promise<SuheRun> {
  const databaseUrl = args.postgres ? await throwawayDatabase(args.postgres) : undefined;
  const profileDir = args.profile ? mkdtempSync(join(os.tmpdir(), 'suhe-bench-dicom-prof-')) : undefined;
  say(`Starting the hub on ${databaseUrl ? 'PostgreSQL' : 'in-memory PGlite'} (child process, log level ${args['log-level']}${profileDir ? ', CPU-profiled' : ''}) ...`);
  const hub = await startServer(['hub', databaseUrl ?? 'memory', args['log-level']!], profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
  let token = await clientCredentialsToken(hub.url, BENCH_CLIENT);
  // A backend token lives minutes; the seeding alone can take longer. Renew well before expiry.
  const renewal = setInterval(() => void clientCredentialsToken(hub.url, BENCH_CLIENT).then((t) => (token = t)).catch((err) => say(`token renewal failed: ${(err as Error).message}`)), 60_000);
  renewal.unref();
  cleanups.push(async () => clearInterval(renewal));
  say(`  hub at ${hub.url} (${hub.database?.split(',')[0]}); blobs in ${os.tmpdir()}${hub.dimse ? `; DIMSE on port ${hub.dimse.port} (AE ${hub.dimse.aeTitle})` : ''}`);

  let monitor: pg.Client | undefined;
  if (databaseUrl) {
    const m = new pg.Client({ connectionString: databaseUrl });
    m.on('error', () => undefined); // terminated when the database is dropped at the end
    await m.connect();
    cleanups.push(() => m.end());
    monitor = m;
  }
  const phases: ProfileWindow[] = [];
  const result = await measureTarget(
    {
      name: 'Suhe',
      web: `${hub.url}/dicomweb`,
      headers: () => ({ authorization: `Bearer ${token}` }),
      dimse: hub.dimse ? { port: hub.dimse.port, aet: hub.dimse.aeTitle } : undefined,
      noDimse: hub.dimse ? undefined : 'the hub started no DIMSE listener',
      cpu: async () => {
        const server = cpuOfPids([hub.pid]).get(hub.pid) ?? Number.NaN;
        if (!monitor) return { server };
        const { rows } = await monitor.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
        return { server, db: cpuOfPids(rows.map((r) => r.pid)) };
      },
      onPhase: (name, fromUs, toUs) => phases.push({ name, fromUs, toUs }),
      dbCounters: monitor
        ? async () => {
            // PostgreSQL publishes a backend's counters when it goes idle, within about a second.
            await new Promise((r) => setTimeout(r, 1100));
            const { rows } = await monitor!.query<Record<string, string>>(
              'select xact_commit, tup_inserted, tup_updated, tup_deleted, tup_fetched, tup_returned from pg_stat_database where datname = current_database()',
            );
            return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]));
          }
        : undefined,
      settle: monitor
        ? () => settleWrites(monitor!, say)
        : undefined,
    },
    plan,
    say,
  );
  clearInterval(renewal);
  await hub.stop();
  let profile: string | undefined;
  if (profileDir) {
    // One profile per thread; the largest is the main thread (the others are loader workers).
    [profile] = readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(profileDir, f))
      .sort((a, b) => statSync(b).size - statSync(a).size);
    if (profile) writeFileSync(join(profileDir, 'phases.json'), JSON.stringify(phases));
  }
  return { result, database: hub.database?.split(',')[0] ?? (databaseUrl ? 'PostgreSQL' : 'PGlite'), profile, phases };
}

// ---------------------------------------------------------------------------------------------
// Orthanc, in its own process (and network namespace when possible)

function netnsAvailable(): boolean {
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' });
  return probe.status === 0;
}

async function runOrthanc(planFile: string, work: string): Promise<{ result?: TargetResult; version?: string; isolation: string; error?: string }> {
  const node = [process.execPath, '--import', 'tsx', ORTHANC_RUNNER, planFile, join(work, 'orthanc')];
  const isolated = netnsAvailable();
  const isolation = isolated
    ? 'in a loopback-only network namespace (unshare -n), with its clients'
    : 'NOT isolated (unshare -n failed): on 127.0.0.1 with RemoteAccessAllowed=false and C-STORE from the benchmark AE only';
  say(`Starting Orthanc ${isolation} ...`);
  const child: ChildProcess = isolated
    ? spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...node], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(node[0], node.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let orthancPid: number | undefined;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
      await exited;
      clearTimeout(timer);
    }
    // Orthanc dies with its parent (pdeathsig); make sure of it.
    if (orthancPid && cpuOfPids([orthancPid]).size) {
      try {
        process.kill(orthancPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  let result: TargetResult | undefined;
  let version: string | undefined;
  let error: string | undefined;
  const reader = createInterface({ input: child.stdout! });
  for await (const line of reader) {
    if (line.startsWith('@@pid ')) orthancPid = Number(line.slice(6));
    else if (line.startsWith('@@result ')) ({ result, version } = JSON.parse(line.slice(9)) as { result: TargetResult; version: string });
    else if (line.startsWith('@@error ')) error = JSON.parse(line.slice(8)) as string;
    else say(line);
  }
  await exited;
  if (!result && !error) error = `the Orthanc run ended (exit ${child.exitCode ?? child.signalCode}) without a result`;
  return { result, version, isolation, error };
}

// ---------------------------------------------------------------------------------------------

function dcmtkVersion(): string {
  const out = spawnSync('storescu', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /storescu (v[\d.]+)/.exec(out)?.[1] ?? '?';
}

async function main(): Promise<void> {
  const started = Date.now();
  const cpus = os.cpus();
  const loadBefore = os.loadavg()[0];
  const instances = int('instances', args.instances, quick ? 30 : 300, 1, 5000);
  const studyCount = int('studies', args.studies, quick ? 500 : 10_000, 1, 200_000);
  const clients = int('clients', args.clients, 4, 1, 32);
  const batch = int('batch', args.batch, 10, 1, 1000);
  const seedBatch = int('seed-batch', args['seed-batch'], 50, 1, 1000);
  const wadoRounds = int('wado-rounds', args['wado-rounds'], quick ? 2 : 3, 1, 100);
  const metadataRuns = int('metadata-runs', args['metadata-runs'], quick ? 3 : 10, 1, 1000);
  const qidoSeconds = int('qido-seconds', args['qido-seconds'], quick ? 1 : 5, 1, 600);
  const seed = int('seed', args.seed, 20261130, 0, 2 ** 31);
  const orthancWanted = !args['no-orthanc'];
  const orthancInstalled = [ORTHANC_BINARY, DICOMWEB_PLUGIN].every((f) => statSync(f, { throwIfNoEntry: false }));
  const backend = args.postgres ? 'PostgreSQL' : 'PGlite';
  const watchdogMinutes = int('watchdog-minutes', args['watchdog-minutes'], quick ? 5 : Math.ceil(20 + studyCount / 1000), 1, 1440);
  setTimeout(() => {
    say(`Watchdog: the benchmark ran for ${watchdogMinutes} minutes; stopping.`);
    interrupted = true;
    void cleanup().finally(() => process.exit(1));
  }, watchdogMinutes * 60_000).unref();

  say(`Suhe imaging benchmark${quick ? ' (quick)' : ''}: ${cpus.length} cores, Node ${process.version}, hub on ${backend}; stops itself after ${watchdogMinutes} minutes`);
  if (loadBefore > cpus.length / 2) say(`Note: load average ${loadBefore.toFixed(2)} on ${cpus.length} cores: other work is running, numbers will be noisy.`);

  // --- Data ---------------------------------------------------------------------------------
  const work = mkdtempSync(join(os.tmpdir(), 'suhe-bench-dicom-'));
  cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
  const runTag = `${seed}:${Date.now()}`;
  say(`Building a ${instances}-instance CT series (and a copy for C-STORE) from ${CT_SOURCE} in ${work} with dcmodify ...`);
  const t0 = performance.now();
  const series: SeriesFiles = await buildSeries(join(work, 'series-stow'), instances, uidFor(`ct:${runTag}:study`), uidFor(`ct:${runTag}:series`));
  const cstoreSeries: SeriesFiles = await buildSeries(join(work, 'series-cstore'), instances, uidFor(`ct:${runTag}:study`), uidFor(`ct:${runTag}:series-cstore`));
  say(`  → ${instances} + ${instances} files, ${(series.bytes / 1e6).toFixed(1)} MB each series, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const plan: Plan = {
    clients,
    batch,
    seedBatch,
    studies: studyCount,
    seed,
    series,
    cstoreSeries,
    wadoRounds,
    metadataRuns,
    qidoPerClass: quick ? 50 : 500,
    qidoSeconds,
    callingAet: CALLING_AET,
  };
  const planFile = join(work, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));

  // --- Limits -------------------------------------------------------------------------------
  const limits: Limits = await measureLimits(work, series, { clients, batch, passes: quick ? 2 : 3, wadoRounds }, (stop) => cleanups.push(stop), say);

  // --- Suhe, then Orthanc ----------------------------------------------------------------------
  const suhe = await runSuhe(plan);
  let orthanc: Awaited<ReturnType<typeof runOrthanc>> | undefined;
  let orthancMissing: string | undefined;
  if (!orthancWanted) orthancMissing = 'not run (--no-orthanc)';
  else if (!orthancInstalled) orthancMissing = `not installed (${ORTHANC_BINARY}, ${DICOMWEB_PLUGIN})`;
  else {
    orthanc = await runOrthanc(planFile, work);
    if (orthanc.error) say(`Orthanc run FAILED: ${orthanc.error}`);
  }
  if (interrupted) return;

  // --- Report ---------------------------------------------------------------------------------
  const o = orthanc?.result;
  const cells = resultCells(suhe.result, o, limits);
  const cpuRows = cpuCells([suhe.result, ...(o ? [o] : [])]);
  const counters = counterLines(suhe.result);
  say('');
  say(textTable(RESULT_HEADER, cells));
  say('');
  say(textTable(CPU_HEADER, cpuRows));
  for (const c of counters) say(`PostgreSQL ${c}`);

  const mbps = (t: { bytes: number; seconds: number }) => formatNumber(t.bytes / 1e6 / t.seconds);
  const problems = [suhe.result, ...(o ? [o] : [])].flatMap((r) => [
    ...(['seed', 'stow', 'cstore', 'wado'] as const).flatMap((k) => (r[k]?.failed ? [`${r.name} ${k}: ${r[k]!.failed} failed; first: ${r[k]!.firstError}`] : [])),
    ...(r.metadata.firstError ? [`${r.name} metadata: ${r.metadata.firstError}`] : []),
    ...r.qido.filter((q) => q.errors || q.wrong).map((q) => `${r.name} QIDO ${q.key}: ${q.errors} failed, ${q.wrong} wrong counts; first: ${q.firstProblem}`),
  ]);
  for (const p of problems) say(`PROBLEM ${p}`);

  const command = `npm run bench:dicom${quick || args.postgres ? ' --' : ''}${quick ? ' --quick' : ''}${args.postgres ? ' --postgres <url>' : ''}`;
  const body = [
    `Measured ${new Date().toISOString()} by \`${command}\` (scripts/bench/dicom.ts)${quick ? ' — a quick smoke run, not representative' : ''}.`,
    '',
    `- Machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}; Node ${process.version}; load average ${loadBefore.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end; files and blobs on the filesystem of ${os.tmpdir()}`,
    `- Suhe: the hub (\`createHub\`) in a child process on ${suhe.database}${args.postgres ? ' on 127.0.0.1 (a throwaway database)' : ' in memory'}, log level ${args['log-level']}; blob store in a temp dir (fsync per object and directory)`,
    `- Orthanc: ${orthanc?.version ?? orthancMissing ?? '?'}${orthanc ? `, run ${orthanc.isolation}; SQLite index, StorageCompression false, SyncStorageArea true (its default), other settings default` : ''}${orthanc?.error ? `; FAILED: ${orthanc.error.split('\n')[0]}` : ''}`,
    `- Data: a CT series of ${instances} instances (${(series.bytes / 1e6).toFixed(1)} MB, 512×512×16-bit, explicit VR LE) built from the ct-10 test slices with dcmodify (new SOP Instance UIDs, one study/series, InstanceNumber 1..${instances}), a second copy as another series of the same study for C-STORE, and ${studyCount.toLocaleString('en-US')} one-instance studies (~${Math.round(studyCount / 5).toLocaleString('en-US')} patients, Secondary Capture without pixels) generated in memory with seed ${seed}`,
    `- Clients: ${clients} concurrent for STOW-RS (${batch} instances per request), C-STORE (${clients} storescu processes, DCMTK ${dcmtkVersion()}, one association each) and WADO-RS (${clients} × ${wadoRounds} whole-series retrievals, \`transfer-syntax=*\`); 1 client for series metadata (median of ${metadataRuns} after one untimed request) and QIDO-RS (per class up to ${plan.qidoPerClass} distinct queries or ${qidoSeconds} s, \`limit=${QIDO_LIMIT}\`, each answer's count checked against the generated data${args.postgres ? ', each class started once the audit records of the phase before are stored' : ''}); the studies are seeded by STOW-RS, ${seedBatch} per request, ${clients} clients`,
    `- Limits in this run: write+fsync ${mbps(limits.fsync)} MB/s (${limits.fsync.writers} writers, ${limits.fsync.count} files); loopback HTTP upload ${mbps(limits.upload)} MB/s (multipart bodies of ${batch}), download ${mbps(limits.download)} MB/s (one body per series); HTTP floor p50 ${formatNumber(limits.floorMs)} ms (GET answered \`{}\`, 1 client). Goals (the issue): STOW ≥ ${GOALS.stowInstances} instances/s, WADO-RS ≥ ${GOALS.wadoMBps} MB/s, metadata ≤ ${GOALS.metadataMs} ms, QIDO p50 ≤ ${GOALS.qidoP50Ms} ms, and ≥ ${GOALS.limitShare * 100}% of the limits`,
    '',
    mdTable(RESULT_HEADER, cells),
    '',
    'Ratios: Suhe ÷ Orthanc in this run (for ms, below 1 is faster). % of limit: throughput ÷ limit; for latencies the HTTP floor ÷ latency. The STOW limit is the slower of write+fsync and HTTP upload, in instances/s at this series\' mean instance size.',
    '',
    `Where the CPU went (${cpus.length} cores shared by the archive, its database and the load generator):`,
    '',
    mdTable(CPU_HEADER, cpuRows),
    ...(counters.length ? ['', 'PostgreSQL counters (pg_stat_database) for Suhe:', '', ...counters.map((c) => `- ${c}`)] : []),
    ...(problems.length ? ['', 'Failures during the run:', '', ...problems.map((p) => `- ${p}`)] : []),
  ].join('\n');

  if (args.profile && suhe.profile) {
    say(`\nHub CPU profile: ${suhe.profile} (phases: node --import tsx scripts/bench/profile.ts ${suhe.profile} 25 ${join(suhe.profile, '..', 'phases.json')})`);
    for (const window of suhe.phases) say(`\n${summariseProfile(suhe.profile, 25, window)}`);
  }
  if (args['no-docs'] || args.profile || (quick && !args.doc)) {
    say(`\n(docs/PERFORMANCE.md not written: ${args.profile ? 'a profiled run' : args['no-docs'] ? '--no-docs' : 'a quick run (--doc FILE writes it somewhere)'})`);
  } else {
    const doc = args.doc ? resolve(args.doc) : DOC;
    const heading = `### Results on ${backend}${quick ? ' (quick run)' : ''}`;
    writeResults(doc, INTRO, heading, body);
    say(`\nWrote "${heading.slice(4)}" in the section "Imaging benchmark" of ${doc}`);
  }
  say(`Done in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

const INTRO = `
\`npm run bench:dicom\` (scripts/bench/dicom.ts) measures the imaging cloud beside Orthanc and
beside what the machine allows, all in the same run:

\`\`\`sh
npm run bench:dicom                      # full: 300-instance CT (~158 MB), 10,000 studies; several minutes
npm run bench:dicom -- --quick           # smoke run: 30 instances, 500 studies; under a minute; no doc update
npm run bench:dicom -- --postgres postgres://postgres@127.0.0.1:5432/test   # the hub on a throwaway database there
npm run bench:dicom -- --profile         # also CPU-profile the hub; prints a summary per phase, no doc update
\`\`\`

Other options: \`--no-orthanc\`, \`--no-docs\`, \`--instances N\`, \`--studies N\`, \`--clients N\` (4),
\`--batch N\` (instances per STOW-RS request, 10), \`--seed-batch N\` (50), \`--wado-rounds N\`,
\`--metadata-runs N\`, \`--qido-seconds S\`, \`--log-level L\` (the hub's, \`info\` as in production),
\`--doc FILE\` (write the results there instead).
It needs DCMTK (\`dcmodify\`, \`storescu\`) and, for the comparison, Orthanc with its DICOMweb
plugin (Debian packages \`orthanc\`, \`orthanc-dicomweb\`); Orthanc runs in a loopback-only network
namespace (\`unshare -n\`, as root) and is stopped on every way out, Ctrl-C included.

What each figure is: STOW-RS and C-STORE store every instance of the series once (wall time from
the first request to the last answer); WADO-RS retrieves the whole series as
\`multipart/related; type="application/dicom"\`; series metadata is \`GET .../series/{uid}/metadata\`;
QIDO-RS searches \`/studies\` over the seeded studies, one query class at a time. Limits: each file
written and fsynced on the archives' filesystem; the same bytes over loopback HTTP through a
trivial \`node:http\` server in a child process (up as multipart bodies, down as one body per
series); the HTTP floor is that server's answer to a GET. The results below are rewritten by each
run (one subsection per database backend); other subsections here are written by hand and kept.
`;

await runToEnd(main, cleanups, say, () => interrupted);
