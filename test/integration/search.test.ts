// Baseline search over HTTP, on both adapters, against a small designed data set.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('search');

describe.each(backends)('search on %s', (backend) => {
  const t = useTestHub(backend);
  const ids: Record<string, string> = {};

  const post = async (resource: Resource): Promise<Resource> => {
    const res = await t.fetch(`${t.base}/${resource.resourceType}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) });
    expect(res.status).toBe(201);
    return (await res.json()) as Resource;
  };
  const search = async (query: string): Promise<Bundle> => {
    const res = await t.fetch(`${t.base}/${query}`);
    const body = await res.json();
    expect({ query, status: res.status, body: res.status === 200 ? 'ok' : body }).toEqual({ query, status: 200, body: 'ok' });
    return body as Bundle;
  };
  /** The names (for Patients) or ids the search returns, sorted unless `ordered`. */
  const names = async (query: string, ordered = false): Promise<string[]> => {
    const bundle = await search(query);
    const out = (bundle.entry ?? []).map((e: any) => e.resource.name?.[0]?.text ?? e.resource.id);
    return ordered ? out : out.sort();
  };

  beforeAll(async () => {
    const patients = [
      { text: 'Zhang Wei', family: 'Zhang', given: ['Wei'], gender: 'male', birthDate: '1950-03-14', id: '110105195003140019', active: true },
      { text: 'Zhang Li', family: 'Zhang', given: ['Li'], gender: 'female', birthDate: '1985-07', id: '11010519850701002X', active: true },
      { text: 'Chén Jìng', family: 'Chén', given: ['Jìng'], gender: 'female', birthDate: '2020-01-02', id: undefined, active: false },
      { text: '王芳', family: '王', given: ['芳'], gender: 'female', birthDate: '1990', id: undefined, active: undefined },
    ];
    for (const p of patients) {
      const created = await post({
        resourceType: 'Patient',
        name: [{ text: p.text, family: p.family, given: p.given }],
        gender: p.gender as 'male',
        birthDate: p.birthDate,
        ...(p.active !== undefined ? { active: p.active } : {}),
        identifier: p.id ? [{ system: 'urn:oid:2.16.840.1.113883.2.23.1.19.1', value: p.id }] : [{ system: 'urn:suhe:mrn', value: `MRN-${p.family}` }],
        telecom: [{ system: 'phone', value: '021-5555' }],
      });
      ids[p.text] = created.id!;
    }
    const obs = (subject: string, code: string, value: number, unit: string, when: string) =>
      post({
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code, display: code === '14771-0' ? 'Fasting glucose' : 'Body weight' }] },
        subject: { reference: `Patient/${ids[subject]}` },
        effectiveDateTime: when,
        valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
      });
    ids.obs1 = (await obs('Zhang Wei', '14771-0', 5.4, 'mmol/L', '2024-03-01T08:00:00+08:00')).id!;
    ids.obs2 = (await obs('Zhang Wei', '14771-0', 7.9, 'mmol/L', '2024-09-01T08:00:00+08:00')).id!;
    ids.obs3 = (await obs('Zhang Li', '29463-7', 61, 'kg', '2023-05-20')).id!;
    ids.risk = (await post({ resourceType: 'RiskAssessment', status: 'final', subject: { reference: `Patient/${ids['Zhang Li']}` }, prediction: [{ probabilityDecimal: 0.25 }] })).id!;
    ids.vs = (await post({ resourceType: 'ValueSet', status: 'active', url: 'http://suhe.example.cn/fhir/ValueSet/chronic-conditions' })).id!;
  });

  it('string: prefix by default, case- and accent-insensitive; :exact; :contains', async () => {
    expect(await names('Patient?name=zhang')).toEqual(['Zhang Li', 'Zhang Wei']);
    expect(await names('Patient?family=chen')).toEqual(['Chén Jìng']);
    expect(await names('Patient?name=王')).toEqual(['王芳']);
    expect(await names('Patient?family:exact=Chén')).toEqual(['Chén Jìng']);
    expect(await names('Patient?family:exact=chen')).toEqual([]);
    expect(await names('Patient?name:contains=han')).toEqual(['Zhang Li', 'Zhang Wei']);
    expect(await names('Patient?given=w')).toEqual(['Zhang Wei']);
  });

  it('token: code, system|code, |code, system|, :not, :text, boolean', async () => {
    expect(await names('Patient?gender=female')).toEqual(['Chén Jìng', 'Zhang Li', '王芳']);
    expect(await names('Patient?identifier=urn:oid:2.16.840.1.113883.2.23.1.19.1|110105195003140019')).toEqual(['Zhang Wei']);
    expect(await names('Patient?identifier=110105195003140019')).toEqual(['Zhang Wei']);
    expect(await names('Patient?identifier=urn:suhe:mrn|')).toEqual(['Chén Jìng', '王芳']);
    expect(await names('Patient?identifier=|MRN-王')).toEqual([]);
    expect(await names('Patient?gender:not=female')).toEqual(['Zhang Wei']);
    expect(await names('Patient?active=true')).toEqual(['Zhang Li', 'Zhang Wei']);
    expect(await names('Patient?active:missing=true')).toEqual(['王芳']);
    expect(await names('Patient?phone=021-5555')).toHaveLength(4);
    expect(await names('Observation?code:text=fasting')).toEqual([ids.obs1, ids.obs2].sort());
  });

  it('OR with commas, AND by repeating; escaped commas are literal', async () => {
    expect(await names('Patient?given=wei,li')).toEqual(['Zhang Li', 'Zhang Wei']);
    expect(await names('Patient?family=zhang&gender=female')).toEqual(['Zhang Li']);
    expect(await names('Patient?name=zhang&name=wei')).toEqual(['Zhang Wei']);
    expect(await names('Patient?family=zhang\\,wei')).toEqual([]);
  });

  it('date: partial dates are ranges; every prefix', async () => {
    expect(await names('Patient?birthdate=1985')).toEqual(['Zhang Li']);
    expect(await names('Patient?birthdate=1985-07-15')).toEqual([]); // a month is not inside a day
    expect(await names('Patient?birthdate=1990-06-01')).toEqual([]);
    expect(await names('Patient?birthdate=ge1990')).toEqual(['Chén Jìng', '王芳']);
    expect(await names('Patient?birthdate=gt1990')).toEqual(['Chén Jìng']);
    expect(await names('Patient?birthdate=lt1985-07')).toEqual(['Zhang Wei']);
    expect(await names('Patient?birthdate=le1985-07')).toEqual(['Zhang Li', 'Zhang Wei']);
    expect(await names('Patient?birthdate=ne1990')).toEqual(['Chén Jìng', 'Zhang Li', 'Zhang Wei']);
    expect(await names('Patient?birthdate=sa1989')).toEqual(['Chén Jìng', '王芳']);
    expect(await names('Patient?birthdate=eb1951')).toEqual(['Zhang Wei']);
    expect(await names('Patient?birthdate=ge1950-01&birthdate=lt1986')).toEqual(['Zhang Li', 'Zhang Wei']);
    expect(await names('Patient?birthdate=ap2020-01-05')).toEqual(['Chén Jìng']);
    // Time zones: 08:00+08:00 is 00:00Z, so it falls on 2024-03-01 in UTC.
    expect(await names('Observation?date=2024-03-01')).toEqual([ids.obs1]);
    expect(await names('Observation?date=2024-03-01T00:00:00Z')).toEqual([ids.obs1]);
    expect(await names('Observation?date=2024')).toEqual([ids.obs1, ids.obs2].sort());
  });

  it('number and quantity with prefixes, precision, system and unit', async () => {
    expect(await names('RiskAssessment?probability=0.25')).toEqual([ids.risk]);
    expect(await names('RiskAssessment?probability=0.3')).toEqual([ids.risk]); // 0.3 means [0.25, 0.35)
    expect(await names('RiskAssessment?probability=gt0.25')).toEqual([]);
    expect(await names('RiskAssessment?probability=le0.25')).toEqual([ids.risk]);
    expect(await names('Observation?value-quantity=5.4')).toEqual([ids.obs1]);
    expect(await names('Observation?value-quantity=gt7|http://unitsofmeasure.org|mmol/L')).toEqual([ids.obs2]);
    expect(await names('Observation?value-quantity=lt100||kg')).toEqual([ids.obs3]);
    expect(await names('Observation?value-quantity=ge5||mmol/L')).toEqual([ids.obs1, ids.obs2].sort());
  });

  it('reference: Type/id, id, :Type modifier, absolute URL', async () => {
    const zw = ids['Zhang Wei'];
    expect(await names(`Observation?subject=Patient/${zw}`)).toEqual([ids.obs1, ids.obs2].sort());
    expect(await names(`Observation?subject=${zw}`)).toEqual([ids.obs1, ids.obs2].sort());
    expect(await names(`Observation?subject:Patient=${zw}`)).toEqual([ids.obs1, ids.obs2].sort());
    expect(await names(`Observation?subject:Group=${zw}`)).toEqual([]);
    expect(await names(`Observation?patient=Patient/${ids['Zhang Li']}`)).toEqual([ids.obs3]);
  });

  it('meta parameters: _profile, _tag, _security', async () => {
    const tagged = await post({
      resourceType: 'Patient',
      name: [{ text: 'Tagged' }],
      meta: { profile: ['http://example.org/fhir/StructureDefinition/not-held'], tag: [{ system: 'urn:suhe:tag', code: 'vip' }], security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
    });
    expect(await names('Patient?_profile=http://example.org/fhir/StructureDefinition/not-held')).toEqual(['Tagged']);
    expect(await names('Patient?_tag=urn:suhe:tag|vip')).toEqual(['Tagged']);
    expect(await names('Patient?_security=R')).toEqual(['Tagged']);
    await t.fetch(`${t.base}/Patient/${tagged.id}`, { method: 'DELETE' });
  });

  it('uri, _id and _lastUpdated', async () => {
    expect(await names('ValueSet?url=http://suhe.example.cn/fhir/ValueSet/chronic-conditions')).toEqual([ids.vs]);
    expect(await names('ValueSet?url:below=http://suhe.example.cn/fhir/')).toEqual([ids.vs]);
    expect(await names('ValueSet?url=http://suhe.example.cn/fhir/')).toEqual([]);
    expect(await names(`Patient?_id=${ids['王芳']},${ids['Chén Jìng']}`)).toEqual(['Chén Jìng', '王芳']);
    expect(await names('Patient?_lastUpdated=gt2000-01-01')).toHaveLength(4);
    expect(await names('Patient?_lastUpdated=lt2000-01-01')).toEqual([]);
  });

  it('_sort on one or several keys, ascending and descending', async () => {
    expect(await names('Patient?_sort=birthdate', true)).toEqual(['Zhang Wei', 'Zhang Li', '王芳', 'Chén Jìng']);
    expect(await names('Patient?_sort=-birthdate', true)).toEqual(['Chén Jìng', '王芳', 'Zhang Li', 'Zhang Wei']);
    expect(await names('Patient?_sort=gender,-birthdate', true)).toEqual(['Chén Jìng', '王芳', 'Zhang Li', 'Zhang Wei']);
    // A missing value sorts last either way.
    expect((await names('Patient?_sort=active', true)).at(-1)).toBe('王芳');
    expect((await names('Patient?_sort=-active', true)).at(-1)).toBe('王芳');
  });

  it('_count, _total and next links that page through every match exactly once, also sorted', async () => {
    for (const query of ['Patient?_count=1', 'Patient?_count=1&_sort=-birthdate', 'Patient?_count=3&_sort=gender,family']) {
      const seen: string[] = [];
      let url: string | undefined = `${t.base}/${query}`;
      while (url) {
        const page = (await (await t.fetch(url)).json()) as Bundle;
        seen.push(...(page.entry ?? []).map((e) => e.resource!.id!));
        url = page.link?.find((l) => l.relation === 'next')?.url;
      }
      expect(seen.sort()).toEqual(Object.values(ids).filter((id) => Object.entries(ids).some(([k, v]) => v === id && !['obs1', 'obs2', 'obs3', 'risk', 'vs'].includes(k))).sort());
    }
    expect((await search('Patient?_total=accurate&_count=1')).total).toBe(4);
    expect((await search('Patient?_total=none')).total).toBeUndefined();
    const zero = await search('Patient?_count=0');
    expect(zero.entry).toBeUndefined(); // FHIR JSON has no empty arrays
    expect(zero.total).toBe(4);
  });

  it('paging stays correct while other clients write: nothing repeats, nothing is skipped', async () => {
    for (let i = 0; i < 12; i++) await post({ resourceType: 'Device', status: 'active', deviceName: [{ name: `pump-${i}`, type: 'user-friendly-name' }] });
    const seen: string[] = [];
    let url: string | undefined = `${t.base}/Device?status=active&_count=5`;
    let writes = 0;
    while (url) {
      const page = (await (await t.fetch(url)).json()) as Bundle;
      seen.push(...(page.entry ?? []).map((e: any) => e.resource.deviceName[0].name));
      // Between pages a new match arrives, and an already-seen one is updated: neither may shift the pages.
      const firstSeen = page.entry?.[0]?.resource as any;
      if (firstSeen) await t.fetch(`${t.base}/Device/${firstSeen.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...firstSeen, manufacturer: 'updated' }) });
      await post({ resourceType: 'Device', status: 'active', deviceName: [{ name: `late-${writes++}`, type: 'user-friendly-name' }] });
      url = page.link?.find((l) => l.relation === 'next')?.url;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (let i = 0; i < 12; i++) expect(seen).toContain(`pump-${i}`);
  });

  it('unknown parameters: 400 naming it, or ignored and left out of the self link under handling=lenient', async () => {
    const strict = await t.fetch(`${t.base}/Patient?colour=blue`);
    expect(strict.status).toBe(400);
    expect(JSON.stringify(await strict.json())).toContain('colour');
    const lenient = await t.fetch(`${t.base}/Patient?colour=blue&gender=male`, { headers: { prefer: 'handling=lenient' } });
    const bundle = (await lenient.json()) as Bundle;
    expect(lenient.status).toBe(200);
    expect(bundle.entry!.filter((e) => e.search?.mode === 'match')).toHaveLength(1);
    const self = bundle.link!.find((l) => l.relation === 'self')!.url;
    expect(self).toContain('gender=male');
    expect(self).not.toContain('colour');
    // The ignored parameter is named in an outcome entry, so the client learns it had no effect.
    const outcome = bundle.entry!.find((e) => e.search?.mode === 'outcome')!.resource as OperationOutcome;
    expect(outcome.issue[0].expression).toEqual(['colour']);
    expect((await t.fetch(`${t.base}/Patient?name:fuzzy=x`)).status).toBe(400);
    expect((await t.fetch(`${t.base}/Observation?subject.colour=x`)).status).toBe(400);
  });

  it('POST _search with a form body equals GET', async () => {
    const res = await t.fetch(`${t.base}/Patient/_search`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'family=zhang&gender=male' });
    const bundle = (await res.json()) as Bundle<any>;
    expect(bundle.entry!.map((e) => e.resource.name[0].text)).toEqual(['Zhang Wei']);
  });

  it('deleted resources leave search results', async () => {
    const temp = await post({ resourceType: 'Patient', name: [{ family: 'Ephemeral' }] });
    expect(await names('Patient?family=ephemeral')).toHaveLength(1);
    await t.fetch(`${t.base}/Patient/${temp.id}`, { method: 'DELETE' });
    expect(await names('Patient?family=ephemeral')).toEqual([]);
  });
});
