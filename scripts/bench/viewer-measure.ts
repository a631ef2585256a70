// The viewer benchmark's measurements, driven from Node: each first-image run reloads the viewer
// at the worklist (an empty cornerstone cache), lets the baseline fetch and draw slice 1 with
// plain fetch, then opens the study in the viewer, each once the hub is idle; run 0 warms the
// hub and is not counted. Then the scroll: every slice displayed once (so all are cached), the
// timed passes, and the putImageData baseline over the same frames.
import type { Page } from 'playwright-core';
import { freshWorklist, inPage } from './viewer-browser.js';
import type { Timing } from './viewer-page-dom.js';
import type { BaselineFirstImage, ViewerFirstImage } from './viewer-page-first.js';
import type { ScrollRun } from './viewer-page-scroll.js';

export interface FirstImageRun {
  /** With the page's long tasks (≥ 50 ms, [start, duration]) and the hub's CPU ms until slice 1 was drawn. */
  viewer: ViewerFirstImage & { timings: Timing[]; longTasks: [number, number][]; hubCpuMs: number };
  baseline: BaselineFirstImage & { hubCpuMs: number };
}

export interface ScrollResult {
  warm: { slices: number; ms: number };
  viewer: ScrollRun;
  baseline: ScrollRun & { fetchMs: number };
}

/** Time for the requests a run started after slice 1 (thumbnail, prefetch) to finish and show in Resource Timing. */
const SETTLE_MS = 2000;

/**
 * Waits until the hub has been idle for a moment (under 10 ms of CPU in 600 ms), at most 10 s: the
 * audit events of the requests before are written in batches (every 100 ms) and hash-chained
 * (every 500 ms), and that work must not fall into the next measurement.
 */
async function hubIdle(hubCpuMs: () => Promise<number>): Promise<void> {
  const samples: [number, number][] = [];
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    samples.push([Date.now(), await hubCpuMs()]);
    const old = samples.findLast(([at]) => at <= Date.now() - 600);
    if (old && samples[samples.length - 1][1] - old[1] < 10) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `hubCpuMs`: the hub process's CPU time so far (asked over IPC: a millisecond or so). */
export async function measureFirstImage(
  page: Page,
  studyUid: string,
  doctorName: string,
  runs: number,
  hubCpuMs: () => Promise<number>,
  say: (line: string) => void,
): Promise<FirstImageRun[]> {
  const out: FirstImageRun[] = [];
  for (let run = 0; run <= runs; run++) {
    await freshWorklist(page, studyUid, doctorName);
    await hubIdle(hubCpuMs);
    const cpu0 = await hubCpuMs();
    const baseline = await inPage(page, 'baselineFirstImage', studyUid);
    const baselineCpu = (await hubCpuMs()) - cpu0;
    await hubIdle(hubCpuMs);
    const cpu1 = await hubCpuMs();
    const viewer = await inPage(page, 'viewerFirstImage', studyUid);
    const cpu2 = await hubCpuMs();
    await page.waitForTimeout(SETTLE_MS);
    const timings = await inPage(page, 'viewerTimings');
    const longTasks = await inPage(page, 'viewerLongTasks');
    if (!viewer.imageId.includes(`/instances/${encodeURIComponent(baseline.instanceUid)}/frames/1`)) {
      throw new Error(`the baseline drew another slice (${baseline.instanceUid}) than the viewer's first (${viewer.imageId})`);
    }
    const label = run === 0 ? 'warm-up (not counted)' : `run ${run}/${runs}`;
    say(`  first image, ${label}: viewer ${viewer.ms.toFixed(1)} ms, plain fetch ${baseline.ms.toFixed(1)} ms (×${(viewer.ms / baseline.ms).toFixed(2)})`);
    if (run > 0) out.push({ viewer: { ...viewer, timings, longTasks, hubCpuMs: cpu2 - cpu1 }, baseline: { ...baseline, hubCpuMs: baselineCpu } });
  }
  return out;
}

export async function measureScroll(page: Page, studyUid: string, seriesUid: string, passes: number, say: (line: string) => void): Promise<ScrollResult> {
  say('  displaying every slice once, so that all are cached ...');
  const warm = await inPage(page, 'warmStack');
  say(`  → ${warm.slices} slices displayed one after another in ${(warm.ms / 1000).toFixed(1)} s (${(warm.ms / Math.max(1, warm.slices - 1)).toFixed(1)} ms each, prefetch included)`);
  const viewer = await inPage(page, 'scrollViewer', passes);
  say(`  viewer: ${viewer.keys} keys, ${viewer.draws} renders in ${(viewer.ms / 1000).toFixed(2)} s → ${((viewer.draws * 1000) / viewer.ms).toFixed(1)} fps`);
  const baseline = await inPage(page, 'scrollBaseline', studyUid, seriesUid, passes);
  say(`  plain canvas: ${baseline.draws} putImageData in ${(baseline.ms / 1000).toFixed(2)} s → ${((baseline.draws * 1000) / baseline.ms).toFixed(1)} fps (frames fetched by plain fetch in ${(baseline.fetchMs / 1000).toFixed(1)} s)`);
  return { warm, viewer, baseline };
}
