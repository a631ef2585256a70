// The viewer benchmark's section of docs/PERFORMANCE.md: the section's introduction (how to run
// it, what is measured and how) and the body of its "### Results" subsection, rewritten by
// every run; hand-written subsections after it are kept (doc-section.ts).
import type os from 'node:os';
import { CHROMIUM_FLAGS } from '../../test/helpers/browser.js';
import { formatNumber } from './report.js';
import type { ScrollResult } from './viewer-measure.js';

export const INTRO = `
\`npm run bench:viewer\` (scripts/bench/viewer.ts) measures the browser viewer (\`/viewer/\`) in
headless Chromium, each figure beside a baseline measured in the same page in the same run:

\`\`\`sh
npm run bench:viewer                      # 7 first-image runs, 3 scroll passes over a 200-slice CT; 3–4 minutes
npm run bench:viewer -- --runs 15 --passes 5 --no-docs
\`\`\`

Options: \`--runs N\` (7), \`--passes N\` (3), \`--slices N\` (200), \`--log-level L\` (the hub's,
\`info\`), \`--no-docs\`, \`--doc FILE\`. It needs DCMTK (\`dcmodify\`) and Debian's \`chromium\`
(driven by playwright-core, as the browser tests do; nothing is downloaded).

- **Set-up.** A CT series of 200 slices (512×512, 16-bit, explicit VR little endian) built from
  the ct-10 test slices with dcmodify; the real hub in a child process on embedded PGlite, its
  data dir (database and blobs) in a temp dir, on 127.0.0.1; the series stored by STOW-RS; a
  doctor account with the study shared to it; Chromium launched as the browser tests launch it,
  signed in on the hub's login page.
- **No HTTP cache.** The hub answers DICOMweb with \`Cache-Control: private, no-cache\` and an
  ETag, so a browser that kept the answers would revalidate them and get 304s without bodies.
  The benchmark switches the browser's cache off over CDP (\`Network.setCacheDisabled\`). The
  Resource Timing statuses are listed with the results: every request must be a 200.
- **First image.** Each run reloads the viewer at the worklist, so cornerstone's image cache is
  empty. The **baseline** then runs in that page. It makes the viewer's requests with plain
  \`fetch\`, with the same URLs, Accept headers and token, and in the same order:
  1. QIDO-RS study and series, together;
  2. QIDO-RS instances and the series metadata, together;
  3. frame 1 of the first slice, as explicit VR little endian.

  It then takes the part's bytes as 16-bit samples, windows them into an \`ImageData\` and draws
  it with \`putImageData\`. Then the **viewer** opens the study: the clock starts when
  \`location.hash\` becomes \`#/study/<uid>\`. It stops when the viewport's \`data-state\` is
  \`ready\` at index 0 and \`data-rendered-image-id\` equals \`data-image-id\`, that is, when
  cornerstone has drawn slice 1. A MutationObserver takes that time in the page.
  Each of the two starts once the hub has been idle for 0.6 s, since the audit trail of
  earlier requests is written in the background. Run 0 warms the hub and is not counted.
- **Scrolling.** Every slice is first displayed once, so all 200 are in cornerstone's cache.
  Then one arrow key is dispatched per animation frame (\`requestAnimationFrame\`): down through
  the stack, up, down again. Each render is counted as the viewport reports it (\`data-renders\`,
  set on cornerstone's IMAGE_RENDERED) over the wall time in the page, from the first key to the
  last render. The baseline fetches the same frames with plain \`fetch\` and windows them
  beforehand. It then draws them along the same path with \`putImageData\` on a plain 512×512
  canvas, one per animation frame: the most this page can show per second here.
- **Goals (the issue).** The first image within 1.5× the baseline; scrolling at ≥ 30 fps once
  the frames are cached.
`;

export interface ResultsInput {
  when: string;
  command: string;
  cpus: os.CpuInfo[];
  loadBefore: number;
  loadAfter: number;
  browser: string;
  canvas: [number, number];
  database: string;
  logLevel: string;
  series: { slices: number; bytes: number };
  runs: number;
  passes: number;
  scroll: ScrollResult;
  /** Markdown tables: results, first-image steps, requests. */
  tables: [string, string, string];
  notes: string[];
  pageErrors: string[];
}

export function resultsBody(r: ResultsInput): string {
  const [results, phases, requests] = r.tables;
  const { warm, viewer, baseline } = r.scroll;
  return [
    `Measured ${r.when} by \`${r.command}\` (scripts/bench/viewer.ts).`,
    '',
    `- Machine: ${r.cpus.length} cores (${r.cpus[0]?.model.trim() ?? 'unknown CPU'}); Node ${process.version}; load average ${r.loadBefore.toFixed(2)} at the start, ${r.loadAfter.toFixed(2)} at the end`,
    `- Browser: ${r.browser} (Debian's chromium, headless, software rendering: \`${CHROMIUM_FLAGS.join(' ')}\`), window 1366×768, viewport canvas ${r.canvas[0]}×${r.canvas[1]} px; HTTP cache off (CDP \`Network.setCacheDisabled\`)`,
    `- Hub: \`createHub\` in a child process on 127.0.0.1, ${r.database}, data dir (database and blobs) in a temp dir, log level ${r.logLevel}`,
    `- Data: a CT series of ${r.series.slices} slices (${(r.series.bytes / 1e6).toFixed(1)} MB; 512×512×16-bit, explicit VR LE), built from the 10 ct-10 test slices with dcmodify, so 20 instances share each slice position (the viewer orders them by Instance Number)`,
    `- Runs: ${r.runs} first-image runs after one warm-up, each on a freshly loaded page (baseline first, then the viewer, each once the hub was idle); ${r.passes} scroll pass${r.passes === 1 ? '' : 'es'} of ${r.series.slices - 1} keys each`,
    '',
    results,
    '',
    'Ratio: viewer ÷ baseline (for milliseconds, above 1 is slower). Where the time of the first image goes:',
    '',
    phases,
    '',
    'The steps come from each run\'s Resource Timing: the medians of each step do not add up to the median total exactly.',
    '',
    requests,
    '',
    ...r.notes.map((n) => `- ${n}`),
    `- scrolling: before the timed passes every slice was displayed once, one after another, in ${(warm.ms / 1000).toFixed(1)} s (${formatNumber(warm.ms / Math.max(1, warm.slices - 1))} ms a slice, prefetch of the five neighbours either side included). The viewer: ${viewer.keys} keys in ${viewer.frames} animation frames, ${viewer.draws} renders (${viewer.distinct} of a slice other than the one before) in ${(viewer.ms / 1000).toFixed(2)} s. The baseline: ${baseline.draws} putImageData calls in ${(baseline.ms / 1000).toFixed(2)} s; fetching and windowing its ${baseline.slices} frames with plain fetch took ${(baseline.fetchMs / 1000).toFixed(1)} s beforehand`,
    ...(r.pageErrors.length ? [`- errors in the page during the run: ${r.pageErrors.join(' | ')}`] : []),
  ].join('\n');
}
