// Page side of the viewer benchmark (bundled into the viewer's page, see viewer-page.ts): what
// the page shows and when. The viewport's data-* attributes (stack-viewport.ts) say what is on
// screen; a MutationObserver notices each change within the same task, so the time taken when a
// condition first holds is the time it became true, not the time a poll came round.

export const VIEWPORT = '[data-testid="viewport"]';

export function viewportElement(): HTMLElement | null {
  return document.querySelector<HTMLElement>(VIEWPORT);
}

/** The viewport has drawn the slice it was last asked for, at `index` (any index when undefined). */
export function settledAt(v: HTMLElement | null, index?: number): boolean {
  if (!v || (index !== undefined && v.dataset.index !== String(index))) return false;
  if (v.dataset.state === 'error') throw new Error(`the viewport shows an error at slice ${v.dataset.index}: ${v.dataset.reason ?? '?'} ${v.textContent ?? ''}`.trim());
  return v.dataset.state === 'ready' && !!v.dataset.imageId && v.dataset.renderedImageId === v.dataset.imageId;
}

/**
 * Resolves with performance.now() at the first DOM change after which `check` holds (or at once
 * when it already does); rejects when `check` throws or after `timeoutMs`.
 */
export function until(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let finished = false;
    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      observer.disconnect();
      clearTimeout(timer);
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve(performance.now());
    };
    const test = () => {
      try {
        if (check()) finish();
      } catch (err) {
        finish(err);
      }
    };
    const observer = new MutationObserver(test);
    const timer = setTimeout(() => finish(new Error(`${what}: not within ${timeoutMs / 1000} s`)), timeoutMs);
    observer.observe(document.documentElement, { subtree: true, childList: true, attributes: true });
    test();
  });
}

/** A key pressed on the focused viewport, as the reading screen's document listener sees it. */
export function press(target: HTMLElement, key: string): void {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
}

/** The slider's maximum is the stack's length (reading-screen.ts keeps it so). */
export function stackLength(): number {
  return Number(document.querySelector<HTMLInputElement>('[data-testid="slice-slider"]')?.max ?? 0);
}

export interface Timing {
  /** What the request was, from its URL: study, series, instances, metadata, frame, thumbnail, fhir, other. */
  kind: string;
  url: string;
  /** ms after the measurement's start (performance.now() at its t0). */
  start: number;
  responseStart: number;
  end: number;
  /** Body bytes as sent (encodedBodySize) and the HTTP status (0 when the browser does not say). */
  bytes: number;
  status: number;
}

function kindOf(url: string): string {
  if (/\/dicomweb\/studies\?/.test(url)) return 'study';
  if (/\/series\?/.test(url)) return 'series';
  if (/\/instances\?/.test(url)) return 'instances';
  if (/\/series\/[^/]+\/metadata$/.test(url)) return 'metadata';
  if (/\/frames\/\d+$/.test(url)) return 'frame';
  if (/\/thumbnail/.test(url)) return 'thumbnail';
  if (/\/fhir\//.test(url)) return 'fhir';
  return 'other';
}

/** The Resource Timing entries of requests made since `t0`, relative to it. */
export function timingsSince(t0: number): Timing[] {
  return (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
    .filter((e) => e.startTime >= t0 - 1)
    .map((e) => ({
      kind: kindOf(e.name),
      url: e.name,
      start: e.startTime - t0,
      responseStart: e.responseStart - t0,
      end: e.responseEnd - t0,
      bytes: e.encodedBodySize,
      status: (e as PerformanceResourceTiming & { responseStatus?: number }).responseStatus ?? 0,
    }));
}
