// Insurance for online visits (MI-01, MI-02, MI-03) over HTTP on both backends: a resident records
// their Coverage with each credential type of MI-02 (an e-voucher token kept only hashed and
// masked); a finished online visit's Claim is settled by the simulated adapter through the visit's
// physical institution — in area, directly for a Yangtze River Delta resident, "settle at the
// institution" for one insured elsewhere, refused for an unknown credential — and without a
// Coverage the patient pays in full (an Invoice). One claim per visit; unfinished visits and bad
// input are refused.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, Encounter, Slot } from '@medplum/fhirtypes';
import { asPerson, createClinician, createOrganization, createResident, createResource, nextResidentId, type Person } from '../helpers/clinicians.js';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('insurance');
const params = (...parameter: Record<string, unknown>[]) => ({ resourceType: 'Parameters', parameter });
const coverageParams = (type: string, credential: string, area: string) => params({ name: 'credentialType', valueCode: type }, { name: 'credential', valueString: credential }, { name: 'insuredArea', valueCode: area });
const out = (body: { parameter: { name: string; resource?: any; valueCode?: string }[] }) => Object.fromEntries(body.parameter.map((p) => [p.name, p.resource ?? p.valueCode]));
const TOKEN = 'EV1A2B3C4D5E6F7G8H9J0KQRSTUVWX7Z9Q';

describe.each(backends)('insurance for online visits on %s', (backend) => {
  const t = useTestHub(backend);
  let hospital = '';
  let doctor: Person;
  let slots: Slot[] = [];
  let n = 0;
  const read = async <T>(path: string) => (await (await t.fetch(`${t.base}/${path}`)).json()) as T;

  /** A resident with a confirmed chronic diagnosis from a physical institution (IH-02), so they may book. */
  const resident = async (name: string) => {
    const person = await createResident(t, { username: `resident-ins-${name}` });
    await createResource(t, {
      resourceType: 'Condition', meta: { source: 'Endpoint/district-hospital' },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'E11', display: '2型糖尿病' }] },
      subject: { reference: person.reference }, recordedDate: new Date(Date.now() - 20 * 86_400_000).toISOString(),
    });
    return person;
  };

  /** What $end-visit answered per encounter id: the visit's charge comes with it (MI-01). */
  const endAnswers = new Map<string, Record<string, any>>();
  const chargeOf = (encounter: Encounter) => out({ parameter: endAnswers.get(encounter.id!)!.charge });
  const chargeBy = (ended: { parameter: { name: string; part?: any }[] }) => ended.parameter.find((p) => p.name === 'charge')?.part;

  /** An online visit of the patient with the doctor: booked, started, and (unless `finish` is false) ended with a diagnosis. */
  const visit = async (patient: Person, options: { finish?: boolean; diagnosis?: string; selfPay?: boolean } = {}): Promise<Encounter> => {
    const slot = slots[n++];
    const booked = await asPerson(t, patient)('POST', 'Appointment/$book', params({ name: 'slot', valueReference: { reference: `Slot/${slot.id}` } }));
    expect(booked.status).toBe(201);
    const started = await asPerson(t, doctor)('POST', `Appointment/${booked.body.id}/$start-visit`, params());
    expect(started.status).toBe(201);
    if (options.finish === false) return started.body;
    const ended = await asPerson(t, doctor)('POST', `Encounter/${started.body.id}/$end-visit`, params(
      { name: 'summary', valueString: '2型糖尿病复诊，血糖控制尚可，继续原方案。' },
      { name: 'diagnosis', valueCoding: { system: 'http://hl7.org/fhir/sid/icd-10', code: options.diagnosis ?? 'E11.9', display: '2型糖尿病' } },
      ...(options.selfPay ? [{ name: 'selfPay', valueBoolean: true }] : []),
    ));
    expect(ended.status).toBe(200);
    endAnswers.set(out(ended.body).encounter.id, { ...out(ended.body), charge: chargeBy(ended.body) });
    return out(ended.body).encounter;
  };
  const claim = (by: Person | 'admin', encounter: Encounter, body: unknown = params()) =>
    by === 'admin'
      ? t.fetch(`${t.base}/Encounter/${encounter.id}/$submit-claim`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }))
      : asPerson(t, by)('POST', `Encounter/${encounter.id}/$submit-claim`, body);

  beforeAll(async () => {
    hospital = await createOrganization(t, '苏河区中心医院');
    doctor = await createClinician(t, { username: 'dr-insurance', organization: hospital });
    const schedule = await asPerson(t, doctor)('POST', 'Schedule', { resourceType: 'Schedule', active: true, actor: [{ reference: doctor.reference }] });
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await asPerson(t, doctor)('POST', `Schedule/${schedule.body.id}/$generate-slots`, params({ name: 'from', valueDate: tomorrow }, { name: 'to', valueDate: tomorrow }, { name: 'hours', valueString: '08:00-12:00' }, { name: 'slotMinutes', valueInteger: 10 }, ...[1, 2, 3, 4, 5, 6, 7].map((d) => ({ name: 'weekday', valueInteger: d }))));
    slots = (await read<Bundle>(`Slot?schedule=Schedule/${schedule.body.id}&_sort=start&_count=100`)).entry!.map((e) => e.resource as Slot);
    expect(slots.length).toBeGreaterThanOrEqual(10);
  }, 120_000);

  it('MI-02: a resident records Coverage with each credential type (01 e-voucher token, 02 ID number, 03 social-security card); the newest replaces the earlier', async () => {
    const patient = await resident('types');
    const register = (type: string, credential: string, area = '310104') => asPerson(t, patient)('POST', `Patient/${patient.id}/$register-coverage`, coverageParams(type, credential, area));
    const ids: string[] = [];
    for (const [type, credential] of [['01', TOKEN], ['02', patient.identity!.value], ['03', 'SH1234567X8']] as const) {
      const res = await register(type, credential);
      expect(res.status).toBe(201);
      const coverage = out(res.body).coverage;
      expect(coverage).toMatchObject({ status: 'active', beneficiary: { reference: patient.reference }, payor: [{ identifier: { value: '310104' } }] });
      const credentialExt = coverage.extension.find((e: any) => e.url.endsWith('/insurance-credential'));
      expect(credentialExt.extension.find((e: any) => e.url === 'type').valueCoding.code).toBe(type);
      expect(out(res.body).settlement).toBe('in-area');
      ids.push(coverage.id);
    }
    // Only the newest stays active.
    const statuses = await Promise.all(ids.map(async (id) => (await read<any>(`Coverage/${id}`)).status));
    expect(statuses).toEqual(['cancelled', 'cancelled', 'active']);
    // 02 must be the patient's own ID number.
    expect((await register('02', nextResidentId('1990-01-01'))).status).toBe(422);
  });

  it('MI-02: an e-voucher token is stored only as its SHA-256 digest and a masked display, never in clear', async () => {
    const patient = await resident('token');
    const res = await asPerson(t, patient)('POST', `Patient/${patient.id}/$register-coverage`, coverageParams('01', TOKEN, '310104'));
    expect(res.status).toBe(201);
    const stored = await read<any>(`Coverage/${out(res.body).coverage.id}`);
    const text = JSON.stringify(stored);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(TOKEN.slice(0, 12));
    const parts = stored.extension.find((e: any) => e.url.endsWith('/insurance-credential')).extension;
    expect(parts.find((e: any) => e.url === 'sha256').valueString).toBe(createHash('sha256').update(`01:${TOKEN}`).digest('hex'));
    expect(parts.find((e: any) => e.url === 'masked').valueString).toBe(`${'*'.repeat(TOKEN.length - 4)}${TOKEN.slice(-4)}`);
    expect(stored.subscriberId).toBe(`${'*'.repeat(TOKEN.length - 4)}${TOKEN.slice(-4)}`);
    // Nor can a plain REST write put a credential (or anything passing for the hub's) in a Coverage.
    const plain = await asPerson(t, patient)('POST', 'Coverage', { ...stored, id: undefined, meta: undefined });
    expect(plain.status).toBe(403);
    const change = await asPerson(t, patient)('PUT', `Coverage/${stored.id}`, { ...stored, subscriberId: TOKEN });
    expect(change.status).toBe(403);
  });

  it('MI-02/MI-03: bad input answers 4xx OperationOutcomes naming the parameter; only the resident or an administrator records', async () => {
    const patient = await resident('bad');
    const register = (body: unknown, who: Person = patient) => asPerson(t, who)('POST', `Patient/${patient.id}/$register-coverage`, body);
    const cases: [unknown, string][] = [
      [{ resourceType: 'Patient' }, 'Parameters'],
      [coverageParams('04', TOKEN, '310104'), 'credentialType'],
      [params({ name: 'credentialType', valueCode: '01' }, { name: 'insuredArea', valueCode: '310104' }), 'credential'],
      [coverageParams('01', 'short', '310104'), 'e-voucher'],
      [coverageParams('02', '110105194912310021', '310104'), 'ID number'],
      [coverageParams('03', 'no card!', '310104'), 'social-security'],
      [coverageParams('01', TOKEN, '3101'), '6-digit'],
      [coverageParams('01', TOKEN, '990101'), 'province'],
    ];
    for (const [body, says] of cases) {
      const res = await register(body);
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0].diagnostics).toContain(says);
    }
    // A doctor who does not treat the patient finds no such patient (404); one who does may still not record it (403).
    expect((await register(coverageParams('01', TOKEN, '310104'), doctor)).status).toBe(404);
    await visit(patient, { finish: false });
    expect((await register(coverageParams('01', TOKEN, '310104'), doctor)).status).toBe(403);
    const stranger = await resident('stranger');
    expect((await register(coverageParams('01', TOKEN, '310104'), stranger)).status).toBe(404);
    // An administrator may record it.
    const admin = await t.fetch(`${t.base}/Patient/${patient.id}/$register-coverage`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(coverageParams('03', 'SH7654321', '310115')) });
    expect(admin.status).toBe(201);
  });

  it('MI-01/MI-03: ending a visit of an in-area resident claims it through the physical institution, settled by the simulated adapter', async () => {
    const patient = await resident('in-area');
    expect((await asPerson(t, patient)('POST', `Patient/${patient.id}/$register-coverage`, coverageParams('01', TOKEN, '310104'))).status).toBe(201);
    const encounter = await visit(patient);
    expect(endAnswers.get(encounter.id!)!.chargeOutcome).toBe('settled');
    const { claim: c, claimResponse: r, outcome } = chargeOf(encounter);
    expect(outcome).toBe('settled');
    expect(c).toMatchObject({
      status: 'active', use: 'claim', type: { coding: [{ code: 'professional' }] }, patient: { reference: patient.reference },
      provider: { reference: `Organization/${hospital}` }, careTeam: [{ provider: { reference: doctor.reference } }],
      diagnosis: [{ diagnosisCodeableConcept: { coding: [{ code: 'E11.9' }] } }],
      item: [{ productOrService: { coding: [{ code: 'online-follow-up' }] }, net: { value: 30, currency: 'CNY' }, encounter: [{ reference: `Encounter/${encounter.id}` }] }],
      total: { value: 30, currency: 'CNY' },
    });
    expect(c.insurance[0].coverage.reference).toMatch(/^Coverage\//);
    expect(r).toMatchObject({ outcome: 'complete', request: { reference: `Claim/${c.id}` }, requestor: { reference: `Organization/${hospital}` }, payment: { amount: { value: 21 } } });
    expect(r.total.find((x: any) => x.category.coding[0].code === 'patient-share').amount.value).toBe(9);
    expect((await read<any>(`ClaimResponse/${r.id}`)).outcome).toBe('complete');
    // Audited with the patient, in the same transaction.
    const events = (await read<Bundle>(`AuditEvent?entity=Claim/${c.id}&_count=50`)).entry ?? [];
    expect(events.some((e) => JSON.stringify(e.resource).includes(patient.reference))).toBe(true);
    // The visit is charged once: $submit-claim now answers 409 to its doctor, 403 to the patient.
    expect((await claim(patient, encounter)).status).toBe(403);
    expect((await claim(doctor, encounter)).status).toBe(409);
  });

  it('MI-03: a resident insured in another Yangtze River Delta province (Jiangsu) settles directly', async () => {
    const patient = await resident('yrd');
    const reg = await asPerson(t, patient)('POST', `Patient/${patient.id}/$register-coverage`, coverageParams('03', 'JS9876543', '320505'));
    expect(out(reg.body).settlement).toBe('direct');
    const encounter = await visit(patient);
    expect(chargeOf(encounter).claimResponse).toMatchObject({ outcome: 'complete', processNote: [{ text: 'settled (direct)' }] });
    expect((await claim('admin', encounter)).status).toBe(409);
  });

  it('MI-03: a resident insured outside the delta (Guangdong) is told to settle at the institution and pays in full', async () => {
    const patient = await resident('far');
    const reg = await asPerson(t, patient)('POST', `Patient/${patient.id}/$register-coverage`, coverageParams('03', 'GD5555666', '440305'));
    expect(out(reg.body).settlement).toBe('at-institution');
    const charge = chargeOf(await visit(patient));
    const r = charge.claimResponse;
    expect(charge.outcome).toBe('settle-at-institution');
    expect(r).toMatchObject({ outcome: 'error', error: [{ code: { coding: [{ code: 'settle-at-institution' }] } }] });
    expect(r.disposition).toMatch(/settle at the institution/);
    expect(r.payment).toBeUndefined();
    expect(r.total.find((x: any) => x.category.coding[0].code === 'patient-share').amount.value).toBe(30);
  });

  it('MI-01: the simulated adapter refuses a credential unknown to the insurer, and a visit that is not a chronic-disease follow-up', async () => {
    const unknown = await resident('unknown');
    await asPerson(t, unknown)('POST', `Patient/${unknown.id}/$register-coverage`, coverageParams('03', 'SH1230000', '310104'));
    expect(chargeOf(await visit(unknown))).toMatchObject({ outcome: 'unknown-credential', claimResponse: { outcome: 'error' } });
    const acute = await resident('acute');
    await asPerson(t, acute)('POST', `Patient/${acute.id}/$register-coverage`, coverageParams('03', 'SH1239999', '310104'));
    expect(chargeOf(await visit(acute, { diagnosis: 'J06.9' }))).toMatchObject({ outcome: 'not-covered', claimResponse: { outcome: 'error' } });
  });

  it('MI-01: without a Coverage the patient pays the full fee (self-pay Invoice); one claim per visit (409)', async () => {
    const patient = await resident('self-pay');
    const encounter = await visit(patient);
    const charge = chargeOf(encounter);
    expect(charge.outcome).toBe('self-pay');
    expect(charge.invoice).toMatchObject({ status: 'issued', subject: { reference: patient.reference }, recipient: { reference: patient.reference }, issuer: { reference: `Organization/${hospital}` }, totalNet: { value: 30, currency: 'CNY' } });
    expect(charge.claim).toBeUndefined();
    const again = await claim(doctor, encounter);
    expect(again.status).toBe(409);
    expect(again.body.issue[0].diagnostics).toMatch(/one claim per visit/);
  });

  it('MI-01: a visit not yet finished answers 409; bad parameters 400; ending it charges it, after which $submit-claim answers 409', async () => {
    const patient = await resident('unfinished');
    await asPerson(t, patient)('POST', `Patient/${patient.id}/$register-coverage`, coverageParams('01', TOKEN, '340104'));
    const open = await visit(patient, { finish: false });
    expect((await claim(doctor, open)).status).toBe(409);
    const ended = await asPerson(t, doctor)('POST', `Encounter/${open.id}/$end-visit`, params({ name: 'summary', valueString: '高血压复诊。' }, { name: 'diagnosis', valueCoding: { system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10' } }));
    expect(out({ parameter: chargeBy(ended.body) })).toMatchObject({ outcome: 'settled', claimResponse: { processNote: [{ text: 'settled (direct)' }] } });
    expect((await claim(doctor, open, { resourceType: 'Patient' })).status).toBe(400);
    expect((await claim(doctor, open, params({ name: 'selfPay', valueString: 'yes' }))).status).toBe(400);
    expect((await claim(doctor, open, params({ name: 'discount', valueInteger: 5 }))).status).toBe(400);
    expect((await claim(doctor, open)).status).toBe(409);
    expect((await claim(doctor, open, params({ name: 'selfPay', valueBoolean: true }))).status).toBe(409);
  });

  it('MI-01: the doctor may end the visit as self-pay although the patient is insured (selfPay at $end-visit)', async () => {
    const patient = await resident('chooses-self-pay');
    await asPerson(t, patient)('POST', `Patient/${patient.id}/$register-coverage`, coverageParams('03', 'SH1231111', '310104'));
    const charge = chargeOf(await visit(patient, { selfPay: true }));
    expect(charge.outcome).toBe('self-pay');
    expect(charge.invoice.totalNet.value).toBe(30);
    expect(charge.claim).toBeUndefined();
  });

  it('MI-01: when the insurer fails, the visit still ends (its record is kept) and the answer says to charge it later with $submit-claim', async () => {
    const patient = await resident('insurer-down');
    await asPerson(t, patient)('POST', `Patient/${patient.id}/$register-coverage`, coverageParams('03', 'SH1232222', '310104'));
    const working = t.hub.hospital.settlement;
    t.hub.hospital.settlement = { settle: async () => { throw new Error('insurer unreachable'); } };
    let encounter: Encounter;
    try {
      encounter = await visit(patient);
    } finally {
      t.hub.hospital.settlement = working;
    }
    const answer = endAnswers.get(encounter.id!)!;
    expect(answer.chargeOutcome).toBe('failed');
    expect(answer.chargeIssue.issue[0].diagnostics).toMatch(/insurer unreachable.*\$submit-claim/);
    expect((await read<Encounter>(`Encounter/${encounter.id}`)).status).toBe('finished');
    // Nothing half-written: no Claim for the visit, so the retry charges it once.
    expect((await read<Bundle>(`Claim?patient=${patient.reference}`)).entry ?? []).toHaveLength(0);
    const retry = await claim(doctor, encounter);
    expect(retry.status).toBe(201);
    expect(out(retry.body).outcome).toBe('settled');
  });
});
