// The family-doctor pages in real headless Chromium (viewer/src/family/). The family doctor signs
// a resident up at the centre on the "Sign" tab — found by ID number, a basic and a personalised
// package, a district and a city hospital, the signed form attached (FD-02/FD-05) — and signing
// them again shows the hub's FD-02 refusal. The panel shows the resident's priority groups as the
// hub computes them from the record (FD-01/04) and the group filter narrows it; with the hub's
// clock 100 days on, the worklist shows the overdue hypertension follow-up (FD-07), and recording
// a home visit with blood pressure on the page clears it (FHIR then holds the Encounter and the
// BP Observation). The resident's "my family doctor" shows the doctor, centre, packages and hospitals.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, Contract, Encounter, Observation } from '@medplum/fhirtypes';
import { type Browser, HANG_BOUND_MS, readableScreenshot, signedInBrowser } from '../helpers/browser.js';
import { asPerson, createClinician, createResident, createResource, type Person } from '../helpers/clinicians.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createAccount, newPassword } from '../helpers/people.js';
import { chromiumUnavailable, REQUIRE_ALL } from '../helpers/parts.js';
import { viewerBuilt } from '../helpers/viewer-build.js';
import { createDiagnosis, createInstitution, createPackage } from '../helpers/community.js';

const missing = await chromiumUnavailable();
if (missing && REQUIRE_ALL) throw new Error(`family-doctor pages: SUHE_TEST_REQUIRE_ALL=1 but ${missing}`);
if (missing) process.stdout.write(`SKIPPED (family-doctor pages): ${missing}\n`);
const suite = missing ? describe.skip : describe;

const SCREENSHOTS = resolve(new URL('../../docs/screenshots', import.meta.url).pathname);
const FD = 'https://suhe.example.cn/fhir/CodeSystem/family-doctor';
const ref = (reference: string) => ({ valueReference: { reference } });

suite('the family-doctor pages (headless Chromium)', () => {
  let t: TestHub;
  let doctor: Person;
  let elderly: Person;
  let younger: Person;
  let role = '';
  const orgs: Record<string, string> = {};
  const packages: Record<string, string> = {};
  const browsers: Browser[] = [];
  const read = async <T>(path: string) => (await (await t.fetch(`${t.base}/${path}`)).json()) as T;
  const signedIn = (person: Person, route = '') => signedInBrowser(t.url, person, browsers, route);

  beforeAll(async () => {
    await viewerBuilt();
    t = await startTestHub('pglite');
    orgs.centre = await createInstitution(t, '苏河区江宁路街道社区卫生服务中心', 'community-health-centre');
    orgs.district = await createInstitution(t, '苏河区中心医院', 'district-hospital');
    orgs.city = await createInstitution(t, '上海市第一人民医院', 'city-hospital');
    doctor = await createClinician(t, { username: 'fd-pages-doctor', organization: orgs.centre, name: { family: '陈', given: ['家医'] } });
    role = `PractitionerRole/${(await read<Bundle>(`PractitionerRole?practitioner=${doctor.reference}`)).entry![0].resource!.id}`;
    packages.basic = await createPackage(t, 'basic-package', '基础服务包', 0);
    packages.personalised = await createPackage(t, 'personalised-package', '高血压个性化服务包', 120);
    elderly = await createResident(t, { username: 'fd-pages-elderly', birthDate: '1950-03-01', name: { family: '沈', given: ['阿婆'] } });
    await createDiagnosis(t, elderly.reference, 'I10', '原发性高血压', '2020-01-10');
    // No care relationship yet: the doctor finds the resident only by the exact ID number they show.
    // A second member of the panel, in no priority group, signed online by themself.
    younger = await createResident(t, { username: 'fd-pages-younger', birthDate: '1990-06-15', name: { family: '林', given: ['晓'] } });
    const signed = await asPerson(t, younger)('POST', `Patient/${younger.id}/$sign-contract`, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'familyDoctor', ...ref(role) }, { name: 'package', ...ref(`PlanDefinition/${packages.basic}`) },
        { name: 'districtHospital', ...ref(`Organization/${orgs.district}`) }, { name: 'cityHospital', ...ref(`Organization/${orgs.city}`) },
      ],
    });
    expect(signed.status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    for (const browser of browsers) await browser.close();
    await t?.close();
  });

  it('FD-02/FD-05: the doctor signs a resident up at the centre (ID number, basic + personalised package, 1+1+1 hospitals, the signed form); signing again shows the hub\'s FD-02 refusal', async () => {
    const browser = await signedIn(doctor, '#/family/sign');
    const page = browser.page;
    await page.locator('[data-testid="family-sign"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="family"]').getAttribute('data-role')).toBe('clinician');
    await page.locator('[data-testid="sign-id-number"]').fill(elderly.identity!.value);
    await page.locator('[data-testid="sign-find"]').click();
    await page.locator(`[data-testid="sign-form"][data-patient="${elderly.reference}"]`).waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="sign-patient"]').textContent()).toBe('沈阿婆');
    expect(await page.locator('[data-testid="sign-role"]').inputValue()).toBe(role); // the doctor's role, preselected
    expect(await page.locator('[data-testid="sign-role"]').textContent()).toContain('社区卫生服务中心');
    expect(await page.locator('[data-testid="sign-personalised"]').textContent()).toContain('¥120');
    await page.locator(`[data-testid="sign-basic-package"][value="PlanDefinition/${packages.basic}"]`).check();
    await page.locator(`[data-testid="sign-personalised-package"][value="PlanDefinition/${packages.personalised}"]`).check();
    await page.locator('[data-testid="sign-district"]').selectOption(`Organization/${orgs.district}`);
    await page.locator('[data-testid="sign-city"]').selectOption(`Organization/${orgs.city}`);

    // Without the signed form the page stops it: a doctor records only a contract signed on paper.
    await page.locator('[data-testid="sign-submit"]').click();
    await page.locator('[data-testid="sign-form"][data-outcome="invalid"]').waitFor({ timeout: HANG_BOUND_MS });
    expect((await read<Bundle>(`Contract?subject=${elderly.reference}`)).entry ?? []).toHaveLength(0);

    await page.locator('[data-testid="sign-form-file"]').setInputFiles({ name: '签约协议书.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 signed at the centre') });
    await page.locator('[data-testid="sign-submit"]').click();
    await page.locator('[data-testid="sign-form"]:not([data-outcome="invalid"])').waitFor({ timeout: HANG_BOUND_MS });
    await page.locator('[data-testid="sign-form"][data-outcome]:not([data-outcome="invalid"])').waitFor({ timeout: HANG_BOUND_MS });
    expect([await page.locator('[data-testid="sign-form"]').getAttribute('data-outcome'), await page.locator('[data-testid="sign-outcome"]').textContent()]).toEqual(['signed', expect.stringContaining('签约成功')]) // the outcome's text names the reason on failure;

    const held = (await read<Bundle<Contract>>(`Contract?subject=${elderly.reference}`)).entry!.map((e) => e.resource!);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ status: 'executed', authority: [{ reference: `Organization/${orgs.centre}` }], legallyBindingAttachment: { contentType: 'application/pdf', title: '签约协议书.pdf' } });
    expect(Buffer.from(held[0].legallyBindingAttachment!.data!, 'base64').toString()).toBe('%PDF-1.4 signed at the centre');
    expect(held[0].signer!.find((s) => s.type?.code === 'HPROV')?.party?.reference).toBe(role);
    expect(held[0].term!.map((x) => x.topicReference?.reference)).toEqual([`PlanDefinition/${packages.basic}`, `PlanDefinition/${packages.personalised}`]);
    const choice = held[0].extension!.find((e) => e.url.endsWith('/one-plus-one-plus-one'))!.extension!;
    expect(choice.map((e) => e.valueReference?.reference)).toEqual([`Organization/${orgs.district}`, `Organization/${orgs.city}`]);
    expect(await page.locator('[data-testid="sign-outcome"]').textContent()).toContain(held[0].applies!.end!);

    // Again: one family doctor at a time — the page shows the hub's own words.
    await page.locator('[data-testid="sign-submit"]').click();
    await page.locator('[data-testid="sign-form"][data-outcome="refused"]').waitFor({ timeout: HANG_BOUND_MS });
    const refusal = (await page.locator('[data-testid="sign-outcome"]').textContent()) ?? '';
    expect(refusal).toMatch(new RegExp(`FD-02: one family doctor at a time.*until ${held[0].applies!.end}`));
    expect((await read<Bundle>(`Contract?subject=${elderly.reference}`)).entry).toHaveLength(1);
    expect(browser.pageErrors).toEqual([]);
  });

  it('FD-01/04: the panel shows the resident with the priority groups computed from the record (65+ and hypertension), and the group filter narrows the list', async () => {
    const browser = await signedIn(doctor, '#/family/panel');
    const page = browser.page;
    await page.locator('[data-testid="family-panel"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    const row = page.locator(`[data-testid="panel-row"][data-patient="${elderly.reference}"]`);
    expect(await row.getAttribute('data-groups')).toBe('elderly-65 hypertension');
    expect(await row.textContent()).toContain('沈阿婆');
    expect(await row.locator('.group-label').allTextContents()).toEqual(['65岁以上老年人', '高血压']);
    expect(await page.locator('[data-testid="panel-row"]').count()).toBe(2);
    expect(await page.locator('[data-testid="panel-count"]').textContent()).toContain('2');
    await page.locator('[data-testid="panel-group"]').selectOption('hypertension');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="panel-row"]').length === 1, undefined, { timeout: HANG_BOUND_MS });
    await page.locator('[data-testid="family-panel"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="panel-row"]').getAttribute('data-patient')).toBe(elderly.reference);
    await page.locator('[data-testid="panel-group"]').selectOption('diabetes');
    await page.locator('[data-testid="panel-status"][data-i18n="familyNoMembers"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="panel-row"]').count()).toBe(0);
    expect(browser.pageErrors).toEqual([]);
  });

  it('FD-07: 100 days on, the worklist shows the overdue hypertension follow-up; recording a home visit with BP 138/86 on the page clears it and FHIR holds the Encounter and the BP Observation', async () => {
    const clock = t.hub.hospital.clock;
    const real = clock.now;
    clock.now = () => new Date(Date.now() + 100 * 86_400_000);
    try {
      const browser = await signedIn(doctor, '#/family/worklist');
      const page = browser.page;
      await page.locator('[data-testid="family-worklist"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
      const row = page.locator(`[data-testid="worklist-row"][data-patient="${elderly.reference}"][data-kind="hypertension-follow-up"]`);
      expect(await row.getAttribute('data-status')).toBe('overdue');
      const cells = await row.locator('td').allTextContents();
      expect(cells.slice(0, 5)).toEqual(['沈阿婆', '高血压随访', 'FD-07', expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), '逾期']);

      await row.locator('[data-testid="record-follow-up"]').click();
      const form = page.locator(`[data-testid="follow-up-row"][data-patient="${elderly.reference}"] [data-testid="follow-up-form"]`);
      expect(await form.locator('[data-testid="follow-up-kind"]').inputValue()).toBe('hypertension-follow-up');
      await form.locator('[data-testid="follow-up-class"]').selectOption('HH');
      // Only one of the two pressures: the page stops it.
      await form.locator('[data-testid="follow-up-systolic"]').fill('138');
      await form.locator('[data-testid="follow-up-save"]').click();
      await page.locator('[data-testid="follow-up-form"][data-outcome="invalid"]').waitFor({ timeout: HANG_BOUND_MS });
      await form.locator('[data-testid="follow-up-diastolic"]').fill('86');
      await form.locator('[data-testid="follow-up-note"]').fill('上门随访，血压控制尚可');
      await readableScreenshot(page, `${SCREENSHOTS}/family-doctor-worklist.png`);
      await form.locator('[data-testid="follow-up-save"]').click();
      await row.waitFor({ state: 'detached', timeout: HANG_BOUND_MS });
      await page.locator('[data-testid="family-worklist"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
      expect(await row.count()).toBe(0);

      const encounters = (await read<Bundle<Encounter>>(`Encounter?subject=${elderly.reference}&type=${encodeURIComponent(`${FD}|hypertension-follow-up`)}`)).entry!.map((e) => e.resource!);
      expect(encounters).toHaveLength(1);
      expect(encounters[0]).toMatchObject({ status: 'finished', class: { code: 'HH' } });
      const observations = (await read<Bundle<Observation>>(`Observation?encounter=Encounter/${encounters[0].id}`)).entry!.map((e) => e.resource!);
      const bp = observations.find((o) => o.code.coding?.[0]?.code === '85354-9')!;
      expect(bp.component!.map((c) => c.valueQuantity?.value)).toEqual([138, 86]);
      expect(browser.pageErrors).toEqual([]);
    } finally {
      clock.now = real;
    }
  });

  it('the resident\'s "my family doctor" page shows the family doctor, the centre, the packages with prices and both hospitals', async () => {
    const browser = await signedIn(elderly);
    const page = browser.page;
    // A resident's home stays the internet hospital; the top bar leads to the family-doctor page.
    await page.locator('[data-testid="hospital"]').waitFor({ timeout: HANG_BOUND_MS });
    await page.locator('[data-testid="family-link"]').click();
    await page.locator('[data-testid="my-family-doctor"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    const contract = page.locator('[data-testid="mine-contract"]');
    expect(await contract.count()).toBe(1);
    expect(await contract.getAttribute('data-state')).toBe('in-force');
    expect(await contract.locator('[data-testid="mine-doctor"]').textContent()).toBe('陈家医');
    expect(await contract.locator('[data-testid="mine-centre"]').textContent()).toBe('苏河区江宁路街道社区卫生服务中心');
    expect(await contract.locator('[data-testid="mine-package"]').allTextContents()).toEqual(['基础服务包 免费', '高血压个性化服务包 ¥120']);
    expect(await contract.locator('[data-testid="mine-district"]').textContent()).toBe('苏河区中心医院');
    expect(await contract.locator('[data-testid="mine-city"]').textContent()).toBe('上海市第一人民医院');
    expect(await contract.locator('[data-testid="mine-term"]').textContent()).toMatch(/^\d{4}-\d{2}-\d{2} – \d{4}-\d{2}-\d{2}$/);
    await readableScreenshot(page, `${SCREENSHOTS}/family-doctor-resident.png`);
    expect(browser.pageErrors).toEqual([]);
  });

  it('FD-02/FD-05: a resident without a family doctor is told how to sign, and signs online for themself (a doctor at a community health centre, the basic package, both hospitals)', async () => {
    const newcomer = await createResident(t, { username: 'fd-pages-newcomer', name: { family: '吴', given: ['敏'] } });
    const browser = await signedIn(newcomer, '#/family/mine');
    const page = browser.page;
    await page.locator('[data-testid="my-family-doctor"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="mine-status"]').getAttribute('data-i18n')).toBe('familyNoContract');
    await page.locator('[data-testid="family-sign"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="sign-form-file"]').count()).toBe(0); // no paper form online
    expect(await page.locator(`[data-testid="sign-role"] option[value="${role}"]`).textContent()).toBe('陈家医 · 苏河区江宁路街道社区卫生服务中心');
    await page.locator('[data-testid="sign-role"]').selectOption(role);
    expect(await page.locator('[data-testid="sign-basic-package"]').isChecked()).toBe(true); // the one basic package
    await page.locator('[data-testid="sign-district"]').selectOption(`Organization/${orgs.district}`);
    await page.locator('[data-testid="sign-city"]').selectOption(`Organization/${orgs.city}`);
    await page.locator('[data-testid="sign-submit"]').click();
    await page.locator('[data-testid="sign-form"][data-outcome]').waitFor({ timeout: HANG_BOUND_MS });
    expect([await page.locator('[data-testid="sign-form"]').getAttribute('data-outcome'), await page.locator('[data-testid="sign-outcome"]').textContent()]).toEqual(['signed', expect.stringContaining('签约成功')]);
    const held = (await read<Bundle<Contract>>(`Contract?subject=${newcomer.reference}`)).entry!.map((e) => e.resource!);
    expect(held.map((c) => [c.signer![0].type?.code, c.signer![0].party?.reference, c.term!.length])).toEqual([['PATN', newcomer.reference, 1]]);
    await page.reload();
    await page.locator('[data-testid="my-family-doctor"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="mine-contract"] [data-testid="mine-doctor"]').textContent()).toBe('陈家医');
    expect(browser.pageErrors).toEqual([]);
  });

  it('FD-04: the regulator\'s indicators page shows the district\'s coverage, the priority groups and the follow-up completion as the hub reports them', async () => {
    const practitioner = await createResource(t, { resourceType: 'Practitioner', active: true, name: [{ family: '监', given: ['管员'] }] });
    const regulator = { username: 'fd-pages-regulator', password: newPassword() };
    await createAccount(t, { ...regulator, role: 'regulator', fhirUser: `Practitioner/${practitioner.id}` });
    const browser = await signedIn(regulator as Person, '#/family/report');
    const page = browser.page;
    await page.locator('[data-testid="family-report"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    const report = (await (await t.fetch(`${t.base}/Contract/$report`)).json()) as { parameter: { name: string; valueInteger?: number; part?: { name: string; valueCode?: string; valueInteger?: number }[] }[] };
    const value = (name: string) => report.parameter.find((p) => p.name === name)!.valueInteger!;
    expect(value('signed')).toBeGreaterThanOrEqual(1);
    const summary = (await page.locator('[data-testid="report-summary"]').textContent()) ?? '';
    expect(summary).toContain(String(value('signed')));
    expect(summary).toContain(String(value('population')));
    // Each priority group's row says what the hub counted.
    for (const group of report.parameter.filter((p) => p.name === 'group')) {
      const code = group.part!.find((p) => p.name === 'code')!.valueCode!;
      const cells = await page.locator(`[data-testid="report-group"][data-group="${code}"] td`).allTextContents();
      expect(cells.slice(1, 3)).toEqual([String(group.part!.find((p) => p.name === 'population')!.valueInteger), String(group.part!.find((p) => p.name === 'signed')!.valueInteger)]);
    }
    expect(await page.locator('[data-testid="report-follow-up"]').count()).toBe(4);
    expect(await page.locator('[data-testid="report-centre"]').count()).toBeGreaterThanOrEqual(1);
    // A doctor is not shown the district's indicators (the hub refuses them the report too).
    expect((await asPerson(t, doctor)('GET', 'Contract/$report')).status).toBe(403);
    expect(browser.pageErrors).toEqual([]);
  });
});
