// Builds the browser viewer (viewer/) into viewer/dist with esbuild: the JPEG lossless worker
// first (its hashed file name is compiled into the app), then the app and its stylesheet, then
// index.html naming the hashed files. Hashed names let the hub cache assets for a year.
//
//   node --import tsx scripts/build-viewer.ts             build
//   node --import tsx scripts/build-viewer.ts --if-stale  build only when a source is newer than dist
//
// The build goes to a temporary folder and replaces dist at the end, so a running hub never
// serves a half-written build.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';

export const VIEWER_ROOT = resolve(fileURLToPath(new URL('../viewer', import.meta.url)));
export const VIEWER_DIST = join(VIEWER_ROOT, 'dist');
const STAMP = 'build-info.json';
// Browsers a clinic's reading room may have (Chromium-based on Windows and Kylin/UOS, Firefox ESR).
const TARGETS = ['chrome103', 'edge103', 'firefox115', 'safari16'];

/** Newest modification time (ms) of the files the build reads from this project. */
/** Hub files the viewer bundles too (one definition of what a doctor's device signs). */
const SHARED_SOURCES = [fileURLToPath(new URL('../server/src/fhir/canonical-json.ts', import.meta.url))];

async function newestSource(): Promise<number> {
  let newest = (await stat(fileURLToPath(import.meta.url))).mtimeMs;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else newest = Math.max(newest, (await stat(path)).mtimeMs);
    }
  };
  await walk(VIEWER_ROOT);
  for (const shared of SHARED_SOURCES) newest = Math.max(newest, (await stat(shared)).mtimeMs);
  return newest;
}

/** True when viewer/dist is missing, unfinished, or older than a source file. */
export async function viewerIsStale(): Promise<boolean> {
  try {
    const built = (await stat(join(VIEWER_DIST, STAMP))).mtimeMs;
    return built < (await newestSource());
  } catch {
    return true;
  }
}

function outputFor(metafile: Metafile, entry: string, outDir: string): { js: string; css?: string } {
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (output.entryPoint && resolve(output.entryPoint) === resolve(entry)) {
      return { js: relative(outDir, resolve(file)), css: output.cssBundle ? relative(outDir, resolve(output.cssBundle)) : undefined };
    }
  }
  throw new Error(`esbuild produced no output for ${entry}`);
}

/** Builds the viewer into viewer/dist; returns the files index.html names. */
export async function buildViewer(options: { log?: (line: string) => void } = {}): Promise<{ script: string; style?: string; worker: string }> {
  const temp = join(VIEWER_ROOT, `.dist-${process.pid}-${Date.now()}`);
  const assets = join(temp, 'assets');
  await mkdir(assets, { recursive: true });
  try {
    const common = {
      bundle: true,
      minify: true,
      sourcemap: 'linked' as const,
      target: TARGETS,
      platform: 'browser' as const,
      outdir: assets,
      entryNames: '[name]-[hash]',
      metafile: true,
      logLevel: 'warning' as const,
      define: { 'process.env.NODE_ENV': '"production"' },
      tsconfig: join(VIEWER_ROOT, 'tsconfig.json'),
    };
    const workerEntry = join(VIEWER_ROOT, 'src/workers/jpeg-lossless-worker.ts');
    // A classic worker (iife): module workers are still missing from some browsers clinics run.
    const worker = await build({ ...common, entryPoints: [workerEntry], format: 'iife' });
    const workerFile = outputFor(worker.metafile!, workerEntry, assets).js;
    const appEntry = join(VIEWER_ROOT, 'src/main.ts');
    const app = await build({
      ...common,
      entryPoints: [appEntry],
      format: 'esm',
      define: { ...common.define, __JPEG_LOSSLESS_WORKER__: JSON.stringify(workerFile) },
    });
    const { js, css } = outputFor(app.metafile!, appEntry, assets);
    const template = await readFile(join(VIEWER_ROOT, 'index.html'), 'utf8');
    const html = template
      .replace('<!-- STYLE -->', css ? `<link rel="stylesheet" href="assets/${css}">` : '')
      .replace('<!-- SCRIPT -->', `<script type="module" src="assets/${js}"></script>`);
    await writeFile(join(temp, 'index.html'), html);
    const files = { script: js, style: css, worker: workerFile };
    // Written last: its time is what viewerIsStale compares with.
    await writeFile(join(temp, STAMP), `${JSON.stringify({ builtAt: new Date().toISOString(), ...files }, null, 2)}\n`);
    await rm(VIEWER_DIST, { recursive: true, force: true });
    try {
      await rename(temp, VIEWER_DIST);
    } catch (err) {
      // Another process finished a build at the same moment: theirs is as good as ours.
      if (!(await viewerIsStale())) return files;
      throw err;
    }
    options.log?.(`viewer built: ${relative(process.cwd(), VIEWER_DIST)}/ (${basename(js)}${css ? `, ${basename(css)}` : ''}, ${basename(workerFile)})`);
    return files;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** Builds when stale; for `npm start` and the browser tests. */
export async function ensureViewerBuilt(options: { log?: (line: string) => void } = {}): Promise<'fresh' | 'built'> {
  if (!(await viewerIsStale())) return 'fresh';
  await buildViewer(options);
  return 'built';
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const work = process.argv.includes('--if-stale') ? ensureViewerBuilt({ log }).then((r) => r === 'fresh' && log('viewer is up to date')) : buildViewer({ log });
  work.catch((err: Error) => {
    process.stderr.write(`viewer build failed: ${err.message}\n`);
    process.exit(1);
  });
}
