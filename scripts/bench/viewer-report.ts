// The viewer benchmark's numbers: medians and p90s, the result table against the issue's goals,
// and where the first image's time goes, from the Resource Timing of each run's requests.
import type { FirstImageRun, ScrollResult } from './viewer-measure.js';
import type { Timing } from './viewer-page-dom.js';
import { formatNumber } from './report.js';

export const GOALS = { firstImageRatio: 1.5, scrollFps: 30 };

export function quantile(values: number[], q: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (at - low);
}
const median = (values: number[]) => quantile(values, 0.5);
const ms = (n: number) => (Number.isFinite(n) ? `${formatNumber(n)} ms` : '—');

export const RESULT_HEADER = ['metric', 'viewer', 'baseline', 'ratio', 'goal', 'status'];

/** Draws per second over the loop's wall time (first key → last draw). */
export function fps(run: { draws: number; ms: number }): number {
  return run.ms > 0 ? (run.draws * 1000) / run.ms : Number.NaN;
}

export function resultCells(first: FirstImageRun[], scroll: ScrollResult): string[][] {
  const v = first.map((r) => r.viewer.ms);
  const b = first.map((r) => r.baseline.ms);
  const ratio = median(v) / median(b);
  const viewerFps = fps(scroll.viewer);
  const baselineFps = fps(scroll.baseline);
  const status = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const interval = (run: { intervals: number[] }, q: number) => ms(quantile(run.intervals, q));
  return [
    [`first image, median of ${first.length}`, ms(median(v)), `${ms(median(b))} (plain fetch + decode + putImageData)`, `${ratio.toFixed(2)}×`, `≤ ${GOALS.firstImageRatio}×`, status(ratio <= GOALS.firstImageRatio)],
    [`first image, p90 of ${first.length}`, ms(quantile(v, 0.9)), ms(quantile(b, 0.9)), `${(quantile(v, 0.9) / quantile(b, 0.9)).toFixed(2)}×`, '—', ''],
    [`first image, per-run ratio (median, range)`, '', '', `${median(first.map((r) => r.viewer.ms / r.baseline.ms)).toFixed(2)}× (${Math.min(...first.map((r) => r.viewer.ms / r.baseline.ms)).toFixed(2)}–${Math.max(...first.map((r) => r.viewer.ms / r.baseline.ms)).toFixed(2)})`, '—', ''],
    [`stack scroll, frames cached (${scroll.viewer.keys} keys, one per animation frame)`, `${formatNumber(viewerFps)} fps`, `${formatNumber(baselineFps)} fps (putImageData per animation frame)`, `${(viewerFps / baselineFps).toFixed(2)}×`, `≥ ${GOALS.scrollFps} fps`, status(viewerFps >= GOALS.scrollFps)],
    ['stack scroll, interval between draws p50 / p95 / max', `${interval(scroll.viewer, 0.5)} / ${interval(scroll.viewer, 0.95)} / ${ms(Math.max(...scroll.viewer.intervals))}`, `${interval(scroll.baseline, 0.5)} / ${interval(scroll.baseline, 0.95)} / ${ms(Math.max(...scroll.baseline.intervals))}`, '—', '—', ''],
  ];
}

// ---------------------------------------------------------------------------------------------
// Where the first image's time goes

interface Phases {
  toFirstRequest: number;
  qido: number;
  toStackRequests: number;
  stack: number;
  toFrameRequest: number;
  frameWait: number;
  frameBody: number;
  decode: number;
  draw: number;
  total: number;
}

const PHASE_LABELS: [keyof Phases, string][] = [
  ['toFirstRequest', 'route change → first request sent (the reading screen built)'],
  ['qido', 'QIDO-RS study + series, in parallel (first sent → last answered)'],
  ['toStackRequests', '→ instances + metadata requests sent (series list built)'],
  ['stack', 'QIDO-RS instances + series metadata, in parallel'],
  ['toFrameRequest', '→ frame request sent (stack built and ordered)'],
  ['frameWait', 'frame 1: request sent → first byte'],
  ['frameBody', 'frame 1: first byte → last byte'],
  ['decode', 'last byte → image ready (multipart, pixels, min/max; baseline: window into ImageData)'],
  ['draw', 'image ready → on the canvas (viewer: next animation frame + cornerstone render; baseline: putImageData)'],
  ['total', 'total'],
];

function one(timings: Timing[], kind: string, urlPart?: string): Timing | undefined {
  return timings.find((t) => t.kind === kind && (!urlPart || t.url.includes(urlPart)));
}

function phases(timings: Timing[], frameUrl: string | undefined, readyMs: number, totalMs: number): Phases | undefined {
  const study = one(timings, 'study');
  const series = one(timings, 'series');
  const instances = one(timings, 'instances');
  const metadata = one(timings, 'metadata');
  const frame = frameUrl ? one(timings, 'frame', frameUrl) : one(timings, 'frame');
  if (!study || !series || !instances || !metadata || !frame) return undefined;
  const qidoStart = Math.min(study.start, series.start);
  const qidoEnd = Math.max(study.end, series.end);
  const stackStart = Math.min(instances.start, metadata.start);
  const stackEnd = Math.max(instances.end, metadata.end);
  return {
    toFirstRequest: qidoStart,
    qido: qidoEnd - qidoStart,
    toStackRequests: stackStart - qidoEnd,
    stack: stackEnd - stackStart,
    toFrameRequest: frame.start - stackEnd,
    frameWait: frame.responseStart - frame.start,
    frameBody: frame.end - frame.responseStart,
    decode: readyMs - frame.end,
    draw: totalMs - readyMs,
    total: totalMs,
  };
}

const viewerPhases = (r: FirstImageRun) => phases(r.viewer.timings, r.viewer.imageId.replace(/^suhe:/, ''), r.viewer.readyMs, r.viewer.ms);
const baselinePhases = (r: FirstImageRun) => phases(r.baseline.timings, undefined, r.baseline.decodedMs, r.baseline.ms);

export const PHASE_HEADER = ['step of the first image (median over runs)', 'viewer', 'baseline'];

export function phaseCells(first: FirstImageRun[]): string[][] {
  const v = first.map(viewerPhases).filter((p): p is Phases => !!p);
  const b = first.map(baselinePhases).filter((p): p is Phases => !!p);
  return PHASE_LABELS.map(([key, label]) => [label, ms(median(v.map((p) => p[key]))), ms(median(b.map((p) => p[key])))]);
}

export const REQUEST_HEADER = ['request', 'viewer: sent → answered, ms after the route change (median)', 'viewer: duration', 'baseline: duration', 'bytes'];

export function requestCells(first: FirstImageRun[]): string[][] {
  const kinds: [string, string][] = [
    ['study', 'QIDO-RS /studies?StudyInstanceUID='],
    ['series', 'QIDO-RS /studies/{uid}/series'],
    ['instances', 'QIDO-RS …/series/{uid}/instances'],
    ['metadata', 'WADO-RS …/series/{uid}/metadata'],
    ['frame', 'WADO-RS …/frames/1 of slice 1 (explicit VR LE)'],
    ['thumbnail', 'WADO-RS …/series/{uid}/thumbnail (viewer only)'],
  ];
  return kinds.map(([kind, label]) => {
    const pick = (timings: Timing[], imageId?: string) => one(timings, kind, kind === 'frame' && imageId ? imageId.replace(/^suhe:/, '') : undefined);
    const vt = first.map((r) => pick(r.viewer.timings, r.viewer.imageId)).filter((t): t is Timing => !!t);
    const bt = first.map((r) => pick(r.baseline.timings)).filter((t): t is Timing => !!t);
    return [
      label,
      vt.length ? `${formatNumber(median(vt.map((t) => t.start)))} → ${formatNumber(median(vt.map((t) => t.end)))}` : '—',
      ms(median(vt.map((t) => t.end - t.start))),
      ms(median(bt.map((t) => t.end - t.start))),
      formatNumber(median([...vt, ...bt].map((t) => t.bytes))),
    ];
  });
}

/** Facts worth a line: requests answered other than 200 (a cache would show 304s), prefetches before the first draw. */
export function firstImageNotes(first: FirstImageRun[]): string[] {
  const all = first.flatMap((r) => [...r.viewer.timings, ...r.baseline.timings]).filter((t) => t.kind !== 'other' && t.kind !== 'fhir');
  const statuses = new Map<number, number>();
  for (const t of all) statuses.set(t.status, (statuses.get(t.status) ?? 0) + 1);
  const early = first.map((r) => r.viewer.timings.filter((t) => t.kind === 'frame' && t.start < r.viewer.ms && !r.viewer.imageId.endsWith(t.url)).length);
  const stackEnd = (t: Timing[]) => Math.max(one(t, 'instances')?.end ?? NaN, one(t, 'metadata')?.end ?? NaN);
  const parse = median(first.map((r) => r.baseline.stackParsedMs - stackEnd(r.baseline.timings)));
  const order = median(first.map((r) => r.baseline.orderedMs - r.baseline.stackParsedMs));
  const tasks = first.map((r) => r.viewer.longTasks.filter(([start]) => start < r.viewer.ms));
  const busiest = tasks.reduce((a, b) => (b.reduce((n, t) => n + t[1], 0) > a.reduce((n, t) => n + t[1], 0) ? b : a), []);
  const others = new Map<string, Timing[]>();
  for (const r of first) {
    for (const t of r.viewer.timings) {
      if ((t.kind !== 'other' && t.kind !== 'fhir') || t.start > r.viewer.ms) continue;
      const path = new URL(t.url).pathname.replace(/\/[0-9.]{8,}/g, '/{uid}').replace(/\/[A-Za-z]+\/[A-Za-z0-9-]{8,}$/, '/{type}/{id}');
      others.set(path, [...(others.get(path) ?? []), t]);
    }
  }
  const otherLines = [...others].map(([path, t]) => `${path} (${t.length} in ${first.length} runs, sent ${formatNumber(median(t.map((x) => x.start)))} → answered ${formatNumber(median(t.map((x) => x.end)))} ms, medians)`);
  return [
    `other requests the viewer sent before slice 1 was drawn: ${otherLines.join('; ') || 'none'}`,
    `HTTP statuses of the ${all.length} DICOMweb requests of the counted runs: ${[...statuses].map(([s, n]) => `${s || 'not reported'} × ${n}`).join(', ')}`,
    `frames of other slices requested before slice 1 was drawn (prefetch): ${Math.max(...early)} at most in a run`,
    `baseline, between the last byte of instances + metadata and the frame request: reading both bodies as JSON ${ms(parse)}, choosing slice 1 ${ms(order)} (medians)`,
    `viewer, main-thread tasks of 50 ms or more before slice 1 was drawn: ${median(tasks.map((t) => t.length))} per run (median); the run with the most: ${busiest.map(([start, d]) => `${formatNumber(d)} ms at ${formatNumber(start)} ms`).join(', ') || 'none'}`,
    `hub CPU (user + system) from the first request until the image was drawn: viewer ${ms(median(first.map((r) => r.viewer.hubCpuMs)))}, baseline ${ms(median(first.map((r) => r.baseline.hubCpuMs)))} (medians; the viewer's includes its thumbnail and any prefetch begun by then)`,
  ];
}
