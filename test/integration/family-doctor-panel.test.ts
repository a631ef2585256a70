// A family doctor's worklist over a generated panel of 520 patients, over HTTP (FD-01/04,
// FD-07/08/09): the panel's records (conditions, visits — face-to-face, online, cancelled —,
// fasting-glucose results, urgent referrals) are stored in the hub, each patient gets a contract
// with the doctor, and `Contract/$worklist` and `Contract/$panel` must answer exactly the items and
// priority groups the generator planted (test/helpers/family-doctor-panel.ts builds them from its
// own choices, not with the code under test). Every item of every patient is compared.
// On PostgreSQL when it is here, else on the embedded database (the small cases run on both in
// family-doctor.test.ts).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, Parameters, Resource } from '@medplum/fhirtypes';
import { clinicDate } from '../../server/src/modules/family-doctor/clinic-dates.js';
import { asPerson, createClinician, createResource, type Person } from '../helpers/clinicians.js';
import { generatePanel, type ExpectedItem } from '../helpers/family-doctor-panel.js';
import { createInstitution } from '../helpers/community.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { availableBackends } from '../helpers/parts.js';

const backends = await availableBackends('family-doctor panel');
const backend = backends.includes('postgres') ? 'postgres' : 'pglite';
const FD = 'https://suhe.example.cn/fhir/CodeSystem/family-doctor';
const AS_OF = new Date('2026-06-15T02:00:00Z'); // 10:00 in the clinic
const PANEL_SIZE = Number(process.env.FD_PANEL_SIZE ?? 520);
const UNSIGNED = 80;
const ref = (reference: string) => ({ valueReference: { reference } });

describe(`a generated panel of ${PANEL_SIZE} patients on ${backend}`, () => {
  let t: TestHub;
  let doctor: Person;
  const panel = generatePanel(PANEL_SIZE, AS_OF, 20261130);

  beforeAll(async () => {
    t = await startTestHub(backend);
    const centre = await createInstitution(t, '江宁路社区卫生服务中心', 'community-health-centre');
    const district = await createInstitution(t, '苏河区中心医院', 'district-hospital');
    const city = await createInstitution(t, '上海市第一人民医院', 'city-hospital');
    doctor = await createClinician(t, { username: 'fd-panel-doctor', organization: centre });
    const role = ((await (await t.fetch(`${t.base}/PractitionerRole?practitioner=${doctor.reference}`)).json()) as Bundle).entry![0].resource!.id;
    const basic = (await createResource(t, { resourceType: 'PlanDefinition', status: 'active', title: '基础服务包', type: { coding: [{ system: FD, code: 'basic-package' }] } })).id;

    // The records, in transaction Bundles of client-assigned ids (PUT), patients first.
    const resources: Resource[] = panel.records.flatMap((r) => [r.patient, ...r.conditions, ...r.encounters, ...r.observations, ...r.referrals]);
    for (let i = 0; i < resources.length; i += 400) {
      const entry = resources.slice(i, i + 400).map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } }));
      const res = await t.fetch(t.base, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });
      expect([res.status, res.status === 200 ? '' : await res.text()]).toEqual([200, '']);
    }
    // Each patient's contract, from the start the generator chose, in force on AS_OF (an administrator records existing contracts).
    for (const record of panel.records) {
      const start = clinicDate(record.contractStart)!;
      const years = Math.max(1, Number(AS_OF.toISOString().slice(0, 4)) - Number(start.slice(0, 4)) + 1);
      const signed = await t.fetch(`${t.base}/Patient/${record.patient.id}/$sign-contract`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [
            { name: 'familyDoctor', ...ref(`PractitionerRole/${role}`) }, { name: 'package', ...ref(`PlanDefinition/${basic}`) },
            { name: 'districtHospital', ...ref(`Organization/${district}`) }, { name: 'cityHospital', ...ref(`Organization/${city}`) },
            { name: 'start', valueDate: start }, { name: 'end', valueDate: `${Number(start.slice(0, 4)) + years}${start.slice(4)}` },
          ],
        }),
      });
      expect([signed.status, signed.status === 201 ? '' : await signed.text()]).toEqual([201, '']);
    }
    // People without a contract (and without a record that puts them in a group): the coverage's denominator.
    const unsigned = Array.from({ length: UNSIGNED }, (_, i) => ({ resource: { resourceType: 'Patient', name: [{ text: `未签约居民${i}` }] }, request: { method: 'POST', url: 'Patient' } }));
    expect((await t.fetch(t.base, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: unsigned }) })).status).toBe(200);
    t.hub.hospital.clock.now = () => AS_OF;
  }, 600_000);

  afterAll(async () => {
    await t?.close();
  });

  it('FD-07/08/09: the worklist holds exactly the planted items of every patient, overdue first', async () => {
    const res = await asPerson(t, doctor)('GET', 'Contract/$worklist');
    expect(res.status).toBe(200);
    const body = res.body as Parameters;
    const items = (body.parameter ?? []).filter((p) => p.name === 'item');
    const actual = new Map<string, ExpectedItem[]>();
    for (const item of items) {
      const part = (name: string) => item.part!.find((p) => p.name === name);
      const patient = part('patient')!.valueReference!.reference!.slice('Patient/'.length);
      const basis = part('basis')?.valueReference?.reference;
      const got: ExpectedItem = {
        rule: part('rule')!.valueCode as ExpectedItem['rule'], kind: part('kind')!.valueCode as ExpectedItem['kind'], dueDate: part('dueDate')!.valueDate!,
        status: part('status')!.valueCode as ExpectedItem['status'], doneLastYear: part('doneLastYear')!.valueInteger!, requiredPerYear: part('requiredPerYear')!.valueInteger!,
        ...(basis ? { basis } : {}),
      };
      (actual.get(patient) ?? actual.set(patient, []).get(patient)!).push(got);
    }
    const order = (xs: ExpectedItem[]) => [...xs].sort((a, b) => `${a.dueDate}${a.kind}${a.basis ?? ''}`.localeCompare(`${b.dueDate}${b.kind}${b.basis ?? ''}`));
    let compared = 0;
    for (const record of panel.records) {
      const id = record.patient.id!;
      expect({ id, items: order(actual.get(id) ?? []) }).toEqual({ id, items: order(panel.expected.get(id) ?? []) });
      compared += panel.expected.get(id)?.length ?? 0;
    }
    expect(items).toHaveLength(compared);
    expect(compared).toBeGreaterThan(PANEL_SIZE / 2); // the panel is not trivially empty
    // Overdue items come first.
    const statuses = items.map((i) => i.part!.find((p) => p.name === 'status')!.valueCode);
    expect(statuses.indexOf('due')).toBeGreaterThan(statuses.lastIndexOf('overdue'));
  });

  it('FD-01/04: the panel lists every patient with the planted priority groups', async () => {
    const res = await asPerson(t, doctor)('GET', 'Contract/$panel');
    expect(res.status).toBe(200);
    const members = ((res.body as Parameters).parameter ?? []).filter((p) => p.name === 'member');
    expect(members).toHaveLength(PANEL_SIZE);
    for (const member of members) {
      const id = member.part!.find((p) => p.name === 'patient')!.valueReference!.reference!.slice('Patient/'.length);
      const groups = member.part!.filter((p) => p.name === 'group').map((p) => p.valueCode);
      expect({ id, groups }).toEqual({ id, groups: panel.groups.get(id) });
    }
  });

  it('FD-04: the district report counts people signed overall and per priority group against everyone the hub knows', async () => {
    const res = await t.fetch(`${t.base}/Contract/$report`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Parameters;
    const value = (name: string) => body.parameter!.find((p) => p.name === name);
    expect([value('population')!.valueInteger, value('signed')!.valueInteger]).toEqual([PANEL_SIZE + UNSIGNED, PANEL_SIZE]);
    expect(value('coverage')!.valueDecimal).toBeCloseTo(PANEL_SIZE / (PANEL_SIZE + UNSIGNED), 3);
    for (const group of body.parameter!.filter((p) => p.name === 'group')) {
      const code = group.part!.find((p) => p.name === 'code')!.valueCode!;
      const planted = [...panel.groups.values()].filter((groups) => groups.includes(code as never)).length;
      const count = (name: string) => group.part!.find((p) => p.name === name)!.valueInteger;
      expect({ code, population: count('population'), signed: count('signed') }).toEqual({ code, population: planted, signed: planted });
    }
    expect(body.parameter!.filter((p) => p.name === 'group').length).toBe(8);
  });
});
