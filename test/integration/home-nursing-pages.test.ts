// The home-nursing pages in real headless Chromium (viewer/src/nursing/). A resident born in 1950
// orders two catalogue items from a licensed community health centre on the order page (NU-04/05;
// FHIR then holds the on-hold ServiceRequest), after the hub's NU-04 refusal of "maternal-infant"
// is shown as the hub words it. The centre's doctor assesses the order on its page (NU-06) and
// dispatches a nurse — a nurse with the title 护士 is refused with the hub's NU-03 text, an
// eligible one is dispatched. The nurse checks in with the browser's position, raises the one-tap
// alarm, which the doctor's duty desk open in a second browser shows live; the desk resolves it;
// the nurse checks out with the care record (NU-07/08); the resident's order page shows the whole
// timeline and the resident rates the visit.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, Flag, Observation, Procedure, ServiceRequest, Task } from '@medplum/fhirtypes';
import { type Browser, HANG_BOUND_MS, readableScreenshot, signedInBrowser } from '../helpers/browser.js';
import { createClinician, createNurse, createResident, createResource, type Person } from '../helpers/clinicians.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { chromiumUnavailable, REQUIRE_ALL } from '../helpers/parts.js';
import { viewerBuilt } from '../helpers/viewer-build.js';

const missing = await chromiumUnavailable();
if (missing && REQUIRE_ALL) throw new Error(`home-nursing pages: SUHE_TEST_REQUIRE_ALL=1 but ${missing}`);
if (missing) process.stdout.write(`SKIPPED (home-nursing pages): ${missing}\n`);
const suite = missing ? describe.skip : describe;

const SCREENSHOTS = resolve(new URL('../../docs/screenshots', import.meta.url).pathname);
const HN = 'https://suhe.example.cn/fhir/CodeSystem/home-nursing';
const CATEGORY = 'http://suhe.example.cn/fhir/CodeSystem/institution-category';
const LICENCE = 'https://suhe.example.cn/fhir/sid/medical-institution-licence';
const AT_HOME = { latitude: 31.2401, longitude: 121.4402 };

suite('the home-nursing pages (headless Chromium)', () => {
  let t: TestHub;
  let doctor: Person;
  let nurse: Person;
  let juniorTitle: Person;
  let resident: Person;
  let centre = '';
  let orderId = '';
  const items: Record<string, string> = {};
  const browsers: Browser[] = [];
  const read = async <T>(path: string) => (await (await t.fetch(`${t.base}/${path}`)).json()) as T;
  const signedIn = (person: Person, route = '', geolocation?: typeof AT_HOME) => signedInBrowser(t.url, person, browsers, route, geolocation ? { geolocation } : {});

  beforeAll(async () => {
    await viewerBuilt();
    t = await startTestHub('pglite');
    centre = (await createResource(t, {
      resourceType: 'Organization', name: '苏河区江宁路街道社区卫生服务中心', active: true,
      type: [{ coding: [{ system: CATEGORY, code: 'community-health-centre' }] }], identifier: [{ system: LICENCE, value: 'PDY-JNL-001' }],
    })).id;
    const item = async (code: string, title: string, price: number) =>
      (await createResource(t, {
        resourceType: 'ActivityDefinition', status: 'active', kind: 'ServiceRequest', title, code: { coding: [{ system: HN, code }] },
        extension: [{ url: 'https://suhe.example.cn/fhir/StructureDefinition/service-price', valueMoney: { value: price, currency: 'CNY' } }],
      })).id;
    items.dressing = await item('dressing-change', '换药', 120);
    items.injection = await item('injection', '注射', 80);
    items.sampling = await item('blood-sampling', '采血', 60);
    doctor = await createClinician(t, { username: 'hn-pages-doctor', organization: centre, name: { family: '陈', given: ['值班'] } });
    nurse = await createNurse(t, { username: 'hn-pages-nurse', organization: centre, title: 'supervisor-nurse' });
    juniorTitle = await createNurse(t, { username: 'hn-pages-junior', organization: centre, title: 'nurse' });
    resident = await createResident(t, { username: 'hn-pages-resident', birthDate: '1950-05-20', name: { family: '沈', given: ['阿婆'] } });
  }, 180_000);

  afterAll(async () => {
    for (const browser of browsers) await browser.close();
    await t?.close();
  });

  it('NU-04/NU-05: the resident orders two catalogue items on the page — "maternal-infant" without evidence shows the hub\'s NU-04 refusal; "elderly" (born 1950) places the on-hold order', async () => {
    const browser = await signedIn(resident);
    const page = browser.page;
    await page.locator('[data-testid="nursing-link"]').click();
    await page.locator('[data-testid="nursing-orders"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="nursing"]').getAttribute('data-role')).toBe('resident');
    await page.locator('[data-testid="nursing-tab-order"]').click();
    const form = page.locator('[data-testid="order-form"]');
    await page.locator('[data-testid="nursing-order"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="order-items"]').textContent()).toContain('换药¥120');
    await page.locator('[data-testid="order-item"][data-code="dressing-change"]').check();
    await page.locator('[data-testid="order-item"][data-code="injection"]').check();
    await page.locator('[data-testid="order-provider"]').selectOption(`Organization/${centre}`);
    await page.locator('[data-testid="order-eligibility"]').selectOption('maternal-infant');
    await page.locator('[data-testid="order-address"]').fill('苏河区江宁路100弄3号\n201室');
    await page.locator('[data-testid="order-submit"]').click();
    await page.locator('[data-testid="order-form"][data-outcome]').waitFor({ timeout: HANG_BOUND_MS });
    expect([await form.getAttribute('data-outcome'), await page.locator('[data-testid="order-outcome"]').textContent()]).toEqual(['refused', expect.stringContaining('NU-04: "maternal-infant"')]);

    await page.locator('[data-testid="order-eligibility"]').selectOption('elderly');
    await page.locator('[data-testid="order-start"]').fill('2030-01-02T09:00');
    await page.locator('[data-testid="order-note"]').fill('下午在家');
    await page.locator('[data-testid="order-submit"]').click();
    await page.locator('[data-testid="order-form"][data-outcome="ordered"]').waitFor({ timeout: HANG_BOUND_MS });
    orderId = (await form.getAttribute('data-order'))!;
    const order = await read<ServiceRequest>(`ServiceRequest/${orderId}`);
    expect(order).toMatchObject({
      status: 'on-hold', subject: { reference: resident.reference }, performer: [{ reference: `Organization/${centre}` }],
      reasonCode: [{ coding: [{ system: HN, code: 'elderly' }] }], note: [{ text: '下午在家' }],
    });
    expect(order.orderDetail!.map((d) => d.coding![0].code)).toEqual(['dressing-change', 'injection']);
    expect(order.extension![0].valueAddress).toMatchObject({ text: '苏河区江宁路100弄3号 201室', line: ['苏河区江宁路100弄3号', '201室'], city: '上海市' });
    expect(new Date(order.occurrenceDateTime!).getTime()).toBe(new Date(2030, 0, 2, 9, 0).getTime());

    await page.locator('[data-testid="order-follow"]').click();
    await page.locator(`[data-testid="nursing-order-page"][data-order="${orderId}"][data-loaded="true"]`).waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="order-page-state"]').textContent()).toBe('待评估');
    await page.locator('[data-testid="nursing-tab-orders"]').click();
    await page.locator('[data-testid="nursing-orders"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    const row = page.locator(`[data-testid="order-row"][data-order="${orderId}"]`);
    expect([await row.getAttribute('data-status'), await row.locator('[data-testid="order-state"]').textContent()]).toEqual(['on-hold', '待评估']);
    expect(browser.pageErrors).toEqual([]);
  });

  it('NU-06/NU-03: the centre\'s doctor assesses the order (accept) on its page, then dispatches — a 护士-titled nurse shows the hub\'s NU-03 refusal, the eligible nurse is dispatched', async () => {
    const browser = await signedIn(doctor, '#/nursing');
    const page = browser.page;
    await page.locator('[data-testid="nursing-handle"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="nursing"]').getAttribute('data-role')).toBe('doctor');
    // The open order is listed to the provider's staff (their care relationship while it is open).
    const row = page.locator(`[data-testid="handle-row"][data-order="${orderId}"]`);
    await row.waitFor({ timeout: HANG_BOUND_MS });
    expect(await row.getAttribute('data-status')).toBe('on-hold');
    await row.locator('[data-testid="handle-open-order"]').click();
    await page.locator(`[data-testid="nursing-order-page"][data-order="${orderId}"][data-loaded="true"]`).waitFor({ timeout: HANG_BOUND_MS });
    const assess = page.locator('[data-testid="assess-form"]');
    await assess.locator('[data-testid="assess-mobility"]').selectOption('bedridden');
    await assess.locator('[data-testid="assess-cognition"]').selectOption('normal');
    await assess.locator('[data-testid="assess-home-safety"]').selectOption('safe');
    await assess.locator('[data-testid="assess-fall-risk"]').selectOption('high');
    await assess.locator('[data-testid="assess-caregiver-present"]').selectOption('true');
    await assess.locator('[data-testid="assess-conclusion"]').fill('适合上门换药');
    await assess.locator('[data-testid="assess-submit"]').click();
    await page.locator('[data-testid="dispatch-form"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="order-page-state"]').textContent()).toBe('已评估待派单');
    const answers = (await read<Bundle>(`QuestionnaireResponse?based-on=ServiceRequest/${orderId}`)).entry!.map((e) => e.resource as any);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ status: 'completed', author: { reference: doctor.reference } });
    expect(answers[0].item.map((i: any) => [i.linkId, i.answer[0].valueCoding?.code ?? i.answer[0].valueBoolean ?? i.answer[0].valueString])).toEqual([
      ['mobility', 'bedridden'], ['cognition', 'normal'], ['home-safety', 'safe'], ['fall-risk', 'high'], ['caregiver-present', true], ['conclusion', '适合上门换药'],
    ]);

    const dispatch = page.locator('[data-testid="dispatch-form"]');
    expect((await dispatch.locator('[data-testid="dispatch-nurse"] option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).sort()).toEqual(['', juniorTitle.reference, nurse.reference].sort());
    await dispatch.locator('[data-testid="dispatch-nurse"]').selectOption(juniorTitle.reference);
    await dispatch.locator('[data-testid="dispatch-start"]').fill('2030-01-02T09:00');
    await dispatch.locator('[data-testid="dispatch-submit"]').click();
    await page.locator('[data-testid="dispatch-form"][data-outcome="refused"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="dispatch-outcome"]').textContent()).toMatch(/NU-03: home nursing needs the title 护师 \(senior-nurse\) or higher/);
    await dispatch.locator('[data-testid="dispatch-nurse"]').selectOption(nurse.reference);
    await dispatch.locator('[data-testid="dispatch-submit"]').click();
    await page.locator('[data-testid="order-page-state"]', { hasText: '护士已派出' }).waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="dispatch-form"]').count()).toBe(0);
    expect(await page.locator('[data-testid="trace-step"][data-step="dispatched"]').textContent()).toContain('护hn-pages-nurse');
    const visits = (await read<Bundle<Task>>(`Task?based-on=ServiceRequest/${orderId}&code=${encodeURIComponent(`${HN}|visit`)}`)).entry!.map((e) => e.resource!);
    expect(visits.map((v) => [v.status, v.owner?.reference])).toEqual([['accepted', nurse.reference]]);
    expect(browser.pageErrors).toEqual([]);
  });

  it('NU-07/NU-08: the nurse checks in with the browser\'s position, the one-tap alarm shows live on the duty desk, which resolves it; check-out with the care record; the resident sees the completed timeline and rates the visit', async () => {
    const desk = await signedIn(doctor, '#/nursing/desk');
    await desk.page.locator('[data-testid="nursing-desk"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    await desk.page.locator('[data-testid="desk-live"][data-state="live"]').waitFor({ timeout: HANG_BOUND_MS });

    const browser = await signedIn(nurse, '#/nursing/visits', AT_HOME);
    const page = browser.page;
    await page.locator('[data-testid="nursing-visits"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="nursing"]').getAttribute('data-role')).toBe('nurse');
    const card = page.locator('[data-testid="visit-card"]');
    expect(await card.count()).toBe(1);
    const taskId = (await card.getAttribute('data-task'))!;
    expect(await card.getAttribute('data-status')).toBe('accepted');
    expect(await card.locator('[data-testid="visit-patient"]').textContent()).toBe('沈阿婆');
    expect(await card.locator('[data-testid="visit-address"]').textContent()).toBe('苏河区江宁路100弄3号 201室');
    expect(await card.locator('[data-testid="visit-items"]').textContent()).toBe('换药、注射');
    expect(await card.locator('[data-testid="visit-start"]').textContent()).toBe(await page.evaluate(() => new Date(2030, 0, 2, 9, 0).toLocaleString('zh-CN', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })));
    expect(await card.locator('[data-testid="visit-manual-position"]').isVisible()).toBe(false);
    expect(await card.locator('[data-testid="visit-check-out-form"]').isVisible()).toBe(false);
    await card.locator('[data-testid="visit-check-in"]').click();
    await page.locator(`[data-testid="visit-card"][data-task="${taskId}"][data-status="in-progress"]`).waitFor({ timeout: HANG_BOUND_MS });
    const checkedIn = await read<Task>(`Task/${taskId}`);
    const position = checkedIn.extension!.find((e) => e.url.endsWith('/nurse-position'))!.extension!;
    expect(Object.fromEntries(position.map((e) => [e.url, e.valueCode ?? e.valueDecimal]))).toMatchObject({ event: 'check-in', latitude: AT_HOME.latitude, longitude: AT_HOME.longitude });
    await readableScreenshot(page, `${SCREENSHOTS}/home-nursing-nurse.png`);

    await page.locator('[data-testid="visit-alarm"]').click();
    await page.locator('[data-testid="alarm-outcome"][data-delivered]').waitFor({ timeout: HANG_BOUND_MS });
    expect([await page.locator('[data-testid="alarm-outcome"]').getAttribute('data-delivered'), await page.locator('[data-testid="alarm-outcome"]').textContent()]).toEqual(['1', '已通知值班台（1 个）']);

    const alarm = desk.page.locator('[data-testid="desk-alarm"][data-status="active"]');
    await alarm.waitFor({ timeout: HANG_BOUND_MS });
    const flagId = (await alarm.getAttribute('data-flag'))!;
    expect(await alarm.locator('[data-testid="desk-nurse"]').textContent()).toBe('护hn-pages-nurse');
    expect(await alarm.locator('[data-testid="desk-patient"]').textContent()).toBe('沈阿婆');
    expect(await alarm.locator('[data-testid="desk-position"]').textContent()).toBe(`${AT_HOME.latitude}, ${AT_HOME.longitude}`);
    // A desk opened later still shows the alarm while it is active (listed from the store).
    await desk.page.reload();
    await desk.page.locator(`[data-testid="desk-alarm"][data-flag="${flagId}"][data-status="active"]`).waitFor({ timeout: HANG_BOUND_MS });
    await readableScreenshot(desk.page, `${SCREENSHOTS}/home-nursing-desk.png`);
    // Resolving needs a note: the page says so before the hub would.
    await alarm.locator('[data-testid="desk-resolve"]').click();
    expect(await alarm.locator('[data-testid="desk-resolve-outcome"]').getAttribute('data-i18n')).toBe('nursingResolveMissing');
    await alarm.locator('[data-testid="desk-resolve-note"]').fill('已电话联系家属，护士安全');
    await alarm.locator('[data-testid="desk-resolve"]').click();
    await desk.page.locator(`[data-testid="desk-alarm"][data-flag="${flagId}"][data-status="resolved"]`).waitFor({ timeout: HANG_BOUND_MS });
    expect((await read<Flag>(`Flag/${flagId}`)).status).toBe('inactive');

    const open = page.locator(`[data-testid="visit-card"][data-task="${taskId}"]`);
    await open.locator('[data-testid="visit-care"]').fill('左小腿伤口换药，无渗出；肌注一次');
    await open.locator('[data-testid="visit-check-out"]').click();
    await open.waitFor({ state: 'detached', timeout: HANG_BOUND_MS });
    await page.locator('[data-testid="nursing-visits"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect((await read<Task>(`Task/${taskId}`)).status).toBe('completed');
    const procedures = (await read<Bundle<Procedure>>(`Procedure?based-on=ServiceRequest/${orderId}`)).entry!.map((e) => e.resource!);
    expect(procedures.map((p) => p.code!.coding![0].code).sort()).toEqual(['dressing-change', 'injection']);

    const mine = await signedIn(resident, `#/nursing/order/${orderId}`);
    const orderPage = mine.page;
    await orderPage.locator(`[data-testid="nursing-order-page"][data-order="${orderId}"][data-loaded="true"]`).waitFor({ timeout: HANG_BOUND_MS });
    expect(await orderPage.locator('[data-testid="order-page-state"]').textContent()).toBe('已完成');
    const steps = await orderPage.locator('[data-testid="trace-step"]').evaluateAll((li) => li.map((l) => (l as HTMLElement).dataset.step));
    expect(steps).toEqual(['ordered', 'assessed', 'dispatched', 'checked-in', 'alarm', 'alarm-resolved', 'care', 'care', 'checked-out']);
    expect(await orderPage.locator('[data-testid="trace-step"][data-step="checked-out"]').textContent()).toContain('左小腿伤口换药');
    await orderPage.locator('[data-testid="rate-score"]').selectOption('4');
    await orderPage.locator('[data-testid="rate-comment"]').fill('操作规范，态度好');
    await orderPage.locator('[data-testid="rate-submit"]').click();
    await orderPage.locator('[data-testid="trace-step"][data-step="rated"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await orderPage.locator('[data-testid="rate-form"]').count()).toBe(0);
    const ratings = (await read<Bundle<Observation>>(`Observation?based-on=ServiceRequest/${orderId}`)).entry!.map((e) => e.resource!);
    expect(ratings.map((o) => [o.valueInteger, o.note?.[0]?.text, o.focus?.[0]?.reference])).toEqual([[4, '操作规范，态度好', `Task/${taskId}`]]);
    for (const b of [desk, browser, mine]) expect(b.pageErrors).toEqual([]);
  });
});
