// Reading assignments, reports and the recognition mark in the viewer, in real headless Chromium:
// an administrator assigns the CT to a remote reader; the reader sees it first on the worklist
// ("assigned to me"), opens it, writes and saves a draft, signs it (two clicks), finds the signed
// report — and the completed assignment — through FHIR, amends it into a second signed version,
// and marks the study recognised (MR-04).
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, DiagnosticReport, ImagingStudy, Task } from '@medplum/fhirtypes';
import type { Page } from 'playwright-core';
import { HANG_BOUND_MS, launchBrowser, readableScreenshot, settledAt, signInAtHub, type Browser } from '../helpers/browser.js';
import { dicomFiles } from '../helpers/dicom.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { chromiumUnavailable, REQUIRE_ALL } from '../helpers/parts.js';
import { createReadingDoctor, storeStudies, type ReadingDoctor } from '../helpers/reading-hub.js';
import { viewerBuilt } from '../helpers/viewer-build.js';

const missing = await chromiumUnavailable();
if (missing && REQUIRE_ALL) throw new Error(`viewer reports: SUHE_TEST_REQUIRE_ALL=1 but ${missing}`);
if (missing) process.stdout.write(`SKIPPED (viewer reports): ${missing}\n`);
const suite = missing ? describe.skip : describe;

const SCREENSHOTS = resolve(new URL('../../docs/screenshots', import.meta.url).pathname);
const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';

suite('reports, assignments and recognition in the viewer (headless Chromium)', () => {
  let t: TestHub;
  let browser: Browser;
  let page: Page;
  let reader: ReadingDoctor;
  let imagingStudy: ImagingStudy;
  let taskId = '';

  const waitForStatus = (value: string) =>
    page.waitForFunction((v) => document.querySelector<HTMLElement>('[data-testid="report-status"]')?.dataset.status === v, value, { timeout: HANG_BOUND_MS });
  const signTwice = async () => {
    const sign = page.locator('[data-testid="report-sign"]');
    await sign.click();
    expect(await sign.getAttribute('data-armed')).toBe('true'); // the first click only arms it
    await sign.click();
  };
  const readingReports = async () =>
    ((await (await t.fetch(`${t.base}/DiagnosticReport?imaging-study=ImagingStudy/${imagingStudy.id}`)).json()) as Bundle).entry?.map((e) => e.resource as DiagnosticReport) ?? [];

  beforeAll(async () => {
    await viewerBuilt();
    t = await startTestHub('pglite');
    await storeStudies(t, dicomFiles('series/ct-10'));
    imagingStudy = ((await (await t.fetch(`${t.base}/ImagingStudy?identifier=urn:oid:${CT_STUDY}`)).json()) as Bundle).entry![0].resource as ImagingStudy;
    reader = await createReadingDoctor(t, 'dr-remote-reader');
    // No share: the assignment itself gives the reader the study.
    const assigned = await t.fetch(`${t.url}/imaging/studies/${CT_STUDY}/assignments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reader: `Practitioner/${reader.practitionerId}`, priority: 'urgent', note: '急诊 CT，请优先阅片' }),
    });
    expect(assigned.status).toBe(201);
    taskId = ((await assigned.json()) as Task).id!;
    browser = await launchBrowser();
    page = browser.page;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows the reader their assignment first, above the worklist, and opens the study from it', async () => {
    await page.goto(`${t.url}/viewer/`);
    await signInAtHub(page, reader);
    const row = page.locator('[data-testid="assignment-row"]');
    await row.first().waitFor({ timeout: HANG_BOUND_MS });
    expect(await row.count()).toBe(1);
    expect(await row.getAttribute('data-study-uid')).toBe(CT_STUDY);
    expect(await row.getAttribute('data-priority')).toBe('urgent');
    await expect(row.textContent()).resolves.toContain('急诊 CT');
    // The assignments come before the studies in the page.
    const order = await page.evaluate(() => {
      const assignments = document.querySelector('[data-testid="assignments"]')!;
      const worklist = document.querySelector('[data-testid="worklist-filters"]')!;
      return assignments.compareDocumentPosition(worklist) & Node.DOCUMENT_POSITION_FOLLOWING;
    });
    expect(order).toBeTruthy();
    await page.locator('[data-testid="open-assignment"]').click();
    await page.locator('[data-testid="reading"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await settledAt(page, 0)).toBe('ready');
  });

  it('saves a draft report, then signs it; FHIR finds it final, signed by the reader, and the assignment completed', async () => {
    await waitForStatus('none');
    await page.locator('[data-testid="report-findings"]').fill('纵隔多发淋巴结肿大，最大约 2.1 cm。');
    await page.locator('[data-testid="report-impression"]').fill('考虑淋巴瘤。');
    await page.locator('[data-testid="report-save"]').click();
    await waitForStatus('preliminary');
    const [draft] = await readingReports();
    expect(draft).toMatchObject({ status: 'preliminary', conclusion: '考虑淋巴瘤。', resultsInterpreter: [{ reference: `Practitioner/${reader.practitionerId}` }] });

    await page.locator('[data-testid="report-impression"]').fill('考虑淋巴瘤，建议活检。');
    await signTwice();
    await waitForStatus('final');
    expect(await page.locator('[data-testid="report-findings"]').getAttribute('readonly')).not.toBeNull();
    const [signed] = await readingReports();
    expect(signed).toMatchObject({ id: draft.id, status: 'final', conclusion: '考虑淋巴瘤，建议活检。', subject: imagingStudy.subject });
    expect(Buffer.from(signed.presentedForm![0].data!, 'base64').toString()).toBe('纵隔多发淋巴结肿大，最大约 2.1 cm。');
    const provenance = (await (await t.fetch(`${t.base}/Provenance?target=DiagnosticReport/${signed.id}`)).json()) as Bundle;
    expect(provenance.entry).toHaveLength(1);
    const task = (await (await t.fetch(`${t.base}/Task/${taskId}`)).json()) as Task;
    expect(task.status).toBe('completed');
    // The versions list: the signed version verifies.
    await page.locator('[data-testid="report-panel"] summary').click();
    const signedVersion = page.locator('[data-testid="report-version"][data-status="final"]');
    await signedVersion.waitFor({ timeout: HANG_BOUND_MS });
    expect(await signedVersion.getAttribute('data-valid')).toBe('true');
  });

  it('amends the signed report into a new signed version; the first stays in the history', async () => {
    await page.locator('[data-testid="report-amend"]').click();
    await page.locator('[data-testid="report-impression"]').fill('考虑淋巴瘤，建议活检；对比外院 PET-CT。');
    await signTwice();
    await waitForStatus('amended');
    const [amended] = await readingReports();
    expect(amended).toMatchObject({ status: 'amended', conclusion: '考虑淋巴瘤，建议活检；对比外院 PET-CT。' });
    const history = (await (await t.fetch(`${t.base}/DiagnosticReport/${amended.id}/_history`)).json()) as Bundle;
    expect(history.entry?.map((e) => (e.resource as DiagnosticReport).status)).toEqual(['amended', 'final', 'preliminary', 'preliminary']);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="report-version"][data-valid="true"]').length === 2, undefined, { timeout: HANG_BOUND_MS });
  });

  it('MR-04: shows the study as not recognised, marks it 沪HR with QC passed, and the hub records it', async () => {
    const mark = page.locator('[data-testid="recognition-mark"]');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="recognition-mark"]')?.dataset.mark === '', undefined, { timeout: HANG_BOUND_MS });
    await page.locator('[data-testid="recognition-region"]').fill('沪');
    await page.locator('[data-testid="recognition-qc"]').selectOption('passed');
    await page.locator('[data-testid="recognition-save"]').click();
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="recognition-mark"]')?.dataset.mark === '沪HR', undefined, { timeout: HANG_BOUND_MS });
    expect(await mark.getAttribute('data-qc')).toBe('passed');
    const recognition = (await (await t.fetch(`${t.url}/imaging/studies/${CT_STUDY}/recognition`)).json()) as { mark: string; qcStatus: string };
    expect(recognition).toMatchObject({ mark: '沪HR', qcStatus: 'passed' });
    await readableScreenshot(page, join(SCREENSHOTS, 'viewer-report.png'));
  });

  it('saves a length measurement to the study as an Observation; it is drawn again after a reload, and withdrawn when deleted', async () => {
    await page.locator('[data-testid="tool-length"]').click();
    const box = (await page.locator('[data-testid="viewport"] canvas').boundingBox())!;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width / 2 - 100, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 100, y, { steps: 6 });
    await page.mouse.up();
    const item = page.locator('[data-testid="measurement"]');
    await item.first().waitFor({ timeout: HANG_BOUND_MS });
    const mm = Number(await item.first().getAttribute('data-mm'));
    expect(mm).toBeGreaterThan(20);
    await page.locator('[data-testid="measurements-save"]').click();
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="measurements-saved-status"]')?.dataset.saved === '1', undefined, { timeout: HANG_BOUND_MS });
    const saved = ((await (await t.fetch(`${t.base}/Observation?derived-from=ImagingStudy/${imagingStudy.id}`)).json()) as Bundle).entry?.map((e) => e.resource as any) ?? [];
    expect(saved).toHaveLength(1);
    expect(saved[0].valueQuantity.code).toBe('mm');
    expect(Math.abs(saved[0].valueQuantity.value - mm)).toBeLessThan(0.01);

    await page.reload();
    await page.locator('[data-testid="reading"]').waitFor({ timeout: HANG_BOUND_MS });
    await item.first().waitFor({ timeout: HANG_BOUND_MS });
    expect(await item.count()).toBe(1);
    expect(Math.abs(Number(await item.first().getAttribute('data-mm')) - mm)).toBeLessThan(0.01);
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="measurements-saved-status"]')?.dataset.saved === '1', undefined, { timeout: HANG_BOUND_MS });

    await page.locator('[data-testid="delete-measurement"]').click();
    // The withdrawal goes out in the background: wait for it (bounded), then check.
    const statusOf = async () => ((await (await t.fetch(`${t.base}/Observation/${saved[0].id}`)).json()) as any).status;
    for (let i = 0; i < 200 && (await statusOf()) !== 'entered-in-error'; i++) await new Promise((done) => setTimeout(done, 100));
    expect(await statusOf()).toBe('entered-in-error');
    await page.locator('[data-testid="tool-windowLevel"]').click();
  });

  it('the completed assignment leaves the reader\'s list; no script errors or CSP violations', async () => {
    await page.locator('[data-testid="back-to-worklist"]').click();
    await page.locator('[data-testid="study-row"]').first().waitFor({ timeout: HANG_BOUND_MS });
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="assignments"]')?.hidden === true, undefined, { timeout: HANG_BOUND_MS });
    expect(browser.pageErrors).toEqual([]);
    expect(browser.consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
  });
});
