// The internet hospital's web pages in real headless Chromium (viewer/src/hospital/): a resident
// without a diagnosis from a physical institution is refused with the hub's IH-01/IH-02 text; a
// resident with one finds the doctor's free slot and books it; the doctor (a second browser) sees
// the consultation and starts the visit; the resident opens the visit and a message reaches the
// doctor's page live over the WebSocket, delivered; the doctor ends the visit with a diagnosis
// and an offline referral, which FHIR then shows (Encounter finished, the ServiceRequest).
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Appointment, Bundle, Encounter, ServiceRequest, Slot } from '@medplum/fhirtypes';
import type { Page } from 'playwright-core';
import { type Browser, HANG_BOUND_MS, readableScreenshot, signedInBrowser } from '../helpers/browser.js';
import { asPerson, createClinician, createOrganization, createResident, createResource, type Person } from '../helpers/clinicians.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { chromiumUnavailable, REQUIRE_ALL } from '../helpers/parts.js';
import { viewerBuilt } from '../helpers/viewer-build.js';

const missing = await chromiumUnavailable();
if (missing && REQUIRE_ALL) throw new Error(`hospital pages: SUHE_TEST_REQUIRE_ALL=1 but ${missing}`);
if (missing) process.stdout.write(`SKIPPED (hospital pages): ${missing}\n`);
const suite = missing ? describe.skip : describe;

const SCREENSHOTS = resolve(new URL('../../docs/screenshots', import.meta.url).pathname);
const DEPARTMENT = 'https://suhe.example.cn/fhir/CodeSystem/department';
const params = (...parameter: Record<string, unknown>[]) => ({ resourceType: 'Parameters', parameter });
const MESSAGE = '医生您好，最近血压 150/95，头有点晕。';
const WAITING = '另外，最近睡眠也不太好。';

suite('the internet hospital pages (headless Chromium)', () => {
  let t: TestHub;
  let doctor: Person;
  let resident: Person;
  let firstVisit: Person;
  let slot: Slot;
  let appointmentId = '';
  let encounterId = '';
  const browsers: Browser[] = [];
  let residentPage: Page;
  let doctorPage: Page;
  const read = async <T>(path: string) => (await (await t.fetch(`${t.base}/${path}`)).json()) as T;
  const signedIn = (person: Person, route = '') => signedInBrowser(t.url, person, browsers, route);

  beforeAll(async () => {
    await viewerBuilt();
    t = await startTestHub('pglite');
    const hospital = await createOrganization(t, '苏河区中心医院');
    doctor = await createClinician(t, { username: 'dr-online-pages', organization: hospital, name: { family: '王', given: ['建国'] } });
    resident = await createResident(t, { username: 'resident-pages', name: { family: '张', given: ['伟'] } });
    firstVisit = await createResident(t, { username: 'resident-first-visit', name: { family: '李', given: ['娜'] } });
    // A confirmed diagnosis as a physical hospital's system records it (meta.source): the follow-up basis.
    await createResource(t, {
      resourceType: 'Condition', meta: { source: 'Endpoint/district-hospital' },
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10', display: '原发性高血压' }] },
      subject: { reference: resident.reference }, recordedDate: new Date(Date.now() - 20 * 86_400_000).toISOString(),
    });
    const schedule = await asPerson(t, doctor)('POST', 'Schedule', { resourceType: 'Schedule', active: true, actor: [{ reference: doctor.reference }], specialty: [{ coding: [{ system: DEPARTMENT, code: 'cardiology', display: '心内科' }] }] });
    expect(schedule.status).toBe(201);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const generated = await asPerson(t, doctor)('POST', `Schedule/${schedule.body.id}/$generate-slots`, params(
      { name: 'from', valueDate: tomorrow }, { name: 'to', valueDate: tomorrow }, { name: 'hours', valueString: '09:00-10:00' }, { name: 'slotMinutes', valueInteger: 30 },
      ...[1, 2, 3, 4, 5, 6, 7].map((d) => ({ name: 'weekday', valueInteger: d })),
    ));
    expect(generated.status).toBe(200);
    slot = (await read<Bundle>(`Slot?schedule=Schedule/${schedule.body.id}&status=free&_sort=start`)).entry![0].resource as Slot;
  }, 180_000);

  afterAll(async () => {
    for (const browser of browsers) await browser.close();
    await t?.close();
  });

  it('a resident without a diagnosis from a physical institution sees the hub\'s IH-01/IH-02 refusal', async () => {
    const browser = await signedIn(firstVisit);
    const page = browser.page;
    // A resident's home is the internet hospital: finding a doctor.
    await page.locator(`[data-testid="slot-row"][data-slot="${slot.id}"]`).waitFor({ timeout: HANG_BOUND_MS });
    await page.locator(`[data-testid="book-slot"][data-slot="${slot.id}"]`).click();
    const outcome = page.locator('[data-testid="book-outcome"][data-state="refused"]');
    await outcome.waitFor({ timeout: HANG_BOUND_MS });
    expect(await outcome.textContent()).toMatch(/IH-01\/IH-02.*follow-ups only/);
    expect(await outcome.getAttribute('role')).toBe('alert');
    expect(((await read<Slot>(`Slot/${slot.id}`)).status)).toBe('free');
    expect(browser.pageErrors).toEqual([]);
    await browser.close();
    browsers.splice(browsers.indexOf(browser), 1);
  });

  it('a resident with a confirmed diagnosis finds the doctor\'s slot by doctor and books it; FHIR shows the Appointment booked', async () => {
    const browser = await signedIn(resident);
    residentPage = browser.page;
    await residentPage.locator('[data-testid="find-doctor-page"][data-choices="ready"]').waitFor({ timeout: HANG_BOUND_MS });
    await residentPage.locator('[data-testid="find-doctor"]').selectOption(doctor.reference);
    await residentPage.locator('[data-testid="find-department"]').selectOption(`${DEPARTMENT}|cardiology`);
    await residentPage.locator('[data-testid="find-search"]').click();
    const row = residentPage.locator(`[data-testid="slot-row"][data-slot="${slot.id}"]`);
    await row.waitFor({ timeout: HANG_BOUND_MS });
    expect(await row.textContent()).toContain('心内科');
    expect(await row.textContent()).toContain('王建国');
    await residentPage.locator('[data-testid="book-reason"]').fill('血压复查');
    await row.locator('[data-testid="book-slot"]').click();
    const outcome = residentPage.locator('[data-testid="book-outcome"][data-state="booked"]');
    await outcome.waitFor({ timeout: HANG_BOUND_MS });
    appointmentId = (await outcome.getAttribute('data-appointment'))!;
    const appointment = await read<Appointment>(`Appointment/${appointmentId}`);
    expect(appointment).toMatchObject({ status: 'booked', slot: [{ reference: `Slot/${slot.id}` }] });
    expect(appointment.participant.map((p) => p.actor?.reference).sort()).toEqual([doctor.reference, resident.reference].sort());
    // "My appointments" lists it, booked; before the doctor starts, the visit says to wait.
    await residentPage.locator('[data-testid="hospital-tab-hospitalMyAppointments"]').click();
    const mine = residentPage.locator(`[data-testid="appointment-row"][data-appointment="${appointmentId}"]`);
    await mine.waitFor({ timeout: HANG_BOUND_MS });
    expect(await mine.getAttribute('data-status')).toBe('booked');
    await mine.locator('[data-testid="open-visit"]').click();
    await residentPage.locator('[data-testid="visit-refresh"]:not([hidden])').waitFor({ timeout: HANG_BOUND_MS });
  });

  it('the doctor (a second browser) sees the consultation on its day and starts the visit', async () => {
    const browser = await signedIn(doctor);
    doctorPage = browser.page;
    // The image worklist stays the clinician's home; the top bar leads to the hospital pages.
    await doctorPage.locator('[data-testid="worklist-filters"]').waitFor({ timeout: HANG_BOUND_MS });
    await doctorPage.locator('[data-testid="hospital-link"]').click();
    await doctorPage.locator('[data-testid="consultations"]').waitFor({ timeout: HANG_BOUND_MS });
    const day = await doctorPage.evaluate((start) => {
      const d = new Date(start);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    }, slot.start!);
    await doctorPage.locator('[data-testid="consultations-date"]').fill(day);
    await doctorPage.locator('[data-testid="consultations-search"]').click();
    const row = doctorPage.locator(`[data-testid="consultation-row"][data-appointment="${appointmentId}"]`);
    await row.waitFor({ timeout: HANG_BOUND_MS });
    expect(await row.getAttribute('data-patient')).toBe(resident.reference);
    expect(await row.textContent()).toContain('张伟');
    await row.locator('[data-testid="start-visit"]').click();
    await doctorPage.locator('[data-testid="chat-live"][data-state="live"]').waitFor({ timeout: HANG_BOUND_MS });
    const encounters = (await read<Bundle>(`Encounter?appointment=Appointment/${appointmentId}`)).entry!.map((e) => e.resource as Encounter);
    expect(encounters).toHaveLength(1);
    expect(encounters[0]).toMatchObject({ status: 'in-progress', class: { code: 'VR' } });
    encounterId = encounters[0].id!;
  });

  it('the resident opens the visit and sends a message: it appears on the doctor\'s page live, delivered; the reply comes back live', async () => {
    await residentPage.locator('[data-testid="visit-refresh"]').click();
    await residentPage.locator('[data-testid="chat-live"][data-state="live"]').waitFor({ timeout: HANG_BOUND_MS });
    await residentPage.locator('[data-testid="chat-text"]').fill(MESSAGE);
    await residentPage.locator('[data-testid="chat-send"]').click();
    // Both are connected, so the hub delivers it at once: the sender's page says so.
    const sent = residentPage.locator('[data-testid="chat-message"][data-mine="true"]', { hasText: MESSAGE });
    await sent.waitFor({ timeout: HANG_BOUND_MS });
    expect(await sent.getAttribute('data-state')).toBe('delivered');
    const received = doctorPage.locator('[data-testid="chat-message"][data-mine="false"]', { hasText: MESSAGE });
    await received.waitFor({ timeout: HANG_BOUND_MS });

    await doctorPage.locator('[data-testid="chat-text"]').fill('请继续按时服药，建议线下复查心电图。');
    await doctorPage.locator('[data-testid="chat-send"]').click();
    await residentPage.locator('[data-testid="chat-message"][data-mine="false"]', { hasText: '心电图' }).waitFor({ timeout: HANG_BOUND_MS });
    await readableScreenshot(residentPage, `${SCREENSHOTS}/hospital-resident.png`);

    // The doctor steps away from the visit page: the resident's next message waits ("pending"),
    // and turns "delivered" on the resident's page once the doctor is back.
    await doctorPage.locator('[data-testid="hospital-tab-hospitalConsultations"]').click();
    await doctorPage.locator('[data-testid="consultations"]').waitFor({ timeout: HANG_BOUND_MS });
    for (let i = 0; i < 200 && t.hub.hospital.live.connected(encounterId).includes(doctor.reference); i++) await new Promise((done) => setTimeout(done, 25));
    expect(t.hub.hospital.live.connected(encounterId)).toEqual([resident.reference]);
    await residentPage.locator('[data-testid="chat-text"]').fill(WAITING);
    await residentPage.locator('[data-testid="chat-send"]').click();
    const waiting = residentPage.locator('[data-testid="chat-message"][data-mine="true"]', { hasText: WAITING });
    await waiting.waitFor({ timeout: HANG_BOUND_MS });
    expect(await waiting.getAttribute('data-state')).toBe('pending');
    await doctorPage.evaluate((id) => (location.hash = `#/hospital/visit/${id}`), appointmentId);
    await doctorPage.locator('[data-testid="chat-message"][data-mine="false"]', { hasText: WAITING }).waitFor({ timeout: HANG_BOUND_MS });
    await residentPage.locator('[data-testid="chat-message"][data-mine="true"][data-state="delivered"]', { hasText: WAITING }).waitFor({ timeout: HANG_BOUND_MS });
  });

  it('the doctor ends the visit with a diagnosis and an offline referral; FHIR shows the Encounter finished and the ServiceRequest', async () => {
    await doctorPage.locator('[data-testid="end-summary"]').fill('高血压复诊，血压控制欠佳，伴头晕。');
    await doctorPage.locator('[data-testid="end-diagnosis-code"]').fill('I10');
    await doctorPage.locator('[data-testid="end-diagnosis-text"]').fill('原发性高血压');
    await doctorPage.locator('[data-testid="end-refer-reason"]').fill('需线下做心电图和动态血压监测');
    await readableScreenshot(doctorPage, `${SCREENSHOTS}/hospital-doctor.png`);
    await doctorPage.locator('[data-testid="end-visit"]').click();
    await doctorPage.locator('[data-testid="end-visit-form"][data-state="ended"]').waitFor({ timeout: HANG_BOUND_MS });
    await doctorPage.locator('[data-testid="end-referred"]').waitFor({ timeout: HANG_BOUND_MS });
    // The resident's page is told the visit is over.
    await residentPage.locator('[data-testid="chat"][data-ended="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await residentPage.locator('[data-testid="chat-send"]').isDisabled()).toBe(true);

    const encounter = (await read<Bundle>(`Encounter?appointment=Appointment/${appointmentId}`)).entry![0].resource as Encounter;
    expect(encounter.status).toBe('finished');
    const referrals = (await read<Bundle>(`ServiceRequest?subject=${resident.reference}`)).entry?.map((e) => e.resource as ServiceRequest) ?? [];
    expect(referrals).toHaveLength(1);
    expect(referrals[0]).toMatchObject({ status: 'active', reasonCode: [{ text: '需线下做心电图和动态血压监测' }], requester: { reference: doctor.reference } });
    expect((await read<Appointment>(`Appointment/${appointmentId}`)).status).toBe('fulfilled');
  });

  it('"my appointments" cancels a booked appointment only with a reason; FHIR shows it cancelled', async () => {
    const [, second] = ((await read<Bundle>(`Slot?schedule.actor=${doctor.reference}&_sort=start`)).entry ?? []).map((e) => e.resource as Slot);
    const booked = await asPerson(t, resident)('POST', 'Appointment/$book', params({ name: 'slot', valueReference: { reference: `Slot/${second.id}` } }));
    expect(booked.status).toBe(201);
    await residentPage.locator('[data-testid="hospital-tab-hospitalMyAppointments"]').click();
    const row = residentPage.locator(`[data-testid="appointment-row"][data-appointment="${booked.body.id}"]`);
    await row.waitFor({ timeout: HANG_BOUND_MS });
    expect(await residentPage.locator(`[data-testid="appointment-row"][data-appointment="${appointmentId}"]`).getAttribute('data-status')).toBe('fulfilled');
    await row.locator('[data-testid="cancel-appointment"]').click();
    expect(await row.locator('[data-testid="appointment-error"]').textContent()).not.toBe('');
    await row.locator('[data-testid="cancel-reason"]').fill('时间冲突');
    await row.locator('[data-testid="cancel-appointment"]').click();
    await residentPage.locator(`[data-testid="appointment-row"][data-appointment="${booked.body.id}"][data-status="cancelled"]`).waitFor({ timeout: HANG_BOUND_MS });
    expect((await read<Appointment>(`Appointment/${booked.body.id}`)).status).toBe('cancelled');
    for (const browser of browsers) expect(browser.pageErrors).toEqual([]);
  });
});
