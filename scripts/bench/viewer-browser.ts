// The browser of the viewer benchmark: headless Chromium launched exactly as the browser tests
// launch it (test/helpers/browser.ts: Debian's chromium, the project's flags, a fresh profile, a
// 1366×768 window), with the page-side code (viewer-page.ts) installed in every load of the page,
// the HTTP cache switched off over CDP (Network.setCacheDisabled: the hub marks DICOMweb answers
// `private, no-cache` with an ETag, so a warm cache would answer with 304s instead of bodies),
// and the doctor signed in on the hub's own login page.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { CDPSession, Page } from 'playwright-core';
import { HANG_BOUND_MS, launchBrowser, signInAtHub, type Browser } from '../../test/helpers/browser.js';
import type { PageApi } from './viewer-page.js';

const PAGE_ENTRY = fileURLToPath(new URL('./viewer-page.ts', import.meta.url));

export interface BenchBrowser {
  browser: Browser;
  page: Page;
  cdp: CDPSession;
  /** e.g. "HeadlessChrome/156.0.8078.114". */
  version: string;
  userAgent: string;
}

/** viewer-page.ts and its imports as one classic script. */
async function pageScript(): Promise<string> {
  const out = await build({ entryPoints: [PAGE_ENTRY], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'chrome110', logLevel: 'warning' });
  return out.outputFiles[0].text;
}

/** Launches Chromium; `onStart` gets its close() at once, so a failure after the launch still closes it. */
export async function launchBenchBrowser(onStart: (close: () => Promise<void>) => void): Promise<BenchBrowser> {
  const script = await pageScript();
  const browser = await launchBrowser({ locale: 'zh-CN' });
  onStart(() => browser.close());
  const { page, context } = browser;
  await context.addInitScript({ content: script });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const { product, userAgent } = await cdp.send('Browser.getVersion');
  return { browser, page, cdp, version: product, userAgent };
}

/** Opens the viewer, signs in at the hub and waits for the worklist to list a study. */
export async function signIn(page: Page, hubUrl: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${hubUrl}/viewer/`);
  await signInAtHub(page, user);
  await page.locator('[data-testid="study-row"]').first().waitFor({ timeout: HANG_BOUND_MS });
}

/**
 * Reloads the viewer at the worklist: a fresh page (cornerstone's image cache empty, the session
 * kept in sessionStorage), settled once the worklist lists `studyUid` and the top bar shows the
 * signed-in doctor's name (its FHIR read done), so no request of the worklist overlaps a measurement.
 */
export async function freshWorklist(page: Page, studyUid: string, doctorName: string): Promise<void> {
  await page.evaluate(() => {
    location.hash = '#/';
  });
  await page.reload();
  await page.locator(`[data-testid="study-row"][data-study-uid="${studyUid}"]`).waitFor({ timeout: HANG_BOUND_MS });
  await page.waitForFunction((name) => document.querySelector('[data-testid="user"]')?.textContent?.includes(name) ?? false, doctorName, { timeout: HANG_BOUND_MS });
  await page.waitForTimeout(200);
}

/** Calls window.suheBench[name](...args) in the page. */
export function inPage<K extends keyof PageApi>(page: Page, name: K, ...args: Parameters<PageApi[K]>): Promise<Awaited<ReturnType<PageApi[K]>>> {
  return page.evaluate(
    ([n, a]) => (globalThis as unknown as { suheBench: Record<string, (...x: unknown[]) => unknown> }).suheBench[n](...a),
    [name, args] as [string, unknown[]],
  ) as Promise<Awaited<ReturnType<PageApi[K]>>>;
}
