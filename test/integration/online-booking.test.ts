// The internet hospital's calendar: doctors who may practise online (IH-08/IH-09) publish
// schedules and generate slots; verified residents (IH-10) find free slots and book follow-up
// visits (IH-01/IH-02), for themselves or a child in their care; 50 residents racing for one
// slot get exactly one appointment; cancelling and rescheduling free the slot; no-shows are
// recorded once the time has come.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Appointment, Bundle, Slot } from '@medplum/fhirtypes';
import { asPerson, createClinician, createOrganization, createResident, createResource, type Person } from '../helpers/clinicians.js';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('online booking');
const DEPARTMENT = 'https://suhe.example.cn/fhir/CodeSystem/department';
const RACERS = 50;

/** YYYY-MM-DD, `days` from today (UTC). */
const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const params = (...parameter: Record<string, unknown>[]) => ({ resourceType: 'Parameters', parameter });

describe.each(backends)('online follow-up booking on %s', (backend) => {
  // 50 residents sign in at once: the sign-in rate limit is raised for the race.
  const t = useTestHub(backend, { rules: { firstVisitDepartments: ['general-practice'] }, auth: { rateLimit: { capacity: 500, perSecond: 100 } } });
  let hospital = '';
  let doctor: Person;
  let resident: Person;
  let cardiology = '';
  let pilot = '';
  const free = async (schedule: string) =>
    (((await (await t.fetch(`${t.base}/Slot?schedule=Schedule/${schedule}&status=free&_sort=start&_count=100`)).json()) as Bundle).entry ?? []).map((e) => e.resource as Slot);
  const book = (person: Person, slot: string, extra: Record<string, unknown>[] = []) => asPerson(t, person)('POST', 'Appointment/$book', params({ name: 'slot', valueReference: { reference: `Slot/${slot}` } }, ...extra));
  const schedule = async (who: Person, specialty: string) =>
    asPerson(t, who)('POST', 'Schedule', { resourceType: 'Schedule', active: true, actor: [{ reference: who.reference }], specialty: [{ coding: [{ system: DEPARTMENT, code: specialty }] }] });
  const generate = (who: Person, id: string, from: string, to: string, extra: Record<string, unknown>[] = []) =>
    asPerson(t, who)('POST', `Schedule/${id}/$generate-slots`, params({ name: 'from', valueDate: from }, { name: 'to', valueDate: to }, { name: 'hours', valueString: '08:30-11:30' }, { name: 'slotMinutes', valueInteger: 30 }, ...extra));
  /** A confirmed diagnosis as a physical hospital's system records it (meta.source), `daysAgo` days ago. */
  const diagnosis = (patient: Person, daysAgo: number, source = 'Endpoint/district-hospital') =>
    createResource(t, {
      resourceType: 'Condition',
      meta: { source },
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10', display: '原发性高血压' }] },
      subject: { reference: patient.reference },
      recordedDate: new Date(Date.now() - daysAgo * 86_400_000).toISOString(),
    });

  beforeAll(async () => {
    hospital = await createOrganization(t, '苏河区中心医院');
    doctor = await createClinician(t, { username: 'dr-wang', organization: hospital });
    resident = await createResident(t, { username: 'resident-zhang' });
  }, 120_000);

  it('IH-08/IH-09: only a doctor with a verified identity, a licence of ≥3 years and a registration may publish a schedule', async () => {
    const unverified = await createClinician(t, { username: 'dr-unverified', organization: hospital, verified: false });
    const junior = await createClinician(t, { username: 'dr-junior', organization: hospital, licensedSince: `${new Date().getFullYear() - 1}-06-01` });
    const unregistered = await createClinician(t, { username: 'dr-unregistered' });
    const refusals = await Promise.all([schedule(unverified, 'cardiology'), schedule(junior, 'cardiology'), schedule(unregistered, 'cardiology')]);
    expect(refusals.map((r) => r.status)).toEqual([403, 403, 403]);
    expect(JSON.stringify(refusals[0].body)).toContain('IH-08');
    expect(JSON.stringify(refusals[1].body)).toMatch(/IH-09.*3 years/);
    expect(JSON.stringify(refusals[2].body)).toMatch(/IH-09.*not registered/);
    const published = await schedule(doctor, 'cardiology');
    expect(published.status).toBe(201);
    cardiology = published.body.id;
    pilot = (await schedule(doctor, 'general-practice')).body.id;
    // The rule holds for updates and inside transaction Bundles too (it reads within the write's
    // own transaction, so on the embedded database it cannot wait on itself).
    expect((await asPerson(t, doctor)('PUT', `Schedule/${cardiology}`, { ...published.body, comment: '专家门诊' })).status).toBe(200);
    const bundle = await asPerson(t, junior)('POST', '', {
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ resource: { resourceType: 'Schedule', active: true, actor: [{ reference: junior.reference }] }, request: { method: 'POST', url: 'Schedule' } }],
    });
    expect(bundle.status).toBe(403);
  });

  it('generates slots from working hours, slot length and holidays; running it again adds none', async () => {
    const res = await generate(doctor, cardiology, day(1), day(3), [1, 2, 3, 4, 5, 6, 7].map((d) => ({ name: 'weekday', valueInteger: d })).concat([{ name: 'holiday', valueDate: day(2) } as never]));
    expect(res.status).toBe(200);
    expect(res.body.parameter).toEqual([{ name: 'created', valueInteger: 12 }, { name: 'alreadyPublished', valueInteger: 0 }]);
    const again = await generate(doctor, cardiology, day(1), day(3), [1, 2, 3, 4, 5, 6, 7].map((d) => ({ name: 'weekday', valueInteger: d })));
    expect(again.body.parameter).toEqual([{ name: 'created', valueInteger: 6 }, { name: 'alreadyPublished', valueInteger: 12 }]); // the holiday, now worked
    const slots = await free(cardiology);
    expect(slots).toHaveLength(18);
    expect(slots[0].start).toBe(`${day(1)}T08:30:00+08:00`);
    expect(slots[5].end).toBe(`${day(1)}T11:30:00+08:00`);
    // Bad requests say what to fix.
    expect((await generate(doctor, cardiology, day(3), day(1))).status).toBe(400);
    expect((await asPerson(t, doctor)('POST', `Schedule/${cardiology}/$generate-slots`, params({ name: 'from', valueDate: day(1) }, { name: 'to', valueDate: day(200) }, { name: 'hours', valueString: '08:30-11:30' }, { name: 'slotMinutes', valueInteger: 30 }))).status).toBe(400);
    expect((await asPerson(t, resident)('POST', `Schedule/${cardiology}/$generate-slots`, params())).status).toBe(403);
    await generate(doctor, pilot, day(1), day(1), [1, 2, 3, 4, 5, 6, 7].map((d) => ({ name: 'weekday', valueInteger: d })));
  });

  it('residents find free slots by doctor, department and date', async () => {
    const search = async (query: string) => ((await asPerson(t, resident)('GET', `Slot?status=free&${query}`)).body as Bundle).entry?.length ?? 0;
    expect(await search(`schedule.actor=${doctor.reference}&_count=100`)).toBe(24);
    expect(await search(`specialty=${DEPARTMENT}|cardiology&_count=100`)).toBe(18);
    expect(await search(`specialty=${DEPARTMENT}|cardiology&start=ge${day(3)}&_count=100`)).toBe(6);
    // A doctor's schedule names no patient: anyone who may read schedules sees it. A schedule that
    // names a patient (their own calendar) stays theirs.
    const other = await createResident(t, { username: 'resident-with-calendar' });
    const private_ = await createResource(t, { resourceType: 'Schedule', active: true, actor: [{ reference: other.reference }] });
    const own = asPerson(t, resident);
    expect((await own('GET', `Schedule/${cardiology}`)).status).toBe(200);
    expect((await own('GET', `Schedule/${private_.id}`)).status).toBe(404);
    const visible = ((await own('GET', 'Schedule?_count=100')).body as Bundle).entry?.map((e) => e.resource?.id) ?? [];
    expect(visible).toContain(cardiology);
    expect(visible).not.toContain(private_.id);
  });

  it('IH-01/IH-02: a first visit online is refused with what to do; a confirmed diagnosis from a physical institution allows the follow-up', async () => {
    const [slot] = await free(cardiology);
    const refused = await book(resident, slot.id!);
    expect(refused.status).toBe(403);
    expect(refused.body.issue[0].diagnostics).toMatch(/IH-01\/IH-02.*follow-ups only.*Visit the clinic in person first/);
    // Neither a diagnosis the online hospital wrote itself nor one older than the look-back counts.
    await diagnosis(resident, 10, 'urn:suhe:internet-hospital');
    await diagnosis(resident, 400);
    expect((await book(resident, slot.id!)).status).toBe(403);
    const basis = await diagnosis(resident, 30);
    const booked = await book(resident, slot.id!, [{ name: 'reason', valueString: '血压复查' }]);
    expect(booked.status).toBe(201);
    const appointment = booked.body as Appointment;
    expect(appointment).toMatchObject({ status: 'booked', start: slot.start, slot: [{ reference: `Slot/${slot.id}` }], reasonReference: [{ reference: `Condition/${basis.id}` }] });
    expect(appointment.participant.map((p) => p.actor?.reference).sort()).toEqual([doctor.reference, resident.reference].sort());
    expect(((await (await t.fetch(`${t.base}/Slot/${slot.id}`)).json()) as Slot).status).toBe('busy');
    // The doctor sees the basis: the appointment names the diagnosis.
    expect((await asPerson(t, doctor)('GET', `Appointment/${appointment.id}`)).body.reasonReference[0].reference).toBe(`Condition/${basis.id}`);
  });

  it('IH-01: a department piloting online first visits (configured) accepts a first visit', async () => {
    const newcomer = await createResident(t, { username: 'resident-new' });
    const [slot] = await free(pilot);
    const booked = await book(newcomer, slot.id!);
    expect(booked.status).toBe(201);
    expect(booked.body.extension[0].valueString).toContain('general-practice');
  });

  it('IH-10: a resident account needs a verified identity; nobody books for a stranger; a guardian books for their child', async () => {
    // Residents are real-name users: the hub refuses an account without the identity document.
    await expect(createResident(t, { username: 'resident-unverified', verified: false })).rejects.toThrow(/identity/);
    const [slot] = await free(pilot);
    const stranger = await createResident(t, { username: 'resident-stranger' });
    expect((await book(resident, slot.id!, [{ name: 'patient', valueReference: { reference: stranger.reference } }])).status).toBe(403);
    const child = await createResident(t, { username: 'resident-child', birthDate: `${new Date().getFullYear() - 4}-02-03` });
    await createResource(t, {
      resourceType: 'RelatedPerson',
      active: true,
      patient: { reference: child.reference },
      identifier: [resident.identity],
      relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH' }] }],
    });
    const forChild = await book(resident, slot.id!, [{ name: 'patient', valueReference: { reference: child.reference } }]);
    expect(forChild.status).toBe(201);
    expect(forChild.body.participant.map((p: { actor: { reference: string } }) => p.actor.reference)).toContain(child.reference);
  });

  it(`never double-books: ${RACERS} residents racing for one slot get exactly one appointment, the rest a clear 409`, async () => {
    const racers = await Promise.all(Array.from({ length: RACERS }, (_, i) => createResident(t, { username: `racer-${i}` })));
    const [slot] = await free(pilot);
    const answers = await Promise.all(racers.map((r) => book(r, slot.id!)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(RACERS - 1);
    expect(answers.find((a) => a.status === 409)!.body.issue[0].diagnostics).toMatch(/just been booked.*choose another/);
    const appointments = (await (await t.fetch(`${t.base}/Appointment?slot=Slot/${slot.id}`)).json()) as Bundle;
    expect(appointments.entry).toHaveLength(1);
  }, 180_000);

  it('cancelling (with a reason) frees the slot for someone else; rescheduling moves to a free slot and frees the old one', async () => {
    const [first, second, third] = await free(cardiology);
    const booked = (await book(resident, first.id!)).body as Appointment;
    const own = asPerson(t, resident);
    expect((await own('POST', `Appointment/${booked.id}/$reschedule`, params({ name: 'slot', valueReference: { reference: `Slot/${second.id}` } }))).status).toBe(200);
    const slotStatus = async (id: string) => ((await (await t.fetch(`${t.base}/Slot/${id}`)).json()) as Slot).status;
    expect([await slotStatus(first.id!), await slotStatus(second.id!)]).toEqual(['free', 'busy']);
    // Moving onto a taken slot fails and keeps the appointment where it was.
    const other = await createResident(t, { username: 'resident-other' });
    await diagnosis(other, 20);
    expect((await book(other, third.id!)).status).toBe(201);
    expect((await own('POST', `Appointment/${booked.id}/$reschedule`, params({ name: 'slot', valueReference: { reference: `Slot/${third.id}` } }))).status).toBe(409);
    expect(await slotStatus(second.id!)).toBe('busy');

    expect((await own('POST', `Appointment/${booked.id}/$cancel`, params())).status).toBe(400);
    const stranger = await createResident(t, { username: 'resident-nosy' });
    expect((await asPerson(t, stranger)('POST', `Appointment/${booked.id}/$cancel`, params({ name: 'reason', valueString: 'x' }))).status).toBe(403);
    const cancelled = await own('POST', `Appointment/${booked.id}/$cancel`, params({ name: 'reason', valueString: '出差' }));
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelationReason: { text: '出差' } });
    expect(await slotStatus(second.id!)).toBe('free');
    expect((await book(other, second.id!)).status).toBe(201);
  });

  it('plain FHIR writes cannot book a slot, take it or free it', async () => {
    const [slot] = await free(cardiology);
    const direct = await asPerson(t, resident)('POST', 'Appointment', {
      resourceType: 'Appointment', status: 'booked', slot: [{ reference: `Slot/${slot.id}` }], start: slot.start, end: slot.end,
      participant: [{ actor: { reference: resident.reference }, status: 'accepted' }],
    });
    expect(direct.status).toBe(403);
    expect(direct.body.issue[0].diagnostics).toContain('Appointment/$book');
    const taken = await t.fetch(`${t.base}/Slot/${slot.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...slot, status: 'busy' }) });
    expect(taken.status).toBe(403);
    expect(((await (await t.fetch(`${t.base}/Slot/${slot.id}`)).json()) as Slot).status).toBe('free');
  });

  it('a no-show is recorded by the doctor once the visit\'s time has come, not before', async () => {
    const [slot] = await free(cardiology);
    const booked = (await book(resident, slot.id!)).body as Appointment;
    const noShow = () => asPerson(t, doctor)('POST', `Appointment/${booked.id}/$no-show`, params());
    expect((await noShow()).status).toBe(409);
    expect((await asPerson(t, resident)('POST', `Appointment/${booked.id}/$no-show`, params())).status).toBe(403);
    const realNow = t.hub.hospital.clock.now;
    t.hub.hospital.clock.now = () => new Date(Date.parse(slot.end) + 60_000);
    try {
      const recorded = await noShow();
      expect(recorded.status).toBe(200);
      expect(recorded.body.status).toBe('noshow');
    } finally {
      t.hub.hospital.clock.now = realNow;
    }
    expect(((await (await t.fetch(`${t.base}/Slot/${slot.id}`)).json()) as Slot).status).toBe('busy');
  });
});
