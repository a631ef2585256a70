// `npm run bench:cstore-stages [-- --postgres URL] [--instances N] [--associations K]`
//
// Where a C-STORE instance's time goes, beside what the disk and the database cost on their own
// in the same run. storescu (like most modalities and PACS) sends one instance per association at
// a time and waits for its response, so an association's rate is one over the time the hub takes
// to store one instance durably. This times the stages of that, in the hub (in this process),
// with K storescu processes sending a fresh CT series of N instances:
//   - prepare: receiving the object, parsing it in the worker, checking it;
//   - blob commit: hashing, writing, fsync of the file, rename, fsync of the directory;
//   - index: the group-committed transaction that makes it findable (with its wait in the queue);
// and, as baselines: the same files written, fsynced, renamed and their directory fsynced, by K
// writers in parallel and by one; and one committed single-row transaction on the same database.
// A warm-up series goes first. Stage times are wrapped around the hub's own methods (an
// instrumented run, not a production setting); nothing is written to docs/PERFORMANCE.md.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { FileBlobStore, type StagedBlob } from '../../server/src/imaging/blob-store.js';
import { GroupCommit } from '../../server/src/imaging/group-commit.js';
import { DicomIngest } from '../../server/src/imaging/ingest.js';
import { buildSeries } from './dicom-series.js';

const { values: args } = parseArgs({
  options: {
    postgres: { type: 'string', default: process.env.SUHE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    instances: { type: 'string', default: '200' },
    associations: { type: 'string', default: '4' },
  },
});
const instances = Number(args.instances);
const associations = Number(args.associations);
const say = (line: string) => process.stdout.write(`${line}\n`);

const stages = new Map<string, number[]>();
/** Times every call of `object[method]` (an async method) under `stage`. */
function timeStage(object: object, method: string, stage: string): void {
  const target = object as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const original = target[method];
  target[method] = async function (this: unknown, ...a: unknown[]) {
    const started = performance.now();
    try {
      return await original.apply(this, a);
    } finally {
      if (measuring) (stages.get(stage) ?? stages.set(stage, []).get(stage)!).push(performance.now() - started);
    }
  };
}
let measuring = false;
timeStage(DicomIngest.prototype, 'prepare', 'prepare (receive, parse, check)');
timeStage(GroupCommit.prototype, 'run', 'index (queue + transaction)');
const begin = FileBlobStore.prototype.begin;
FileBlobStore.prototype.begin = async function (this: FileBlobStore, ...a: Parameters<FileBlobStore['begin']>): Promise<StagedBlob> {
  const staged = await begin.apply(this, a);
  timeStage(staged, 'commit', 'blob commit (hash, write, fsync, rename, fsync dir)');
  return staged;
};

const work = mkdtempSync(join(os.tmpdir(), 'suhe-bench-cstore-'));
process.env.SUHE_TEST_POSTGRES_URL = args.postgres;
const { startTestHub } = await import('../../test/helpers/hub.js');
try {
  say(`Building a warm-up series of 20 and a series of ${instances} CT instances with dcmodify ...`);
  const warmUp = await buildSeries(join(work, 'warm'), 20, '1.2.826.0.1.3680043.8.498.7001', '1.2.826.0.1.3680043.8.498.7001.1');
  const series = await buildSeries(join(work, 'series'), instances, '1.2.826.0.1.3680043.8.498.7002', '1.2.826.0.1.3680043.8.498.7002.1');

  say('Baselines: write + fsync + rename + fsync dir of the same files; one committed transaction ...');
  const parallelDisk = await diskBaseline(series.paths, associations);
  const loneDisk = await diskBaseline(series.paths.slice(0, 50), 1);
  const commit = await commitBaseline(args.postgres!);

  const hub = await startTestHub('postgres', { dimse: { port: 0, aeTitle: 'SUHE', peers: [{ aeTitle: 'BENCH', host: '127.0.0.1', port: 0 }] } });
  try {
    const port = String(hub.hub.dimsePort());
    await storescu(warmUp.paths, port);
    measuring = true;
    // How long a callback waits for the event loop: every await in the stages pays it once.
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await storescu(series.paths, port);
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (performance.now() - started) / 1000;
    loopDelay.disable();
    measuring = false;
    say(`\nC-STORE of ${instances} instances (${(series.bytes / 1e6).toFixed(1)} MB), ${associations} storescu associations: ${(instances / seconds).toFixed(1)} instances/s; one instance every ${((seconds * 1000 * associations) / instances).toFixed(1)} ms per association; hub CPU ${((cpu.user + cpu.system) / 1000 / instances).toFixed(2)} ms per instance (all its threads)\n`);
    say('| stage | n | p50 ms | mean ms |');
    say('| --- | ---: | ---: | ---: |');
    for (const [stage, times] of stages) say(`| ${stage} | ${times.length} | ${percentile(times, 0.5).toFixed(2)} | ${mean(times).toFixed(2)} |`);
    say(`| event-loop delay while storing | — | ${(loopDelay.percentile(50) / 1e6).toFixed(2)} | ${(loopDelay.mean / 1e6).toFixed(2)} |`);
    say(`| baseline: write + fsync + rename + fsync dir, ${associations} writers | ${parallelDisk.length} | ${percentile(parallelDisk, 0.5).toFixed(2)} | ${mean(parallelDisk).toFixed(2)} |`);
    say(`| baseline: the same, 1 writer | ${loneDisk.length} | ${percentile(loneDisk, 0.5).toFixed(2)} | ${mean(loneDisk).toFixed(2)} |`);
    say(`| baseline: one committed single-row transaction | ${commit.length} | ${percentile(commit, 0.5).toFixed(2)} | ${mean(commit).toFixed(2)} |`);
  } finally {
    await hub.close();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** `writers` at once, each taking the next file: ms per file for write, fsync, rename and fsync of its directory. */
async function diskBaseline(paths: string[], writers: number): Promise<number[]> {
  const root = join(work, `disk-${writers}-${randomBytes(4).toString('hex')}`);
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let i = next++; i < paths.length; i = next++) {
        const bytes = readFileSync(paths[i]);
        const dir = join(root, String(i % 256));
        await mkdir(dir, { recursive: true });
        const started = performance.now();
        const file = await open(join(root, `staged-${i}`), 'wx');
        await file.write(bytes);
        await file.sync();
        await file.close();
        await rename(join(root, `staged-${i}`), join(dir, `object-${i}`));
        const directory = await open(dir, 'r');
        await directory.sync();
        await directory.close();
        times.push(performance.now() - started);
      }
    }),
  );
  rmSync(root, { recursive: true, force: true });
  return times;
}

/** ms per committed single-row insert into a temporary table (one WAL flush each). */
async function commitBaseline(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // A permanent (throwaway) table: a temporary one's rows skip the WAL, and its commit would
    // not wait for the flush the index's commit waits for.
    const table = `bench_commit_${randomBytes(4).toString('hex')}`;
    await client.query(`create table ${table} (n int)`);
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      const started = performance.now();
      await client.query(`insert into ${table} values ($1)`, [i]);
      times.push(performance.now() - started);
    }
    await client.query(`drop table ${table}`);
    return times;
  } finally {
    await client.end();
  }
}

function storescu(paths: string[], port: string): Promise<void> {
  const groups = Array.from({ length: associations }, (_, g) => paths.filter((_, i) => i % associations === g));
  return Promise.all(
    groups.map(
      (files) =>
        new Promise<void>((resolve, reject) =>
          // DCMTK leaves Nagle's algorithm on unless TCP_NODELAY=1.
          execFile('storescu', ['-aet', 'BENCH', '-aec', 'SUHE', '127.0.0.1', port, ...files], { env: { ...process.env, TCP_NODELAY: '1' } }, (err, _out, stderr) =>
            err ? reject(new Error(`storescu: ${stderr.trim().slice(0, 300)}`)) : resolve(),
          ),
        ),
    ),
  ).then(() => undefined);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function mean(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}
