// Batch and transaction Bundles, conditional references (Synthea HIV data), profiles, $validate.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import type { Bundle } from '@medplum/fhirtypes';
import { availableBackends, bulkLoadBackend } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const HIV_DIR = new URL('../../../shared/testdata/fhir/synthea/hiv/', import.meta.url);
const CN_PATIENT = 'http://suhe.example.cn/fhir/StructureDefinition/cn-patient';
const ID_SYSTEM = 'urn:oid:2.16.840.1.113883.2.23.1.19.1';
const backends = await availableBackends('bundles and validation');

describe.each(backends)('bundles and validation on %s', (backend) => {
  const t = useTestHub(backend);

  const send = async (method: string, path: string, body: unknown) => {
    const res = await t.fetch(`${t.base}${path}`, { method, headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const count = async (query: string) => ((await (await t.fetch(`${t.base}/${query}${query.includes('?') ? '&' : '?'}_total=accurate&_count=0`)).json()) as Bundle).total;

  it('a transaction resolves urn:uuid references and answers entries in request order', async () => {
    const { status, body } = await send('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:obs-1', resource: { resourceType: 'Observation', status: 'final', code: { text: 'bp' }, subject: { reference: 'urn:uuid:pat-1' } }, request: { method: 'POST', url: 'Observation' } },
        { fullUrl: 'urn:uuid:pat-1', resource: { resourceType: 'Patient', name: [{ family: 'Txn' }] }, request: { method: 'POST', url: 'Patient' } },
      ],
    });
    expect(status).toBe(200);
    expect(body.type).toBe('transaction-response');
    expect(body.entry.map((e: any) => e.resource.resourceType)).toEqual(['Observation', 'Patient']);
    expect(body.entry[0].resource.subject.reference).toBe(`Patient/${body.entry[1].resource.id}`);
    expect(body.entry[0].response.status).toBe('201 Created');
    expect(body.entry[0].response.location).toMatch(/^Observation\/[^/]+\/_history\/1$/);
  });

  it('a transaction is all or nothing: one invalid entry rolls back every write', async () => {
    const before = await count('Patient?family=atomic');
    const { status, body } = await send('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', name: [{ family: 'Atomic' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', name: [{ family: 'Atomic' }], birthDate: 'not-a-date' }, request: { method: 'POST', url: 'Patient' } },
      ],
    });
    expect(status).toBe(400);
    expect(body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(body)).toContain('Bundle.entry[1]');
    expect(await count('Patient?family=atomic')).toBe(before);
  });

  it('a transaction runs DELETE before POST before PUT before GET, and honours ifNoneExist', async () => {
    const existing = await send('POST', '/Patient', { resourceType: 'Patient', identifier: [{ system: 'urn:suhe:t', value: 'keep' }] });
    const doomed = await send('POST', '/Patient', { resourceType: 'Patient', name: [{ family: 'Doomed' }] });
    const { status, body } = await send('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'GET', url: `Patient/${doomed.body.id}` } },
        { resource: { resourceType: 'Patient', id: 'txn-put', active: true }, request: { method: 'PUT', url: 'Patient/txn-put' } },
        { resource: { resourceType: 'Patient', identifier: [{ system: 'urn:suhe:t', value: 'keep' }] }, request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:suhe:t|keep' } },
        { request: { method: 'DELETE', url: `Patient/${doomed.body.id}` } },
      ],
    });
    // The GET runs last, after the DELETE: the whole transaction fails with 410.
    expect(status).toBe(410);
    expect(body.resourceType).toBe('OperationOutcome');
    expect((await t.fetch(`${t.base}/Patient/${doomed.body.id}`)).status).toBe(200); // rolled back
    const ok = await send('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', id: 'txn-put', active: true }, request: { method: 'PUT', url: 'Patient/txn-put' } },
        { resource: { resourceType: 'Patient', identifier: [{ system: 'urn:suhe:t', value: 'keep' }] }, request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:suhe:t|keep' } },
        { request: { method: 'DELETE', url: `Patient/${doomed.body.id}` } },
      ],
    });
    expect(ok.status).toBe(200);
    expect(ok.body.entry[1].resource.id).toBe(existing.body.id);
    expect(ok.body.entry[1].response.status).toBe('200 OK');
    expect(ok.body.entry[2].response.status).toBe('204 No Content');
    expect((await t.fetch(`${t.base}/Patient/${doomed.body.id}`)).status).toBe(410);
  });

  it('a batch runs entries independently and reports each outcome', async () => {
    const { status, body } = await send('POST', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: { resourceType: 'Patient', name: [{ family: 'BatchOk' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 'sometimes' as 'male', extra: 1 }, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient?family=batchok' } },
        { request: { method: 'GET', url: 'Patient/nope' } },
      ],
    });
    expect(status).toBe(200);
    expect(body.type).toBe('batch-response');
    expect(body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '400', '200 OK', '404']);
    expect(body.entry[1].response.outcome.resourceType).toBe('OperationOutcome');
    expect(body.entry[2].resource.total).toBe(1);
  });

  // ~3,600 batch entries with ifNoneExist and three patients' transactions: on one backend
  // (bulkLoadBackend). Three patients prove the conditional references; all fourteen took a
  // minute more of CI for the same proof (bulk loading speed is scripts/bench's business).
  if (backend === bulkLoadBackend(backends)) it('loads the HIV data: batch reference data with ifNoneExist, then transactions with conditional references', async () => {
    const files = readdirSync(HIV_DIR).filter((f) => f.endsWith('.json')).sort();
    const shared = files.filter((f) => /Information/.test(f));
    const patients = files.filter((f) => !/Information/.test(f)).slice(0, 3);
    // The hospital file twice proves ifNoneExist; loading every shared file twice would only double the time.
    const again = shared.filter((f) => f.startsWith('hospital'));
    for (const file of [...shared, ...again, ...patients]) {
      const res = await t.fetch(t.base, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: readFileSync(new URL(file, HIV_DIR)) });
      const body = (await res.json()) as Bundle;
      expect({ file, status: res.status }).toEqual({ file, status: 200 });
      expect(body.entry?.every((e) => /^20[01]/.test(e.response?.status ?? ''))).toBe(true);
    }
    // Loading the shared reference data twice created nothing twice (ifNoneExist).
    const orgs = JSON.parse(readFileSync(new URL(shared.find((f) => f.startsWith('hospital'))!, HIV_DIR), 'utf8')) as Bundle;
    expect(await count('Organization?identifier:missing=false')).toBeGreaterThanOrEqual(orgs.entry!.filter((e) => e.resource?.resourceType === 'Organization').length);
    const enc = (await (await t.fetch(`${t.base}/Encounter?_count=1`)).json()) as Bundle<any>;
    const provider = enc.entry![0].resource.serviceProvider?.reference as string;
    expect(provider).toMatch(/^Organization\/[0-9a-f-]{36}$/);
    expect((await t.fetch(`${t.base}/${provider}`)).status).toBe(200);
  }, 420_000);

  it('a conditional reference that matches nothing fails the transaction with 412', async () => {
    const { status } = await send('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Patient', generalPractitioner: [{ reference: 'Practitioner?identifier=urn:nowhere|0' }] }, request: { method: 'POST', url: 'Patient' } }],
    });
    expect(status).toBe(412);
  });

  it('ID-01/ID-02: a Patient claiming the CN profile must carry a resident ID number with a valid check character', async () => {
    const good = { resourceType: 'Patient', meta: { profile: [CN_PATIENT] }, name: [{ text: '张三' }], gender: 'female', birthDate: '1949-12-31', identifier: [{ system: ID_SYSTEM, value: '11010519491231002X' }] };
    expect((await send('POST', '/Patient', good)).status).toBe(201);
    const badCheck = await send('POST', '/Patient', { ...good, identifier: [{ system: ID_SYSTEM, value: '110105194912310021' }] });
    expect(badCheck.status).toBe(400);
    expect(badCheck.body.issue[0].expression).toEqual(['Patient.identifier']);
    const wrongSex = await send('POST', '/Patient', { ...good, gender: 'male' });
    expect(wrongSex.status).toBe(400);
    const noGender = await send('POST', '/Patient', { ...good, gender: undefined });
    expect(noGender.status).toBe(400);
    // Without the profile claim the same bad number is only base-R4 checked.
    expect((await send('POST', '/Patient', { ...good, meta: undefined, identifier: [{ system: ID_SYSTEM, value: '110105194912310021' }] })).status).toBe(201);
  });

  it('refuses a code outside its required ValueSet, naming the element and the allowed codes', async () => {
    const before = await count('Observation?code=bad-status-probe');
    const bad = await send('POST', '/Observation', { resourceType: 'Observation', status: 'not-a-status', code: { coding: [{ code: 'bad-status-probe' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.issue).toEqual([
      {
        severity: 'error',
        code: 'code-invalid',
        diagnostics:
          "Observation.status: 'not-a-status' is not one of the codes of http://hl7.org/fhir/ValueSet/observation-status (registered, preliminary, final, amended, corrected, cancelled, entered-in-error, unknown)",
        expression: ['Observation.status'],
      },
    ]);
    expect(await count('Observation?code=bad-status-probe')).toBe(before);
  });

  it('$validate reports problems without storing anything', async () => {
    const before = await count('Patient?family=validate-only');
    const bad = await send('POST', '/Patient/$validate', { resourceType: 'Patient', name: [{ family: 'validate-only' }], birthDate: '2020-02-30x' });
    expect(bad.status).toBe(200);
    expect(bad.body.issue.some((i: any) => i.severity === 'error' && i.expression?.[0] === 'Patient.birthDate')).toBe(true);
    const good = await send('POST', '/Patient/$validate', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', name: [{ family: 'validate-only' }] } }] });
    expect(good.body.issue.every((i: any) => i.severity !== 'error')).toBe(true);
    expect(await count('Patient?family=validate-only')).toBe(before);
  });
});
