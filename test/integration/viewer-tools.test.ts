// The viewer's reading tools end to end in real headless Chromium, on the ten-slice CT (512 × 512,
// Pixel Spacing 0.703125 mm, Rescale Intercept −1024): an angle drawn as a right angle on screen
// reads 90°; rectangle and ellipse ROIs read HU from the pixels (air outside the body ≈ −1000,
// soft tissue inside clearly not) with areas that follow from the drag, the zoom and the spacing;
// the probe reads air's HU under the pointer; rotate and flip change the picture, keep the
// measurements on the anatomy, and undo exactly; cine loops through the stack and stops. Values
// are read from the page's data-* attributes and the canvas's own pixels; nothing is timed.
// A screenshot goes to docs/screenshots/viewer-tools.png.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { type Browser, canvasStats, CHINESE_FONT, HANG_BOUND_MS, launchBrowser, looksLikeAnImage, settledAt, signInAtHub } from '../helpers/browser.js';
import { dicomFiles } from '../helpers/dicom.js';
import type { TestHub } from '../helpers/hub.js';
import { chromiumUnavailable, REQUIRE_ALL } from '../helpers/parts.js';
import { startReadingHub } from '../helpers/reading-hub.js';
import { viewerBuilt } from '../helpers/viewer-build.js';

const missing = await chromiumUnavailable();
if (missing && REQUIRE_ALL) throw new Error(`viewer tools: SUHE_TEST_REQUIRE_ALL=1 but ${missing}`);
if (missing) process.stdout.write(`SKIPPED (viewer tools): ${missing}\n`);
const suite = missing ? describe.skip : describe;

const SCREENSHOTS = resolve(new URL('../../docs/screenshots', import.meta.url).pathname);
const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';
const CT_SPACING_MM = 0.703125;
const CT_SIZE = 512;

/** Image regions (pixel coordinates) on every slice of the CT: air above the body, soft tissue in the middle. */
const AIR = { x0: 206, y0: 26, x1: 306, y1: 76 };
const BODY = { x0: 206, y0: 226, x1: 306, y1: 276 };

interface Geometry {
  /** Page position of the canvas centre (the image centre when not panned). */
  cx: number;
  cy: number;
  /** Canvas box, for reading its pixels. */
  left: number;
  top: number;
  /** Screen pixels per image pixel. */
  scale: number;
}

suite('the viewer’s reading tools in headless Chromium', () => {
  let t: TestHub;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  let consoleErrors: string[] = [];
  const doctor = { username: 'dr-tools', password: '' };

  const viewport = () => page.locator('[data-testid="viewport"]');
  const measurementItems = () => page.locator('[data-testid="measurement"]');
  const renders = async () => Number((await viewport().getAttribute('data-renders')) ?? 0);
  const renderedAfter = (count: number) =>
    page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('[data-testid="viewport"]')?.dataset.renders ?? 0) > n, count, { timeout: HANG_BOUND_MS });
  /** Runs an action that re-renders the image, and waits for that render. */
  const rendering = async (action: () => Promise<unknown>) => {
    const count = await renders();
    await action();
    await renderedAfter(count);
  };

  const geometry = async (): Promise<Geometry> => {
    const box = (await page.locator('[data-testid="viewport"] canvas').boundingBox())!;
    const scale = Number(await page.locator('[data-testid="overlay-zoom"]').getAttribute('data-scale'));
    return { cx: box.x + box.width / 2, cy: box.y + box.height / 2, left: box.x, top: box.y, scale };
  };
  /** Where image point (x, y) is on the page, upright, unpanned; `turn` maps the offset from the centre as the view does. */
  const onPage = (g: Geometry, x: number, y: number, turn: (dx: number, dy: number) => [number, number] = (dx, dy) => [dx, dy]) => {
    const [dx, dy] = turn((x - CT_SIZE / 2) * g.scale, (y - CT_SIZE / 2) * g.scale);
    return { x: g.cx + dx, y: g.cy + dy };
  };
  const clockwise = (dx: number, dy: number): [number, number] => [-dy, dx];
  const mirrored = (dx: number, dy: number): [number, number] => [-dx, dy];

  const drag = async (from: { x: number; y: number }, to: { x: number; y: number }) => {
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 8 });
    await page.mouse.up();
  };
  const newMeasurement = async (before: number) => {
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="measurement"]').length > n, before, { timeout: HANG_BOUND_MS });
    return measurementItems().nth(before);
  };
  const numberAttribute = async (locator: ReturnType<Page['locator']>, name: string) => Number(await locator.getAttribute(name));

  /** Moves the pointer to a page point and waits for the probe to read the pixel there. */
  const probeAt = async (point: { x: number; y: number }) => {
    await page.mouse.move(point.x, point.y);
    const probe = page.locator('[data-testid="probe"]');
    await probe.waitFor({ state: 'visible', timeout: HANG_BOUND_MS });
    return {
      column: await numberAttribute(probe, 'data-column'),
      row: await numberAttribute(probe, 'data-row'),
      value: await numberAttribute(probe, 'data-value'),
      unit: await probe.getAttribute('data-unit'),
      text: (await probe.textContent()) ?? '',
    };
  };
  /** True when the canvas shows the measurement colour (#ffd400) within 3 pixels of a page point. */
  const measurementColourAt = (g: Geometry, point: { x: number; y: number }) =>
    page.evaluate(
      ({ x, y }) => {
        const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewport"] canvas')!;
        const { data } = canvas.getContext('2d')!.getImageData(Math.round(x) - 3, Math.round(y) - 3, 7, 7);
        for (let i = 0; i < data.length; i += 4) if (data[i] > 200 && data[i + 1] > 170 && data[i + 2] < 90) return true;
        return false;
      },
      { x: point.x - g.left, y: point.y - g.top },
    );

  beforeAll(async () => {
    await viewerBuilt();
    const started = await startReadingHub(dicomFiles('series/ct-10'), doctor.username);
    t = started.t;
    doctor.password = started.reader.password;
    browser = await launchBrowser();
    ({ page, pageErrors, consoleErrors } = browser);
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.goto(`${t.url}/viewer/`);
    await signInAtHub(page, doctor);
    await page.locator(`[data-testid="study-row"][data-study-uid="${CT_STUDY}"] [data-testid="open-study"]`).click();
    await page.locator('[data-testid="reading"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await settledAt(page, 0)).toBe('ready');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('fits every tool in the toolbar of a 1366×768 screen, in both languages, and lists the new shortcuts in the help', async () => {
    for (const id of ['tool-angle', 'tool-rectangle', 'tool-ellipse', 'tool-probe', 'rotate-left', 'rotate-right', 'flip-horizontal', 'flip-vertical', 'cine-toggle', 'cine-fps']) {
      expect(await page.locator(`[data-testid="${id}"]`).isVisible()).toBe(true);
    }
    for (let language = 0; language < 2; language++) {
      const layout = await page.evaluate(() => {
        const toolbar = document.querySelector<HTMLElement>('.toolbar')!.getBoundingClientRect();
        // The controls shown in the bar itself (not those of a closed dialog that lives in it).
        const controls = Array.from(document.querySelectorAll<HTMLElement>('.toolbar button, .toolbar input')).filter((c) => !c.closest('dialog') && c.getClientRects().length > 0);
        const canvas = document.querySelector('[data-testid="viewport"] canvas')!.getBoundingClientRect();
        const off = (r: DOMRect) => r.left < 0 || r.right > window.innerWidth || r.top < toolbar.top || r.bottom > toolbar.bottom;
        return {
          toolbarHeight: toolbar.height,
          outside: controls
            .filter((c) => off(c.getBoundingClientRect()))
            .map((c) => `${c.dataset.testid ?? c.textContent}: ${JSON.stringify(c.getBoundingClientRect())}`),
          canvasHeight: canvas.height,
        };
      });
      // At most two rows of controls, all on screen, and the image keeps most of the height.
      expect(layout).toMatchObject({ outside: [] });
      expect(layout.toolbarHeight).toBeLessThanOrEqual(80);
      expect(layout.canvasHeight).toBeGreaterThan(500);
      await page.locator('[data-testid="switch-language"]').click();
    }
    await page.keyboard.press('?');
    const help = (await page.locator('[data-testid="help"]').textContent()) ?? '';
    await page.locator('[data-testid="help-close"]').click();
    for (const text of ['角度', '矩形', '椭圆', '像素值', '向左旋转 90°', '向右旋转 90°', '水平翻转', '垂直翻转', '电影播放 / 停止', 'Space']) expect(help).toContain(text);
  });

  it('probes the pixel under the pointer: column, row and HU (air < −900)', async () => {
    await page.keyboard.press('r');
    await page.keyboard.press('v');
    expect(await page.locator('[data-testid="tool-probe"]').getAttribute('aria-pressed')).toBe('true');
    const g = await geometry();
    const reading = await probeAt(onPage(g, 256.5, 40.5));
    expect(Math.abs(reading.column - 256)).toBeLessThanOrEqual(1);
    expect(Math.abs(reading.row - 40)).toBeLessThanOrEqual(1);
    expect(reading.value).toBeLessThan(-900);
    expect(reading.unit).toBe('HU');
    expect(reading.text).toMatch(/-\d+ HU/);
    // Soft tissue in the middle of the body reads far above air.
    expect((await probeAt(onPage(g, 256.5, 250.5))).value).toBeGreaterThan(-300);
  });

  it('measures an angle drawn as a right angle on screen as 90°, and one drawn by drag-then-click as 135°', async () => {
    await page.locator('[data-testid="tool-angle"]').click();
    const g = await geometry();
    // Three clicks: the end of one arm, the vertex, the end of the other.
    let count = await measurementItems().count();
    await page.mouse.click(g.cx + 120, g.cy - 40);
    await page.mouse.click(g.cx, g.cy - 40);
    await page.mouse.click(g.cx, g.cy - 160);
    let item = await newMeasurement(count);
    expect(await item.getAttribute('data-kind')).toBe('angle');
    expect(await numberAttribute(item, 'data-degrees')).toBeCloseTo(90, 0);
    expect(await item.textContent()).toMatch(/90\.\d°/);
    // Drag the first arm, then click the end of the second: arms (−100, 0) and (80, −80) → 135°.
    count = await measurementItems().count();
    await drag({ x: g.cx - 150, y: g.cy + 60 }, { x: g.cx - 50, y: g.cy + 60 });
    await page.mouse.click(g.cx + 30, g.cy - 20);
    item = await newMeasurement(count);
    expect(await numberAttribute(item, 'data-degrees')).toBeCloseTo(135, 0);
  });

  it('reads a rectangle over air as ≈ −1000 HU and one inside the body as clearly not, with the area from drag, zoom and spacing', async () => {
    await page.keyboard.press('b');
    const g = await geometry();
    const air = { from: onPage(g, AIR.x0, AIR.y0), to: onPage(g, AIR.x1, AIR.y1) };
    let count = await measurementItems().count();
    await drag(air.from, air.to);
    const airItem = await newMeasurement(count);
    expect(await airItem.getAttribute('data-kind')).toBe('rectangle');
    const airMean = await numberAttribute(airItem, 'data-mean');
    expect(airMean).toBeGreaterThan(-1030);
    expect(airMean).toBeLessThan(-960);
    expect(await airItem.getAttribute('data-unit')).toBe('HU');
    expect(await numberAttribute(airItem, 'data-std')).toBeLessThan(60);
    expect(await numberAttribute(airItem, 'data-min')).toBeLessThanOrEqual(airMean);
    expect(await numberAttribute(airItem, 'data-max')).toBeGreaterThanOrEqual(airMean);
    // The dragged box in screen pixels, over the zoom, in image pixels of 0.703125 mm.
    const widthMm = ((air.to.x - air.from.x) / g.scale) * CT_SPACING_MM;
    const heightMm = ((air.to.y - air.from.y) / g.scale) * CT_SPACING_MM;
    const rectangleArea = await numberAttribute(airItem, 'data-area');
    expect(await airItem.getAttribute('data-area-unit')).toBe('mm2');
    expect(rectangleArea / (widthMm * heightMm)).toBeGreaterThan(0.97);
    expect(rectangleArea / (widthMm * heightMm)).toBeLessThan(1.03);
    // 100 × 50 image pixels is about 2470 mm².
    expect(rectangleArea).toBeGreaterThan(2300);
    expect(rectangleArea).toBeLessThan(2650);
    const rectanglePixels = await numberAttribute(airItem, 'data-pixels');
    expect(await airItem.textContent()).toMatch(/mm²/);

    count = await measurementItems().count();
    await drag(onPage(g, BODY.x0, BODY.y0), onPage(g, BODY.x1, BODY.y1));
    const bodyItem = await newMeasurement(count);
    const bodyMean = await numberAttribute(bodyItem, 'data-mean');
    expect(bodyMean).toBeGreaterThan(-300);
    expect(bodyMean - airMean).toBeGreaterThan(600);

    // The ellipse in the same box: π/4 of the rectangle's area, about as many of its pixels, air too.
    await page.keyboard.press('e');
    count = await measurementItems().count();
    await drag(air.from, air.to);
    const ellipse = await newMeasurement(count);
    expect(await ellipse.getAttribute('data-kind')).toBe('ellipse');
    expect((await numberAttribute(ellipse, 'data-area')) / rectangleArea).toBeCloseTo(Math.PI / 4, 2);
    expect((await numberAttribute(ellipse, 'data-pixels')) / rectanglePixels).toBeGreaterThan(0.75);
    expect((await numberAttribute(ellipse, 'data-pixels')) / rectanglePixels).toBeLessThan(0.82);
    expect(await numberAttribute(ellipse, 'data-mean')).toBeLessThan(-950);
  });

  it('lists every kind in the side panel: a click shows its image, × deletes it', async () => {
    const kinds = await measurementItems().evaluateAll((items) => items.map((i) => i.getAttribute('data-kind')));
    expect(kinds).toEqual(['angle', 'angle', 'rectangle', 'rectangle', 'ellipse']);
    await writeScreenshot();
    // Measurements belong to slice 1: from slice 4, a click on one goes back there.
    await page.locator('[data-testid="viewport"]').focus();
    for (let i = 1; i <= 3; i++) {
      await page.keyboard.press('ArrowDown');
      await settledAt(page, i);
    }
    await measurementItems().nth(2).locator('button.link').click();
    expect(await settledAt(page, 0)).toBe('ready');
    // Delete them all.
    while ((await measurementItems().count()) > 0) {
      const before = await measurementItems().count();
      await measurementItems().first().locator('[data-testid="delete-measurement"]').click();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="measurement"]').length < n, before, { timeout: HANG_BOUND_MS });
    }
  });

  it('rotates a quarter turn: the picture changes, measurements stay on the anatomy, and turning back restores it exactly', async () => {
    await rendering(() => page.keyboard.press('r'));
    let g = await geometry();
    // One length in the lower left, to see where it is drawn.
    await page.keyboard.press('l');
    const start = { x: 120, y: 380 };
    const end = { x: 200, y: 380 };
    await drag(onPage(g, start.x, start.y), onPage(g, end.x, end.y));
    await newMeasurement(0);
    await page.keyboard.press('v');
    await page.mouse.move(g.left + 2, g.top + 2);
    const upright = await canvasStats(page);
    expect(await measurementColourAt(g, onPage(g, start.x, start.y))).toBe(true);

    await rendering(() => page.locator('[data-testid="rotate-right"]').click());
    g = await geometry();
    const turned = await canvasStats(page);
    expect(turned.checksum).not.toBe(upright.checksum);
    // The length's ends are now where a clockwise quarter turn takes them, and not where they were.
    expect(await measurementColourAt(g, onPage(g, start.x, start.y, clockwise))).toBe(true);
    expect(await measurementColourAt(g, onPage(g, end.x, end.y, clockwise))).toBe(true);
    expect(await measurementColourAt(g, onPage(g, start.x, start.y))).toBe(false);
    // The pointer reads the turned image too: the top of the image is now on the right.
    let reading = await probeAt(onPage(g, 256.5, 40.5, clockwise));
    expect(Math.abs(reading.column - 256)).toBeLessThanOrEqual(1);
    expect(Math.abs(reading.row - 40)).toBeLessThanOrEqual(1);
    expect(reading.value).toBeLessThan(-900);
    // Kept on the next slice, like zoom.
    await page.keyboard.press('ArrowDown');
    await settledAt(page, 1);
    reading = await probeAt(onPage(g, 256.5, 40.5, clockwise));
    expect(Math.abs(reading.row - 40)).toBeLessThanOrEqual(1);
    await page.keyboard.press('ArrowUp');
    await settledAt(page, 0);
    await page.mouse.move(g.left + 2, g.top + 2);

    await rendering(() => page.keyboard.press('['));
    expect((await canvasStats(page)).checksum).toBe(upright.checksum);
    // Four left turns come round as well.
    for (let i = 0; i < 4; i++) await rendering(() => page.locator('[data-testid="rotate-left"]').click());
    expect((await canvasStats(page)).checksum).toBe(upright.checksum);
  });

  it('flips left to right and top to bottom, measurements with the image, and undoes it (and reset undoes everything)', async () => {
    const g = await geometry();
    const upright = await canvasStats(page);
    await rendering(() => page.locator('[data-testid="flip-horizontal"]').click());
    const flipped = await canvasStats(page);
    expect(flipped.checksum).not.toBe(upright.checksum);
    expect(await measurementColourAt(g, onPage(g, 120, 380, mirrored))).toBe(true);
    expect(await measurementColourAt(g, onPage(g, 120, 380))).toBe(false);
    const reading = await probeAt(onPage(g, 100.5, 40.5, mirrored));
    expect(Math.abs(reading.column - 100)).toBeLessThanOrEqual(1);
    await page.mouse.move(g.left + 2, g.top + 2);
    await rendering(() => page.keyboard.press('f'));
    expect((await canvasStats(page)).checksum).toBe(upright.checksum);

    await rendering(() => page.locator('[data-testid="flip-vertical"]').click());
    expect((await canvasStats(page)).checksum).not.toBe(upright.checksum);
    expect(await measurementColourAt(g, onPage(g, 120, 380, (dx, dy) => [dx, -dy]))).toBe(true);
    await rendering(() => page.keyboard.press('u'));
    expect((await canvasStats(page)).checksum).toBe(upright.checksum);

    // Turned, mirrored, zoomed: reset brings back the very same picture.
    await rendering(() => page.keyboard.press(']'));
    await rendering(() => page.keyboard.press('f'));
    await rendering(() => page.keyboard.press('u'));
    expect((await canvasStats(page)).checksum).not.toBe(upright.checksum);
    await rendering(() => page.locator('[data-testid="reset"]').click());
    expect((await canvasStats(page)).checksum).toBe(upright.checksum);
  });

  it('plays cine in a loop from the cache, and stops on the space bar, the button and the wheel', async () => {
    await page.locator('[data-testid="cine-fps"]').fill('30');
    await page.locator('[data-testid="viewport"]').focus();
    // Record every slice the viewport goes to.
    await page.evaluate(() => {
      const v = document.querySelector<HTMLElement>('[data-testid="viewport"]')!;
      const seen: number[] = [];
      (window as unknown as { cineSeen: number[] }).cineSeen = seen;
      new MutationObserver(() => seen.push(Number(v.dataset.index))).observe(v, { attributes: true, attributeFilter: ['data-index'] });
    });
    const seen = () => page.evaluate(() => (window as unknown as { cineSeen: number[] }).cineSeen.slice());
    const playing = () => page.locator('[data-testid="cine-toggle"]').getAttribute('data-playing');

    await page.keyboard.press(' ');
    expect(await playing()).toBe('true');
    // Round the whole stack and back to the start: 1, 2, …, 10, 0, 1.
    await page.waitForFunction(
      () => {
        const s = (window as unknown as { cineSeen: number[] }).cineSeen;
        return s.length >= 12 && s.some((v, i) => i > 0 && v < s[i - 1]);
      },
      undefined,
      { timeout: HANG_BOUND_MS },
    );
    await page.keyboard.press(' ');
    expect(await playing()).toBe('false');
    const visited = await seen();
    // One slice on at a time, never skipping or repeating one, wrapping after the last.
    const total = Number(await page.locator('[data-testid="overlay-slice"]').getAttribute('data-total'));
    visited.forEach((v, i) => {
      if (i > 0 && v !== visited[i - 1]) expect(v).toBe((visited[i - 1] + 1) % total);
    });
    expect(new Set(visited).size).toBe(total);
    // Each frame was fetched once: the loop ran from cornerstone's cache.
    const frames = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/frames/')));
    expect(frames.length).toBe(new Set(frames).size);
    expect(new Set(frames).size).toBeLessThanOrEqual(total);

    // Stopped means stopped: the slice on screen stays.
    const stoppedAt = Number(await viewport().getAttribute('data-index'));
    await settledAt(page, stoppedAt);
    const count = (await seen()).length;
    await page.waitForTimeout(300);
    expect((await seen()).length).toBe(count);

    // The button starts it; with the focus on the button, the space bar presses it (once) and stops it.
    await page.locator('[data-testid="cine-toggle"]').click();
    expect(await playing()).toBe('true');
    await page.waitForFunction((n) => (window as unknown as { cineSeen: number[] }).cineSeen.length > n + 2, count, { timeout: HANG_BOUND_MS });
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="cine-toggle"]')?.dataset.playing === 'false', undefined, { timeout: HANG_BOUND_MS });
    await page.waitForTimeout(100);
    expect(await playing()).toBe('false');

    // Choosing a tool with the mouse leaves the focus on the image: the space bar plays.
    await page.locator('[data-testid="tool-windowLevel"]').click();
    await page.keyboard.press(' ');
    expect(await playing()).toBe('true');
    // A turn of the wheel is the reader taking over: it stops.
    const box = (await viewport().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 100);
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="cine-toggle"]')?.dataset.playing === 'false', undefined, { timeout: HANG_BOUND_MS });
    // Out of range rates are brought back into 1–60.
    await page.locator('[data-testid="cine-fps"]').fill('500');
    await page.locator('[data-testid="cine-fps"]').press('Enter');
    await page.locator('[data-testid="cine-fps"]').blur();
    expect(await page.locator('[data-testid="cine-fps"]').inputValue()).toBe('60');
  });

  it('shows 1×2 and 2×2 layouts: every cell an image, the toolbar and keys acting on the active cell only', async () => {
    const cell = (n: number) => `.viewport-cell:nth-child(${n}) [data-testid="viewport"]`;
    const windowText = (n: number) => page.locator(`.viewport-cell:nth-child(${n}) [data-testid="overlay-window"]`).textContent();
    await page.locator('[data-testid="layout-1x2"]').click();
    expect(await page.locator('[data-testid="viewport"]').count()).toBe(2);
    // The study has one series: the new cell shows it too, from the first slice.
    expect(await settledAt(page, 0, cell(2))).toBe('ready');
    for (const n of [1, 2]) {
      const stats = await canvasStats(page, cell(n));
      expect({ ...stats, looksLikeAnImage: looksLikeAnImage(stats) }).toMatchObject({ looksLikeAnImage: true });
    }
    const firstIndex = await page.locator(cell(1)).getAttribute('data-index');
    const firstWindow = await windowText(1);
    // A click makes the second cell active; presets and keys then act on it alone.
    const box = (await page.locator(cell(2)).boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    expect(await page.locator('.viewport-cell:nth-child(2)').getAttribute('data-active')).toBe('true');
    await page.locator('[data-testid="preset-lung"]').click();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await settledAt(page, 2, cell(2))).toBe('ready');
    await expect(windowText(2)).resolves.toMatch(/1500/);
    expect(await windowText(1)).toBe(firstWindow);
    expect(await page.locator(cell(1)).getAttribute('data-index')).toBe(firstIndex);

    await page.locator('[data-testid="layout-2x2"]').click();
    expect(await page.locator('[data-testid="viewport"]').count()).toBe(4);
    for (const n of [3, 4]) expect(await settledAt(page, 0, cell(n))).toBe('ready');
    await page.locator('[data-testid="layout-1x1"]').click();
    expect(await page.locator('[data-testid="viewport"]').count()).toBe(1);
    expect(await page.locator('.viewport-cell').first().getAttribute('data-active')).toBe('false');
  });

  it('raised no script errors and no Content-Security-Policy violations', () => {
    expect(pageErrors).toEqual([]);
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
  });

  /** The CT with an angle, ROIs and the probe showing, in Chinese or (without a Chinese font) English. */
  async function writeScreenshot(): Promise<void> {
    const language = page.locator('[data-testid="switch-language"]');
    if (!CHINESE_FONT) await rendering(() => language.click());
    await page.keyboard.press('v');
    const g = await geometry();
    await probeAt(onPage(g, 256.5, 40.5));
    await page.screenshot({ path: join(SCREENSHOTS, 'viewer-tools.png') });
    if (!CHINESE_FONT) await rendering(() => language.click());
  }
});
