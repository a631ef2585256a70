// Headless Chromium for the browser tests and the viewer benchmark: Debian's chromium driven by
// playwright-core, a fresh profile per launch, the standard flags, a 1366×768 laptop window.
// Also what every viewer test reads back from the page: the canvas's pixel statistics, the hub
// sign-in, and waiting for the viewport to settle.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_BINARY } from './parts.js';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--no-proxy-server',
];

/** Generous bound on waits in the page: it only stops a hang from stalling a run; nothing is timed. */
export const HANG_BOUND_MS = 60_000;

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors, for a final "nothing went wrong" check. */
  pageErrors: string[];
  consoleErrors: string[];
  close(): Promise<void>;
}

export interface LaunchOptions {
  locale?: string;
  width?: number;
  height?: number;
  /** A fixed position the page's navigator.geolocation answers, with the permission granted. */
  geolocation?: { latitude: number; longitude: number };
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'suhe-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_BINARY,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: options.width ?? 1366, height: options.height ?? 768 },
    locale: options.locale ?? 'zh-CN',
    ...(options.geolocation ? { geolocation: options.geolocation, permissions: ['geolocation'] } : {}),
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  return {
    context,
    page,
    pageErrors,
    consoleErrors,
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in on the hub's own login page, which the viewer sends a visitor to. */
export async function signInAtHub(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.waitForURL((url) => url.pathname === '/oauth2/authorize', { timeout: HANG_BOUND_MS });
  await page.locator('#username').fill(user.username);
  await page.locator('#password').fill(user.password);
  await page.locator('button[type="submit"]').click();
}

export interface PixelStats {
  width: number;
  height: number;
  mean: number;
  std: number;
  /** Share of pixels that are not (near) black. */
  lit: number;
  checksum: number;
}

/** Statistics of what a viewport's canvas shows, read back from the canvas itself. */
export function canvasStats(page: Page, viewportSelector = '[data-testid="viewport"]'): Promise<PixelStats> {
  return page.evaluate((selector) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`${selector} canvas`)!;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    let squares = 0;
    let lit = 0;
    let checksum = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const y = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      sum += y;
      squares += y * y;
      if (y > 16) lit++;
      checksum = (checksum * 31 + data[i] + data[i + 1] * 7 + data[i + 2] * 13) % 1_000_000_007;
    }
    const mean = sum / n;
    return { width: canvas.width, height: canvas.height, mean, std: Math.sqrt(Math.max(0, squares / n - mean * mean)), lit: lit / n, checksum };
  }, viewportSelector);
}

/** True when the statistics describe an image with structure: not blank, black or one flat colour. */
export function looksLikeAnImage(stats: PixelStats): boolean {
  return stats.width > 100 && stats.height > 100 && stats.lit > 0.02 && stats.std > 8;
}

/**
 * Waits until the viewport has settled on slice `index` (0-based): drawn, or explained; answers
 * its data-state ('ready' or 'error').
 */
export async function settledAt(page: Page, index: number, viewportSelector = '[data-testid="viewport"]'): Promise<string | null> {
  await page.waitForFunction(
    ({ i, selector }) => {
      const v = document.querySelector<HTMLElement>(selector);
      if (!v || v.dataset.index !== String(i)) return false;
      if (v.dataset.state === 'error') return true;
      return v.dataset.state === 'ready' && v.dataset.renderedImageId === v.dataset.imageId;
    },
    { i: index, selector: viewportSelector },
    { timeout: HANG_BOUND_MS },
  );
  return page.locator(viewportSelector).getAttribute('data-state');
}

/**
 * Screenshots are taken in Chinese (the viewer's default) where a Chinese font is installed;
 * elsewhere Chromium would draw empty boxes, so they are taken in English.
 */
export const CHINESE_FONT = await new Promise<boolean>((done) => execFile('fc-list', [':lang=zh'], { timeout: 10_000 }, (err, out) => done(!err && out.trim().length > 0)));

/** A screenshot of the page in a language this machine can draw (see CHINESE_FONT). */
export async function readableScreenshot(page: Page, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const language = page.locator('[data-testid="switch-language"]');
  if (!CHINESE_FONT) await language.click();
  await page.screenshot({ path });
  if (!CHINESE_FONT) await language.click();
}

/**
 * A fresh browser signed in to the viewer at `hubUrl` (opening `route`), once the internet
 * hospital's top-bar link shows the app is ready; added to `browsers` for closing after.
 */
export async function signedInBrowser(hubUrl: string, user: { username: string; password: string }, browsers: Browser[], route = '', options: LaunchOptions = {}): Promise<Browser> {
  const browser = await launchBrowser(options);
  browsers.push(browser);
  await browser.page.goto(`${hubUrl}/viewer/${route}`);
  await signInAtHub(browser.page, user);
  await browser.page.locator('[data-testid="hospital-link"]').waitFor({ timeout: HANG_BOUND_MS });
  return browser;
}
