// The page side of the viewer benchmark, as one script for the viewer's page: viewer-browser.ts
// bundles this file with esbuild and installs it with page.addInitScript, so every load of the
// page has window.suheBench. (Functions handed to page.evaluate from a tsx-run script would carry
// tsx's __name helper, which the page does not define; a bundle has no such references.)
// The hub's Content-Security-Policy does not apply to scripts the browser is given this way.
import { baselineFirstImage, viewerFirstImage, viewerLongTasks, viewerTimings } from './viewer-page-first.js';
import { scrollBaseline, scrollViewer, warmStack } from './viewer-page-scroll.js';

const api = { viewerFirstImage, viewerTimings, viewerLongTasks, baselineFirstImage, warmStack, scrollViewer, scrollBaseline };

export type PageApi = typeof api;

(globalThis as unknown as { suheBench: PageApi }).suheBench = api;
performance.setResourceTimingBufferSize(5000);
