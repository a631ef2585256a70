// FHIR REST interactions over real HTTP on 127.0.0.1, on PGlite and on PostgreSQL.
import { describe, expect, it } from '@jest/globals';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('REST');
const JSON_HEADERS = { 'content-type': 'application/fhir+json' };

describe.each(backends)('FHIR REST on %s', (backend) => {
  const t = useTestHub(backend);

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await t.fetch(`${t.base}/${path}`, {
      method,
      headers: { ...(body !== undefined ? JSON_HEADERS : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };

  it('creates with a server-assigned id, then reads, vreads, updates and deletes', async () => {
    const created = await call('POST', 'Patient', { resourceType: 'Patient', id: 'client-id-ignored', name: [{ family: '李', given: ['雷'] }] });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(id).not.toBe('client-id-ignored');
    expect(created.body.meta.versionId).toBe('1');
    expect(created.headers.get('location')).toBe(`${t.base}/Patient/${id}/_history/1`);
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.headers.get('last-modified')).toBe(new Date(created.body.meta.lastUpdated).toUTCString());
    expect(created.headers.get('content-type')).toMatch(/^application\/fhir\+json/);

    const read = await call('GET', `Patient/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.name[0].family).toBe('李');

    const updated = await call('PUT', `Patient/${id}`, { ...read.body, gender: 'male' });
    expect(updated.status).toBe(200);
    expect(updated.body.meta.versionId).toBe('2');

    const v1 = await call('GET', `Patient/${id}/_history/1`);
    expect(v1.status).toBe(200);
    expect(v1.body.gender).toBeUndefined();
    expect((await call('GET', `Patient/${id}/_history/9`)).status).toBe(404);

    expect((await call('DELETE', `Patient/${id}`)).status).toBe(204);
    const gone = await call('GET', `Patient/${id}`);
    expect(gone.status).toBe(410);
    expect(gone.body.resourceType).toBe('OperationOutcome');

    const history = await call('GET', `Patient/${id}/_history`);
    expect(history.body.type).toBe('history');
    expect(history.body.total).toBe(3);
    expect(history.body.entry.map((e: any) => e.request.method)).toEqual(['DELETE', 'PUT', 'POST']);
  });

  it('update-as-create with a client id answers 201', async () => {
    const res = await call('PUT', 'Organization/district-hospital-1', { resourceType: 'Organization', id: 'district-hospital-1', name: '苏河区中心医院' });
    expect(res.status).toBe(201);
    expect(res.body.id).toBe('district-hospital-1');
    const again = await call('PUT', 'Organization/district-hospital-1', { resourceType: 'Organization', id: 'district-hospital-1', name: '苏河区中心医院（总院）' });
    expect(again.status).toBe(200);
    expect(again.body.meta.versionId).toBe('2');
  });

  it('If-Match: a stale version gets 412 and changes nothing', async () => {
    const created = await call('POST', 'Patient', { resourceType: 'Patient', active: true });
    const id = created.body.id;
    expect((await call('PUT', `Patient/${id}`, { ...created.body, active: false }, { 'if-match': 'W/"1"' })).status).toBe(200);
    const stale = await call('PUT', `Patient/${id}`, { ...created.body, active: true }, { 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body.resourceType).toBe('OperationOutcome');
    expect((await call('GET', `Patient/${id}`)).body.active).toBe(false);
  });

  it('JSON Patch updates a resource and needs the json-patch content type', async () => {
    const created = await call('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Wang' }] });
    const id = created.body.id;
    const patched = await call('PATCH', `Patient/${id}`, JSON.stringify([{ op: 'replace', path: '/name/0/family', value: '王' }, { op: 'add', path: '/gender', value: 'female' }]), {
      'content-type': 'application/json-patch+json',
    });
    expect(patched.status).toBe(200);
    expect(patched.body.name[0].family).toBe('王');
    expect(patched.body.meta.versionId).toBe('2');
    const wrongType = await call('PATCH', `Patient/${id}`, [{ op: 'remove', path: '/gender' }]);
    expect(wrongType.status).toBe(415);
    const badPath = await call('PATCH', `Patient/${id}`, JSON.stringify([{ op: 'remove', path: '/nothing' }]), { 'content-type': 'application/json-patch+json' });
    expect(badPath.status).toBe(400);
    const invalidResult = await call('PATCH', `Patient/${id}`, JSON.stringify([{ op: 'add', path: '/gender', value: 42 }]), { 'content-type': 'application/json-patch+json' });
    expect(invalidResult.status).toBe(400);
    expect((await call('GET', `Patient/${id}`)).body.meta.versionId).toBe('2');
  });

  it('conditional create (If-None-Exist) returns the existing match instead of a duplicate', async () => {
    const body = { resourceType: 'Practitioner', identifier: [{ system: 'urn:suhe:test:license', value: 'L-1001' }] };
    const first = await call('POST', 'Practitioner', body, { 'if-none-exist': 'identifier=urn:suhe:test:license|L-1001' });
    expect(first.status).toBe(201);
    const second = await call('POST', 'Practitioner', body, { 'if-none-exist': 'identifier=urn:suhe:test:license|L-1001' });
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
  });

  it('conditional update and delete act on the single match; several matches → 412', async () => {
    const created = await call('PUT', 'Patient?identifier=urn:suhe:test:mrn|M-1', { resourceType: 'Patient', identifier: [{ system: 'urn:suhe:test:mrn', value: 'M-1' }] });
    expect(created.status).toBe(201);
    const updated = await call('PUT', 'Patient?identifier=urn:suhe:test:mrn|M-1', { resourceType: 'Patient', identifier: [{ system: 'urn:suhe:test:mrn', value: 'M-1' }], active: true });
    expect(updated.status).toBe(200);
    expect(updated.body.id).toBe(created.body.id);
    await call('POST', 'Patient', { resourceType: 'Patient', identifier: [{ system: 'urn:suhe:test:dup', value: 'D' }] });
    await call('POST', 'Patient', { resourceType: 'Patient', identifier: [{ system: 'urn:suhe:test:dup', value: 'D' }] });
    expect((await call('PUT', 'Patient?identifier=urn:suhe:test:dup|D', { resourceType: 'Patient' })).status).toBe(412);
    expect((await call('DELETE', 'Patient?identifier=urn:suhe:test:mrn|M-1')).status).toBe(204);
    expect((await call('GET', `Patient/${created.body.id}`)).status).toBe(410);
  });

  it('Prefer: return=minimal and return=OperationOutcome', async () => {
    const minimal = await t.fetch(`${t.base}/Patient`, { method: 'POST', headers: { ...JSON_HEADERS, prefer: 'return=minimal' }, body: JSON.stringify({ resourceType: 'Patient' }) });
    expect(minimal.status).toBe(201);
    expect(await minimal.text()).toBe('');
    expect(minimal.headers.get('location')).toMatch(/\/Patient\/[^/]+\/_history\/1$/);
    const outcome = await call('POST', 'Patient', { resourceType: 'Patient' }, { prefer: 'return=OperationOutcome' });
    expect(outcome.body.resourceType).toBe('OperationOutcome');
  });

  it('type and system history with _since and _count paging', async () => {
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 3; i++) await call('POST', 'Location', { resourceType: 'Location', name: `Room ${i}` });
    const typeHistory = await call('GET', `Location/_history?_since=${encodeURIComponent(before)}&_count=2`);
    expect(typeHistory.body.total).toBe(3);
    expect(typeHistory.body.entry).toHaveLength(2);
    const next = typeHistory.body.link.find((l: any) => l.relation === 'next').url;
    const page2 = (await (await t.fetch(next)).json()) as any;
    expect(page2.entry).toHaveLength(1);
    const seen = [...typeHistory.body.entry, ...page2.entry].map((e: any) => e.resource.name);
    expect(new Set(seen)).toEqual(new Set(['Room 0', 'Room 1', 'Room 2']));
    // System history holds every change, including the AuditEvents each write stored with it.
    const system = await call('GET', `_history?_since=${encodeURIComponent(before)}&_count=100`);
    const types = system.body.entry.map((e: any) => e.resource.resourceType);
    expect(types.filter((t: string) => t === 'Location')).toHaveLength(3);
    expect(types.filter((t: string) => t === 'AuditEvent').length).toBeGreaterThanOrEqual(3);
  });

  it('answers bad input with 4xx OperationOutcomes, never 500', async () => {
    const cases: [string, string, unknown, Record<string, string>, number][] = [
      ['POST', 'Patient', '{"resourceType": "Patient",', {}, 400],
      ['POST', 'Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }, {}, 400],
      ['POST', 'Patient', { resourceType: 'Patient', birthDate: '1990-13-45' }, {}, 400],
      ['POST', 'Patient', { resourceType: 'Patient', favouriteColour: 'blue' }, {}, 400],
      ['POST', 'Patient', '<Patient xmlns="http://hl7.org/fhir"/>', { 'content-type': 'application/fhir+xml' }, 415],
      ['POST', 'Patient', 'hello', { 'content-type': 'text/plain' }, 415],
      ['GET', 'Unicorn/1', undefined, {}, 404],
      ['GET', 'Patient/does-not-exist', undefined, {}, 404],
      ['GET', 'Patient?birthdate=yesterday', undefined, {}, 400],
      ['GET', 'Patient?no-such-param=1', undefined, {}, 400],
      ['GET', 'Patient?_count=lots', undefined, {}, 400],
      ['GET', 'Patient?_format=xml', undefined, {}, 406],
      ['PUT', 'Patient/abc', { resourceType: 'Patient', id: 'xyz' }, {}, 400],
      ['POST', '', { resourceType: 'Bundle', type: 'collection' }, {}, 400],
      ['GET', 'Patient/x/_history/1/extra', undefined, {}, 404],
    ];
    for (const [method, path, body, headers, status] of cases) {
      const res = await call(method, path, body, headers);
      expect({ method, path, status: res.status }).toEqual({ method, path, status });
      expect(res.body?.resourceType).toBe('OperationOutcome');
    }
    const invalid = await call('POST', 'Patient', { resourceType: 'Patient', birthDate: '1990-13-45' });
    expect(invalid.body.issue[0].expression).toEqual(['Patient.birthDate']);
  });

  it('rejects a body over the limit with 413', async () => {
    const huge = JSON.stringify({ resourceType: 'Patient', text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(33 * 1024 * 1024)}</div>` } });
    const res = await call('POST', 'Patient', huge);
    expect(res.status).toBe(413);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  it('CapabilityStatement lists every R4 type with the interactions and search parameters it serves', async () => {
    const res = await call('GET', 'metadata');
    expect(res.body.resourceType).toBe('CapabilityStatement');
    expect(res.body.fhirVersion).toBe('4.0.1');
    const patient = res.body.rest[0].resource.find((r: any) => r.type === 'Patient');
    expect(patient.interaction.map((i: any) => i.code)).toEqual(expect.arrayContaining(['read', 'vread', 'update', 'patch', 'delete', 'create', 'search-type', 'history-instance']));
    const names = patient.searchParam.map((p: any) => p.name);
    expect(names).toEqual(expect.arrayContaining(['name', 'birthdate', 'identifier', 'gender', '_id', '_lastUpdated']));
    expect(res.body.rest[0].resource.length).toBeGreaterThan(140);
    // Only what works is claimed: composites are served; _text and _content (nothing indexes them) are not listed.
    const observation = res.body.rest[0].resource.find((r: any) => r.type === 'Observation');
    expect(observation.searchParam.map((p: any) => p.name)).toEqual(expect.arrayContaining(['code-value-quantity', 'component-code-value-quantity']));
    expect(observation.searchParam.map((p: any) => p.name)).not.toContain('_text');
    expect(patient.operation.map((o: any) => o.name)).toEqual(expect.arrayContaining(['everything', 'reindex']));
    expect(res.body.rest[0].interaction.map((i: any) => i.code)).toContain('search-system');
  });

  it('healthz and readyz', async () => {
    expect((await t.fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await (await t.fetch(`${t.url}/readyz`)).json();
    expect(ready).toEqual({ status: 'ready', database: backend });
  });
});
