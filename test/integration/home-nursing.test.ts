// Home nursing ordered online ("Internet + nursing") over HTTP and WebSocket on both backends
// (DOMAIN.md NU-02..NU-08): the administrators' catalogue (NU-05); a resident orders for themself
// from a licensed institution (NU-02) with an eligibility the record does not contradict (NU-04);
// the institution assesses before any dispatch (NU-06); only a qualified nurse is dispatched
// (NU-03) and, while the visit is open, reads the patient's record; check-in/out with positions,
// the Encounter and Procedures, the one-tap alarm that reaches the provider's duty desk at once
// (NU-07/08); the rating and complaint; the traced chain; no plain writes of the chain.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { asPerson, createClinician, createNurse, createResident, createResource, type Person } from '../helpers/clinicians.js';
import { availableBackends } from '../helpers/parts.js';
import { SocketClient } from '../helpers/socket-client.js';
import { createInstitution } from '../helpers/community.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('home nursing');
const HN = 'https://suhe.example.cn/fhir/CodeSystem/home-nursing';
const LICENCE = 'https://suhe.example.cn/fhir/sid/medical-institution-licence';
const params = (...parameter: ParametersParameter[]) => ({ resourceType: 'Parameters', parameter });
const ref = (reference: string) => ({ valueReference: { reference } });
const diagnostics = (body: any) => (body?.issue ?? []).map((i: any) => i.diagnostics).join(' | ');
const out = (body: any, name: string) => (body?.parameter ?? []).find((p: any) => p.name === name)?.resource;
const position = (latitude: number, longitude: number): ParametersParameter => ({ name: 'position', part: [{ name: 'latitude', valueDecimal: latitude }, { name: 'longitude', valueDecimal: longitude }] });
const ANSWERS = {
  resourceType: 'QuestionnaireResponse', status: 'completed',
  item: [
    { linkId: 'mobility', answer: [{ valueCoding: { code: 'bedridden', display: '卧床' } }] },
    { linkId: 'cognition', answer: [{ valueCoding: { code: 'normal', display: '正常' } }] },
    { linkId: 'home-safety', answer: [{ valueCoding: { code: 'safe', display: '安全' } }] },
    { linkId: 'fall-risk', answer: [{ valueCoding: { code: 'high', display: '高' } }] },
    { linkId: 'caregiver-present', answer: [{ valueBoolean: true }] },
    { linkId: 'conclusion', answer: [{ valueString: '适合上门换药' }] },
  ],
};

describe.each(backends)('home nursing on %s', (backend) => {
  const t = useTestHub(backend);
  const orgs: Record<string, string> = {};
  const items: Record<string, string> = {};
  const nurses: Record<string, Person> = {};
  let dutyDoctor: Person;
  let otherDoctor: Person;
  let resident: Person;
  let young: Person;
  let medication = '';
  let order: any;
  let visit: any;
  let encounterId = '';
  const clients: SocketClient[] = [];
  const desk = async (person: Person | { token: string }, organization: string) => {
    const client = await SocketClient.open(`${t.url.replace(/^http/, 'ws')}/community/duty-desk/live`);
    clients.push(client);
    client.send({ type: 'join', token: person.token, organization: `Organization/${organization}` });
    return client;
  };
  const orderParams = (extra: ParametersParameter[] = [], chosen = [items.dressing, items.injection], eligibility = 'elderly', provider = orgs.provider) =>
    params(
      ...chosen.map((id) => ({ name: 'item', ...ref(`ActivityDefinition/${id}`) })),
      { name: 'provider', ...ref(`Organization/${provider}`) },
      { name: 'eligibility', valueCode: eligibility },
      { name: 'address', valueAddress: { text: '上海市苏河区江宁路100弄3号201室', city: '上海市', district: '苏河区' } },
      ...extra,
    );
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await t.fetch(`${t.base}/${path}`, { method, headers: body ? { 'content-type': 'application/fhir+json' } : {}, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    orgs.provider = await createInstitution(t, '苏河区江宁路街道社区卫生服务中心', 'community-health-centre', { licensed: true });
    orgs.unlicensed = await createInstitution(t, '某护理服务平台', 'district-hospital');
    orgs.other = await createInstitution(t, '苏河区中心医院', 'district-hospital', { licensed: true });
    const item = async (code: string, title: string, price: number, status = 'active') =>
      (await createResource(t, {
        resourceType: 'ActivityDefinition', status, kind: 'ServiceRequest', title, code: { coding: [{ system: HN, code }] },
        extension: [{ url: 'https://suhe.example.cn/fhir/StructureDefinition/service-price', valueMoney: { value: price, currency: 'CNY' } }],
      })).id;
    items.dressing = await item('dressing-change', '换药', 120);
    items.injection = await item('injection', '注射', 80);
    items.retired = await item('stoma-care', '造口护理', 150, 'retired');
    dutyDoctor = await createClinician(t, { username: 'hn-duty-doctor', organization: orgs.provider });
    otherDoctor = await createClinician(t, { username: 'hn-other-doctor', organization: orgs.other });
    nurses.good = await createNurse(t, { username: 'hn-nurse-good', organization: orgs.provider, title: 'supervisor-nurse' });
    nurses.second = await createNurse(t, { username: 'hn-nurse-second', organization: orgs.provider });
    nurses.junior = await createNurse(t, { username: 'hn-nurse-4y', organization: orgs.provider, licensedSince: `${new Date().getFullYear() - 4}-01-01` });
    nurses.title = await createNurse(t, { username: 'hn-nurse-title', organization: orgs.provider, title: 'nurse' });
    nurses.unregistered = await createNurse(t, { username: 'hn-nurse-noreg', organization: orgs.provider, registered: false });
    nurses.suspended = await createNurse(t, { username: 'hn-nurse-suspended', organization: orgs.provider, suspended: true });
    nurses.elsewhere = await createNurse(t, { username: 'hn-nurse-elsewhere', organization: orgs.other });
    resident = await createResident(t, { username: 'hn-resident', birthDate: '1948-03-15' });
    young = await createResident(t, { username: 'hn-resident-young', birthDate: `${new Date().getFullYear() - 40}-06-01` });
    medication = (await createResource(t, {
      resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: resident.reference },
      medicationCodeableConcept: { text: '氨氯地平片 5mg' }, authoredOn: new Date().toISOString(),
    })).id;
    await createResource(t, {
      resourceType: 'MedicationRequest', status: 'completed', intent: 'order', subject: { reference: resident.reference }, medicationCodeableConcept: { text: '头孢' },
    });
  }, 180_000);

  afterAll(() => {
    for (const c of clients) c.ws.terminate();
  });

  it('NU-05: the catalogue is the administrators\' — a doctor or resident writing an ActivityDefinition of it is refused (403)', async () => {
    const item = { resourceType: 'ActivityDefinition', status: 'active', kind: 'ServiceRequest', code: { coding: [{ system: HN, code: 'injection' }] } };
    for (const who of [dutyDoctor, resident]) {
      const res = await asPerson(t, who)('POST', 'ActivityDefinition', item);
      expect([res.status, diagnostics(res.body)]).toEqual([403, expect.stringContaining('NU-05')]);
    }
    const current = (await admin('GET', `ActivityDefinition/${items.injection}`)).body;
    expect((await asPerson(t, dutyDoctor)('PUT', `ActivityDefinition/${items.injection}`, { ...current, title: '改' })).status).toBe(403);
  });

  it('NU-02/NU-04/NU-05: a resident orders home nursing for themself — the order on hold with their active prescriptions attached, and an assessment Task for the provider (201)', async () => {
    const res = await asPerson(t, resident)('POST', `Patient/${resident.id}/$order-home-nursing`, orderParams([{ name: 'preferredStart', valueDateTime: '2030-01-02T09:00:00+08:00' }, { name: 'note', valueString: '下午在家' }]));
    expect([res.status, diagnostics(res.body)]).toEqual([201, '']);
    order = out(res.body, 'serviceRequest');
    const task = out(res.body, 'task');
    expect(order).toMatchObject({
      status: 'on-hold', intent: 'order', subject: { reference: resident.reference }, requester: { reference: resident.reference },
      performer: [{ reference: `Organization/${orgs.provider}` }], occurrenceDateTime: '2030-01-02T09:00:00+08:00',
      category: [{ coding: [{ system: HN, code: 'home-nursing' }] }], reasonCode: [{ coding: [{ system: HN, code: 'elderly' }] }],
    });
    expect(order.orderDetail.map((d: any) => d.coding[0].code)).toEqual(['dressing-change', 'injection']);
    expect(order.supportingInfo).toEqual([{ reference: `MedicationRequest/${medication}` }]);
    expect(order.extension[0].valueAddress.text).toContain('江宁路');
    expect(task).toMatchObject({ status: 'requested', code: { coding: [{ system: HN, code: 'assessment' }] }, owner: { reference: `Organization/${orgs.provider}` }, focus: { reference: `ServiceRequest/${order.id}` }, for: { reference: resident.reference } });
    // The resident reads their own order.
    expect((await asPerson(t, resident)('GET', `ServiceRequest/${order.id}`)).status).toBe(200);
  });

  it('NU-04: ordering for a stranger is refused (resident 403, a doctor without a care relationship 404)', async () => {
    expect((await asPerson(t, young)('POST', `Patient/${resident.id}/$order-home-nursing`, orderParams())).status).toBe(403);
    expect((await asPerson(t, otherDoctor)('POST', `Patient/${resident.id}/$order-home-nursing`, orderParams())).status).toBe(404);
    expect((await asPerson(t, nurses.good)('POST', `Patient/${resident.id}/$order-home-nursing`, orderParams())).status).toBe(403);
  });

  it('NU-02: a provider without a practice licence on record, or not a medical institution, is refused (422)', async () => {
    const res = await asPerson(t, resident)('POST', `Patient/${resident.id}/$order-home-nursing`, orderParams([], undefined, 'elderly', orgs.unlicensed));
    expect([res.status, diagnostics(res.body)]).toEqual([422, expect.stringMatching(/^NU-02: .*no practice licence/)]);
    const platform = (await createResource(t, { resourceType: 'Organization', name: '平台公司', active: true, identifier: [{ system: LICENCE, value: 'X' }] })).id;
    const res2 = await asPerson(t, resident)('POST', `Patient/${resident.id}/$order-home-nursing`, orderParams([], undefined, 'elderly', platform));
    expect([res2.status, diagnostics(res2.body)]).toEqual([422, expect.stringMatching(/^NU-02: home nursing is provided by a physical medical institution/)]);
  });

  it('NU-04: "elderly" for a 40-year-old contradicts the record (422); "maternal-infant" needs an infant or a pregnancy condition (422); an unknown eligibility is 400', async () => {
    const order40 = await asPerson(t, young)('POST', `Patient/${young.id}/$order-home-nursing`, orderParams());
    expect([order40.status, diagnostics(order40.body)]).toEqual([422, expect.stringMatching(/^NU-04: "elderly" is 60 or older; .* is 40/)]);
    const maternal = await asPerson(t, young)('POST', `Patient/${young.id}/$order-home-nursing`, orderParams([], undefined, 'maternal-infant'));
    expect([maternal.status, diagnostics(maternal.body)]).toEqual([422, expect.stringContaining('NU-04: "maternal-infant"')]);
    const unknown = await asPerson(t, young)('POST', `Patient/${young.id}/$order-home-nursing`, orderParams([], undefined, 'vip'));
    expect([unknown.status, diagnostics(unknown.body)]).toEqual([400, expect.stringContaining('eligibility')]);
    // Left to the assessment: limited mobility is not contradicted by the record.
    expect((await asPerson(t, young)('POST', `Patient/${young.id}/$order-home-nursing`, orderParams([], undefined, 'limited-mobility'))).status).toBe(201);
  });

  it('NU-05: an item that is not an active catalogue item is refused (422)', async () => {
    const retired = await asPerson(t, resident)('POST', `Patient/${resident.id}/$order-home-nursing`, orderParams([], [items.retired]));
    expect([retired.status, diagnostics(retired.body)]).toEqual([422, expect.stringMatching(/^NU-05: ActivityDefinition\/.* is not an active item of the home-nursing catalogue/)]);
    const foreign = (await createResource(t, { resourceType: 'ActivityDefinition', status: 'active', kind: 'ServiceRequest', code: { text: '静脉化疗' } })).id;
    expect((await asPerson(t, resident)('POST', `Patient/${resident.id}/$order-home-nursing`, orderParams([], [foreign]))).status).toBe(422);
    expect((await asPerson(t, resident)('POST', `Patient/${resident.id}/$order-home-nursing`, orderParams([], [`nope-${foreign}`]))).status).toBe(422);
  });

  it('NU-06: while the order is open, the provider\'s staff see the applicant\'s record and find the order (to assess it); another institution\'s staff do not', async () => {
    const query = `ServiceRequest?performer=Organization/${orgs.provider}&category=${encodeURIComponent(`${HN}|home-nursing`)}&status=on-hold,active`;
    const found = await asPerson(t, dutyDoctor)('GET', query);
    expect(found.body.entry.map((e: any) => e.resource.id)).toContain(order.id);
    expect((await asPerson(t, dutyDoctor)('GET', `Patient/${resident.id}`)).status).toBe(200);
    expect((await asPerson(t, dutyDoctor)('GET', `MedicationRequest/${medication}`)).status).toBe(200);
    expect((await asPerson(t, otherDoctor)('GET', `Patient/${resident.id}`)).status).toBe(404);
    expect((await asPerson(t, otherDoctor)('GET', query.replace(orgs.provider, orgs.other))).body.entry ?? []).toHaveLength(0);
  });

  it('NU-06: no dispatch before the assessment (422); the provider\'s nurse accepts with the assessment answers (QuestionnaireResponse stored); a second assessment is 409', async () => {
    const early = await asPerson(t, dutyDoctor)('POST', `ServiceRequest/${order.id}/$dispatch`, params({ name: 'nurse', ...ref(nurses.good.reference) }));
    expect([early.status, diagnostics(early.body)]).toEqual([422, expect.stringMatching(/^NU-06: no dispatch before/)]);
    const accept = params({ name: 'decision', valueCode: 'accept' }, { name: 'assessment', resource: ANSWERS as Resource });
    expect((await asPerson(t, otherDoctor)('POST', `ServiceRequest/${order.id}/$assess`, accept)).status).toBe(403);
    const partial = await asPerson(t, nurses.second)('POST', `ServiceRequest/${order.id}/$assess`, params({ name: 'decision', valueCode: 'accept' }, { name: 'assessment', resource: { ...ANSWERS, item: ANSWERS.item.slice(0, 2) } as Resource }));
    expect([partial.status, diagnostics(partial.body)]).toEqual([400, expect.stringContaining('missing: home-safety, fall-risk, caregiver-present, conclusion')]);
    const res = await asPerson(t, nurses.second)('POST', `ServiceRequest/${order.id}/$assess`, accept);
    expect([res.status, diagnostics(res.body)]).toEqual([200, '']);
    const response = out(res.body, 'assessment');
    expect(response).toMatchObject({ status: 'completed', subject: { reference: resident.reference }, basedOn: [{ reference: `ServiceRequest/${order.id}` }], questionnaire: 'https://suhe.example.cn/fhir/Questionnaire/home-nursing-assessment', author: { reference: nurses.second.reference } });
    expect(out(res.body, 'serviceRequest').status).toBe('active');
    expect(out(res.body, 'task')).toMatchObject({ status: 'completed', output: [{ valueReference: { reference: `QuestionnaireResponse/${response.id}` } }] });
    expect((await admin('GET', 'Questionnaire?url=https://suhe.example.cn/fhir/Questionnaire/home-nursing-assessment')).body.entry).toHaveLength(1);
    expect((await asPerson(t, nurses.second)('POST', `ServiceRequest/${order.id}/$assess`, accept)).status).toBe(409);
  });

  it('NU-06: a decline needs its reason (400) and revokes the order, the assessment Task rejected with the reason; no dispatch then (422)', async () => {
    const other = out((await asPerson(t, resident)('POST', `Patient/${resident.id}/$order-home-nursing`, orderParams([], [items.injection]))).body, 'serviceRequest');
    const decline = (extra: ParametersParameter[]) => asPerson(t, dutyDoctor)('POST', `ServiceRequest/${other.id}/$assess`, params({ name: 'decision', valueCode: 'decline' }, { name: 'assessment', resource: ANSWERS as Resource }, ...extra));
    expect((await decline([])).status).toBe(400);
    const res = await decline([{ name: 'reason', valueString: '居家环境不具备无菌操作条件' }]);
    expect(res.status).toBe(200);
    expect(out(res.body, 'serviceRequest')).toMatchObject({ status: 'revoked', note: [{ text: expect.stringContaining('居家环境不具备') }] });
    expect(out(res.body, 'task')).toMatchObject({ status: 'rejected', statusReason: { text: '居家环境不具备无菌操作条件' } });
    expect((await asPerson(t, dutyDoctor)('POST', `ServiceRequest/${other.id}/$dispatch`, params({ name: 'nurse', ...ref(nurses.good.reference) }))).status).toBe(422);
  });

  it('NU-03: nurses short of the rule (4 years, 护士 title, no registry entry, suspended, another institution) are refused (422); an eligible nurse is dispatched and reads the patient while a nurse of another institution cannot', async () => {
    const dispatch = (nurse: Person, who: Person = dutyDoctor) => asPerson(t, who)('POST', `ServiceRequest/${order.id}/$dispatch`, params({ name: 'nurse', ...ref(nurse.reference) }, { name: 'scheduledStart', valueDateTime: '2030-01-02T09:00:00+08:00' }));
    const expected: [string, RegExp][] = [
      ['junior', /^NU-03: home nursing needs at least 5 years of clinical nursing/],
      ['title', /^NU-03: home nursing needs the title 护师 \(senior-nurse\) or higher/],
      ['unregistered', /^NU-03: .* has no entry in the national nurse registry/],
      ['suspended', /^NU-03: .* is suspended/],
      ['elsewhere', /^NU-03: .* has no active PractitionerRole at Organization\//],
    ];
    for (const [key, message] of expected) {
      const res = await dispatch(nurses[key]);
      expect([key, res.status, diagnostics(res.body)]).toEqual([key, 422, expect.stringMatching(message)]);
    }
    expect((await dispatch(nurses.good, otherDoctor)).status).toBe(403);
    const res = await dispatch(nurses.good);
    expect([res.status, diagnostics(res.body)]).toEqual([201, '']);
    visit = res.body;
    expect(visit).toMatchObject({ status: 'accepted', code: { coding: [{ system: HN, code: 'visit' }] }, owner: { reference: nurses.good.reference }, requester: { reference: `Organization/${orgs.provider}` }, basedOn: [{ reference: `ServiceRequest/${order.id}` }], executionPeriod: { start: '2030-01-02T09:00:00+08:00' } });
    // The dispatched nurse reads the record (the open order of their institution, and the visit
    // Task they own); a nurse of another institution does not.
    expect((await asPerson(t, nurses.good)('GET', `Patient/${resident.id}`)).status).toBe(200);
    expect((await asPerson(t, nurses.good)('GET', `MedicationRequest/${medication}`)).status).toBe(200);
    expect((await asPerson(t, nurses.elsewhere)('GET', `Patient/${resident.id}`)).status).toBe(404);
    // One open visit at a time per order.
    expect((await dispatch(nurses.second)).status).toBe(409);
  });

  it('NU-08: check-out before check-in is 409; only the visit\'s nurse checks in, with the position — the Task in progress and a home-health Encounter', async () => {
    const checkOut = await asPerson(t, nurses.good)('POST', `Task/${visit.id}/$check-out`, params(position(31.24, 121.44), { name: 'care', valueString: '换药' }));
    expect([checkOut.status, diagnostics(checkOut.body)]).toEqual([409, expect.stringContaining('checks in before checking out')]);
    expect((await asPerson(t, nurses.second)('POST', `Task/${visit.id}/$check-in`, params(position(31.24, 121.44)))).status).toBe(403);
    expect((await asPerson(t, nurses.good)('POST', `Task/${visit.id}/$check-in`, params())).status).toBe(400);
    const res = await asPerson(t, nurses.good)('POST', `Task/${visit.id}/$check-in`, params(position(31.2401, 121.4402)));
    expect([res.status, diagnostics(res.body)]).toEqual([200, '']);
    const task = out(res.body, 'task');
    const encounter = out(res.body, 'encounter');
    encounterId = encounter.id;
    expect(encounter).toMatchObject({ status: 'in-progress', class: { code: 'HH' }, subject: { reference: resident.reference }, participant: [{ individual: { reference: nurses.good.reference } }], serviceProvider: { reference: `Organization/${orgs.provider}` }, basedOn: [{ reference: `ServiceRequest/${order.id}` }] });
    expect(task).toMatchObject({ status: 'in-progress', encounter: { reference: `Encounter/${encounter.id}` } });
    const checkIn = task.extension.find((e: any) => e.url.endsWith('/nurse-position')).extension;
    expect(Object.fromEntries(checkIn.map((e: any) => [e.url, e.valueCode ?? e.valueDecimal ?? e.valueDateTime]))).toMatchObject({ event: 'check-in', latitude: 31.2401, longitude: 121.4402, time: expect.any(String) });
    expect((await asPerson(t, nurses.good)('POST', `Task/${visit.id}/$check-in`, params(position(31.24, 121.44)))).status).toBe(409);
  });

  it('NU-08: the one-tap alarm reaches the provider\'s duty desk at once (a client of another institution gets nothing), and an active safety Flag is on the order until the desk resolves it', async () => {
    // Joining: the provider's staff (and administrators) only.
    const stranger = await desk(otherDoctor, orgs.provider);
    expect((await stranger.next((f) => f.type === 'error')).message).toMatch(/^NU-08: only staff/);
    const bogus = await desk({ token: 'not-a-token' }, orgs.provider);
    expect((await bogus.next((f) => f.type === 'error')).message).toMatch(/token/);
    const mine = await desk(dutyDoctor, orgs.provider);
    await mine.next((f) => f.type === 'joined');
    const theirs = await desk(otherDoctor, orgs.other);
    await theirs.next((f) => f.type === 'joined');
    const adminDesk = await desk({ token: t.token }, orgs.provider);
    await adminDesk.next((f) => f.type === 'joined');

    expect((await asPerson(t, nurses.second)('POST', `Task/${visit.id}/$alarm`, params())).status).toBe(403);
    const res = await asPerson(t, nurses.good)('POST', `Task/${visit.id}/$alarm`, params({ name: 'note', valueString: '家属情绪激动' }, position(31.2402, 121.4401)));
    expect([res.status, diagnostics(res.body)]).toEqual([201, '']);
    const flag = out(res.body, 'flag');
    expect(flag).toMatchObject({ status: 'active', category: [{ coding: [{ code: 'safety' }] }], code: { coding: [{ system: HN, code: 'nurse-alarm' }] }, subject: { reference: resident.reference }, encounter: { reference: `Encounter/${encounterId}` }, author: { reference: nurses.good.reference } });
    expect(out(res.body, 'task').businessStatus.coding[0].code).toBe('alarm');
    const frame = await mine.next((f) => f.type === 'alarm');
    expect(frame).toMatchObject({ type: 'alarm', flag: { id: flag.id, status: 'active' }, task: `Task/${visit.id}`, patient: resident.reference, nurse: nurses.good.reference, position: { latitude: 31.2402, longitude: 121.4401 } });
    await adminDesk.next((f) => f.type === 'alarm');
    // The order refers to the Flag.
    expect((await admin('GET', `ServiceRequest/${order.id}`)).body.supportingInfo).toContainEqual({ reference: `Flag/${flag.id}` });
    await new Promise((r) => setTimeout(r, 200));
    expect(theirs.frames.filter((f) => f.type === 'alarm')).toHaveLength(0);
    // The duty desk resolves it.
    expect((await asPerson(t, otherDoctor)('POST', `Flag/${flag.id}/$resolve-alarm`, params({ name: 'note', valueString: 'x' }))).status).toBe(403);
    expect((await asPerson(t, dutyDoctor)('POST', `Flag/${flag.id}/$resolve-alarm`, params())).status).toBe(400);
    const resolved = await asPerson(t, dutyDoctor)('POST', `Flag/${flag.id}/$resolve-alarm`, params({ name: 'note', valueString: '已电话联系家属，护士安全' }));
    expect([resolved.status, resolved.body.status]).toEqual([200, 'inactive']);
    await mine.next((f) => f.type === 'alarm-resolved');
    expect((await asPerson(t, dutyDoctor)('POST', `Flag/${flag.id}/$resolve-alarm`, params({ name: 'note', valueString: 'again' }))).status).toBe(409);
  });

  it('NU-07: check-out with the care record — the Encounter finished, one Procedure per item performed, the Task completed; the nurse, a participant of the visit\'s Encounter, keeps reading the record like any clinician who saw the patient', async () => {
    expect((await asPerson(t, nurses.good)('POST', `Task/${visit.id}/$check-out`, params(position(31.24, 121.44)))).status).toBe(400);
    expect((await asPerson(t, nurses.good)('POST', `Task/${visit.id}/$check-out`, params(position(31.24, 121.44), { name: 'care', valueString: 'x' }, { name: 'item', valueCode: 'stoma-care' }))).status).toBe(400);
    const res = await asPerson(t, nurses.good)('POST', `Task/${visit.id}/$check-out`, params(position(31.2403, 121.4403), { name: 'care', valueString: '左小腿伤口换药，无渗出；肌注一次' }, { name: 'item', valueCode: 'dressing-change' }, { name: 'item', valueCode: 'injection' }));
    expect([res.status, diagnostics(res.body)]).toEqual([200, '']);
    expect(out(res.body, 'encounter')).toMatchObject({ status: 'finished', period: { end: expect.any(String) } });
    const procedures = res.body.parameter.filter((p: any) => p.name === 'procedure').map((p: any) => p.resource);
    expect(procedures.map((p: any) => p.code.coding[0].code)).toEqual(['dressing-change', 'injection']);
    expect(procedures[0]).toMatchObject({ status: 'completed', subject: { reference: resident.reference }, encounter: { reference: `Encounter/${encounterId}` }, performer: [{ actor: { reference: nurses.good.reference } }], note: [{ text: '左小腿伤口换药，无渗出；肌注一次' }] });
    const task = out(res.body, 'task');
    expect(task.status).toBe('completed');
    expect(task.extension.map((e: any) => e.extension[0].valueCode)).toEqual(['check-in', 'alarm', 'check-out']);
    // The closed Task no longer links the nurse, but the Encounter does (auth/policy.ts CARE_LINKS),
    // and the order stays open for further visits; a nurse of another institution still cannot read.
    expect((await asPerson(t, nurses.good)('GET', `Patient/${resident.id}`)).status).toBe(200);
    expect((await asPerson(t, nurses.elsewhere)('GET', `Patient/${resident.id}`)).status).toBe(404);
    expect((await asPerson(t, nurses.good)('POST', `Task/${visit.id}/$check-out`, params(position(31.24, 121.44), { name: 'care', valueString: 'again' }))).status).toBe(409);
  });

  it('NU-07: the patient rates the visit; a complaint also queues a complaint Task to the provider; a second rating of the same visit is 409', async () => {
    expect((await asPerson(t, young)('POST', `ServiceRequest/${order.id}/$rate`, params({ name: 'score', valueInteger: 1 }))).status).toBe(403);
    expect((await asPerson(t, resident)('POST', `ServiceRequest/${order.id}/$rate`, params({ name: 'score', valueInteger: 6 }))).status).toBe(400);
    const res = await asPerson(t, resident)('POST', `ServiceRequest/${order.id}/$rate`, params({ name: 'score', valueInteger: 3 }, { name: 'comment', valueString: '操作规范' }, { name: 'complaint', valueString: '迟到四十分钟' }));
    expect([res.status, diagnostics(res.body)]).toEqual([201, '']);
    expect(out(res.body, 'rating')).toMatchObject({ valueInteger: 3, focus: [{ reference: `Task/${visit.id}` }], basedOn: [{ reference: `ServiceRequest/${order.id}` }], note: [{ text: '操作规范' }] });
    expect(out(res.body, 'complaint')).toMatchObject({ status: 'requested', code: { coding: [{ system: HN, code: 'complaint' }] }, owner: { reference: `Organization/${orgs.provider}` }, description: '迟到四十分钟' });
    expect((await asPerson(t, resident)('POST', `ServiceRequest/${order.id}/$rate`, params({ name: 'score', valueInteger: 5 }))).status).toBe(409);
  });

  it('NU-07: $trace lists every version of the whole chain in time order, for whoever may read the order', async () => {
    const res = await asPerson(t, resident)('GET', `ServiceRequest/${order.id}/$trace`);
    expect([res.status, diagnostics(res.body)]).toEqual([200, '']);
    const bundle = res.body as Bundle;
    expect(bundle.type).toBe('collection');
    const steps = bundle.entry!.map((e) => e.resource!);
    const times = steps.map((r) => r.meta!.lastUpdated!);
    expect([...times].sort()).toEqual(times);
    const kinds = steps.map((r) => `${r.resourceType}${r.resourceType === 'Task' || r.resourceType === 'ServiceRequest' || r.resourceType === 'Encounter' || r.resourceType === 'Flag' ? `:${(r as any).status}` : ''}`);
    expect(kinds[0]).toBe('ServiceRequest:on-hold');
    for (const k of ['Task:requested', 'QuestionnaireResponse', 'ServiceRequest:active', 'Task:completed', 'Task:accepted', 'Encounter:in-progress', 'Task:in-progress', 'Flag:active', 'Flag:inactive', 'Procedure', 'Encounter:finished', 'Observation']) expect(kinds).toContain(k);
    expect(kinds.indexOf('Task:accepted')).toBeLessThan(kinds.indexOf('Encounter:in-progress'));
    expect(kinds.indexOf('Flag:active')).toBeLessThan(kinds.indexOf('Procedure'));
    expect(steps.filter((r) => r.resourceType === 'Task' && (r as any).code.coding[0].code === 'complaint')).toHaveLength(1);
    expect((await asPerson(t, dutyDoctor)('GET', `ServiceRequest/${order.id}/$trace`)).status).toBe(200);
    expect((await asPerson(t, young)('GET', `ServiceRequest/${order.id}/$trace`)).status).toBe(404);
  });

  it('NU-07: chain resources are not written by plain REST, not even by an administrator (403); malformed operation bodies are 400', async () => {
    const current = (await admin('GET', `ServiceRequest/${order.id}`)).body;
    const put = await admin('PUT', `ServiceRequest/${order.id}`, { ...current, status: 'completed' });
    expect([put.status, diagnostics(put.body)]).toEqual([403, expect.stringContaining('NU-07')]);
    expect((await asPerson(t, resident)('PUT', `ServiceRequest/${order.id}`, { ...current, status: 'revoked' })).status).toBe(403);
    const task = (await admin('GET', `Task/${visit.id}`)).body;
    expect((await admin('PUT', `Task/${visit.id}`, { ...task, status: 'in-progress' })).status).toBe(403);
    expect((await admin('DELETE', `Task/${visit.id}`)).status).toBe(403);
    const forged = { ...current, id: undefined, meta: { tag: [{ system: HN, code: 'order-chain' }] } };
    expect((await admin('POST', 'ServiceRequest', forged)).status).toBe(403);
    // An untagged look-alike written by REST is not an order the operations act on.
    const lookalike = await admin('POST', 'ServiceRequest', { ...current, id: undefined, meta: undefined });
    expect(lookalike.status).toBe(201);
    expect((await asPerson(t, dutyDoctor)('POST', `ServiceRequest/${lookalike.body.id}/$dispatch`, params({ name: 'nurse', ...ref(nurses.second.reference) }))).status).toBe(404);
    // Malformed bodies.
    const as = asPerson(t, resident);
    expect((await as('POST', `Patient/${resident.id}/$order-home-nursing`, { resourceType: 'Patient' })).status).toBe(400);
    expect((await as('POST', `Patient/${resident.id}/$order-home-nursing`, params({ name: 'provider', ...ref(`Organization/${orgs.provider}`) }))).status).toBe(400);
    expect((await as('POST', `Patient/${resident.id}/$order-home-nursing`, params({ name: 'item', valueString: 'Practitioner/x' }))).status).toBe(400);
    const noAddress = orderParams();
    noAddress.parameter = noAddress.parameter.filter((p) => p.name !== 'address');
    expect((await as('POST', `Patient/${resident.id}/$order-home-nursing`, noAddress)).status).toBe(400);
    expect((await asPerson(t, dutyDoctor)('POST', `ServiceRequest/${order.id}/$dispatch`, params({ name: 'nurse', valueString: 'nobody' }))).status).toBe(400);
    expect((await asPerson(t, dutyDoctor)('POST', `ServiceRequest/${order.id}/$assess`, params({ name: 'decision', valueCode: 'maybe' }))).status).toBe(400);
    expect((await asPerson(t, nurses.good)('POST', `Task/${visit.id}/$check-in`, params({ name: 'position', part: [{ name: 'latitude', valueDecimal: 300 }] }))).status).toBe(400);
    expect((await asPerson(t, nurses.good)('POST', `Task/${visit.id}/$alarm`, { resourceType: 'Basic' })).status).toBe(400);
    expect((await asPerson(t, resident)('POST', `ServiceRequest/${order.id}/$rate`, params({ name: 'score', valueString: '5' }))).status).toBe(400);
  });

  it('NU-07: the provider\'s staff close the order once its care is done; their access to the record ends with it', async () => {
    expect((await asPerson(t, dutyDoctor)('GET', `Patient/${resident.id}`)).status).toBe(200);
    expect((await asPerson(t, otherDoctor)('POST', `ServiceRequest/${order.id}/$complete-order`, params())).status).toBe(403);
    const done = await asPerson(t, dutyDoctor)('POST', `ServiceRequest/${order.id}/$complete-order`, params({ name: 'note', valueString: '换药疗程结束' }));
    expect([done.status, diagnostics(done.body)]).toEqual([200, '']);
    expect(done.body.status).toBe('completed');
    expect(done.body.note.at(-1).text).toBe('换药疗程结束');
    expect((await asPerson(t, dutyDoctor)('POST', `ServiceRequest/${order.id}/$complete-order`, params())).status).toBe(409);
    // The open order was the staff's reason to see the patient: gone now (the untagged look-alike
    // ServiceRequest written by REST earlier, though "open" and naming the provider, opens nothing).
    expect((await asPerson(t, dutyDoctor)('GET', `Patient/${resident.id}`)).status).toBe(404);
    expect((await asPerson(t, resident)('GET', `ServiceRequest/${order.id}/$trace`)).status).toBe(200);
  });
});
