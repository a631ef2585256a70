// `npm run bench:viewer [-- --runs N] [--passes N] [--slices N] [--log-level L] [--no-docs]
//                       [--doc FILE] [--watchdog-minutes M]`
//
// The browser viewer (/viewer/) in headless Chromium, each figure beside a baseline measured in
// the same page in the same run:
//   1. data: a CT series of N slices (200; 512×512×16-bit, explicit VR LE) built in a temp dir
//      from the ct-10 test slices with DCMTK's dcmodify (dicom-series.ts);
//   2. the real hub in a child process (server.ts) on embedded PGlite with its data dir (database
//      and blobs) in that temp dir, on 127.0.0.1; the series stored by STOW-RS, a doctor account,
//      the study shared with the doctor (viewer-hub.ts); the viewer built when stale;
//   3. Chromium as the browser tests launch it (viewer-browser.ts), HTTP cache off, signed in;
//   4. first image (viewer-measure.ts, viewer-page-first.ts): per run a fresh page at the
//      worklist; the baseline fetches the same requests with plain fetch and draws slice 1 on a
//      canvas; then the viewer opens the study until its viewport has drawn slice 1;
//   5. scrolling (viewer-page-scroll.ts): every slice displayed once, then passes over the stack
//      with one arrow key per animation frame, renders counted; the baseline draws the same frames
//      with putImageData, one per animation frame.
// Prints a table and writes it to docs/PERFORMANCE.md ("## Viewer benchmark") unless --no-docs.
// The hub, the browser and the temp dir are removed on every way out (Ctrl-C included).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { newBootstrapClient } from '../../test/helpers/auth.js';
import { canvasStats, looksLikeAnImage } from '../../test/helpers/browser.js';
import { chromiumUnavailable } from '../../test/helpers/parts.js';
import { ensureViewerBuilt } from '../build-viewer.js';
import { startServer } from './child-server.js';
import { Cleanups, runToEnd } from './cleanups.js';
import { writeDocSubsection } from './doc-section.js';
import { buildSeries, CT_SOURCE } from './dicom-series.js';
import { uidFor } from './dicom-studies.js';
import { mdTable, textTable } from './report.js';
import { launchBenchBrowser, signIn } from './viewer-browser.js';
import { resultsBody, INTRO } from './viewer-doc.js';
import { createDoctor, storeSeries } from './viewer-hub.js';
import { measureFirstImage, measureScroll } from './viewer-measure.js';
import { firstImageNotes, phaseCells, PHASE_HEADER, REQUEST_HEADER, requestCells, RESULT_HEADER, resultCells } from './viewer-report.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = resolve(ROOT, 'docs/PERFORMANCE.md');

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    passes: { type: 'string', default: '3' },
    slices: { type: 'string', default: '200' },
    'log-level': { type: 'string', default: 'info' },
    'no-docs': { type: 'boolean', default: false },
    doc: { type: 'string' },
    'watchdog-minutes': { type: 'string', default: '20' },
  },
});
const int = (name: string, value: string | undefined, min: number, max: number): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number ${min}..${max}`);
  return n;
};
const say = (line: string) => process.stdout.write(`${line}\n`);

const cleanups = new Cleanups(say);
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say(`${signal}: closing the browser, stopping the hub, removing the temp dir (again to leave at once) ...`);
    void cleanups.run().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const runs = int('runs', args.runs, 1, 100);
  const passes = int('passes', args.passes, 1, 50);
  const slices = int('slices', args.slices, 2, 2000);
  const watchdogMinutes = int('watchdog-minutes', args['watchdog-minutes'], 1, 1440);
  setTimeout(() => {
    say(`Watchdog: the benchmark ran for ${watchdogMinutes} minutes; stopping.`);
    interrupted = true;
    void cleanups.run().finally(() => process.exit(1));
  }, watchdogMinutes * 60_000).unref();

  if (spawnSync('which', ['dcmodify']).status !== 0) throw new Error('DCMTK is not installed (no dcmodify on the PATH): the CT series is built with it. Debian: apt-get install dcmtk');
  const noChromium = await chromiumUnavailable();
  if (noChromium) throw new Error(`${noChromium}: the benchmark drives Debian's /usr/bin/chromium (apt-get install chromium)`);

  const cpus = os.cpus();
  const loadBefore = os.loadavg()[0];
  say(`Suhe viewer benchmark: ${cpus.length} cores, Node ${process.version}; ${runs} first-image runs, ${passes} scroll passes over ${slices} slices; stops itself after ${watchdogMinutes} minutes`);
  if (loadBefore > cpus.length / 2) say(`Note: load average ${loadBefore.toFixed(2)} on ${cpus.length} cores: other work is running, numbers will be noisy.`);

  const work = mkdtempSync(join(os.tmpdir(), 'suhe-bench-viewer-'));
  cleanups.push(async () => rmSync(work, { recursive: true, force: true }));

  const built = await ensureViewerBuilt({ log: say });
  say(built === 'fresh' ? 'Viewer build is up to date.' : 'Viewer built.');

  const tag = `viewer:${Date.now()}`;
  say(`Building a ${slices}-slice CT series from ${CT_SOURCE} with dcmodify ...`);
  const series = await buildSeries(join(work, 'series'), slices, uidFor(`${tag}:study`), uidFor(`${tag}:series`));
  say(`  → ${(series.bytes / 1e6).toFixed(1)} MB`);

  const admin = newBootstrapClient();
  say(`Starting the hub on PGlite in ${join(work, 'hub')} (child process, log level ${args['log-level']}) ...`);
  const hub = await startServer(['hub', `dir:${join(work, 'hub')}`, args['log-level']!], { client: admin, onStart: (stop) => cleanups.push(stop), say });
  say(`  hub at ${hub.url} (${hub.database?.split(',')[0]})`);
  await storeSeries(hub.url, admin, series);
  const doctor = await createDoctor(hub.url, admin, series.studyUid);
  say(`  stored ${slices} instances by STOW-RS; doctor '${doctor.username}' can read the study (shared)`);

  say('Launching Chromium and signing in ...');
  const bench = await launchBenchBrowser((close) => cleanups.push(close));
  await signIn(bench.page, hub.url, doctor);
  say(`  ${bench.version}, signed in`);

  const measured = async () => {
    say(`First image: ${runs} runs after one warm-up, each on a fresh page ...`);
    const first = await measureFirstImage(bench.page, series.studyUid, doctor.displayName, runs, () => hub.cpuMs(), say);
    const stats = await canvasStats(bench.page);
    if (!looksLikeAnImage(stats)) throw new Error(`the viewport does not show an image after opening the study: ${JSON.stringify(stats)}`);
    say(`Scrolling: ${passes} passes over ${slices} slices ...`);
    return { first, scroll: await measureScroll(bench.page, series.studyUid, series.seriesUid, passes, say) };
  };
  const { first, scroll } = await measured().catch(async (err: unknown) => {
    // What the page showed, for the failure's reader.
    const shown = await bench.page
      .evaluate(() => ({ url: location.href, viewport: { ...document.querySelector<HTMLElement>('[data-testid="viewport"]')?.dataset }, text: document.body.innerText.slice(0, 500) }))
      .catch((e: Error) => e.message);
    say(`The page: ${JSON.stringify(shown)}`);
    say(`Page errors: ${bench.browser.pageErrors.join(' | ') || 'none'}; console errors: ${bench.browser.consoleErrors.join(' | ') || 'none'}`);
    throw err;
  });
  if (bench.browser.pageErrors.length) say(`Page errors: ${bench.browser.pageErrors.join(' | ')}`);
  if (interrupted) return;

  const results = resultCells(first, scroll);
  const phases = phaseCells(first);
  const requests = requestCells(first);
  const notes = firstImageNotes(first);
  say('');
  say(textTable(RESULT_HEADER, results));
  say('');
  say(textTable(PHASE_HEADER, phases));
  say('');
  say(textTable(REQUEST_HEADER, requests));
  for (const note of notes) say(`- ${note}`);

  const body = resultsBody({
    when: new Date().toISOString(),
    command: 'npm run bench:viewer',
    cpus,
    loadBefore,
    loadAfter: os.loadavg()[0],
    browser: bench.version,
    canvas: first[0]?.viewer.canvas ?? [0, 0],
    database: hub.database?.split(',')[0] ?? 'PGlite',
    logLevel: args['log-level']!,
    series: { slices, bytes: series.bytes },
    runs,
    passes,
    scroll,
    tables: [mdTable(RESULT_HEADER, results), mdTable(PHASE_HEADER, phases), mdTable(REQUEST_HEADER, requests)],
    notes,
    pageErrors: bench.browser.pageErrors,
  });
  if (args['no-docs']) say('\n(docs/PERFORMANCE.md not written: --no-docs)');
  else {
    const doc = args.doc ? resolve(args.doc) : DOC;
    writeDocSubsection(doc, '## Viewer benchmark', INTRO, '### Results', body);
    say(`\nWrote "Results" in the section "Viewer benchmark" of ${doc}`);
  }
  say(`Done in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

await runToEnd(main, cleanups, say, () => interrupted);
