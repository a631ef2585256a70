// Searches built to hurt (found by fuzzing the search API): each answers a 400 OperationOutcome
// that says what to fix, never a 500, and the hub stays responsive. Also two wrong-result cases
// the fuzzing turned up: a literal '?' in a value, and years 0001–0099.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('search-hostile-input');

describe.each(backends)('hostile searches on %s', (backend) => {
  const t = useTestHub(backend, { search: { defaultCount: 20, maxCount: 1000, defaultTotal: 'none' } });
  let patientId = '';

  const get = async (path: string, init?: RequestInit): Promise<{ status: number; body: any }> => {
    const res = await t.fetch(path.startsWith('http') ? path : `${t.base}/${path}`, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const postForm = (type: string, form: string) =>
    get(`${type}/_search`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  /** A 400 OperationOutcome whose text contains `says`. */
  const expectRejected = (what: string, res: { status: number; body: any }, says: string) => {
    const outcome = res.body as OperationOutcome | undefined;
    const text = JSON.stringify(outcome?.issue ?? null);
    expect({ what, status: res.status, type: outcome?.resourceType, text }).toEqual({ what, status: 400, type: 'OperationOutcome', text: expect.stringContaining(says) });
  };
  const matchIds = (bundle: Bundle) => (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id);

  beforeAll(async () => {
    for (const patient of [
      { resourceType: 'Patient', name: [{ family: 'Wh?t' }], birthDate: '1990-05-01' },
      { resourceType: 'Patient', name: [{ family: 'Antiquus' }], birthDate: '0050-03-01' },
      { resourceType: 'Patient', name: [{ family: 'Modern' }], birthDate: '1950-03-01' },
    ]) {
      const res = await t.fetch(`${t.base}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(patient) });
      expect(res.status).toBe(201);
      patientId ||= ((await res.json()) as { id: string }).id;
    }
  });

  it('a NUL character (%00) in a value, a name or an id is a 400, not a database error', async () => {
    for (const path of ['Patient?name=a%00b', 'Patient?na%00me=x', `Patient/${patientId}%00/$everything`, 'Patient/%00', 'Patient/%00/_history']) {
      expectRejected(path, await get(path), 'NUL character');
    }
    expectRejected('form', await postForm('Patient', 'name=a%00b'), 'NUL character');
  });

  it('numbers beyond any real value are a 400; small exponents still search', async () => {
    for (const path of ['Observation?value-quantity=1e-99999', 'RiskAssessment?probability=1e99999', `Observation?value-quantity=${'9'.repeat(200)}`]) {
      expectRejected(path, await get(path), 'out of range');
    }
    expect((await get('Observation?value-quantity=gt1e-400')).status).toBe(200);
  });

  it("'ap' dates at the ends of the calendar clamp instead of failing", async () => {
    for (const path of ['Observation?date=ap9999-12-31T23:00-05:00', 'Patient?birthdate=ap9999', 'Patient?birthdate=ap0001', 'Patient?birthdate=ap0001-01-01T00:00%2B05:00']) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
  });

  it('years 0001–0099 are those years, not 1901–1999', async () => {
    const antique = matchIds((await get('Patient?birthdate=0050')).body);
    const modern = matchIds((await get('Patient?birthdate=1950')).body);
    const names = async (ids: (string | undefined)[]) =>
      Promise.all(ids.map(async (id) => ((await get(`Patient/${id}`)).body as { name: { family: string }[] }).name[0].family));
    expect(await names(antique)).toEqual(['Antiquus']);
    expect(await names(modern)).toEqual(['Modern']);
  });

  it("a literal '?' inside a value is searched, not cut off", async () => {
    const res = await get('Patient?name:exact=Wh?t');
    expect(res.status).toBe(200);
    expect(matchIds(res.body)).toEqual([patientId]);
  });

  it('a cursor that was edited, or taken to another sort, is a 400', async () => {
    const first = (await get('Patient?_sort=birthdate&_count=1')).body as Bundle;
    const next = first.link!.find((l) => l.relation === 'next')!.url;
    expect((await get(next)).status).toBe(200);
    const cursorText = new URL(next).searchParams.get('_cursor')!;
    const cursor = JSON.parse(Buffer.from(cursorText, 'base64url').toString('utf8'));
    const withCursor = (query: string, edited: object) => `Patient?${query}&_count=1&_cursor=${Buffer.from(JSON.stringify(edited)).toString('base64url')}`;
    for (const [what, path] of [
      ['a date key that is not a date', withCursor('_sort=birthdate', { ...cursor, keys: ['not a date'] })],
      ['a seq beyond bigint', withCursor('_sort=birthdate', { ...cursor, seq: '99999999999999999999' })],
      ['a NUL in a key', withCursor('_sort=birthdate', { ...cursor, keys: ['1990\u0000'] })],
      ['another sort with as many keys', withCursor('_sort=-_lastUpdated', cursor)],
      ['another sort', withCursor('_sort=birthdate,name', cursor)],
    ]) {
      expectRejected(what, await get(path), '_cursor');
    }
  });

  it('chains and _has deeper than 8 levels are a 400, even 1,000 levels in a form', async () => {
    expect((await get('Patient?general-practitioner:Practitioner.name=x')).status).toBe(200);
    const nine = `Patient?${'link:Patient.'.repeat(9)}name=x`;
    expectRejected('nine links', await get(nine), 'at most 8 levels');
    expectRejected('1,000 _has', await postForm('Patient', `${'_has:Patient:link:'.repeat(1000)}name=x`), 'at most 8 levels');
    expectRejected('1,000 links', await postForm('Patient', `${'link.'.repeat(1000)}name=x`), 'at most 8 levels');
  });

  it('chains through references to many types stop before they expand into a giant statement', async () => {
    for (const path of ['Patient?_has:AuditEvent:entity:entity.entity.entity._id=x', 'List?item.item.item.item.item._id=x']) {
      expectRejected(path, await get(path), 'name the target type');
    }
    // The same depth with each target named is fine.
    expect((await get(`List?${'item:List.'.repeat(4)}_id=x`)).status).toBe(200);
  });

  it('at most 50 parameters and 8 sort keys per search', async () => {
    const fifty = Array.from({ length: 50 }, (_v, n) => `name=n${n}`).join('&');
    expect((await postForm('Patient', fifty)).status).toBe(200);
    expectRejected('51 filters', await postForm('Patient', `${fifty}&name=one-more`), 'at most 50 parameters');
    expectRejected('9 sort keys', await get(`Patient?_sort=${Array(9).fill('name').join(',')}`), '_sort takes at most 8 keys');
    expectRejected('2,000 sort keys', await postForm('Patient', `_sort=${Array(2000).fill('name').join(',')}`), '_sort takes at most 8 keys');
  });

  it('at most 16 words in a :text search and 32 distinct include specs; repeated specs count once', async () => {
    const words = (n: number) => Array.from({ length: n }, (_v, i) => `w${i}`).join('%20');
    expect((await get(`Patient?name:text=${words(16)}`)).status).toBe(200);
    expectRejected('17 words', await get(`Patient?name:text=${words(17)}`), 'at most 16 words');
    const repeated = await postForm('Patient', `_revinclude=${Array(1500).fill('Observation:*').join(',')}`);
    expect(repeated.status).toBe(200);
    const distinct = ['Observation', 'Condition', 'Encounter', 'Procedure', 'MedicationRequest', 'DiagnosticReport', 'Immunization', 'AllergyIntolerance', 'CarePlan', 'ServiceRequest', 'DocumentReference', 'Goal', 'Flag', 'Claim', 'MedicationAdministration']
      .flatMap((type) => ['subject', 'patient', 'encounter', 'performer'].map((param) => `${type}:${param}`));
    const usable = [];
    for (const spec of distinct) if ((await get(`Patient?_revinclude=${spec}`)).status === 200) usable.push(spec);
    expect(usable.length).toBeGreaterThan(32);
    expectRejected('33 specs', await postForm('Patient', `_revinclude=${usable.slice(0, 33).join(',')}`), 'at most 32 _include and _revinclude specs');
  });

  it('_since takes a FHIR instant from year 0001, in history and $everything alike', async () => {
    for (const path of ['Patient/_history?_since=0000-01-01T00:00:00Z', `Patient/${patientId}/$everything?_since=0000-01-01T00:00:00Z`, 'Patient/_history?_since=Dec%201%202020']) {
      expectRejected(path, await get(path), '_since must be an instant');
    }
    expect((await get('Patient/_history?_since=0001-01-01T00:00:00Z')).status).toBe(200);
  });

  it('a long search stays followable through its next link; a request line over 64 KiB gets a 431 OperationOutcome', async () => {
    // _elements of 4,500 names: about 26 KB URL-encoded, more than Node's default 16 KiB request line.
    const elements = Array(4500).fill('name').join(',');
    const first = await postForm('Patient', `_elements=${elements}&_count=1&_sort=birthdate`);
    expect(first.status).toBe(200);
    const next = (first.body as Bundle).link!.find((l) => l.relation === 'next')!.url;
    expect(next.length).toBeGreaterThan(16 * 1024);
    const second = await get(next);
    expect(second.status).toBe(200);
    expect(matchIds(second.body)).toHaveLength(1);

    expectRejected('query over the limit', await postForm('Patient', `_elements=${Array(9000).fill('name').join(',')}`), 'the hub takes at most 32768');
    const huge = await get(`Patient?name=${'x'.repeat(70 * 1024)}`);
    expect(huge.status).toBe(431);
    expect(huge.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(huge.body)).toContain('POST [type]/_search');
    expect((await get(`Patient/${patientId}`)).status).toBe(200);
  });
});
