// FHIR REST interactions against input built to hurt (found by probing them): each answers a 4xx
// OperationOutcome that says what is wrong, never a 500, and stores nothing.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('rest-hostile-input');

describe.each(backends)('hostile REST requests on %s', (backend) => {
  const t = useTestHub(backend);
  let patientId = '';
  const send = async (method: string, path: string, body?: string) => {
    const res = await t.fetch(`${t.base}/${path}`, { method, headers: { 'content-type': 'application/fhir+json' }, body });
    return { status: res.status, body: (await res.json()) as any };
  };
  const expectOutcome = (what: string, res: { status: number; body: any }, status: number, says: string) => {
    const outcome = res.body as OperationOutcome;
    expect({ what, status: res.status, type: outcome.resourceType, text: JSON.stringify(outcome.issue) }).toEqual({ what, status, type: 'OperationOutcome', text: expect.stringContaining(says) });
  };
  const patients = async () => (await send('GET', 'Patient?_summary=count')).body.total as number;

  beforeAll(async () => {
    patientId = (await send('POST', 'Patient', JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Hostile' }] }))).body.id;
  });

  it('a version id beyond any integer is a 404, not a database error', async () => {
    expectOutcome('huge version', await send('GET', `Patient/${patientId}/_history/99999999999999999999999`), 404, 'has no version');
    expect((await send('GET', `Patient/${patientId}/_history/1`)).status).toBe(200);
  });

  it('history answers _at and _list, which it does not support, with a 400 instead of ignoring them', async () => {
    for (const path of ['Patient/_history?_at=2020', `Patient/${patientId}/_history?_list=x`]) {
      expectOutcome(path, await send('GET', path), 400, 'History does not support');
    }
  });

  it('a history cursor beyond bigint is a 400', async () => {
    for (const path of ['Patient/_history?_cursor=99999999999999999999999', '_history?_cursor=9223372036854775808']) {
      expectOutcome(path, await send('GET', path), 400, '_cursor is not valid');
    }
    expect((await send('GET', '_history?_cursor=9223372036854775807')).status).toBe(200);
  });

  it('Bundle entries that are not objects, or requests with fields of the wrong type, are a 400 naming the entry', async () => {
    const bundle = (entry: unknown) => JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry });
    expectOutcome('null entry', await send('POST', '', bundle([null])), 400, 'Bundle.entry[0] must be an object');
    expectOutcome('number entry', await send('POST', '', bundle([{ request: { method: 'GET', url: 'Patient' } }, 5])), 400, 'Bundle.entry[1] must be an object');
    expectOutcome('entry not a list', await send('POST', '', bundle({ request: { method: 'GET', url: 'Patient' } })), 400, 'Bundle.entry must be a list');
    expectOutcome('url a number', await send('POST', '', bundle([{ request: { method: 'GET', url: 123 } }])), 400, 'needs a method');
    expectOutcome('method an object', await send('POST', '', bundle([{ request: { method: { x: 1 }, url: 'Patient' } }])), 400, 'needs a method');
    expectOutcome('ifMatch a number', await send('POST', '', bundle([{ request: { method: 'DELETE', url: `Patient/${patientId}`, ifMatch: 1 } }])), 400, 'ifMatch must be a string');
  });

  it('an operation called with malformed Parameters is a 400, $validate included', async () => {
    for (const parameter of [5, [null], [{ name: 5 }]]) {
      const body = JSON.stringify({ resourceType: 'Parameters', parameter });
      for (const path of ['Appointment/$book', `Patient/${patientId}/$everything`, 'Patient/$validate']) {
        const res = await send('POST', path, body);
        expect({ path, parameter, status: res.status, type: res.body.resourceType }).toEqual({ path, parameter, status: 400, type: 'OperationOutcome' });
      }
    }
  });

  it('two entries with one fullUrl are a 400 (bdl-7) and store nothing', async () => {
    const before = await patients();
    const entry = { fullUrl: 'urn:uuid:0f9c3e43-7a0e-4b6e-9d7f-2f3f0b6c1a11', resource: { resourceType: 'Patient', name: [{ family: 'Twice' }] }, request: { method: 'POST', url: 'Patient' } };
    expectOutcome('repeated fullUrl', await send('POST', '', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [entry, entry] })), 400, 'repeats that of Bundle.entry[0]');
    expect(await patients()).toBe(before);
  });

  it('a NUL character in a Bundle entry\'s url fails that entry with a 400, as over HTTP', async () => {
    const res = await send('POST', '', JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient/%00' } }, { request: { method: 'GET', url: `Patient/${patientId}` } }] }));
    expect(res.status).toBe(200);
    const statuses = (res.body as Bundle).entry!.map((e) => e.response!.status.slice(0, 3));
    expect(statuses).toEqual(['400', '200']);
    expect(JSON.stringify((res.body as Bundle).entry![0].response!.outcome)).toContain('NUL character');
  });

  it('a body nested more than 100 deep is a 400 and stores nothing', async () => {
    const before = await patients();
    const nested = `{"resourceType":"Patient","contained":[${'{"resourceType":"Patient","contained":['.repeat(5000)}${']}'.repeat(5000)}]}`;
    expectOutcome('5,000 contained levels', await send('POST', 'Patient', nested), 400, 'more than 100 deep');
    const arrays = `{"resourceType":"Patient","extension":${'['.repeat(101)}${']'.repeat(101)}}`;
    expectOutcome('101 arrays', await send('POST', 'Patient', arrays), 400, 'more than 100 deep');
    expect(await patients()).toBe(before);
  });

  it('a batch of 500 reads leaves other requests their turn: /healthz answers while it runs', async () => {
    const batch = JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: Array(500).fill({ request: { method: 'GET', url: `Patient/${patientId}` } }) });
    let batchDone = false;
    const running = send('POST', '', batch).then((res) => {
      batchDone = true;
      return res;
    });
    let answeredMeanwhile = 0;
    while (!batchDone) {
      const res = await fetch(`${t.url}/healthz`);
      await res.text();
      if (!batchDone) answeredMeanwhile++;
    }
    expect((await running).status).toBe(200);
    // Before, the whole batch ran without giving I/O a turn on PGlite: one or two answers at most.
    expect(answeredMeanwhile).toBeGreaterThan(20);
  });
});
