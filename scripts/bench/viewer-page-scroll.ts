// Page side of the viewer benchmark: stack scrolling once every frame is cached. One key per
// animation frame (ArrowDown through the stack, ArrowUp back, …), and every render the viewport
// reports (data-renders, set on cornerstone's IMAGE_RENDERED) timestamped as it happens. The
// baseline puts the same frames, already windowed, on a plain canvas with putImageData, one per
// animation frame: the most this page can show per second here.
import { press, settledAt, stackLength, until, viewportElement } from './viewer-page-dom.js';
import { dicomweb, frameSamples, get, getJson, plainCanvas, stackOrder, UNCOMPRESSED, windowed } from './viewer-page-plain.js';

const HANG_MS = 60_000;

export interface ScrollRun {
  /** Images drawn (viewer: renders; baseline: putImageData calls), and how many differed from the one before. */
  draws: number;
  distinct: number;
  keys: number;
  /** Animation frames the loop ran, and its wall time (first key → last draw), ms. */
  frames: number;
  ms: number;
  /** Intervals between consecutive draws, ms. */
  intervals: number[];
  slices: number;
}

/** Displays every slice once (ArrowDown, waiting until each is drawn), then goes back to slice 1 (Home). */
export async function warmStack(): Promise<{ slices: number; ms: number }> {
  const v = viewportElement();
  if (!v || !settledAt(v, 0)) throw new Error('warmStack: the viewport is not showing slice 1');
  const slices = stackLength();
  const t0 = performance.now();
  for (let i = 1; i < slices; i++) {
    press(v, 'ArrowDown');
    await until(() => settledAt(v, i), HANG_MS, `slice ${i + 1} on screen`);
  }
  const ms = performance.now() - t0;
  press(v, 'Home');
  await until(() => settledAt(v, 0), HANG_MS, 'slice 1 on screen again');
  return { slices, ms };
}

/** The key sequence of `passes` passes: down through the stack, up, down, … */
function path(slices: number, passes: number): { keys: string[]; indices: number[] } {
  const keys: string[] = [];
  const indices: number[] = [];
  let at = 0;
  for (let p = 0; p < passes; p++) {
    for (let i = 1; i < slices; i++) {
      const down = p % 2 === 0;
      keys.push(down ? 'ArrowDown' : 'ArrowUp');
      at += down ? 1 : -1;
      indices.push(at);
    }
  }
  return { keys, indices };
}

/** Runs `step(i)` for i = 0..count-1, one per animation frame; answers the frames run and when the first began. */
function perFrame(count: number, step: (i: number) => void): Promise<{ frames: number; start: number }> {
  return new Promise((resolve) => {
    let i = 0;
    let start = 0;
    const tick = () => {
      if (i === 0) start = performance.now();
      if (i < count) {
        step(i++);
        requestAnimationFrame(tick);
      } else resolve({ frames: i, start });
    };
    requestAnimationFrame(tick);
  });
}

export async function scrollViewer(passes: number): Promise<ScrollRun> {
  const v = viewportElement();
  if (!v || !settledAt(v, 0)) throw new Error('scrollViewer: the viewport is not showing slice 1');
  const slices = stackLength();
  const { keys, indices } = path(slices, passes);
  const draws: { at: number; imageId: string }[] = [];
  const observer = new MutationObserver((records) => {
    const at = performance.now();
    for (const r of records) if (r.attributeName === 'data-renders') draws.push({ at, imageId: v.dataset.renderedImageId ?? '' });
  });
  observer.observe(v, { attributes: true, attributeFilter: ['data-renders'] });
  const { frames, start } = await perFrame(keys.length, (i) => press(v, keys[i]));
  await until(() => settledAt(v, indices[indices.length - 1]), HANG_MS, 'the last slice of the scroll on screen');
  observer.disconnect();
  return summary(draws, start, keys.length, frames, slices);
}

/** The same path over the same frames (plain fetch, windowed beforehand), putImageData per animation frame. */
export async function scrollBaseline(studyUid: string, seriesUid: string, passes: number): Promise<ScrollRun & { fetchMs: number }> {
  const t0 = performance.now();
  const base = `${dicomweb()}/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(seriesUid)}`;
  const order = stackOrder(await getJson(`${base}/metadata`));
  const images: ImageData[] = new Array(order.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let i = next++; i < order.length; i = next++) {
        const res = await get(`${base}/instances/${encodeURIComponent(order[i].uid)}/frames/1`, UNCOMPRESSED);
        images[i] = windowed(await frameSamples(res, order[i].meta), order[i].meta);
      }
    }),
  );
  const fetchMs = performance.now() - t0;
  const canvas = plainCanvas(images[0].width, images[0].height);
  const context = canvas.getContext('2d')!;
  context.putImageData(images[0], 0, 0);
  const { indices } = path(order.length, passes);
  const draws: { at: number; imageId: string }[] = [];
  const { frames, start } = await perFrame(indices.length, (i) => {
    context.putImageData(images[indices[i]], 0, 0);
    draws.push({ at: performance.now(), imageId: order[indices[i]].uid });
  });
  canvas.remove();
  return { ...summary(draws, start, indices.length, frames, order.length), fetchMs };
}

function summary(draws: { at: number; imageId: string }[], start: number, keys: number, frames: number, slices: number): ScrollRun {
  const end = draws.length ? draws[draws.length - 1].at : start;
  return {
    draws: draws.length,
    distinct: draws.filter((d, i) => i === 0 || d.imageId !== draws[i - 1].imageId).length,
    keys,
    frames,
    ms: end - start,
    intervals: draws.slice(1).map((d, i) => d.at - draws[i].at),
    slices,
  };
}
