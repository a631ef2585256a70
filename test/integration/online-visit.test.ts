// A full online visit over HTTP and WebSocket with real clients: the doctor starts the visit from
// the booked appointment (Encounter, class VR); the patient joins the live channel; messages go
// both ways with their delivery state (delivered at once to a connected side, on joining to one
// who was away); the video call's signalling is relayed and its start and end recorded; the doctor
// ends the visit and refers the patient offline with the reason (IH-03), which writes the
// outpatient record kept by the doctor's institution (IH-11) with retention classes (IH-12).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Appointment, Bundle, Communication, Encounter, Slot } from '@medplum/fhirtypes';
import { asPerson, createClinician, createOrganization, createResident, createResource, type Person } from '../helpers/clinicians.js';
import { availableBackends } from '../helpers/parts.js';
import { SocketClient } from '../helpers/socket-client.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('online visit');
const params = (...parameter: Record<string, unknown>[]) => ({ resourceType: 'Parameters', parameter });

describe.each(backends)('an online visit on %s', (backend) => {
  const t = useTestHub(backend);
  let hospital = '';
  let doctor: Person;
  let patient: Person;
  let appointment: Appointment;
  let encounter: Encounter;
  const clients: SocketClient[] = [];
  const live = async (person: Person) => {
    const client = await SocketClient.open(`${t.url.replace(/^http/, 'ws')}/hospital/visits/live`);
    clients.push(client);
    client.send({ type: 'join', token: person.token, encounter: encounter.id });
    return client;
  };
  const read = async <T>(path: string) => (await (await t.fetch(`${t.base}/${path}`)).json()) as T;

  beforeAll(async () => {
    hospital = await createOrganization(t, '苏河区中心医院');
    doctor = await createClinician(t, { username: 'dr-visit', organization: hospital });
    patient = await createResident(t, { username: 'resident-visit' });
    await createResource(t, {
      resourceType: 'Condition', meta: { source: 'Endpoint/district-hospital' },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'E11', display: '2型糖尿病' }] },
      subject: { reference: patient.reference }, recordedDate: new Date(Date.now() - 20 * 86_400_000).toISOString(),
    });
    const schedule = await asPerson(t, doctor)('POST', 'Schedule', { resourceType: 'Schedule', active: true, actor: [{ reference: doctor.reference }] });
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await asPerson(t, doctor)('POST', `Schedule/${schedule.body.id}/$generate-slots`, params({ name: 'from', valueDate: tomorrow }, { name: 'to', valueDate: tomorrow }, { name: 'hours', valueString: '09:00-10:00' }, { name: 'slotMinutes', valueInteger: 30 }, ...[1, 2, 3, 4, 5, 6, 7].map((d) => ({ name: 'weekday', valueInteger: d }))));
    const slot = ((await read<Bundle>(`Slot?schedule=Schedule/${schedule.body.id}&_sort=start`)).entry![0].resource as Slot);
    appointment = (await asPerson(t, patient)('POST', 'Appointment/$book', params({ name: 'slot', valueReference: { reference: `Slot/${slot.id}` } }))).body;
  }, 120_000);

  afterAll(() => {
    for (const c of clients) c.ws.terminate();
  });

  it('the appointment\'s doctor starts the visit: an Encounter of class VR, in progress', async () => {
    expect((await asPerson(t, patient)('POST', `Appointment/${appointment.id}/$start-visit`, params())).status).toBe(403);
    const started = await asPerson(t, doctor)('POST', `Appointment/${appointment.id}/$start-visit`, params());
    expect(started.status).toBe(201);
    encounter = started.body;
    expect(encounter).toMatchObject({ status: 'in-progress', class: { code: 'VR' }, subject: { reference: patient.reference }, serviceProvider: { reference: `Organization/${hospital}` } });
    expect((await read<Appointment>(`Appointment/${appointment.id}`)).status).toBe('arrived');
    expect((await asPerson(t, doctor)('POST', `Appointment/${appointment.id}/$start-visit`, params())).status).toBe(409);
  });

  it('only the visit\'s doctor and patient may join the live channel; a bad token or a stranger is refused', async () => {
    const bogus = await SocketClient.open(`${t.url.replace(/^http/, 'ws')}/hospital/visits/live`);
    clients.push(bogus);
    bogus.send({ type: 'join', token: 'not-a-token', encounter: encounter.id });
    expect((await bogus.next((f) => f.type === 'error')).message).toMatch(/token/);
    await bogus.untilClosed();
    const stranger = await createResident(t, { username: 'resident-nosy-visit' });
    const nosy = await live(stranger);
    expect((await nosy.next((f) => f.type === 'error')).message).toMatch(/doctor and patient/);
    await nosy.untilClosed();
  });

  it('messages reach a connected side at once (delivered), and one who was away when they join', async () => {
    const patientLive = await live(patient);
    await patientLive.next((f) => f.type === 'joined');
    const sent = await asPerson(t, doctor)('POST', `Encounter/${encounter.id}/$send-message`, params({ name: 'text', valueString: '您好，最近血糖控制得怎么样？' }));
    expect(sent.status).toBe(201);
    const pushed = await patientLive.next((f) => f.type === 'message');
    expect(pushed.communication.payload[0].contentString).toBe('您好，最近血糖控制得怎么样？');
    expect((await read<Communication>(`Communication/${sent.body.id}`)).status).toBe('completed');
    expect(sent.body.received).toBeDefined();

    // The doctor is not connected: the patient's reply waits, then is delivered when the doctor joins.
    patientLive.send({ type: 'message', text: '空腹血糖 7.2 左右。' });
    let reply: Communication | undefined;
    for (let i = 0; i < 100 && !reply; i++) {
      reply = ((await read<Bundle>(`Communication?encounter=Encounter/${encounter.id}&sender=${patient.reference}`)).entry?.[0]?.resource as Communication | undefined);
      if (!reply) await new Promise((done) => setTimeout(done, 50));
    }
    expect(reply).toMatchObject({ status: 'in-progress', recipient: [{ reference: doctor.reference }] });
    const doctorLive = await live(doctor);
    const joined = await doctorLive.next((f) => f.type === 'joined');
    expect(joined.delivered.map((c: Communication) => c.id)).toEqual([reply!.id]);
    // The patient, still connected, is told their waiting message has now been delivered.
    const receipt = await patientLive.next((f) => f.type === 'delivered');
    expect(receipt.communications.map((c: Communication) => [c.id, c.status])).toEqual([[reply!.id, 'completed']]);
    expect((await read<Communication>(`Communication/${reply!.id}`)).status).toBe('completed');
    // Now both are connected: a message over the socket reaches the other side live.
    doctorLive.send({ type: 'message', text: '请继续监测，两周后复诊。' });
    expect((await patientLive.next((f) => f.type === 'message' && f.communication.payload[0].contentString?.includes('两周'))).communication.status).toBe('in-progress');
  });

  it('relays the video call\'s signalling between the two sides and records its start and end', async () => {
    const [patientLive, doctorLive] = [clients.at(-2)!, clients.at(-1)!];
    doctorLive.send({ type: 'signal', data: { kind: 'call-start' } });
    doctorLive.send({ type: 'signal', data: { kind: 'offer', sdp: 'v=0 o=- 1 2 IN IP4 127.0.0.1' } });
    const offer = await patientLive.next((f) => f.type === 'signal' && f.data.kind === 'offer');
    expect(offer).toMatchObject({ from: doctor.reference, data: { sdp: 'v=0 o=- 1 2 IN IP4 127.0.0.1' } });
    patientLive.send({ type: 'signal', data: { kind: 'answer', sdp: 'v=0 answer' } });
    expect((await doctorLive.next((f) => f.type === 'signal' && f.data.kind === 'answer')).from).toBe(patient.reference);
    doctorLive.send({ type: 'signal', data: { kind: 'call-end' } });
    await patientLive.next((f) => f.type === 'signal' && f.data.kind === 'call-end');
    // The call's end is recorded just after it is relayed: wait for it (bounded).
    const calls = async () => (await read<Bundle>(`Communication?encounter=Encounter/${encounter.id}&category=https://suhe.example.cn/fhir/CodeSystem/communication-category|video-call&_sort=sent`)).entry?.map((e) => (e.resource as Communication).payload![0].contentString) ?? [];
    for (let i = 0; i < 100 && (await calls()).length < 2; i++) await new Promise((done) => setTimeout(done, 50));
    expect(await calls()).toEqual(['video call started', 'video call ended']);
  });

  it('IH-03: the doctor ends the visit and refers the patient offline with the reason; IH-11/IH-12: the record is written, kept by the institution, with retention classes', async () => {
    const [patientLive, doctorLive] = [clients.at(-2)!, clients.at(-1)!];
    const end = (...p: Record<string, unknown>[]) => asPerson(t, doctor)('POST', `Encounter/${encounter.id}/$end-visit`, params(...p));
    expect((await asPerson(t, patient)('POST', `Encounter/${encounter.id}/$end-visit`, params({ name: 'summary', valueString: 'x' }))).status).toBe(403);
    expect((await end({ name: 'summary', valueString: '血糖偏高' }, { name: 'referOffline', part: [] })).status).toBe(400);
    expect((await end()).status).toBe(400);
    const ended = await end(
      { name: 'summary', valueString: '2型糖尿病复诊，空腹血糖 7.2 mmol/L，需调整用药。' },
      { name: 'diagnosis', valueCoding: { system: 'http://hl7.org/fhir/sid/icd-10', code: 'E11.9', display: '2型糖尿病' } },
      { name: 'referOffline', part: [{ name: 'reason', valueString: '需线下查糖化血红蛋白并调整胰岛素方案' }] },
    );
    expect(ended.status).toBe(200);
    const out = Object.fromEntries((ended.body.parameter as { name: string; resource: any }[]).map((p) => [p.name, p.resource]));
    expect(out.encounter).toMatchObject({ status: 'finished', diagnosis: [{ condition: { reference: `Condition/${out.diagnosis.id}` } }] });
    expect(out.referral).toMatchObject({ status: 'active', reasonCode: [{ text: '需线下查糖化血红蛋白并调整胰岛素方案' }], requester: { reference: doctor.reference }, performer: [{ reference: `Organization/${hospital}` }] });
    expect(out.record).toMatchObject({ status: 'final', custodian: { reference: `Organization/${hospital}` }, subject: { reference: patient.reference }, author: [{ reference: doctor.reference }] });
    expect(out.diagnosis).toMatchObject({ verificationStatus: { coding: [{ code: 'confirmed' }] }, recorder: { reference: doctor.reference } });
    // Both sides are told, and their connections closed.
    await patientLive.next((f) => f.type === 'ended');
    await Promise.all([patientLive.untilClosed(), doctorLive.untilClosed()]);
    expect((await read<Appointment>(`Appointment/${appointment.id}`)).status).toBe('fulfilled');
    // IH-12: retention classes on the records and on the conversation.
    const tags = (r: { meta?: { tag?: { code?: string }[] } }) => r.meta?.tag?.map((x) => x.code);
    for (const r of [out.encounter, out.record, out.diagnosis, out.referral]) expect(tags(r)).toContain('outpatient-15y');
    const messages = (await read<Bundle>(`Communication?encounter=Encounter/${encounter.id}&_count=50`)).entry!.map((e) => e.resource as Communication);
    expect(messages.length).toBeGreaterThanOrEqual(5);
    for (const m of messages) expect(tags(m)).toContain('conversation-3y');
    // The visit is over: no more messages.
    expect((await asPerson(t, patient)('POST', `Encounter/${encounter.id}/$send-message`, params({ name: 'text', valueString: '还在吗？' }))).status).toBe(409);
  });
});
