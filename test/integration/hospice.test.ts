// Hospice care at home over HTTP on both backends (DOMAIN.md HO-02): a physician enrols an
// end-stage patient with a multidisciplinary team (physician, nurse, social worker; the family
// contact joins) and a care plan; the team records symptom assessments (pain 0–10 and ESAS-r
// symptoms), a severe score asks the physician to review, the worklist says when the next
// assessment is due; the patient records an advance directive (Consent scope adr); after the
// death the family's bereavement follow-up is scheduled.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, Consent, Parameters, ParametersParameter, Task } from '@medplum/fhirtypes';
import { asPerson, createClinician, createOrganization, createResident, createResource, type Person } from '../helpers/clinicians.js';
import { availableBackends } from '../helpers/parts.js';
import { createDiagnosis } from '../helpers/community.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('hospice');
const HO = 'https://suhe.example.cn/fhir/CodeSystem/hospice';
const params = (...parameter: ParametersParameter[]) => ({ resourceType: 'Parameters', parameter });
const ref = (reference: string) => ({ valueReference: { reference } });
const diagnostics = (body: any) => (body?.issue ?? []).map((i: any) => i.diagnostics).join(' | ');
const part = (body: Parameters, name: string) => body.parameter?.find((p) => p.name === name);
const FORM = { contentType: 'application/pdf', data: Buffer.from('%PDF-1.4 生前预嘱').toString('base64'), title: '生前预嘱' };

describe.each(backends)('hospice care on %s', (backend) => {
  const t = useTestHub(backend);
  let physician: Person;
  let nurse: Person;
  let otherNurse: Person;
  let patient: Person;
  const roles: Record<string, string> = {};
  let condition = '';
  let family = '';
  let episode = '';

  const roleOf = async (person: Person) => `PractitionerRole/${((await (await t.fetch(`${t.base}/PractitionerRole?practitioner=${person.reference}`)).json()) as Bundle).entry![0].resource!.id}`;
  const team = (...members: [string, string][]) => members.map(([role, discipline]) => ({ name: 'team', part: [{ name: 'member', ...ref(role) }, { name: 'discipline', valueCode: discipline }] }));
  const read = async <T>(path: string) => (await (await t.fetch(`${t.base}/${path}`)).json()) as T;

  beforeAll(async () => {
    const hospital = await createOrganization(t, '苏河区中心医院安宁疗护科');
    physician = await createClinician(t, { username: 'ho-physician', organization: hospital, name: { family: '何', given: ['医生'] } });
    nurse = await createClinician(t, { username: 'ho-nurse', role: 'nurse', organization: hospital });
    otherNurse = await createClinician(t, { username: 'ho-other-nurse', role: 'nurse', organization: hospital });
    const socialWorker = await createResource(t, { resourceType: 'Practitioner', active: true, name: [{ family: '孙', given: ['社工'] }] });
    roles.physician = await roleOf(physician);
    roles.nurse = await roleOf(nurse);
    roles.social = `PractitionerRole/${(await createResource(t, { resourceType: 'PractitionerRole', active: true, practitioner: { reference: `Practitioner/${socialWorker.id}` }, organization: { reference: `Organization/${hospital}` } })).id}`;
    patient = await createResident(t, { username: 'ho-patient', birthDate: '1948-02-03', name: { family: '吴', given: ['老伯'] } });
    condition = await createDiagnosis(t, patient.reference, 'C34.9', '肺恶性肿瘤（晚期）');
    family = (await createResource(t, { resourceType: 'RelatedPerson', patient: { reference: patient.reference }, relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'DAU' }] }], name: [{ text: '吴女士' }] })).id;
    // The physician cares for the patient already (an outpatient visit): the enrolment starts from there.
    await createResource(t, { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: patient.reference }, participant: [{ individual: { reference: physician.reference } }] });
  }, 120_000);

  it('HO-02: enrolment needs a confirmed end-stage diagnosis and a multidisciplinary team with the enrolling physician; then the team sees the record', async () => {
    const enrol = (body: unknown, who = physician) => asPerson(t, who)('POST', `Patient/${patient.id}/$enrol-hospice`, body);
    const base = [{ name: 'condition', ...ref(`Condition/${condition}`) }, { name: 'familyContact', ...ref(`RelatedPerson/${family}`) }];
    const noSupport = await enrol(params(...base, ...team([roles.physician, 'physician'], [roles.nurse, 'nurse'])));
    expect([noSupport.status, diagnostics(noSupport.body)]).toEqual([422, 'HO-02: hospice care is multidisciplinary; the team lacks social work, psychology or spiritual care']);
    const withoutMe = await enrol(params(...base, ...team([roles.nurse, 'nurse'], [roles.social, 'social-worker'], [roles.physician, 'psychologist'])));
    expect(diagnostics(withoutMe.body)).toContain('a physician');
    expect((await enrol(params(...base, ...team([roles.physician, 'surgeon'])))).status).toBe(400);
    expect((await enrol(params(...team([roles.physician, 'physician'])))).status).toBe(400);
    expect((await enrol(params(...base, ...team([roles.physician, 'physician'], [roles.nurse, 'nurse'], [roles.social, 'social-worker'])), nurse)).status).toBe(403);
    // The nurse is not yet on any team: the record is closed to them.
    expect((await asPerson(t, nurse)('GET', `Patient/${patient.id}`)).status).toBe(404);

    const ok = await enrol(params(...base, ...team([roles.physician, 'physician'], [roles.nurse, 'nurse'], [roles.social, 'social-worker']), { name: 'assessmentEveryDays', valueInteger: 3 }));
    expect([ok.status, diagnostics(ok.body)]).toEqual([201, '']);
    const out = ok.body as Parameters;
    const ep = part(out, 'episodeOfCare')!.resource as any;
    episode = ep.id;
    expect(ep).toMatchObject({ status: 'active', type: [{ coding: [{ system: HO, code: 'hospice' }] }], patient: { reference: patient.reference }, careManager: { reference: physician.reference }, diagnosis: [{ condition: { reference: `Condition/${condition}` } }] });
    const careTeam = part(out, 'careTeam')!.resource as any;
    expect(careTeam.participant.map((p: any) => [p.member.reference, p.role[0].coding[0].code])).toEqual([
      [roles.physician, 'physician'], [roles.nurse, 'nurse'], [roles.social, 'social-worker'], [`RelatedPerson/${family}`, 'family-contact'],
    ]);
    const plan = part(out, 'carePlan')!.resource as any;
    expect(plan.activity.map((a: any) => a.detail.code.coding[0].code)).toEqual(['symptom-assessment', 'comfort-care', 'psychological-support', 'spiritual-support', 'social-support', 'family-support', 'bereavement-follow-up']);
    expect(plan.activity[0].detail.scheduledTiming.repeat).toEqual({ frequency: 1, period: 3, periodUnit: 'd' });
    expect((part(out, 'familySupport')!.resource as Task).owner!.reference).toBe(roles.social);
    // The team's nurse now reads the record; a nurse outside the team does not. One hospice care at a time.
    expect((await asPerson(t, nurse)('GET', `Patient/${patient.id}`)).status).toBe(200);
    expect((await asPerson(t, otherNurse)('GET', `Patient/${patient.id}`)).status).toBe(404);
    expect((await enrol(params(...base, ...team([roles.physician, 'physician'], [roles.nurse, 'nurse'], [roles.social, 'social-worker'])))).status).toBe(409);
  });

  it('HO-02: the team records symptom assessments (pain 0–10, ESAS-r); a severe score asks the physician to review; the worklist says when the next is due', async () => {
    const assess = (body: unknown, who = nurse) => asPerson(t, who)('POST', `Patient/${patient.id}/$assess-symptoms`, body);
    const first = await assess(params({ name: 'pain', valueInteger: 3 }, { name: 'nausea', valueInteger: 2 }, { name: 'note', valueString: '夜间睡眠尚可' }));
    expect([first.status, diagnostics(first.body)]).toEqual([201, '']);
    const panel = part(first.body, 'assessment')!.resource as any;
    expect(panel.hasMember).toHaveLength(2);
    const symptoms = first.body.parameter.filter((p: any) => p.name === 'symptom').map((p: any) => [p.resource.code.coding[0].code, p.resource.valueInteger]);
    expect(symptoms).toEqual([['72514-3', 3], ['nausea', 2]]);
    expect(part(first.body, 'review')).toBeUndefined();

    const worklist = async (who = physician) => (await asPerson(t, who)('GET', 'EpisodeOfCare/$hospice-worklist')).body as Parameters;
    const row = (body: Parameters) => Object.fromEntries(body.parameter!.find((p) => p.name === 'patient')!.part!.map((p) => [p.name, p.valueCode ?? p.valueDate ?? p.valueInteger ?? p.valueReference?.reference]));
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const inThreeDays = new Date(Date.parse(today) + 3 * 86_400_000).toISOString().slice(0, 10);
    expect(row(await worklist())).toMatchObject({ patient: patient.reference, assessmentDue: inThreeDays, assessmentStatus: 'scheduled', pain: 3 });

    const severe = await assess(params({ name: 'pain', valueInteger: 8 }, { name: 'shortness-of-breath', valueInteger: 7 }));
    const review = part(severe.body, 'review')!.resource as Task;
    expect(review).toMatchObject({ status: 'requested', priority: 'urgent', owner: { reference: roles.physician }, code: { coding: [{ code: 'symptom-review' }] } });
    expect(review.description).toContain('pain 8/10, shortness-of-breath 7/10');

    // Bad input, and people outside the team.
    expect(diagnostics((await assess(params({ name: 'nausea', valueInteger: 2 }))).body)).toContain('always rates pain');
    expect((await assess(params({ name: 'pain', valueInteger: 11 }))).status).toBe(400);
    expect((await assess(params({ name: 'pain', valueInteger: 2 }, { name: 'itch', valueInteger: 2 }))).status).toBe(400);
    expect((await assess(params({ name: 'pain', valueInteger: 2 }), otherNurse)).status).toBe(404);

    // Four days on with no assessment, the next one is overdue.
    const clock = t.hub.hospital.clock;
    const real = clock.now;
    clock.now = () => new Date(Date.now() + 4 * 86_400_000);
    try {
      expect(row(await worklist(nurse))).toMatchObject({ assessmentStatus: 'overdue', pain: 8 });
    } finally {
      clock.now = real;
    }
  });

  it('HO-02: the patient records an advance directive (Consent scope adr) with the signed document; a new one replaces it', async () => {
    const record = (body: unknown) => asPerson(t, patient)('POST', `Patient/${patient.id}/$record-advance-directive`, body);
    expect((await record(params({ name: 'decision', valueCode: 'no-cpr' }))).status).toBe(400);
    expect((await record(params({ name: 'decision', valueCode: 'euthanasia' }, { name: 'signedForm', valueAttachment: FORM }))).status).toBe(400);
    const first = await record(params({ name: 'decision', valueCode: 'no-cpr' }, { name: 'decision', valueCode: 'die-at-home' }, { name: 'signedForm', valueAttachment: FORM }, { name: 'statement', valueString: '希望在家中安详离世' }));
    expect([first.status, diagnostics(first.body)]).toEqual([201, '']);
    const consent = part(first.body, 'consent')!.resource as Consent;
    expect(consent).toMatchObject({ status: 'active', scope: { coding: [{ code: 'adr' }] }, patient: { reference: patient.reference }, performer: [{ reference: patient.reference }] });
    expect(consent.provision!.provision!.map((p) => [p.type, p.code![0].coding![0].code])).toEqual([['deny', 'no-cpr'], ['permit', 'die-at-home']]);
    // Later the daughter, as proxy, records a new one with the physician: the first becomes inactive.
    const second = await asPerson(t, physician)('POST', `Patient/${patient.id}/$record-advance-directive`, params(
      { name: 'decision', valueCode: 'no-intubation' }, { name: 'signedForm', valueAttachment: FORM }, { name: 'signedBy', ...ref(`RelatedPerson/${family}`) },
    ));
    expect(second.status).toBe(201);
    expect((await read<Consent>(`Consent/${consent.id}`)).status).toBe('inactive');
    const active = (await read<Bundle<Consent>>(`Consent?patient=${patient.reference}&status=active`)).entry!.map((e) => e.resource!).filter((c) => c.scope?.coding?.[0]?.code === 'adr');
    expect(active.map((c) => c.performer![0].reference)).toEqual([`RelatedPerson/${family}`]);
  });

  it('HO-02: after the death the family\'s bereavement follow-up is scheduled (7, 30, 90 days) with the team\'s social worker', async () => {
    const at = new Date().toISOString(); // just now: after the enrolment, not in the future
    expect((await asPerson(t, nurse)('POST', `EpisodeOfCare/${episode}/$record-death`, params({ name: 'date', valueDateTime: at }))).status).toBe(403);
    expect((await asPerson(t, physician)('POST', `EpisodeOfCare/${episode}/$record-death`, params({ name: 'date', valueDateTime: new Date(Date.now() + 86_400_000).toISOString() }))).status).toBe(400);
    const done = await asPerson(t, physician)('POST', `EpisodeOfCare/${episode}/$record-death`, params({ name: 'date', valueDateTime: at }));
    expect([done.status, diagnostics(done.body)]).toEqual([200, '']);
    expect(part(done.body, 'episodeOfCare')!.resource).toMatchObject({ status: 'finished', period: { end: at } });
    expect((await read<any>(`Patient/${patient.id}`)).deceasedDateTime).toBe(at);
    const tasks = done.body.parameter.filter((p: any) => p.name === 'bereavement').map((p: any) => p.resource as Task);
    expect(tasks.map((x: Task) => Math.round((Date.parse(x.restriction!.period!.start!) - Date.parse(at)) / 86_400_000))).toEqual([7, 30, 90]);
    expect(tasks.every((x: Task) => x.owner?.reference === roles.social && x.status === 'requested')).toBe(true);
    const plan = part(done.body, 'carePlan')!.resource as any;
    expect(plan.activity.filter((a: any) => a.detail.status === 'in-progress').map((a: any) => a.detail.code.coding[0].code)).toEqual(['bereavement-follow-up']);
    expect((await asPerson(t, physician)('POST', `EpisodeOfCare/${episode}/$record-death`, params({ name: 'date', valueDateTime: at }))).status).toBe(409);
  });
});
