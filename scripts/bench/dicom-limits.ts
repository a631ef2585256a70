// What this machine allows at most for the imaging benchmark's transfers, measured in the same
// run on the same files: writing each file and fsyncing it (on the filesystem of the archives'
// storage), and moving the bytes over loopback HTTP through a trivial node:http server in a child
// process (dicom-file-server.ts) — up as STOW-RS-shaped multipart bodies, down as one body per
// series — with the same number of clients as the archives get.
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call, stowBody } from './dicom-http.js';
import { percentile } from './load.js';
import type { SeriesFiles } from './dicom-series.js';

const FILE_SERVER = fileURLToPath(new URL('./dicom-file-server.ts', import.meta.url));

export interface Transfer {
  bytes: number;
  seconds: number;
  /** Files written or HTTP requests made. */
  count: number;
}

export interface Limits {
  fsync: Transfer & { writers: number };
  upload: Transfer;
  download: Transfer;
  /** p50 of a GET answered `{}` by the trivial server, 1 client: the floor under a QIDO-RS latency. */
  floorMs: number;
}

type Say = (line: string) => void;
const MBps = (t: Transfer) => t.bytes / 1e6 / t.seconds;

/** Each file written to `dir` (new file, write, fsync, close) by `writers` concurrent writers, `passes` times. */
async function writeAndSync(dir: string, objects: Buffer[], writers: number, passes: number): Promise<Transfer> {
  mkdirSync(dir, { recursive: true });
  const total = objects.length * passes;
  let next = 0;
  let bytes = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let i = next++; i < total; i = next++) {
        const object = objects[i % objects.length];
        const handle = await open(join(dir, `f${i}`), 'wx');
        try {
          let at = 0;
          while (at < object.length) at += (await handle.write(object, at, object.length - at, at)).bytesWritten;
          await handle.sync();
        } finally {
          await handle.close();
        }
        bytes += object.length;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  rmSync(dir, { recursive: true, force: true });
  return { bytes, seconds, count: total };
}

export async function measureLimits(
  work: string,
  series: SeriesFiles,
  options: { clients: number; batch: number; passes: number; wadoRounds: number },
  onStart: (stop: () => Promise<void>) => void,
  say: Say,
): Promise<Limits> {
  const objects = series.paths.map((p) => readFileSync(p));

  say(`Limit: write + fsync of each of the ${objects.length} files, ${options.clients} writers, ${options.passes} pass(es) ...`);
  const fsync = { ...(await writeAndSync(join(work, 'fsync-limit'), objects, options.clients, options.passes)), writers: options.clients };
  say(`  → ${MBps(fsync).toFixed(0)} MB/s, ${(fsync.count / fsync.seconds).toFixed(0)} files/s`);

  const list = join(work, 'file-server.json');
  writeFileSync(list, JSON.stringify(series.paths));
  const child = fork(FILE_SERVER, [list], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'close' });
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  onStart(stop);
  const url = await new Promise<string>((done, fail) => {
    child.once('message', (m: { url: string }) => done(m.url));
    child.once('exit', (code) => fail(new Error(`the file server exited (${code}) before it was ready`)));
  });

  say(`Limit: loopback HTTP upload of the same files as multipart bodies of ${options.batch}, ${options.clients} clients, ${options.passes} pass(es) ...`);
  const bodies: { body: Buffer[]; contentType: string }[] = [];
  for (let i = 0; i < objects.length; i += options.batch) bodies.push(stowBody(objects.slice(i, i + options.batch)));
  // Warm-up: connections and JIT.
  for (const b of bodies.slice(0, 4)) await call(`${url}/studies`, { method: 'POST', headers: { 'content-type': b.contentType }, body: b.body });
  const upload = await (async () => {
    const total = bodies.length * options.passes;
    let next = 0;
    let bytes = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: options.clients }, async () => {
        for (let i = next++; i < total; i = next++) {
          const b = bodies[i % bodies.length];
          await call(`${url}/studies`, { method: 'POST', headers: { 'content-type': b.contentType }, body: b.body });
          bytes += b.body.reduce((n, c) => n + c.length, 0);
        }
      }),
    );
    return { bytes, seconds: (performance.now() - t0) / 1000, count: total };
  })();
  say(`  → ${MBps(upload).toFixed(0)} MB/s`);

  say(`Limit: loopback HTTP download of the series as one body, ${options.clients} clients × ${options.wadoRounds} ...`);
  await call(`${url}/series`, {}); // warm-up and page cache
  const download = await (async () => {
    let bytes = 0;
    let count = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: options.clients }, async () => {
        for (let r = 0; r < options.wadoRounds; r++) {
          const reply = await call(`${url}/series`, {});
          if (reply.bytes !== series.bytes) throw new Error(`the file server sent ${reply.bytes} bytes, not ${series.bytes}`);
          bytes += reply.bytes;
          count++;
        }
      }),
    );
    return { bytes, seconds: (performance.now() - t0) / 1000, count };
  })();
  say(`  → ${MBps(download).toFixed(0)} MB/s`);

  say('Floor: GET answered {} by the same server, 1 client, 300 requests ...');
  const latencies: number[] = [];
  for (let i = 0; i < 330; i++) {
    const t0 = performance.now();
    await call(`${url}/studies?PatientID=X&limit=100`, {});
    if (i >= 30) latencies.push(performance.now() - t0);
  }
  const floorMs = percentile(latencies.sort((a, b) => a - b), 50);
  say(`  → p50 ${floorMs.toFixed(2)} ms`);
  await stop();
  return { fsync, upload, download, floorMs };
}
