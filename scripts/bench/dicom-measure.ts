// The imaging measurements, the same code for every archive (Suhe's /dicomweb, Orthanc's
// /dicom-web): seed the synthetic studies, STOW-RS the CT series, C-STORE a second copy of it,
// WADO-RS it back, its series metadata, then QIDO-RS study searches. Each phase reports its wall
// time, what it moved and the CPU the archive (and its database) used meanwhile.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { call, stowBody, stowOutcome } from './dicom-http.js';
import { percentile } from './load.js';
import type { SeriesFiles } from './dicom-series.js';
import { qidoClasses, studyObject, syntheticStudies } from './dicom-studies.js';

/** CPU ms used so far: the archive's own processes, and its database server's when separate. */
export interface CpuReading {
  server: number;
  db?: Map<number, number>;
}

export interface Target {
  name: string;
  /** DICOMweb root URL, no trailing slash. */
  web: string;
  headers(): Record<string, string>;
  /** A DIMSE listener on 127.0.0.1 taking C-STORE from `plan.callingAet`. */
  dimse?: { port: number; aet: string };
  /** Why there is no DIMSE measurement, when there is none. */
  noDimse?: string;
  cpu(): Promise<CpuReading>;
  /** Phase boundaries on the monotonic clock (µs), e.g. to cut a CPU profile. */
  onPhase?(name: string, fromUs: number, toUs: number): void;
  /** Database-side counters per phase (PostgreSQL: transactions and rows per instance). */
  dbCounters?(): Promise<Record<string, number>>;
  /** Waits until writes left behind by earlier requests (audit records) are stored. */
  settle?(): Promise<void>;
}

/** Everything the phases need, serialisable (the Orthanc run is another process). */
export interface Plan {
  clients: number;
  /** Instances per STOW-RS request for the CT series. */
  batch: number;
  /** Synthetic studies (one instance each) per STOW-RS request while seeding. */
  seedBatch: number;
  studies: number;
  seed: number;
  series: SeriesFiles;
  /** A second copy of the series (other UIDs) for C-STORE; omitted when nobody speaks DIMSE. */
  cstoreSeries?: SeriesFiles;
  wadoRounds: number;
  metadataRuns: number;
  qidoPerClass: number;
  qidoSeconds: number;
  callingAet: string;
}

export interface Phase {
  /** Instances (or requests) done and failed. */
  ok: number;
  failed: number;
  bytes: number;
  seconds: number;
  requests: number;
  firstError?: string;
  serverCpuMs: number;
  dbCpuMs?: number;
  clientCpuMs: number;
  counters?: Record<string, number>;
}

export interface QidoResult {
  key: string;
  shape: string;
  n: number;
  p50: number;
  p95: number;
  errors: number;
  wrong: number;
  firstProblem?: string;
  /** Archive CPU per query (ms), and rows the database inserted per query (PostgreSQL only). */
  serverCpuMs?: number;
  rowsInsertedPerQuery?: number;
}

export interface TargetResult {
  name: string;
  seed: Phase;
  stow: Phase;
  cstore?: Phase;
  noDimse?: string;
  wado: Phase;
  metadata: { runs: number[]; instances: number; bytes: number; serverCpuMs: number; firstError?: string };
  qido: QidoResult[];
}

type Say = (line: string) => void;

const DICOM_JSON = 'application/dicom+json';
const WADO_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*';

function cpuDelta(a: Map<number, number> | undefined, b: Map<number, number> | undefined): number | undefined {
  if (!a || !b) return undefined;
  let ms = 0;
  for (const [pid, t] of b) ms += t - (a.get(pid) ?? 0);
  return ms;
}

/** Runs `work` as one phase: wall time, archive CPU, client CPU, database counters. */
async function phase(target: Target, name: string, work: () => Promise<Omit<Phase, 'serverCpuMs' | 'dbCpuMs' | 'clientCpuMs' | 'seconds'>>): Promise<Phase> {
  const [cpu0, counters0] = await Promise.all([target.cpu(), target.dbCounters?.()]);
  const client0 = process.cpuUsage();
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const done = await work();
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const client = process.cpuUsage(client0);
  const [cpu1, counters1] = await Promise.all([target.cpu(), target.dbCounters?.()]);
  target.onPhase?.(name, fromUs, toUs);
  const counters = counters0 && counters1 ? Object.fromEntries(Object.keys(counters1).map((k) => [k, counters1[k] - (counters0[k] ?? 0)])) : undefined;
  return {
    ...done,
    seconds: (toUs - fromUs) / 1e6,
    serverCpuMs: cpu1.server - cpu0.server,
    dbCpuMs: cpuDelta(cpu0.db, cpu1.db),
    clientCpuMs: (client.user + client.system) / 1000,
    counters,
  };
}

const mb = (bytes: number) => bytes / 1e6;
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** Sends `objects` as STOW-RS requests of `batch` objects from `clients` concurrent clients. */
async function stowAll(target: Target, objects: Buffer[], batch: number, clients: number, label: string, say: Say) {
  const batches: Buffer[][] = [];
  for (let i = 0; i < objects.length; i += batch) batches.push(objects.slice(i, i + batch));
  let next = 0;
  let ok = 0;
  let failed = 0;
  let bytes = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const ticker = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    say(`  [${label}] ${fmt(s)} s: ${ok}/${objects.length} stored${failed ? `, ${failed} failed` : ''} (${fmt(ok / s, 0)}/s)`);
  }, 5000);
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let b = next++; b < batches.length; b = next++) {
          const { body, contentType } = stowBody(batches[b]);
          try {
            const reply = await call(`${target.web}/studies`, { method: 'POST', headers: { ...target.headers(), 'content-type': contentType, accept: DICOM_JSON }, body, keepBody: true }, [200, 202, 409]);
            const outcome = stowOutcome(reply.text);
            ok += outcome.stored;
            failed += batches[b].length - outcome.stored;
            if (outcome.stored < batches[b].length) {
              firstError ??= `HTTP ${reply.status}: ${outcome.failed} failed, first ${outcome.firstFailure ?? `(no FailedSOPSequence; the answer: ${(reply.text ?? '').slice(0, 300)})`}`;
            }
            bytes += batches[b].reduce((n, o) => n + o.length, 0);
          } catch (err) {
            failed += batches[b].length;
            firstError ??= (err as Error).message;
          }
          // A pattern of failures (not one unlucky request) means the archive does not take these at all.
          if (failed >= Math.max(50, 10 * batch) && failed > ok) throw new Error(`${label}: ${failed} of ${ok + failed} instances failed; first: ${firstError}`);
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  return { ok, failed, bytes, requests: batches.length, firstError };
}

/** `clients` storescu processes at once, each sending its share of the files in one association. */
async function cstoreAll(target: Target, series: SeriesFiles, clients: number, callingAet: string) {
  const files = series.paths;
  const dimse = target.dimse!;
  const groups = Array.from({ length: clients }, (_, c) => files.filter((_, i) => i % clients === c)).filter((g) => g.length);
  let ok = 0;
  let failed = 0;
  let bytes = 0;
  let firstError: string | undefined;
  await Promise.all(
    groups.map(
      (group) =>
        new Promise<void>((done) => {
          const child = spawn('storescu', ['-aet', callingAet, '-aec', dimse.aet, '127.0.0.1', String(dimse.port), ...group], { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          child.stderr.on('data', (d: Buffer) => (err += d.toString()));
          child.on('error', (e) => {
            failed += group.length;
            firstError ??= `storescu: ${e.message}`;
            done();
          });
          child.on('exit', (code) => {
            // storescu stops at the first refused instance; any error line means not all were stored.
            if (code === 0 && !/^E:/m.test(err)) {
              ok += group.length;
              bytes += group.reduce((n, f) => n + statSync(f).size, 0);
            } else {
              failed += group.length;
              firstError ??= `storescu exit ${code}: ${err.trim().split('\n').slice(0, 3).join(' | ').slice(0, 300)}`;
            }
            done();
          });
        }),
    ),
  );
  return { ok, failed, bytes, requests: groups.length, firstError };
}

export async function measureTarget(target: Target, plan: Plan, say: Say): Promise<TargetResult> {
  const series = plan.series;
  const objects = series.paths.map((p) => readFileSync(p));
  const studies = syntheticStudies(plan.studies, plan.seed);

  // --- Seed: one-instance studies for QIDO-RS ------------------------------------------------
  say(`${target.name}: seeding ${plan.studies.toLocaleString('en-US')} one-instance studies by STOW-RS (${plan.seedBatch} per request, ${plan.clients} clients) ...`);
  const tiny = studies.map(studyObject);
  const seed = await phase(target, 'seed', () => stowAll(target, tiny, plan.seedBatch, plan.clients, 'seed', say));
  say(`  → ${seed.ok} studies in ${fmt(seed.seconds)} s: ${fmt(seed.ok / seed.seconds, 0)} studies/s${seed.failed ? `; ${seed.failed} FAILED, first: ${seed.firstError}` : ''}`);

  // --- STOW-RS of the CT series -------------------------------------------------------------
  say(`${target.name}: STOW-RS of ${objects.length} CT instances (${fmt(mb(series.bytes), 0)} MB), ${plan.batch} per request, ${plan.clients} clients ...`);
  const stow = await phase(target, 'stow', () => stowAll(target, objects, plan.batch, plan.clients, 'STOW-RS', say));
  say(`  → ${fmt(stow.ok / stow.seconds, 0)} instances/s, ${fmt(mb(stow.bytes) / stow.seconds, 0)} MB/s (${fmt(stow.seconds, 2)} s)${stow.failed ? `; ${stow.failed} FAILED, first: ${stow.firstError}` : ''}`);

  // --- C-STORE of the second copy -----------------------------------------------------------
  let cstore: Phase | undefined;
  if (target.dimse && plan.cstoreSeries) {
    const files = plan.cstoreSeries.paths;
    say(`${target.name}: C-STORE of ${files.length} CT instances with ${plan.clients} storescu processes (one association each) ...`);
    cstore = await phase(target, 'cstore', () => cstoreAll(target, plan.cstoreSeries!, plan.clients, plan.callingAet));
    say(`  → ${fmt(cstore.ok / cstore.seconds, 0)} instances/s, ${fmt(mb(cstore.bytes) / cstore.seconds, 0)} MB/s (${fmt(cstore.seconds, 2)} s)${cstore.failed ? `; ${cstore.failed} FAILED, first: ${cstore.firstError}` : ''}`);
  } else {
    say(`${target.name}: C-STORE not measured: ${target.noDimse ?? 'no DIMSE listener'}`);
  }

  // --- WADO-RS of the whole series ----------------------------------------------------------
  const seriesUrl = `${target.web}/studies/${series.studyUid}/series/${series.seriesUid}`;
  say(`${target.name}: WADO-RS series (multipart, ${fmt(mb(series.bytes), 0)} MB), ${plan.clients} clients × ${plan.wadoRounds} ...`);
  // One untimed retrieval first: checks the answer and warms the page cache.
  const check = await call(seriesUrl, { headers: { ...target.headers(), accept: WADO_ACCEPT } }).catch((err: Error) => err);
  if (check instanceof Error) say(`  WADO-RS check FAILED: ${check.message}`);
  else if (check.bytes < series.bytes) say(`  WARNING: the series came back with ${check.bytes} bytes, fewer than the ${series.bytes} stored`);
  const wado = await phase(target, 'wado', async () => {
    let ok = 0;
    let failed = 0;
    let bytes = 0;
    let firstError: string | undefined;
    await Promise.all(
      Array.from({ length: plan.clients }, async () => {
        for (let r = 0; r < plan.wadoRounds; r++) {
          try {
            const reply = await call(seriesUrl, { headers: { ...target.headers(), accept: WADO_ACCEPT } });
            if (!/^multipart\/related/i.test(reply.contentType)) throw new Error(`WADO-RS answered ${reply.contentType}`);
            if (reply.bytes < series.bytes) throw new Error(`WADO-RS sent ${reply.bytes} bytes, fewer than the ${series.bytes} stored`);
            ok++;
            bytes += reply.bytes;
          } catch (err) {
            failed++;
            firstError ??= (err as Error).message;
          }
        }
      }),
    );
    return { ok, failed, bytes, requests: ok + failed, firstError };
  });
  say(`  → ${fmt(mb(wado.bytes) / wado.seconds, 0)} MB/s (${wado.ok} series in ${fmt(wado.seconds, 2)} s)${wado.failed ? `; ${wado.failed} FAILED, first: ${wado.firstError}` : ''}`);

  // --- Series metadata ----------------------------------------------------------------------
  say(`${target.name}: series metadata (${objects.length} instances), 1 client, 1 + ${plan.metadataRuns} requests ...`);
  const runs: number[] = [];
  let instances = 0;
  let metaBytes = 0;
  let metaError: string | undefined;
  const metaCpu0 = await target.cpu();
  const metaFrom = Number(process.hrtime.bigint() / 1000n);
  for (let r = 0; r <= plan.metadataRuns; r++) {
    const t0 = performance.now();
    try {
      const reply = await call(`${seriesUrl}/metadata`, { headers: { ...target.headers(), accept: DICOM_JSON }, keepBody: r === 0 });
      runs.push(performance.now() - t0);
      metaBytes = reply.bytes;
      if (r === 0) instances = (JSON.parse(reply.text ?? '[]') as unknown[]).length;
    } catch (err) {
      metaError ??= (err as Error).message;
      break;
    }
  }
  target.onPhase?.('metadata', metaFrom, Number(process.hrtime.bigint() / 1000n));
  const metaCpu = (await target.cpu()).server - metaCpu0.server;
  const timed = runs.slice(1).sort((a, b) => a - b);
  if (metaError) say(`  metadata FAILED: ${metaError}`);
  else say(`  → first ${fmt(runs[0], 0)} ms, then median ${fmt(percentile(timed, 50), 0)} ms (min ${fmt(timed[0], 0)}, max ${fmt(timed[timed.length - 1], 0)}); ${instances} instances, ${fmt(mb(metaBytes), 2)} MB of JSON`);
  if (!metaError && instances !== objects.length) say(`  WARNING: the metadata lists ${instances} instances, not ${objects.length}`);

  // --- QIDO-RS study searches -----------------------------------------------------------------
  const classes = qidoClasses(studies, plan.seed, plan.qidoPerClass);
  const qido: QidoResult[] = [];
  const qidoFrom = Number(process.hrtime.bigint() / 1000n);
  for (const cls of classes) {
    const url = (n: number) => `${target.web}/studies?${cls.queries[n % cls.queries.length].query}`;
    // Warm-up on the far end of the list, so the timed queries are not the ones just cached.
    for (let w = 0; w < 5; w++) await call(url(cls.queries.length - 1 - w), { headers: { ...target.headers(), accept: DICOM_JSON } }).catch(() => undefined);
    await target.settle?.();
    const latencies: number[] = [];
    let errors = 0;
    let wrong = 0;
    let firstProblem: string | undefined;
    const [cpu0, counters0] = await Promise.all([target.cpu(), target.dbCounters?.()]);
    const deadline = performance.now() + plan.qidoSeconds * 1000;
    for (let n = 0; n < cls.queries.length && (n < 20 || performance.now() < deadline); n++) {
      const t0 = performance.now();
      try {
        const reply = await call(url(n), { headers: { ...target.headers(), accept: DICOM_JSON }, keepBody: true }, [200, 204]);
        latencies.push(performance.now() - t0);
        const found = reply.status === 204 || !reply.text ? 0 : (JSON.parse(reply.text) as unknown[]).length;
        if (found !== cls.queries[n].expected) {
          wrong++;
          firstProblem ??= `${cls.queries[n].query}: ${found} studies, expected ${cls.queries[n].expected}`;
        }
      } catch (err) {
        errors++;
        firstProblem ??= (err as Error).message;
      }
    }
    const [cpu1, counters1] = await Promise.all([target.cpu(), target.dbCounters?.()]);
    const sorted = latencies.sort((a, b) => a - b);
    const queries = Math.max(1, sorted.length + errors);
    const result: QidoResult = {
      key: cls.key,
      shape: cls.shape,
      n: sorted.length,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      errors,
      wrong,
      firstProblem,
      serverCpuMs: (cpu1.server - cpu0.server) / queries,
      rowsInsertedPerQuery: counters0 && counters1 ? (counters1.tup_inserted - counters0.tup_inserted) / queries : undefined,
    };
    qido.push(result);
    say(`  QIDO ${cls.key}: p50 ${fmt(result.p50, 2)} ms, p95 ${fmt(result.p95, 2)} ms over ${result.n}; archive CPU ${fmt(result.serverCpuMs ?? NaN, 2)} ms/query${result.rowsInsertedPerQuery !== undefined ? `, ${fmt(result.rowsInsertedPerQuery)} rows inserted/query` : ''}${errors ? `, ${errors} FAILED` : ''}${wrong ? `, ${wrong} WRONG COUNTS` : ''}${firstProblem ? ` (first: ${firstProblem.slice(0, 200)})` : ''}`);
  }
  target.onPhase?.('qido', qidoFrom, Number(process.hrtime.bigint() / 1000n));

  return {
    name: target.name,
    seed,
    stow,
    cstore,
    noDimse: cstore ? undefined : (target.noDimse ?? 'no DIMSE listener'),
    wado,
    metadata: { runs, instances, bytes: metaBytes, serverCpuMs: metaCpu, firstError: metaError },
    qido,
  };
}
