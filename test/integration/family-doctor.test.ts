// Family-doctor contracts and panels over HTTP on both backends (DOMAIN.md FD-01/02/04/05/07/08/
// 09): a resident signs with a family doctor at a community health centre, choosing the basic
// package (+ a personalised one) and one district and one city hospital (FD-05); one family doctor
// at a time, a term of at least a year, renew or switch at expiry (FD-02); the contract is what
// lets the family doctor see the record; the panel shows priority groups computed from the record
// (FD-01/04) and the worklist what is due or overdue (FD-07..09), which a recorded follow-up clears.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, Contract, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { asPerson, createClinician, createResident, createResource, type Person } from '../helpers/clinicians.js';
import { availableBackends } from '../helpers/parts.js';
import { createDiagnosis, createInstitution, createPackage } from '../helpers/community.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('family doctor');
const FD = 'https://suhe.example.cn/fhir/CodeSystem/family-doctor';
const params = (...parameter: ParametersParameter[]) => ({ resourceType: 'Parameters', parameter });
const ref = (reference: string) => ({ valueReference: { reference } });
const diagnostics = (body: any) => (body?.issue ?? []).map((i: any) => i.diagnostics).join(' | ');
/** The parts of each repeated parameter `name`, as name → values. */
const partsOf = (body: Parameters, name: string) =>
  (body.parameter ?? []).filter((p) => p.name === name).map((p) => {
    const out: Record<string, any[]> = {};
    for (const part of p.part ?? []) (out[part.name] ??= []).push(part.valueReference?.reference ?? part.valueCode ?? part.valueDate ?? part.valueInteger);
    return out;
  });

describe.each(backends)('family-doctor contracts and panels on %s', (backend) => {
  const t = useTestHub(backend);
  const orgs: Record<string, string> = {};
  const roles: Record<string, string> = {};
  let doctorA: Person;
  let doctorB: Person;
  let basic = '';
  let personalised = '';
  const today = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  const plusYears = (date: string, years: number) => `${Number(date.slice(0, 4)) + years}${date.slice(4)}`;

  const roleOf = async (doctor: Person) => {
    const found = (await (await t.fetch(`${t.base}/PractitionerRole?practitioner=${doctor.reference}`)).json()) as Bundle;
    return `PractitionerRole/${found.entry![0].resource!.id}`;
  };
  const contractParams = (role: string, extra: ParametersParameter[] = [], packages = [basic, personalised]) =>
    params(
      { name: 'familyDoctor', ...ref(role) },
      ...packages.map((p) => ({ name: 'package', ...ref(`PlanDefinition/${p}`) })),
      { name: 'districtHospital', ...ref(`Organization/${orgs.district}`) },
      { name: 'cityHospital', ...ref(`Organization/${orgs.city}`) },
      ...extra,
    );

  beforeAll(async () => {
    orgs.centre = await createInstitution(t, '苏河区江宁路街道社区卫生服务中心', 'community-health-centre');
    orgs.district = await createInstitution(t, '苏河区中心医院', 'district-hospital');
    orgs.city = await createInstitution(t, '上海市第一人民医院', 'city-hospital');
    orgs.district2 = await createInstitution(t, '苏河区第二人民医院', 'district-hospital');
    doctorA = await createClinician(t, { username: 'fd-doctor-a', organization: orgs.centre, name: { family: '陈', given: ['家医'] } });
    doctorB = await createClinician(t, { username: 'fd-doctor-b', organization: orgs.centre, name: { family: '周', given: ['家医'] } });
    roles.A = await roleOf(doctorA);
    roles.B = await roleOf(doctorB);
    basic = await createPackage(t, 'basic-package', '基础服务包', 0);
    personalised = await createPackage(t, 'personalised-package', '高血压个性化服务包', 120);
  }, 120_000);

  it('FD-02/FD-05: a resident signs with a family doctor (basic + personalised package, a district and a city hospital); only then does the doctor see the record', async () => {
    const resident = await createResident(t, { username: 'fd-resident-sign' });
    expect((await asPerson(t, doctorA)('GET', `Patient/${resident.id}`)).status).toBe(404);
    const signed = await asPerson(t, resident)('POST', `Patient/${resident.id}/$sign-contract`, contractParams(roles.A));
    expect([signed.status, diagnostics(signed.body)]).toEqual([201, '']);
    const contract = signed.body as Contract;
    expect(contract).toMatchObject({
      status: 'executed', type: { coding: [{ system: FD, code: 'family-doctor-contract' }] },
      subject: [{ reference: resident.reference }], authority: [{ reference: `Organization/${orgs.centre}` }],
      applies: { start: today(), end: plusYears(today(), 1) },
      signer: [{ type: { code: 'PATN' }, party: { reference: resident.reference } }, { type: { code: 'HPROV' }, party: { reference: roles.A } }],
    });
    expect(contract.term!.map((x) => x.topicReference?.reference)).toEqual([`PlanDefinition/${basic}`, `PlanDefinition/${personalised}`]);
    expect(contract.term![1].asset![0].valuedItem![0].net).toEqual({ value: 120, currency: 'CNY' });
    const choice = contract.extension!.find((e) => e.url.endsWith('/one-plus-one-plus-one'))!.extension!;
    expect(choice.map((e) => [e.url, e.valueReference?.reference])).toEqual([['districtHospital', `Organization/${orgs.district}`], ['cityHospital', `Organization/${orgs.city}`]]);
    // The contract is the care relationship: the family doctor now reads the record, the other doctor does not.
    expect((await asPerson(t, doctorA)('GET', `Patient/${resident.id}`)).status).toBe(200);
    expect((await asPerson(t, doctorB)('GET', `Patient/${resident.id}`)).status).toBe(404);
    // The contract is the patient's record: another resident and another doctor neither read nor find it.
    const stranger = await createResident(t, { username: 'fd-resident-stranger' });
    for (const other of [stranger, doctorB]) {
      expect((await asPerson(t, other)('GET', `Contract/${contract.id}`)).status).toBe(404);
      expect((await asPerson(t, other)('GET', `Contract?subject=${resident.reference}`)).body.entry ?? []).toHaveLength(0);
    }
    expect((await asPerson(t, resident)('GET', `Contract/${contract.id}`)).status).toBe(200);
    // Contracts are signed, never written directly — not even by an administrator.
    const plain = await t.fetch(`${t.base}/Contract`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...contract, id: undefined, meta: undefined }) });
    expect(plain.status).toBe(403);
    expect((await asPerson(t, resident)('PUT', `Contract/${contract.id}`, { ...contract, status: 'terminated' })).status).toBe(403);
  });

  it('FD-02: one family doctor at a time — a second contract during the term is refused (409, naming the end); switching at expiry and renewing are accepted', async () => {
    const resident = await createResident(t, { username: 'fd-resident-switch' });
    expect((await asPerson(t, resident)('POST', `Patient/${resident.id}/$sign-contract`, contractParams(roles.A))).status).toBe(201);
    const end = plusYears(today(), 1);
    const second = await asPerson(t, resident)('POST', `Patient/${resident.id}/$sign-contract`, contractParams(roles.B));
    expect(second.status).toBe(409);
    expect(diagnostics(second.body)).toMatch(new RegExp(`FD-02: one family doctor at a time.*until ${end}.*can start on ${end}`));
    // A switch to doctor B from the day the current contract ends.
    const switched = await asPerson(t, resident)('POST', `Patient/${resident.id}/$sign-contract`, contractParams(roles.B, [{ name: 'start', valueDate: end }]));
    expect([switched.status, diagnostics(switched.body)]).toEqual([201, '']);
    expect(switched.body.applies).toEqual({ start: end, end: plusYears(end, 1) });
    // Nothing more can start inside that next term either (renewing comes at its end).
    expect((await asPerson(t, resident)('POST', `Patient/${resident.id}/$sign-contract`, contractParams(roles.A, [{ name: 'start', valueDate: plusYears(end, 0).replace(/-\d\d$/, '-28') }]))).status).toBe(409);
    const renewed = await asPerson(t, resident)('POST', `Patient/${resident.id}/$sign-contract`, contractParams(roles.B, [{ name: 'start', valueDate: plusYears(end, 1) }]));
    expect(renewed.status).toBe(201);
  });

  it('FD-02/FD-05: a term under a year, no or two basic packages, and hospitals of the wrong level are refused with the rule named', async () => {
    const resident = await createResident(t, { username: 'fd-resident-bad' });
    const sign = (body: unknown) => asPerson(t, resident)('POST', `Patient/${resident.id}/$sign-contract`, body);
    const short = await sign(contractParams(roles.A, [{ name: 'end', valueDate: `${Number(today().slice(0, 4))}-12-31` < plusYears(today(), 1) ? `${Number(today().slice(0, 4))}-12-31` : today() }]));
    expect([short.status, diagnostics(short.body)]).toEqual([422, expect.stringContaining('FD-02: a family-doctor contract runs at least 1 year')]);
    const onlyPersonalised = await sign(contractParams(roles.A, [], [personalised]));
    expect([onlyPersonalised.status, diagnostics(onlyPersonalised.body)]).toEqual([422, expect.stringContaining('exactly one basic package (chosen: 0)')]);
    const twoBasics = await sign(contractParams(roles.A, [], [basic, await createResource(t, { resourceType: 'PlanDefinition', status: 'active', type: { coding: [{ system: FD, code: 'basic-package' }] } }).then((p) => p.id)]));
    expect(diagnostics(twoBasics.body)).toContain('exactly one basic package (chosen: 2)');
    const wrongLevel = await sign(params(
      { name: 'familyDoctor', ...ref(roles.A) }, { name: 'package', ...ref(`PlanDefinition/${basic}`) },
      { name: 'districtHospital', ...ref(`Organization/${orgs.city}`) }, { name: 'cityHospital', ...ref(`Organization/${orgs.district}`) },
    ));
    expect([wrongLevel.status, diagnostics(wrongLevel.body)]).toEqual([422, expect.stringMatching(/^FD-05.*is not a district hospital.*is not a city hospital/)]);
    const notCentre = await sign(contractParams(`PractitionerRole/${(await createResource(t, { resourceType: 'PractitionerRole', active: true, practitioner: { reference: doctorA.reference }, organization: { reference: `Organization/${orgs.district}` } })).id}`));
    expect([notCentre.status, diagnostics(notCentre.body)]).toEqual([422, expect.stringContaining('a family doctor works at a community health centre')]);
    expect((await sign({ resourceType: 'Patient' })).status).toBe(400);
    expect((await sign(params({ name: 'familyDoctor', valueString: 'Practitioner/x' }))).status).toBe(400);
    // Nothing was written by any of these.
    expect(((await (await t.fetch(`${t.base}/Contract?subject=${resident.reference}`)).json()) as Bundle).entry ?? []).toHaveLength(0);
  });

  it('FD-02: the family doctor records a contract signed at the centre only with the signed form; a stranger may not sign for someone else', async () => {
    const resident = await createResident(t, { username: 'fd-resident-paper' });
    const withoutForm = await asPerson(t, doctorA)('POST', `Patient/${resident.id}/$sign-contract`, contractParams(roles.A));
    expect([withoutForm.status, diagnostics(withoutForm.body)]).toEqual([400, expect.stringContaining('signedForm')]);
    const form = { name: 'signedForm', valueAttachment: { contentType: 'application/pdf', data: Buffer.from('%PDF-1.4 signed form').toString('base64'), title: '签约协议书' } };
    const recorded = await asPerson(t, doctorA)('POST', `Patient/${resident.id}/$sign-contract`, contractParams(roles.A, [form]));
    expect([recorded.status, diagnostics(recorded.body)]).toEqual([201, '']);
    expect(recorded.body.legallyBindingAttachment.title).toBe('签约协议书');
    // Doctor B cannot sign the resident up with doctor A, nor a resident for a stranger.
    const other = await createResident(t, { username: 'fd-resident-other' });
    expect((await asPerson(t, doctorB)('POST', `Patient/${other.id}/$sign-contract`, contractParams(roles.A, [form]))).status).toBe(403);
    expect((await asPerson(t, resident)('POST', `Patient/${other.id}/$sign-contract`, contractParams(roles.A))).status).toBe(403);
  });

  it('FD-01/04 and FD-07/08/09: the panel shows priority groups from the record, the worklist what is due; a face-to-face follow-up clears it, an online visit does not', async () => {
    const elderly = await createResident(t, { username: 'fd-resident-panel', birthDate: '1950-03-01', name: { family: '沈', given: ['阿婆'] } });
    await createDiagnosis(t, elderly.reference, 'I10', '原发性高血压', '2020-01-10');
    await createDiagnosis(t, elderly.reference, 'E11.9', '2型糖尿病', '2020-01-10');
    const signed = await asPerson(t, elderly)('POST', `Patient/${elderly.id}/$sign-contract`, contractParams(roles.A));
    expect(signed.status).toBe(201);
    const panel = await asPerson(t, doctorA)('GET', 'Contract/$panel');
    expect(panel.status).toBe(200);
    const member = partsOf(panel.body, 'member').find((m) => m.patient[0] === elderly.reference)!;
    expect(member.group).toEqual(['elderly-65', 'hypertension', 'diabetes']);
    expect(partsOf((await asPerson(t, doctorA)('GET', 'Contract/$panel?group=diabetes')).body, 'member').map((m) => m.patient[0])).toContain(elderly.reference);
    expect((await asPerson(t, doctorB)('GET', 'Contract/$panel')).body.parameter.find((p: any) => p.name === 'count').valueInteger).toBe(0);

    // A new contract: every item is first due one interval after the contract's start — move the clock there.
    const clock = t.hub.hospital.clock;
    const real = clock.now;
    clock.now = () => new Date(Date.now() + 100 * 86_400_000);
    try {
      const items = async () => partsOf((await asPerson(t, doctorA)('GET', 'Contract/$worklist')).body, 'item').filter((i) => i.patient[0] === elderly.reference);
      const before = await items();
      expect(before.map((i) => [i.rule[0], i.kind[0], i.status[0]]).sort()).toEqual([
        ['FD-07', 'hypertension-follow-up', 'overdue'], ['FD-08', 'diabetes-follow-up', 'overdue'], ['FD-08', 'fasting-glucose', 'overdue'],
      ]);
      // An online (VR) visit is not face to face: it clears nothing.
      await createResource(t, {
        resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
        type: [{ coding: [{ system: FD, code: 'hypertension-follow-up' }] }], subject: { reference: elderly.reference }, period: { start: new Date().toISOString() },
      });
      expect((await items()).map((i) => i.kind[0]).sort()).toEqual(['diabetes-follow-up', 'fasting-glucose', 'hypertension-follow-up']);
      // A home visit with blood pressure and fasting glucose clears the hypertension follow-up and the glucose test.
      const visit = await asPerson(t, doctorA)('POST', `Patient/${elderly.id}/$record-follow-up`, params(
        { name: 'kind', valueCode: 'hypertension-follow-up' }, { name: 'class', valueCode: 'HH' },
        { name: 'systolic', valueInteger: 142 }, { name: 'diastolic', valueInteger: 88 }, { name: 'fastingGlucose', valueDecimal: 6.8 },
      ));
      expect([visit.status, diagnostics(visit.body)]).toEqual([201, '']);
      expect(visit.body.parameter.filter((p: any) => p.name === 'observation').map((p: any) => p.resource.code.coding[0].code)).toEqual(['85354-9', '14771-0']);
      expect((await items()).map((i) => i.kind[0])).toEqual(['diabetes-follow-up']);
      // Bad input names the parameter.
      const bad = await asPerson(t, doctorA)('POST', `Patient/${elderly.id}/$record-follow-up`, params({ name: 'kind', valueCode: 'hypertension-follow-up' }, { name: 'systolic', valueInteger: 142 }));
      expect([bad.status, diagnostics(bad.body)]).toEqual([400, expect.stringContaining('both "systolic" and "diastolic"')]);
      expect((await asPerson(t, doctorA)('POST', `Patient/${elderly.id}/$record-follow-up`, params({ name: 'kind', valueCode: 'VR' }))).status).toBe(400);
      // FD-04: the district's indicators count the follow-ups of the last 365 days against the yearly requirement.
      const report = async () => ((await (await t.fetch(`${t.base}/Contract/$report`)).json()) as Parameters);
      const rateOf = (body: Parameters, kind: string) => partsOf(body, 'followUp').find((f) => f.kind[0] === kind)!;
      expect(rateOf(await report(), 'hypertension-follow-up')).toMatchObject({ eligible: [1], completed: [0] });
      for (const daysAgo of [10, 35, 60]) {
        const at = new Date(t.hub.hospital.clock.now().getTime() - daysAgo * 86_400_000).toISOString();
        expect((await asPerson(t, doctorA)('POST', `Patient/${elderly.id}/$record-follow-up`, params({ name: 'kind', valueCode: 'hypertension-follow-up' }, { name: 'date', valueDateTime: at }))).status).toBe(201);
      }
      const after = await report();
      expect(rateOf(after, 'hypertension-follow-up')).toMatchObject({ rule: ['FD-07'], eligible: [1], completed: [1] });
      expect(rateOf(after, 'diabetes-follow-up')).toMatchObject({ rule: ['FD-08'], eligible: [1], completed: [0] });
      const hypertension = partsOf(after, 'group').find((g) => g.code[0] === 'hypertension')!;
      expect(hypertension).toMatchObject({ population: [1], signed: [1] });
      expect((await asPerson(t, doctorA)('GET', 'Contract/$report')).status).toBe(403);

      // Someone else's patient: the other doctor finds nobody to record for.
      expect((await asPerson(t, doctorB)('POST', `Patient/${elderly.id}/$record-follow-up`, params({ name: 'kind', valueCode: 'health-check' }))).status).toBe(404);
    } finally {
      clock.now = real;
    }
  });

  it('FD-05: a referral to a hospital of the resident\'s 1+1+1 choice comes first in that hospital\'s queue; FD-07: an urgent referral is followed up within two weeks', async () => {
    const chose = await createResident(t, { username: 'fd-resident-refer-1' });
    const other = await createResident(t, { username: 'fd-resident-refer-2' });
    // FD-07's referral follow-up is part of hypertension care: the referred patient has hypertension.
    await createDiagnosis(t, other.reference, 'I10');
    expect((await asPerson(t, chose)('POST', `Patient/${chose.id}/$sign-contract`, contractParams(roles.A))).status).toBe(201);
    const elsewhere = params(
      { name: 'familyDoctor', ...ref(roles.A) }, { name: 'package', ...ref(`PlanDefinition/${basic}`) },
      { name: 'districtHospital', ...ref(`Organization/${orgs.district2}`) }, { name: 'cityHospital', ...ref(`Organization/${orgs.city}`) },
    );
    expect((await asPerson(t, other)('POST', `Patient/${other.id}/$sign-contract`, elsewhere)).status).toBe(201);
    const refer = (who: Person, priority: string) => asPerson(t, doctorA)('POST', `Patient/${who.id}/$refer`, params(
      { name: 'to', ...ref(`Organization/${orgs.district}`) }, { name: 'reason', valueString: '血压控制不佳，建议专科评估' }, { name: 'priority', valueCode: priority },
    ));
    const urgentOther = await refer(other, 'urgent');
    expect([urgentOther.status, diagnostics(urgentOther.body)]).toEqual([201, '']);
    expect(urgentOther.body.parameter.find((p: any) => p.name === 'contractReferral').valueBoolean).toBe(false);
    const routineChosen = await refer(chose, 'routine');
    expect(routineChosen.body.parameter.find((p: any) => p.name === 'contractReferral').valueBoolean).toBe(true);
    const contractReferral = routineChosen.body.parameter.find((p: any) => p.name === 'referral').resource;
    expect(contractReferral.meta.tag).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'contract-referral' })]));

    // The district hospital's doctor sees the contract referral first, though the other is urgent.
    const hospitalDoctor = await createClinician(t, { username: 'fd-district-doctor', organization: orgs.district });
    const queue = await asPerson(t, hospitalDoctor)('GET', `ServiceRequest/$referral-queue?organization=Organization/${orgs.district}`);
    expect(queue.status).toBe(200);
    const order = queue.body.parameter.filter((p: any) => p.name === 'referral').map((p: any) => [p.part[0].resource.subject.reference, p.part[1].valueBoolean]);
    expect(order).toEqual([[chose.reference, true], [other.reference, false]]);
    expect((await asPerson(t, doctorB)('GET', `ServiceRequest/$referral-queue?organization=Organization/${orgs.district}`)).status).toBe(403);
    expect((await asPerson(t, doctorA)('POST', `Patient/${other.id}/$refer`, params({ name: 'to', ...ref(`Organization/${orgs.district}`) }))).status).toBe(400);

    // FD-07: the urgent referral is on the family doctor's worklist, due two weeks after it.
    const items = partsOf((await asPerson(t, doctorA)('GET', 'Contract/$worklist')).body, 'item').filter((i) => i.patient[0] === other.reference);
    const due = new Date(Date.parse(urgentOther.body.parameter.find((p: any) => p.name === 'referral').resource.authoredOn) + 8 * 3600_000 + 14 * 86_400_000).toISOString().slice(0, 10);
    expect(items.map((i) => [i.rule[0], i.kind[0], i.dueDate[0], i.status[0]])).toEqual([['FD-07', 'referral-follow-up', due, 'due']]);
  });

  it('FD-02: the centre\'s staff find a resident who comes in by the exact ID number they show, and nothing by less', async () => {
    const walkIn = await createResident(t, { username: 'fd-resident-walk-in', name: { family: '钱', given: ['立'] } });
    const lookup = (who: Person, identifier: string) => asPerson(t, who)('GET', `Patient/$find-for-contract?identifier=${encodeURIComponent(identifier)}`);
    const exact = await lookup(doctorA, `${walkIn.identity!.system}|${walkIn.identity!.value}`);
    expect(exact.status).toBe(200);
    expect(partsOf(exact.body, 'patient')).toEqual([{ patient: [walkIn.reference], gender: expect.any(Array), birthYear: [1960] }]);
    expect(exact.body.parameter[0].part[0].valueReference.display).toBe('钱立');
    // Nothing else of the record opens, and only exact identifiers answer.
    expect((await asPerson(t, doctorA)('GET', `Patient/${walkIn.id}`)).status).toBe(404);
    for (const bad of [walkIn.identity!.value, `${walkIn.identity!.system}|`, `${walkIn.identity!.system}|${walkIn.identity!.value},x`]) expect((await lookup(doctorA, bad)).status).toBe(400);
    expect(partsOf((await lookup(doctorA, `${walkIn.identity!.system}|${walkIn.identity!.value.slice(0, 17)}X`)).body, 'patient')).toEqual([]);
    // A doctor of a hospital is not signing residents up; a resident cannot look others up.
    const hospitalDoctor = await createClinician(t, { username: 'fd-lookup-hospital-doctor', organization: orgs.district });
    expect((await lookup(hospitalDoctor, `${walkIn.identity!.system}|${walkIn.identity!.value}`)).status).toBe(403);
    expect((await lookup(walkIn, `${walkIn.identity!.system}|${walkIn.identity!.value}`)).status).toBe(403);
    // The lookup is on the resident's audit trail (read-type events are stored in batches: flush them).
    await t.hub.audit.flush();
    const events = (await (await t.fetch(`${t.base}/AuditEvent?patient=${walkIn.reference}&_count=50`)).json()) as Bundle;
    expect(JSON.stringify(events)).toContain('$find-for-contract');
  });
});
