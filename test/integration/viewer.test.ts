// The browser viewer end to end in real headless Chromium (Debian's, driven by playwright-core):
// a doctor signs in on the hub's own login page, finds the studies in the worklist, opens the CT
// and reads it — the canvas is checked by its pixels, not by "no error" — scrolls, windows,
// measures, and every transfer-syntax sample either renders or says why it cannot, never hangs.
// Screenshots of the main screens go to docs/screenshots/.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { type Browser, canvasStats, HANG_BOUND_MS, launchBrowser, looksLikeAnImage, type PixelStats, readableScreenshot, settledAt, signInAtHub } from '../helpers/browser.js';
import { DICOM_DATA, dicomFiles } from '../helpers/dicom.js';
import type { TestHub } from '../helpers/hub.js';
import { chromiumUnavailable, REQUIRE_ALL } from '../helpers/parts.js';
import { startReadingHub } from '../helpers/reading-hub.js';
import { viewerBuilt } from '../helpers/viewer-build.js';

const missing = await chromiumUnavailable();
if (missing && REQUIRE_ALL) throw new Error(`viewer: SUHE_TEST_REQUIRE_ALL=1 but ${missing}`);
if (missing) process.stdout.write(`SKIPPED (viewer): ${missing}\n`);
const suite = missing ? describe.skip : describe;

const SCREENSHOTS = resolve(new URL('../../docs/screenshots', import.meta.url).pathname);
const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';
const CT_SPACING_MM = 0.703125;

const syntax = (name: string) => join(DICOM_DATA, 'syntaxes', name);
/** Transfer-syntax samples, each with what the viewer must do with it. */
const SAMPLES: { file: string; label: string; outcome: 'renders' | 'explains' }[] = [
  { file: syntax('cornerstone/CTImage.dcm_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm'), label: 'JPEG lossless SV1, 16-bit CT (decoded in the browser)', outcome: 'renders' },
  { file: syntax('cornerstone/CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm'), label: 'JPEG baseline (decoded by the hub)', outcome: 'renders' },
  { file: syntax('cornerstone/CTImage.dcm_JPEG2000TransferSyntax_1.2.840.10008.1.2.4.91.dcm'), label: 'JPEG 2000', outcome: 'explains' },
  { file: syntax('cornerstone/CTImage.dcm_JPEGLSLossyTransferSyntax_1.2.840.10008.1.2.4.81.dcm'), label: 'JPEG-LS near-lossless', outcome: 'explains' },
  { file: syntax('cornerstone/US-YBR_FULL_422-EVRLE.dcm'), label: 'native YBR_FULL_422 colour ultrasound', outcome: 'renders' },
  { file: syntax('pydicom/MR_small_RLE.dcm'), label: 'RLE, 16-bit MR (decoded by the hub)', outcome: 'renders' },
  { file: syntax('pydicom/SC_rgb_rle.dcm'), label: 'RLE colour (decoded by the hub)', outcome: 'renders' },
  { file: syntax('pydicom/JPGLosslessP14SV1_1s_1f_8b.dcm'), label: 'JPEG lossless SV1, 8-bit (decoded in the browser)', outcome: 'renders' },
];

/** An image with structure (not blank, black or one flat colour); the statistics show on failure. */
function expectAnImage(stats: PixelStats): void {
  expect({ ...stats, looksLikeAnImage: looksLikeAnImage(stats) }).toMatchObject({ looksLikeAnImage: true });
}

suite('the viewer in headless Chromium', () => {
  let t: TestHub;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  let consoleErrors: string[] = [];
  const doctor = { username: 'dr-reader', password: '' };

  const settled = (index: number) => settledAt(page, index);
  const renders = async () => Number((await page.locator('[data-testid="viewport"]').getAttribute('data-renders')) ?? 0);
  const renderedAfter = (count: number) =>
    page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('[data-testid="viewport"]')?.dataset.renders ?? 0) > n, count, { timeout: HANG_BOUND_MS });
  const screenshot = (name: string) => readableScreenshot(page, join(SCREENSHOTS, name));
  const openStudy = async (studyUid: string) => {
    await page.goto(`${t.url}/viewer/#/`);
    await page.locator(`[data-testid="study-row"][data-study-uid="${studyUid}"] [data-testid="open-study"]`).click();
    await page.locator('[data-testid="reading"]').waitFor();
    return settled(0);
  };

  beforeAll(async () => {
    await viewerBuilt();
    const started = await startReadingHub([...dicomFiles('series/ct-10'), ...SAMPLES.map((s) => s.file)], doctor.username);
    t = started.t;
    doctor.password = started.reader.password;
    browser = await launchBrowser();
    ({ page, pageErrors, consoleErrors } = browser);
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('sends a visitor to the hub sign-in page, and back to the worklist once signed in', async () => {
    await page.goto(`${t.url}/viewer/`);
    await page.waitForURL((url) => url.pathname === '/oauth2/authorize', { timeout: HANG_BOUND_MS });
    const authorize = new URL(page.url());
    expect(authorize.searchParams.get('client_id')).toBe('suhe-viewer');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${t.url}/viewer/`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    await signInAtHub(page, doctor);
    await page.locator('[data-testid="study-row"]').first().waitFor({ timeout: HANG_BOUND_MS });
    // The code and state are gone from the address bar; the tokens live in this tab only.
    expect(new URL(page.url()).search).toBe('');
    const storage = await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage), cookies: document.cookie }));
    expect(storage.session).toContain('suhe.viewer.tokens');
    expect(storage.local.filter((k) => k.includes('token'))).toEqual([]);
    expect(storage.cookies).toBe('');
    await expect(page.locator('[data-testid="user"]').textContent()).resolves.toContain('林影像');
  });

  it('lists the studies, filters them and sorts them', async () => {
    const rows = page.locator('[data-testid="study-row"]');
    expect(await rows.count()).toBe(6);
    await expect(page.locator(`[data-study-uid="${CT_STUDY}"]`).textContent()).resolves.toContain('Lymphoma');
    await screenshot('worklist.png');

    await page.locator('[data-testid="filter-modality"]').selectOption('CT');
    await page.locator('[data-testid="search"]').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="study-row"]').length === 2, undefined, { timeout: HANG_BOUND_MS });
    await page.locator('[data-testid="filter-patientName"]').fill('mister');
    await page.locator('[data-testid="search"]').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="study-row"]').length === 1, undefined, { timeout: HANG_BOUND_MS });
    await expect(rows.first().textContent()).resolves.toContain('MISTER CT');
    await page.locator('[data-testid="clear-filters"]').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="study-row"]').length === 6, undefined, { timeout: HANG_BOUND_MS });

    await page.locator('[data-testid="sort-patientId"]').click();
    const ids = await page.locator('[data-testid="study-row"] td:nth-child(2)').allTextContents();
    expect(ids).toEqual([...ids].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b, ['zh-CN', 'en'], { numeric: true, sensitivity: 'base' }))));

    await page.locator('[data-testid="page-size"]').selectOption('10');
    await page.locator('[data-testid="filter-modality"]').selectOption('');
    // Paging: limit/offset against QIDO-RS; a page of 10 holds all six, so there is no next page.
    expect(await page.locator('[data-testid="page-next"]').isDisabled()).toBe(true);
  });

  it('opens the CT: its series with a thumbnail, and the first slice on the canvas', async () => {
    expect(await openStudy(CT_STUDY)).toBe('ready');
    await page.locator('[data-testid="series"] img:not([hidden])').first().waitFor({ timeout: HANG_BOUND_MS });
    expectAnImage(await canvasStats(page));
    await expect(page.locator('[data-testid="overlay-slice"]').textContent()).resolves.toMatch(/1\s*\/\s*11/);
    await expect(page.locator('[data-testid="overlay-window"]').textContent()).resolves.toMatch(/400.*40/);
    await expect(page.locator('[data-testid="overlay-patient"]').textContent()).resolves.toBe('Lymphoma');
    // Neighbouring slices are fetched before they are asked for.
    await page.waitForFunction(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/frames/1')).length >= 4, undefined, { timeout: HANG_BOUND_MS });
  });

  it('scrolls to slice 10 with the wheel and the keys: the overlay follows and the pixels change', async () => {
    const first = await canvasStats(page);
    const box = (await page.locator('[data-testid="viewport"]').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 1; i <= 4; i++) {
      await page.mouse.wheel(0, 100);
      await settled(i);
    }
    for (let i = 5; i <= 9; i++) {
      await page.keyboard.press('ArrowDown');
      await settled(i);
    }
    await expect(page.locator('[data-testid="overlay-slice"]').textContent()).resolves.toMatch(/10\s*\/\s*11/);
    expect(await page.locator('[data-testid="slice-slider"]').inputValue()).toBe('10');
    const tenth = await canvasStats(page);
    expectAnImage(tenth);
    expect(tenth.checksum).not.toBe(first.checksum);
    // PageUp goes ten back (to the first), the slider anywhere.
    await page.keyboard.press('PageUp');
    await settled(0);
    await page.locator('[data-testid="slice-slider"]').fill('10');
    expect(await settled(9)).toBe('ready');
  });

  it('applies the lung window preset: the overlay says so and the pixels change', async () => {
    const before = await canvasStats(page);
    const count = await renders();
    await page.locator('[data-testid="preset-lung"]').click();
    await renderedAfter(count);
    await expect(page.locator('[data-testid="overlay-window"]').textContent()).resolves.toMatch(/1500.*-600/);
    const after = await canvasStats(page);
    expectAnImage(after);
    expect(after.checksum).not.toBe(before.checksum);
    // Window by dragging changes it again.
    const box = (await page.locator('[data-testid="viewport"]').boundingBox())!;
    await page.locator('[data-testid="tool-windowLevel"]').click();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 40, box.y + box.height / 2 + 20, { steps: 4 });
    await page.mouse.up();
    await expect(page.locator('[data-testid="overlay-window"]').textContent()).resolves.not.toMatch(/1500.*-600/);
    await page.locator('[data-testid="preset-mediastinum"]').click();
  });

  it('measures a length in millimetres from Pixel Spacing', async () => {
    await page.locator('[data-testid="tool-length"]').click();
    const box = (await page.locator('[data-testid="viewport"] canvas').boundingBox())!;
    const y = box.y + box.height / 2;
    const [x0, x1] = [box.x + box.width / 2 - 120, box.x + box.width / 2 + 120];
    await page.mouse.move(x0, y);
    await page.mouse.down();
    await page.mouse.move(x1, y, { steps: 8 });
    await page.mouse.up();
    const item = page.locator('[data-testid="measurement"]').first();
    await item.waitFor({ timeout: HANG_BOUND_MS });
    const mm = Number(await item.getAttribute('data-mm'));
    const px = Number(await item.getAttribute('data-px'));
    const scale = Number(await page.locator('[data-testid="overlay-zoom"]').getAttribute('data-scale'));
    // 240 screen pixels at this zoom are 240/scale image pixels, each 0.703125 mm wide.
    expect(px).toBeGreaterThan((240 / scale) * 0.97);
    expect(px).toBeLessThan((240 / scale) * 1.03);
    expect(mm).toBeCloseTo(px * CT_SPACING_MM, 1);
    expect(mm).toBeGreaterThan(50);
    expect(mm).toBeLessThan(400);
    // The panel shows the same length, to a tenth of a millimetre.
    const shown = Number(/([\d.]+) mm/.exec((await item.textContent())!)?.[1]);
    expect(Math.abs(shown - mm)).toBeLessThanOrEqual(0.06);
    await page.locator('[data-testid="tool-windowLevel"]').click();
    await screenshot('viewer-ct.png');
  });

  it('zooms with the right button, pans, inverts and resets', async () => {
    const box = (await page.locator('[data-testid="viewport"]').boundingBox())!;
    const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
    const scale = async () => Number(await page.locator('[data-testid="overlay-zoom"]').getAttribute('data-scale'));
    await page.locator('[data-testid="reset"]').click();
    const fitted = await scale();
    await page.mouse.move(cx, cy);
    await page.mouse.down({ button: 'right' });
    await page.mouse.move(cx, cy - 60, { steps: 4 });
    await page.mouse.up({ button: 'right' });
    expect(await scale()).toBeGreaterThan(fitted * 1.2);

    await page.locator('[data-testid="tool-pan"]').click();
    const beforePan = await canvasStats(page);
    let count = await renders();
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 80, cy + 30, { steps: 4 });
    await page.mouse.up();
    await renderedAfter(count);
    expect((await canvasStats(page)).checksum).not.toBe(beforePan.checksum);

    const beforeInvert = await canvasStats(page);
    count = await renders();
    await page.keyboard.press('i');
    await renderedAfter(count);
    const inverted = await canvasStats(page);
    expect(Math.abs(inverted.mean - beforeInvert.mean)).toBeGreaterThan(20);

    count = await renders();
    await page.keyboard.press('r');
    await renderedAfter(count);
    expect(await scale()).toBeCloseTo(fitted, 6);
    await expect(page.locator('[data-testid="overlay-window"]').textContent()).resolves.toMatch(/400.*40/);
    expectAnImage(await canvasStats(page));
    await page.locator('[data-testid="tool-windowLevel"]').click();
  });

  it('renders each transfer-syntax sample, or says plainly why it cannot — never hangs', async () => {
    const outcomes: string[] = [];
    const studies = (await (await t.fetch(`${t.url}/dicomweb/studies`)).json()) as Record<string, { Value: string[] }>[];
    for (const study of studies.map((s) => s['0020000D'].Value[0]).filter((uid) => uid !== CT_STUDY)) {
      await openStudy(study);
      const total = Number(await page.locator('[data-testid="overlay-slice"]').getAttribute('data-total'));
      for (let i = 0; i < total; i++) {
        if (i > 0) await page.keyboard.press('ArrowDown');
        const state = await settled(i);
        const imageId = (await page.locator('[data-testid="viewport"]').getAttribute('data-image-id'))!;
        const instance = /\/instances\/([^/]+)\/frames/.exec(imageId)![1];
        const sample = SAMPLES.find((s) => instanceUidOf(s.file) === instance)!;
        expect(sample).toBeDefined();
        if (state === 'ready') expectAnImage(await canvasStats(page));
        else {
          const message = await page.locator('[data-testid="viewport-message"]');
          expect(await message.isVisible()).toBe(true);
          expect((await message.textContent())!.trim().length).toBeGreaterThan(10);
        }
        outcomes.push(`${sample.label}: ${state === 'ready' ? 'renders' : 'explains'}`);
        expect(`${sample.label}: ${state === 'ready' ? 'renders' : 'explains'}`).toBe(`${sample.label}: ${sample.outcome}`);
      }
    }
    expect(outcomes).toHaveLength(SAMPLES.length);
    process.stdout.write(`viewer transfer syntaxes:\n  ${outcomes.join('\n  ')}\n`);
  });

  it('switches to English and back', async () => {
    await page.locator('[data-testid="switch-language"]').click();
    await expect(page.locator('[data-testid="sign-out"]').textContent()).resolves.toBe('Sign out');
    await page.locator('[data-testid="switch-language"]').click();
    await expect(page.locator('[data-testid="sign-out"]').textContent()).resolves.toBe('退出登录');
  });

  it('raised no script errors and no Content-Security-Policy violations', () => {
    expect(pageErrors).toEqual([]);
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
  });
});

const instanceUids = new Map<string, string>();
/** The SOP Instance UID of a sample file, read from its bytes (the test does not use the hub's parser). */
function instanceUidOf(file: string): string {
  if (!instanceUids.has(file)) {
    const bytes = readFileSync(file).toString('latin1');
    // (0008,0018) UI in explicit VR little endian: 08 00 18 00 'U' 'I' length(2) value.
    const at = bytes.indexOf('\x08\x00\x18\x00UI');
    const length = bytes.charCodeAt(at + 6) | (bytes.charCodeAt(at + 7) << 8);
    instanceUids.set(file, bytes.slice(at + 8, at + 8 + length).replace(/\0+$/, '').trim());
  }
  return instanceUids.get(file)!;
}
