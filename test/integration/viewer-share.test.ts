// Sharing from the viewer, end to end in real headless Chromium: a signed-in doctor opens the CT
// and creates a link share with an access code in the share dialog; a second browser with no
// session at all opens the viewer link, is asked for the code, is refused a wrong one with the
// hub's message, and reads the CT (checked by the canvas's pixels) — read-only, no worklist, and
// not one request carrying an Authorization header. The doctor revokes the link from the dialog
// and the link then says so; a share with an institution made in the dialog reaches the hub.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page, Request } from 'playwright-core';
import { type Browser, canvasStats, CHINESE_FONT, HANG_BOUND_MS, launchBrowser, looksLikeAnImage, type PixelStats, settledAt, signInAtHub } from '../helpers/browser.js';
import { dicomFiles } from '../helpers/dicom.js';
import type { TestHub } from '../helpers/hub.js';
import { createAccount, newPassword } from '../helpers/people.js';
import { chromiumUnavailable, REQUIRE_ALL } from '../helpers/parts.js';
import { shareAllStudiesWith, startReadingHub } from '../helpers/reading-hub.js';
import { viewerBuilt } from '../helpers/viewer-build.js';

const missing = await chromiumUnavailable();
if (missing && REQUIRE_ALL) throw new Error(`viewer-share: SUHE_TEST_REQUIRE_ALL=1 but ${missing}`);
if (missing) process.stdout.write(`SKIPPED (viewer-share): ${missing}\n`);
const suite = missing ? describe.skip : describe;

const SCREENSHOTS = resolve(new URL('../../docs/screenshots', import.meta.url).pathname);
const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';
const ACCESS_CODE = 'ct-4711';

interface Share {
  id: string;
  kind: string;
  recipient?: string;
  expiresAt?: string;
  revokedAt?: string;
  hasAccessCode: boolean;
}

interface SeenRequest {
  url: string;
  authorization?: string;
  shareCode?: string;
}

function expectAnImage(stats: PixelStats): void {
  expect({ ...stats, looksLikeAnImage: looksLikeAnImage(stats) }).toMatchObject({ looksLikeAnImage: true });
}

suite('sharing from the viewer, and a share link opened without an account', () => {
  let t: TestHub;
  let doctorBrowser: Browser;
  let page: Page;
  let visitor: Browser;
  let visitorPage: Page;
  let pharmacistBrowser: Browser;
  const doctor = { username: 'dr-sharer', password: '' };
  let organizationId = '';
  let viewerLink = '';
  let linkShareId = '';
  // Every request the visitor's browser makes, with the headers it really sent.
  const seen: Promise<SeenRequest>[] = [];
  const record = (request: Request) =>
    seen.push(request.allHeaders().then((headers) => ({ url: request.url(), authorization: headers.authorization, shareCode: headers['x-share-code'] })));
  const shares = async () => (await (await t.fetch(`${t.url}/imaging/studies/${CT_STUDY}/shares`)).json()) as Share[];
  const hubMessage = (p: Page) => p.locator('[data-testid="shared-hub-message"]');
  const waitForText = (p: Page, testid: string, text: string) =>
    p.waitForFunction(({ id, part }) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.includes(part) ?? false, { id: testid, part: text }, { timeout: HANG_BOUND_MS });

  beforeAll(async () => {
    await viewerBuilt();
    const started = await startReadingHub(dicomFiles('series/ct-10'), doctor.username);
    t = started.t;
    doctor.password = started.reader.password;
    const organization = await t.fetch(`${t.base}/Organization`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Organization', name: 'Suhe Central Hospital' }),
    });
    organizationId = ((await organization.json()) as { id: string }).id;
    doctorBrowser = await launchBrowser();
    page = doctorBrowser.page;
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await visitor?.close();
    await pharmacistBrowser?.close();
    await doctorBrowser?.close();
    await t?.close();
  });

  it('a signed-in doctor opens the CT and creates a link share with an access code in the share dialog', async () => {
    await page.goto(`${t.url}/viewer/#/study/${CT_STUDY}`);
    await signInAtHub(page, doctor);
    await page.locator('[data-testid="reading"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await settledAt(page, 0)).toBe('ready');
    // The button appears once the hub has said this doctor may share (it lists the shares).
    const open = page.locator('[data-testid="share-open"]');
    await open.waitFor({ state: 'visible', timeout: HANG_BOUND_MS });
    if (!CHINESE_FONT) await page.locator('[data-testid="switch-language"]').click();
    await open.click();
    await page.locator('[data-testid="share-dialog"]').waitFor({ timeout: HANG_BOUND_MS });
    // The practitioner share the test made for this doctor is listed already.
    await page.locator('[data-testid="share-row"][data-kind="practitioner"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="share-kind"]').inputValue()).toBe('link');
    expect(await page.locator('[data-testid="share-hours"]').inputValue()).toBe('72');

    await page.locator('[data-testid="share-access-code"]').fill(ACCESS_CODE);
    await page.locator('[data-testid="share-create"]').click();
    const link = page.locator('[data-testid="share-link"]');
    await link.waitFor({ state: 'visible', timeout: HANG_BOUND_MS });
    viewerLink = await link.inputValue();
    // The token travels in the fragment only: never sent to a server, never in a Referer.
    expect(viewerLink.startsWith(`${t.url}/viewer/#/shared/`)).toBe(true);
    expect(viewerLink).toMatch(new RegExp(`/viewer/#/shared/[\\w-]{40,}/${CT_STUDY.replace(/\./g, '\\.')}$`));
    expect(viewerLink).not.toContain(ACCESS_CODE);
    await expect(page.locator('[data-testid="share-once"]').textContent()).resolves.toMatch(/shown only once|只显示这一次/);
    await page.locator('[data-testid="share-copy"]').click();
    await page.waitForFunction(() => (document.querySelector('[data-testid="share-copy-status"]')?.textContent ?? '').length > 0, undefined, { timeout: HANG_BOUND_MS });

    const row = page.locator('[data-testid="share-row"][data-kind="link"]');
    await row.waitFor({ timeout: HANG_BOUND_MS });
    expect(await row.getAttribute('data-status')).toBe('active');
    linkShareId = (await row.getAttribute('data-share-id'))!;
    const stored = (await shares()).find((s) => s.id === linkShareId)!;
    expect(stored).toMatchObject({ kind: 'link', hasAccessCode: true });
    expect(stored.revokedAt).toBeUndefined();
    expect(Math.abs(Date.parse(stored.expiresAt!) - Date.now() - 72 * 3_600_000)).toBeLessThan(120_000);
    await page.screenshot({ path: join(SCREENSHOTS, 'viewer-share.png') });
  });

  it('a second browser with no session opens the link: asked for the code, a wrong one refused with the hub’s message, the right one shows the CT', async () => {
    visitor = await launchBrowser();
    visitorPage = visitor.page;
    visitor.context.on('request', record);
    await visitorPage.goto(viewerLink);
    const form = visitorPage.locator('[data-testid="share-code-form"]');
    await form.waitFor({ state: 'visible', timeout: HANG_BOUND_MS });
    // Asked for the code here, on the link's page: not sent to a sign-in page.
    expect(new URL(visitorPage.url()).pathname).toBe('/viewer/');
    await expect(hubMessage(visitorPage).textContent()).resolves.toContain('needs its access code');

    await visitorPage.locator('[data-testid="share-code"]').fill('000000');
    await visitorPage.locator('[data-testid="share-code-submit"]').click();
    await waitForText(visitorPage, 'shared-hub-message', 'The access code is wrong');
    expect(await form.isVisible()).toBe(true);
    expect(await visitorPage.locator('[data-testid="reading"]').count()).toBe(0);

    await visitorPage.locator('[data-testid="share-code"]').fill(ACCESS_CODE);
    await visitorPage.locator('[data-testid="share-code-submit"]').click();
    await visitorPage.locator('[data-testid="reading"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await settledAt(visitorPage, 0)).toBe('ready');
    expectAnImage(await canvasStats(visitorPage));
    await expect(visitorPage.locator('[data-testid="overlay-slice"]').textContent()).resolves.toMatch(/1\s*\/\s*11/);
    await expect(visitorPage.locator('[data-testid="overlay-patient"]').textContent()).resolves.toBe('Lymphoma');
    // Scrolling reads further slices through the link too.
    await visitorPage.locator('[data-testid="slice-slider"]').fill('5');
    expect(await settledAt(visitorPage, 4)).toBe('ready');
    expectAnImage(await canvasStats(visitorPage));

    // Read-only, one study: the banner with the expiry; no worklist, no sharing, nobody signed in.
    const banner = visitorPage.locator('[data-testid="shared-banner"]');
    expect(await banner.isVisible()).toBe(true);
    await expect(banner.textContent()).resolves.toContain(String(new Date(Date.now() + 72 * 3_600_000).getFullYear()));
    for (const testid of ['back-to-worklist', 'share-open', 'study-row', 'sign-out', 'user']) {
      expect(`${testid}: ${await visitorPage.locator(`[data-testid="${testid}"]`).count()}`).toBe(`${testid}: 0`);
    }

    const requests = (await Promise.all(seen)).filter((r) => r.url.startsWith('http'));
    expect(requests.filter((r) => r.authorization !== undefined)).toEqual([]);
    // The code went in the X-Share-Code header, never in an address.
    expect(requests.filter((r) => r.url.includes(ACCESS_CODE))).toEqual([]);
    expect(requests.some((r) => r.url.includes('/frames/') && r.shareCode === ACCESS_CODE)).toBe(true);
    // Only the viewer's files and the share's DICOMweb: no /dicomweb, /fhir or /oauth2.
    const paths = requests.map((r) => new URL(r.url).pathname).filter((p) => p !== '/favicon.ico');
    expect(paths.filter((p) => !p.startsWith('/viewer/') && !p.startsWith('/imaging/shared/'))).toEqual([]);
    const storage = await visitorPage.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) }));
    expect([...storage.session, ...storage.local].filter((k) => /token|code/i.test(k))).toEqual([]);
  });

  it('the worklist is not reachable from the link: any other address asks the visitor to sign in', async () => {
    await visitorPage.evaluate(() => (location.hash = '#/'));
    await visitorPage.waitForURL((url) => url.pathname === '/oauth2/authorize', { timeout: HANG_BOUND_MS });
    expect(await visitorPage.locator('[data-testid="study-row"]').count()).toBe(0);
    const requests = (await Promise.all(seen)).filter((r) => r.url.startsWith('http'));
    expect(requests.filter((r) => r.authorization !== undefined)).toEqual([]);
    expect(requests.filter((r) => new URL(r.url).pathname.startsWith('/dicomweb/'))).toEqual([]);
  });

  it('the doctor revokes the link in the dialog; the link then shows the hub’s revoked message', async () => {
    await page.locator(`[data-testid="share-row"][data-share-id="${linkShareId}"] [data-testid="share-revoke"]`).click();
    await page.waitForFunction((id) => document.querySelector(`[data-testid="share-row"][data-share-id="${id}"]`)?.getAttribute('data-status') === 'revoked', linkShareId, { timeout: HANG_BOUND_MS });
    expect((await shares()).find((s) => s.id === linkShareId)!.revokedAt).toBeDefined();

    await visitorPage.goto(viewerLink);
    await visitorPage.reload();
    await waitForText(visitorPage, 'shared-hub-message', 'This share link was revoked');
    expect(await visitorPage.locator('[data-testid="shared-message"]').isVisible()).toBe(true);
    expect(await visitorPage.locator('[data-testid="share-code-form"]').isVisible()).toBe(false);
    expect(await visitorPage.locator('[data-testid="reading"]').count()).toBe(0);
    const requests = (await Promise.all(seen)).filter((r) => r.url.startsWith('http'));
    expect(requests.filter((r) => r.authorization !== undefined)).toEqual([]);
  });

  it('a share with an institution, found by name in the dialog, is stored by the hub', async () => {
    await page.locator('[data-testid="share-kind"]').selectOption('organization');
    await page.locator('[data-testid="share-search-name"]').fill('Suhe');
    await page.locator('[data-testid="share-search"]').click();
    const match = page.locator(`[data-testid="share-search-result"][data-reference="Organization/${organizationId}"]`);
    await match.waitFor({ timeout: HANG_BOUND_MS });
    await expect(match.textContent()).resolves.toContain('Suhe Central Hospital');
    await match.click();
    expect(await page.locator('[data-testid="share-recipient"]').inputValue()).toBe(`Organization/${organizationId}`);
    await page.locator('[data-testid="share-create"]').click();
    await page.locator('[data-testid="share-row"][data-kind="organization"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="share-created-recipient"]').isVisible()).toBe(true);
    // No link for a share with an institution: its doctors read it with their own accounts.
    expect(await page.locator('[data-testid="share-created"]').isVisible()).toBe(false);
    const stored = (await shares()).filter((s) => s.kind === 'organization');
    expect(stored).toEqual([expect.objectContaining({ kind: 'organization', recipient: `Organization/${organizationId}`, hasAccessCode: false })]);
    expect(stored[0].revokedAt).toBeUndefined();

    // A recipient the hub refuses: its OperationOutcome text is shown in the dialog.
    await page.locator('[data-testid="share-recipient"]').fill('Patient/1');
    await page.locator('[data-testid="share-create"]').click();
    await waitForText(page, 'share-error', 'needs recipient');
    await page.locator('[data-testid="share-close"]').click();
  });

  it('a clinician whose role may not share (a pharmacist the study is shared with) reads it without a share button: the hub said 403', async () => {
    const practitioner = await t.fetch(`${t.base}/Practitioner`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Practitioner', name: [{ family: 'Apotheker' }] }) });
    const practitionerId = ((await practitioner.json()) as { id: string }).id;
    const pharmacist = { username: 'pharmacist', password: newPassword() };
    await createAccount(t, { ...pharmacist, role: 'pharmacist', fhirUser: `Practitioner/${practitionerId}` });
    await shareAllStudiesWith(t, practitionerId);
    pharmacistBrowser = await launchBrowser();
    const p = pharmacistBrowser.page;
    await p.goto(`${t.url}/viewer/#/study/${CT_STUDY}`);
    const refused = p.waitForResponse((res) => res.url().endsWith(`/imaging/studies/${CT_STUDY}/shares`), { timeout: HANG_BOUND_MS });
    await signInAtHub(p, pharmacist);
    await p.locator('[data-testid="reading"]').waitFor({ timeout: HANG_BOUND_MS });
    expect((await refused).status()).toBe(403);
    expect(await settledAt(p, 0)).toBe('ready');
    expect(await p.locator('[data-testid="share-open"]').isVisible()).toBe(false);
  });

  it('raised no script errors and no Content-Security-Policy violations in any browser', () => {
    for (const b of [doctorBrowser, visitor, pharmacistBrowser]) {
      expect(b.pageErrors).toEqual([]);
      expect(b.consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
    }
  });
});
