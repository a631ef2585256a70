// Builds the imaging benchmark's CT series in a temp dir: copies of the 512×512 CT slices of
// ../shared/testdata/dicom/series/ct-10, cycled to N instances, each made a new instance of one
// study and series with DCMTK's dcmodify (new SOP Instance UID, the given Study and Series
// Instance UIDs, InstanceNumber 1..N). The test data is only read; nothing goes into the repo.
import { spawn } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CT_SOURCE = resolve(fileURLToPath(new URL('../../../shared/testdata/dicom/series/ct-10', import.meta.url)));

export interface SeriesFiles {
  studyUid: string;
  seriesUid: string;
  /** In InstanceNumber order. */
  paths: string[];
  /** Bytes of all files. */
  bytes: number;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`${cmd} ${args.slice(-1)[0]}: exit ${code}: ${err.trim().slice(0, 300)}`))));
  });
}

/** `count` instances of one new series in `dir` (created), `parallel` dcmodify processes at a time. */
export async function buildSeries(dir: string, count: number, studyUid: string, seriesUid: string, parallel = 2): Promise<SeriesFiles> {
  const sources = readdirSync(CT_SOURCE).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(CT_SOURCE, f));
  if (!sources.length) throw new Error(`no .dcm files in ${CT_SOURCE}`);
  mkdirSync(dir, { recursive: true });
  const paths = Array.from({ length: count }, (_, i) => join(dir, `ct-${String(i + 1).padStart(4, '0')}.dcm`));
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = next++; i < count; i = next++) {
        copyFileSync(sources[i % sources.length], paths[i]);
        chmodSync(paths[i], 0o644); // the test data is read-only
        await run('dcmodify', ['-nb', '-gin', '-m', `(0020,000d)=${studyUid}`, '-m', `(0020,000e)=${seriesUid}`, '-m', `(0020,0013)=${i + 1}`, paths[i]]);
      }
    }),
  );
  return { studyUid, seriesUid, paths, bytes: paths.reduce((n, p) => n + statSync(p).size, 0) };
}
