// Page side of the viewer benchmark: time to the first image. The viewer's is measured from
// setting location.hash to #/study/<uid> (from the worklist) until its viewport has drawn slice 1;
// the baseline's from its first fetch until slice 1 is on a plain canvas, making the same
// requests as the viewer (study-data.ts, frame-fetch.ts) one after another in the same order:
//   QIDO-RS study + series (together) → QIDO-RS instances + series metadata (together) → frame 1.
import { settledAt, timingsSince, until, viewportElement, type Timing } from './viewer-page-dom.js';
import { dicomweb, frameSamples, get, getJson, plainCanvas, stackOrder, UNCOMPRESSED, windowed } from './viewer-page-plain.js';

const HANG_MS = 60_000;

export interface ViewerFirstImage {
  /** Navigation → slice 1 drawn by cornerstone (IMAGE_RENDERED). */
  ms: number;
  /** Navigation → data-state 'ready': decoded and handed to cornerstone, not yet drawn. */
  readyMs: number;
  imageId: string;
  /** The viewport canvas' size in device pixels. */
  canvas: [number, number];
}

export interface BaselineFirstImage {
  ms: number;
  /** Start → study and series JSON parsed; → instances and metadata JSON parsed; → slice 1 chosen. */
  qidoParsedMs: number;
  stackParsedMs: number;
  orderedMs: number;
  /** Start → the frame's samples read from the response. */
  samplesMs: number;
  /** Start → the windowed ImageData made (before putImageData). */
  decodedMs: number;
  instanceUid: string;
  timings: Timing[];
}

let viewerStart = 0;

/** Opens the study from wherever the page is (the worklist) and waits for slice 1 on screen. */
export async function viewerFirstImage(studyUid: string): Promise<ViewerFirstImage> {
  performance.clearResourceTimings();
  let readyAt: number | undefined;
  const t0 = performance.now();
  viewerStart = t0;
  const drawn = until(
    () => {
      const v = viewportElement();
      if (v?.dataset.index === '0' && v.dataset.state === 'ready') readyAt ??= performance.now();
      return settledAt(v, 0);
    },
    HANG_MS,
    'slice 1 of the study on screen',
  );
  location.hash = `#/study/${studyUid}`;
  const t1 = await drawn;
  const v = viewportElement()!;
  const canvas = v.querySelector('canvas');
  return { ms: t1 - t0, readyMs: (readyAt ?? t1) - t0, imageId: v.dataset.imageId ?? '', canvas: [canvas?.width ?? 0, canvas?.height ?? 0] };
}

/** The requests the last viewerFirstImage made so far (call a moment later: entries appear when a body is read). */
export function viewerTimings(): Timing[] {
  return timingsSince(viewerStart);
}

/** Main-thread tasks of 50 ms or more since the last viewerFirstImage began: [start, duration] ms. */
export function viewerLongTasks(): [number, number][] {
  return longTasks.filter((t) => t[0] >= viewerStart).map(([start, duration]) => [start - viewerStart, duration]);
}

const longTasks: [number, number][] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) longTasks.push([e.startTime, e.duration]);
}).observe({ type: 'longtask' });

export async function baselineFirstImage(studyUid: string): Promise<BaselineFirstImage> {
  performance.clearResourceTimings();
  const t0 = performance.now();
  const uid = encodeURIComponent(studyUid);
  const [, series] = await Promise.all([getJson(`${dicomweb()}/studies?StudyInstanceUID=${uid}`), getJson(`${dicomweb()}/studies/${uid}/series?includefield=0008103E`)]);
  const seriesUid = String(series[0]?.['0020000E']?.Value?.[0] ?? '');
  if (!seriesUid) throw new Error('baseline: the study has no series');
  const base = `${dicomweb()}/studies/${uid}/series/${encodeURIComponent(seriesUid)}`;
  const qidoParsed = performance.now();
  const [, metadata] = await Promise.all([getJson(`${base}/instances?limit=1000&offset=0`), getJson(`${base}/metadata`)]);
  const stackParsed = performance.now();
  const [first] = stackOrder(metadata);
  const ordered = performance.now();
  if (!first) throw new Error('baseline: the series has no images');
  const res = await get(`${base}/instances/${encodeURIComponent(first.uid)}/frames/1`, UNCOMPRESSED);
  const samples = await frameSamples(res, first.meta);
  const t1 = performance.now();
  const image = windowed(samples, first.meta);
  const t2 = performance.now();
  const canvas = plainCanvas(image.width, image.height);
  canvas.getContext('2d')!.putImageData(image, 0, 0);
  const t3 = performance.now();
  canvas.remove();
  return { ms: t3 - t0, qidoParsedMs: qidoParsed - t0, stackParsedMs: stackParsed - t0, orderedMs: ordered - t0, samplesMs: t1 - t0, decodedMs: t2 - t0, instanceUid: first.uid, timings: timingsSince(t0) };
}
