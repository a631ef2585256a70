// The complete R4 search API over HTTP on both adapters, against a small designed data set where
// each expectation is worked out by hand: composite parameters, terminology modifiers, chains,
// _has, includes, result shaping, system/compartment search, $everything and custom parameters.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, BundleEntry, OperationOutcome, Resource, Task } from '@medplum/fhirtypes';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('search-advanced');
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const CS = 'http://suhe.example.cn/fhir/CodeSystem/conditions';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

describe.each(backends)('advanced search on %s', (backend) => {
  const t = useTestHub(backend, { search: { defaultCount: 20, maxCount: 1000, defaultTotal: 'none', maxIncludes: 3 } });
  const id: Record<string, string> = {};
  /** Name → `Type/id` for readable expectations. */
  const ref = (name: string) => `${kindOf[name]}/${id[name]}`;
  const kindOf: Record<string, string> = {};
  const nameOf = (r: Resource) => Object.keys(id).find((n) => id[n] === r.id && kindOf[n] === r.resourceType) ?? `${r.resourceType}/${r.id}`;

  const post = async (name: string, resource: Resource): Promise<void> => {
    const res = await t.fetch(`${t.base}/${resource.resourceType}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) });
    const body = (await res.json()) as Resource;
    if (res.status !== 201) throw new Error(`setup ${name}: ${res.status} ${JSON.stringify(body)}`);
    id[name] = body.id!;
    kindOf[name] = resource.resourceType;
  };
  const get = async (path: string, init?: RequestInit): Promise<{ status: number; body: any }> => {
    const res = await t.fetch(`${t.base}/${path}`, init);
    return { status: res.status, body: await res.json() };
  };
  const bundle = async (path: string, init?: RequestInit): Promise<Bundle> => {
    const { status, body } = await get(path, init);
    expect({ path, status, body: status === 200 ? 'ok' : body }).toEqual({ path, status: 200, body: 'ok' });
    return body as Bundle;
  };
  const byMode = (b: Bundle, mode: 'match' | 'include' | 'outcome'): BundleEntry[] => (b.entry ?? []).filter((e) => e.search?.mode === mode);
  /** Names of the matches (sorted), or of the includes. */
  const matches = async (path: string): Promise<string[]> => byMode(await bundle(path), 'match').map((e) => nameOf(e.resource!)).sort();
  const includes = async (path: string): Promise<string[]> => byMode(await bundle(path), 'include').map((e) => nameOf(e.resource!)).sort();

  beforeAll(async () => {
    await post('org', { resourceType: 'Organization', name: 'Renji Hospital' });
    await post('li', { resourceType: 'Practitioner', name: [{ family: 'Li', given: ['Ming'] }] });
    await post('wang', { resourceType: 'Practitioner', name: [{ family: 'Wang', given: ['Fang'] }] });
    await post('peter', {
      resourceType: 'Patient',
      name: [{ family: 'Chalmers', given: ['Peter', 'James'] }, { use: 'nickname', given: ['Pete'] }],
      identifier: [{ system: 'urn:suhe:mrn', value: 'MRN-1', type: { coding: [{ system: V2_0203, code: 'MR' }] } }],
      generalPractitioner: [{ reference: `Practitioner/${id.li}` }],
      managingOrganization: { reference: `Organization/${id.org}` },
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Peter Chalmers</div>' },
      maritalStatus: { text: 'married' },
    });
    await post('paul', { resourceType: 'Patient', name: [{ family: 'Smith', given: ['Paul'] }], generalPractitioner: [{ reference: `Practitioner/${id.wang}` }] });
    const bp = (subject: string, systolic: number, diastolic: number): Resource => ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '85354-9' }] },
      subject: { reference: `Patient/${id[subject]}` },
      effectiveDateTime: '2024-05-01',
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: systolic, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
        { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: diastolic, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
      ],
    });
    await post('bpPeter', bp('peter', 150, 95));
    // Paul's diastolic is 150: a composite must not pair the systolic code with it.
    await post('bpPaul', bp('paul', 120, 150));
    await post('sysPeter', {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '8480-6' }] },
      subject: { reference: `Patient/${id.peter}` },
      effectiveDateTime: '2024-06-01',
      valueQuantity: { value: 145, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' },
    });
    await post('byIdentifier', { resourceType: 'Observation', status: 'final', code: { text: 'note' }, subject: { identifier: { system: 'urn:suhe:mrn', value: 'MRN-9' } } });
    await post('visit', {
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: `Patient/${id.peter}` },
      participant: [{ individual: { reference: `Practitioner/${id.li}` } }],
      serviceProvider: { reference: `Organization/${id.org}` },
    });
    await post('report', { resourceType: 'DiagnosticReport', status: 'final', code: { text: 'BP' }, subject: { reference: `Patient/${id.peter}` }, result: [{ reference: `Observation/${id.bpPeter}` }] });
    await post('codes', {
      resourceType: 'CodeSystem',
      url: CS,
      status: 'active',
      content: 'complete',
      concept: [
        { code: 'cardio', concept: [{ code: 'htn', concept: [{ code: 'htn-2' }] }] },
        { code: 'endo', concept: [{ code: 'diab' }] },
      ],
    });
    await post('cardioSet', { resourceType: 'ValueSet', status: 'active', url: 'http://suhe.example.cn/fhir/ValueSet/cardio', compose: { include: [{ system: CS, filter: [{ property: 'concept', op: 'is-a', value: 'cardio' }] }] } });
    const condition = (subject: string, code: string): Resource => ({
      resourceType: 'Condition',
      subject: { reference: `Patient/${id[subject]}` },
      code: { coding: [{ system: CS, code }] },
    });
    await post('htnPeter', condition('peter', 'htn-2'));
    await post('diabPaul', condition('paul', 'diab'));
  });

  it('composite: code-value-quantity, and component-code-value-quantity within ONE component', async () => {
    expect(await matches(`Observation?code-value-quantity=${LOINC}|8480-6$gt140`)).toEqual(['sysPeter']);
    expect(await matches('Observation?code-value-quantity=8480-6$lt140')).toEqual([]);
    expect(await matches(`Observation?component-code-value-quantity=${LOINC}|8480-6$gt140`)).toEqual(['bpPeter']);
    expect(await matches(`Observation?component-code-value-quantity=8462-4$ge150|${UCUM}|mm[Hg]`)).toEqual(['bpPaul']);
    expect(await matches('Observation?combo-code-value-quantity=8480-6$gt140')).toEqual(['bpPeter', 'sysPeter']);
    expect((await get('Observation?code-value-quantity=8480-6')).status).toBe(400);
  });

  it('chains: typed, untyped, two levels; reverse chains nested and with a chain inside', async () => {
    expect(await matches('Observation?subject:Patient.name=peter')).toEqual(['bpPeter', 'sysPeter']);
    expect(await matches('Observation?subject.name=paul')).toEqual(['bpPaul']);
    expect(await matches('Encounter?subject.general-practitioner.name=li')).toEqual(['visit']);
    expect(await matches('Encounter?subject.general-practitioner.name=wang')).toEqual([]);
    expect(await matches(`Patient?_has:Observation:patient:code=${LOINC}|8480-6`)).toEqual(['peter']);
    expect(await matches('Patient?_has:Observation:subject:_has:DiagnosticReport:result:status=final')).toEqual(['peter']);
    expect(await matches('Practitioner?_has:Patient:general-practitioner:name=peter')).toEqual(['li']);
    expect(await matches('Practitioner?_has:Encounter:participant:subject:Patient.name=chalmers')).toEqual(['li']);
    expect(await matches('Organization?_has:Patient:organization:_has:Observation:subject:code=85354-9')).toEqual(['org']);
  });

  it('token modifiers: :below/:above over a stored hierarchy, :in/:not-in a stored ValueSet, :of-type, :text', async () => {
    expect(await matches(`Condition?code:below=${CS}|cardio`)).toEqual(['htnPeter']);
    expect(await matches(`Condition?code:below=${CS}|endo`)).toEqual(['diabPaul']);
    expect(await matches(`Condition?code:above=${CS}|htn-2`)).toEqual(['htnPeter']);
    expect(await matches(`Condition?code:above=${CS}|htn`)).toEqual([]);
    expect(await matches('Condition?code:in=http://suhe.example.cn/fhir/ValueSet/cardio')).toEqual(['htnPeter']);
    expect(await matches('Condition?code:not-in=http://suhe.example.cn/fhir/ValueSet/cardio')).toEqual(['diabPaul']);
    expect(await matches(`Condition?code:in=ValueSet/${id.cardioSet}`)).toEqual(['htnPeter']);
    const unknownSet = await get('Condition?code:in=http://nowhere.example/ValueSet/x');
    expect(unknownSet.status).toBe(400);
    expect(JSON.stringify(unknownSet.body)).toContain('not stored on this server');
    expect((await get('Condition?code:below=http://unknown.example/cs|x')).status).toBe(400);
    expect(await matches(`Patient?identifier:of-type=${V2_0203}|MR|MRN-1`)).toEqual(['peter']);
    expect(await matches(`Patient?identifier:of-type=${V2_0203}|MR|MRN-2`)).toEqual([]);
  });

  it('string :text by words, reference :identifier and :[type], uri :above/:below', async () => {
    expect(await matches('Patient?name:text=chal pet')).toEqual(['peter']);
    expect(await matches('Patient?name:text=halmers')).toEqual([]);
    expect(await matches('Observation?subject:identifier=urn:suhe:mrn|MRN-9')).toEqual(['byIdentifier']);
    expect(await matches(`Observation?subject:Patient=${id.paul}`)).toEqual(['bpPaul']);
    expect(await matches('ValueSet?url:below=http://suhe.example.cn/fhir')).toEqual(['cardioSet']);
    expect(await matches('ValueSet?url:above=http://suhe.example.cn/fhir/ValueSet/cardio/_history/2')).toEqual(['cardioSet']);
    expect(await matches('ValueSet?url:above=http://suhe.example.cn/fhir/ValueSet')).toEqual([]);
  });

  it('_include, _include:iterate, _include=*, _revinclude; matches and includes are told apart', async () => {
    expect(await includes(`Observation?_id=${id.sysPeter}&_include=Observation:subject`)).toEqual(['peter']);
    expect(await includes(`Observation?_id=${id.sysPeter}&_include=Observation:subject&_include:iterate=Patient:general-practitioner`)).toEqual(['li', 'peter']);
    expect(await includes(`Encounter?_id=${id.visit}&_include=Encounter:*`)).toEqual(['li', 'org', 'peter']);
    expect(await includes(`Encounter?_id=${id.visit}&_include=Encounter:participant:Practitioner`)).toEqual(['li']);
    // An _include from a type that is not searched (and not :iterate) adds nothing.
    expect(await includes(`Observation?_id=${id.sysPeter}&_include=Patient:general-practitioner`)).toEqual([]);
    expect(await matches(`Observation?subject=${t.base}/Patient/${id.paul}`)).toEqual(['bpPaul']);
    const rev = await bundle(`Patient?_id=${id.paul}&_revinclude=Observation:subject`);
    expect(byMode(rev, 'match').map((e) => nameOf(e.resource!))).toEqual(['paul']);
    expect(byMode(rev, 'include').map((e) => nameOf(e.resource!))).toEqual(['bpPaul']);
  });

  it('the include bound (3 in this hub) cuts the includes and says so in an outcome entry', async () => {
    const b = await bundle(`Patient?_id=${id.peter}&_revinclude=Observation:subject&_revinclude=Encounter:subject&_revinclude=Condition:subject&_revinclude=DiagnosticReport:subject`);
    expect(byMode(b, 'include')).toHaveLength(3);
    const outcome = byMode(b, 'outcome')[0].resource as OperationOutcome;
    expect(outcome.issue[0].code).toBe('too-costly');
  });

  it('_summary (true, text, data, count) and _elements return marked subsets', async () => {
    const subsetted = (r: Resource) => r.meta?.tag?.some((tag) => tag.code === 'SUBSETTED');
    const [summary] = byMode(await bundle(`Patient?_id=${id.peter}&_summary=true`), 'match').map((e) => e.resource as any);
    expect(summary.name).toBeDefined();
    expect(summary.maritalStatus).toBeUndefined();
    expect(summary.text).toBeUndefined();
    expect(subsetted(summary)).toBe(true);
    const [text] = byMode(await bundle(`Patient?_id=${id.peter}&_summary=text`), 'match').map((e) => e.resource as any);
    expect(Object.keys(text).sort()).toEqual(['id', 'meta', 'resourceType', 'text']);
    const [data] = byMode(await bundle(`Patient?_id=${id.peter}&_summary=data`), 'match').map((e) => e.resource as any);
    expect(data.text).toBeUndefined();
    expect(data.maritalStatus).toBeDefined();
    const count = await bundle('Patient?_summary=count');
    expect(count.total).toBe(2);
    expect(count.entry).toBeUndefined();
    const [elements] = byMode(await bundle(`Observation?_id=${id.sysPeter}&_elements=value,subject`), 'match').map((e) => e.resource as any);
    expect(Object.keys(elements).sort()).toEqual(['code', 'id', 'meta', 'resourceType', 'status', 'subject', 'valueQuantity']);
    expect(subsetted(elements)).toBe(true);
  });

  it('_total: none, accurate, and a planner estimate', async () => {
    expect((await bundle('Observation?_total=none')).total).toBeUndefined();
    expect((await bundle('Observation?_total=accurate')).total).toBe(4);
    const estimate = (await bundle('Observation?_total=estimate')).total;
    expect(typeof estimate).toBe('number');
    expect(estimate).toBeGreaterThanOrEqual(0);
  });

  it('system search GET [base]?_type= and POST [base]/_search; shared parameters only', async () => {
    const found = byMode(await bundle('?_type=Patient,Practitioner&name=li,peter'), 'match').map((e) => nameOf(e.resource!)).sort();
    expect(found).toEqual(['li', 'peter']);
    expect(byMode(await bundle(`?_id=${id.org},${id.visit}`), 'match').map((e) => nameOf(e.resource!)).sort()).toEqual(['org', 'visit']);
    const form = await bundle('_search', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `_type=Organization&name=renji` });
    expect(byMode(form, 'match').map((e) => nameOf(e.resource!))).toEqual(['org']);
    const mixed = await get('?_type=Patient,Observation&gender=male');
    expect(mixed.status).toBe(400);
    expect(JSON.stringify(mixed.body)).toContain('gender');
  });

  it('compartment search Patient/{id}/{type}', async () => {
    expect(await matches(`Patient/${id.peter}/Observation`)).toEqual(['bpPeter', 'sysPeter']);
    expect(await matches(`Patient/${id.peter}/Observation?code=8480-6`)).toEqual(['sysPeter']);
    expect(await matches(`Patient/${id.paul}/Condition`)).toEqual(['diabPaul']);
    expect((await get(`Patient/${id.peter}/Practitioner`)).status).toBe(400);
  });

  it('$everything: the compartment plus what it points at, paged without repeats, with _type and _since', async () => {
    const everything = await bundle(`Patient/${id.peter}/$everything`);
    expect(byMode(everything, 'match').map((e) => nameOf(e.resource!)).sort()).toEqual(['bpPeter', 'htnPeter', 'peter', 'report', 'sysPeter', 'visit']);
    expect(byMode(everything, 'include').map((e) => nameOf(e.resource!)).sort()).toEqual(['li', 'org']);
    const seen: string[] = [];
    let next: string | undefined = `Patient/${id.peter}/$everything?_count=2`;
    for (let pages = 0; next && pages < 10; pages++) {
      const page: Bundle = await bundle(next);
      seen.push(...byMode(page, 'match').map((e) => nameOf(e.resource!)));
      next = page.link?.find((l) => l.relation === 'next')?.url.replace(`${t.base}/`, '');
    }
    expect(seen.sort()).toEqual(['bpPeter', 'htnPeter', 'peter', 'report', 'sysPeter', 'visit']);
    expect(await matches(`Patient/${id.peter}/$everything?_type=Observation,Condition`)).toEqual(['bpPeter', 'htnPeter', 'sysPeter']);
    expect(await matches(`Patient/${id.peter}/$everything?_since=2999-01-01T00:00:00Z`)).toEqual([]);
    expect((await get('Patient/nobody/$everything')).status).toBe(404);
  });

  it('a SearchParameter created at runtime searches existing data after $reindex, with progress in a Task', async () => {
    const sp = {
      resourceType: 'SearchParameter',
      url: 'http://suhe.example.cn/fhir/SearchParameter/patient-nickname',
      name: 'nickname',
      status: 'active',
      description: 'Nicknames',
      code: 'nickname',
      base: ['Patient'],
      type: 'string',
      expression: "Patient.name.where(use = 'nickname').given",
    };
    const created = await t.fetch(`${t.base}/SearchParameter`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(sp) });
    expect(created.status).toBe(201);
    expect(await matches('Patient?nickname=pete')).toEqual([]); // known, but existing Patients are not indexed yet
    const started = await t.fetch(`${t.base}/Patient/$reindex`, { method: 'POST' });
    expect(started.status).toBe(202);
    let task = (await started.json()) as Task;
    for (let i = 0; i < 100 && task.status === 'in-progress'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      task = (await get(`Task/${task.id}`)).body as Task;
    }
    expect(task.status).toBe('completed');
    const patients = (await bundle('Patient?_summary=count')).total;
    expect(task.output?.find((o) => o.type.text === 'processed')?.valueInteger).toBe(patients);
    expect(await matches('Patient?nickname=pete')).toEqual(['peter']);
    const bad = await t.fetch(`${t.base}/SearchParameter`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...sp, url: 'urn:x', code: 'name' }) });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("already has a search parameter 'name'");
  });

  it('malformed and unsupported searches are 400s naming the parameter', async () => {
    for (const [query, named] of [
      ['Observation?subject.colour=x', 'subject.colour'],
      ['Patient?_has:Observation:code:status=final', '_has:Observation:code:status'],
      ['Patient?_include=Observation:colour', '_include'],
      ['Patient?_text=x', '_text'],
      ['Patient?_contained=true', '_contained'],
      ['Patient?_summary=maybe', '_summary'],
      ['Patient?_elements=name.given', '_elements'],
      ['Patient?identifier:of-type=MR', 'identifier:of-type'],
    ]) {
      const res = await get(query);
      expect({ query, status: res.status, named: JSON.stringify(res.body).includes(named) }).toEqual({ query, status: 400, named: true });
    }
  });
});
