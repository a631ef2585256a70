// Federation pull sync when a source misbehaves (issue point 7): a source that times out, answers
// 500 or 429, sends a body that is not JSON, sends resources that fail validation, pages in a
// loop, or drops the connection half-way does not stop the other sources and loses nothing
// already stored; bad resources are quarantined with the reason (an OperationOutcome) and
// reported per source (`suhe sources status`).
//
// The well-behaved source is a real Suhe instance on 127.0.0.1. nock is used only to make the
// misbehaving sources misbehave: they live on fake `.test` hosts, every other host but 127.0.0.1
// is refused, and real traffic to the hubs on 127.0.0.1 passes through untouched.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, CapabilityStatement, Observation, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import nock from 'nock';
import { parseArgs } from '../../server/src/cli/args.js';
import { sourcesCommand } from '../../server/src/cli/sources-command.js';
import type { PullResult } from '../../server/src/federation/pull.js';
import type { RetryPolicy } from '../../server/src/federation/source-client.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('federation-failures');

// Fast, but with a per-request timeout that a real hub on 127.0.0.1 answers well within.
// (a loaded CI machine answering a bulk export's polls and files takes more than a second at times).
const RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 3_000, timeoutMs: 4_000 };
// How long the "slow" source takes to answer: far beyond RETRY.timeoutMs.
const NEVER_IN_TIME_MS = 15_000;
const PAGE_SIZE = 2;
const FHIR_JSON = { 'content-type': 'application/fhir+json' };

const CAPABILITY: CapabilityStatement = {
  resourceType: 'CapabilityStatement', status: 'active', date: '2026-01-01', kind: 'instance', fhirVersion: '4.0.1', format: ['json'],
  rest: [{ mode: 'server', resource: [{ type: 'Patient', interaction: [{ code: 'search-type' }] }, { type: 'Observation', interaction: [{ code: 'search-type' }, { code: 'history-type' }] }] }],
};

/** A source-side meta.lastUpdated, ordered by `n`. */
const stamp = (n: number) => `2026-03-01T08:00:${String(n).padStart(2, '0')}.000Z`;

function observation(id: string, n: number): Observation {
  return {
    resourceType: 'Observation', id, meta: { versionId: '1', lastUpdated: stamp(n) }, status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    effectiveDateTime: '2026-02-28T09:00:00+08:00',
    valueQuantity: { value: 60 + n, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  };
}

function patient(id: string, n: number): Patient {
  return { resourceType: 'Patient', id, meta: { versionId: '1', lastUpdated: stamp(n) }, name: [{ family: '周', given: ['敏'] }], gender: 'female', birthDate: '1984-05-06' };
}

function outcome(diagnostics: string, code: 'transient' | 'throttled' = 'transient'): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

/** A searchset page as a FHIR server sends it. */
function searchset(self: string, resources: Resource[], next?: string): Bundle {
  return {
    resourceType: 'Bundle', type: 'searchset',
    link: [{ relation: 'self', url: self }, ...(next ? [{ relation: 'next', url: next }] : [])],
    entry: resources.map((r) => ({ fullUrl: `${self.split('?')[0]}/${r.id}`, resource: r, search: { mode: 'match' as const } })),
  };
}

const emptyHistory = (self: string): Bundle => ({ resourceType: 'Bundle', type: 'history', total: 0, link: [{ relation: 'self', url: self }], entry: [] });

// nock: refuse every host but the real hubs on 127.0.0.1 (so a fake source with no interceptor left
// fails like an unreachable host instead of leaking to the network).
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect((host) => /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host));
});
afterEach(() => {
  nock.abortPendingRequests(); // the slow source's delayed answers: no timer outlives its test
  nock.cleanAll();
});
afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});

describe.each(backends)('federation sources that misbehave, on %s', (backend) => {
  const t = useTestHub(backend);
  let real: TestHub;
  const REAL = 'real-clinic';
  let realEndpoint = '';
  const fakes: string[] = [];

  interface FakeSource {
    name: string;
    base: string;
    endpointId: string;
    scope: nock.Scope;
  }

  /** A source on a fake host that nock answers for (auth none, small pages). */
  const addFake = async (name: string, types: string[]): Promise<FakeSource> => {
    const origin = `http://${name}.test`;
    const base = `${origin}/fhir`;
    const added = await t.hub.federation.sources.add({ name, baseUrl: base, organizationName: `${name} (misbehaving test source)`, auth: 'none', types, pageSize: PAGE_SIZE, ratePerSecond: 1000 });
    fakes.push(name);
    const scope = nock(origin).defaultReplyHeaders(FHIR_JSON);
    scope.get('/fhir/metadata').reply(200, CAPABILITY);
    return { name, base, endpointId: added.endpointId, scope };
  };

  const sync = (name: string): Promise<PullResult> => t.hub.federation.sync(name, { retry: RETRY });

  /** What the hub holds from a source: `Type/sourceId` → hub id. */
  const held = async (endpointId: string): Promise<Map<string, string>> => {
    const rows = await t.hub.db.query<{ resource_type: string; source_id: string; hub_id: string }>(
      'select resource_type, source_id, hub_id from fed_map where endpoint_id = $1 and arrived and not deleted order by resource_type, source_id',
      [endpointId],
    );
    return new Map(rows.map((r) => [`${r.resource_type}/${r.source_id}`, r.hub_id]));
  };

  const checkpointOf = async (endpointId: string, type: string): Promise<string | null | undefined> => {
    const [row] = await t.hub.db.query<{ last_updated: string | null }>('select last_updated from fed_checkpoint where endpoint_id = $1 and resource_type = $2', [endpointId, type]);
    return row?.last_updated;
  };

  const lastRun = async (endpointId: string) => {
    const [row] = await t.hub.db.query<{ status: string; fetched: number; stored: number; quarantined: number; error: string | null; finished_at: Date | null }>(
      'select status, fetched, stored, quarantined, error, finished_at from fed_run where endpoint_id = $1 order by id desc limit 1',
      [endpointId],
    );
    expect(row?.finished_at).toBeTruthy(); // the run was closed, whatever happened in it
    return row;
  };

  /** The hub's copy of a source record, read over the hub's REST API. */
  const hubRead = async <T extends Resource>(type: string, hubId: string | undefined): Promise<T> => {
    expect(hubId).toBeDefined();
    const res = await t.fetch(`${t.base}/${type}/${hubId}`);
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };

  /** The fake source answers one search page whose second Observation has no `code` (1..1 in R4). */
  const mixedPageSource = async (name: string) => {
    const src = await addFake(name, ['Observation']);
    const bad: Record<string, unknown> = { ...observation('bad-obs', 2) };
    delete bad.code;
    src.scope.get('/fhir/Observation').query(true).reply(200, searchset(`${src.base}/Observation?_count=${PAGE_SIZE}`, [observation('good-obs', 1), bad as unknown as Observation]));
    const result = await sync(name);
    return { src, bad, result };
  };

  beforeAll(async () => {
    // The well-behaved source: a real Suhe instance with a patient and two observations.
    real = await startTestHub('pglite');
    const put = (r: Resource) => ({ fullUrl: `${r.resourceType}/${r.id}`, resource: r, request: { method: 'PUT' as const, url: `${r.resourceType}/${r.id}` } });
    const subject = { reference: 'Patient/real-p1' };
    const bundle: Bundle = {
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        put({ resourceType: 'Patient', id: 'real-p1', name: [{ family: '陈', given: ['晓东'] }], gender: 'male', birthDate: '1966-09-10' }),
        put({ ...observation('real-o1', 1), meta: undefined, subject }),
        put({ ...observation('real-o2', 2), meta: undefined, subject }),
      ],
    };
    const res = await real.fetch(real.base, { method: 'POST', headers: FHIR_JSON, body: JSON.stringify(bundle) });
    expect(res.status).toBe(200);
    const added = await t.hub.federation.sources.add({
      name: REAL, baseUrl: real.base, organizationName: 'real clinic (test)', auth: 'client-credentials', clientId: real.admin.clientId, secret: real.admin.secret, scope: 'system/*.rs',
      types: ['Patient', 'Observation'], pageSize: PAGE_SIZE, ratePerSecond: 1000,
    });
    realEndpoint = added.endpointId;
  });

  // Each test's fake sources go away after it, so syncAll sees only the sources of its own test.
  afterEach(async () => {
    for (const name of fakes.splice(0)) await t.hub.federation.sources.remove(name);
  });

  afterAll(async () => {
    await real?.close();
  });

  it('a source whose search answers 500 twice and then succeeds is retried, and its data stored', async () => {
    const src = await addFake('flaky-500', ['Observation']);
    let searches = 0;
    src.scope.get('/fhir/Observation').query(true).times(2).reply(() => {
      searches++;
      return [500, outcome('database busy')];
    });
    src.scope.get('/fhir/Observation').query(true).reply(() => {
      searches++;
      return [200, searchset(`${src.base}/Observation?_count=${PAGE_SIZE}`, [observation('o1', 1), observation('o2', 2)])];
    });

    const result = await sync(src.name);
    expect(result.status).toBe('ok');
    expect(result.error).toBeUndefined();
    expect(result.types).toEqual([expect.objectContaining({ type: 'Observation', fetched: 2, created: 2, quarantined: 0 })]);
    expect(result.types[0].error).toBeUndefined();
    expect(searches).toBe(3);
    expect(src.scope.pendingMocks()).toEqual([]);

    const stored = await held(src.endpointId);
    expect([...stored.keys()]).toEqual(['Observation/o1', 'Observation/o2']);
    const o1 = await hubRead<Observation>('Observation', stored.get('Observation/o1'));
    expect(o1.meta?.source).toBe(`Endpoint/${src.endpointId}`);
    expect(o1.valueQuantity?.value).toBe(61);
    expect(await lastRun(src.endpointId)).toMatchObject({ status: 'ok', stored: 2, error: null });
  });

  it('a 429 with Retry-After: 1 is honoured: the retry waits about a second, and the sync succeeds', async () => {
    const src = await addFake('busy-429', ['Observation']);
    const at: number[] = [];
    src.scope.get('/fhir/Observation').query(true).reply(() => {
      at.push(Date.now());
      return [429, outcome('too many requests', 'throttled'), { 'Retry-After': '1' }];
    });
    src.scope.get('/fhir/Observation').query(true).reply(() => {
      at.push(Date.now());
      return [200, searchset(`${src.base}/Observation?_count=${PAGE_SIZE}`, [observation('o1', 1)])];
    });

    const result = await sync(src.name);
    expect(result.status).toBe('ok');
    expect(result.types[0]).toMatchObject({ type: 'Observation', created: 1 });
    expect(at).toHaveLength(2);
    // A lower bound on behaviour (the source asked for 1 s; the backoff alone is <= 50 ms), not a timing budget.
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(900);
    expect(src.scope.pendingMocks()).toEqual([]);
    expect([...(await held(src.endpointId)).keys()]).toEqual(['Observation/o1']);
  });

  it('a source that never answers in time fails with a timeout; a real source synced in the same syncAll is ok and stored', async () => {
    const slow = await addFake('slow', ['Observation']);
    slow.scope
      .get('/fhir/Observation')
      .query(true)
      .times(RETRY.attempts)
      .delay(NEVER_IN_TIME_MS)
      .reply(200, searchset(`${slow.base}/Observation`, [observation('late', 1)]));

    const results = await t.hub.federation.syncAll({ retry: RETRY });
    expect(results.map((r) => r.source).sort()).toEqual([REAL, 'slow']);
    const slowResult = results.find((r) => r.source === 'slow')!;
    const realResult = results.find((r) => r.source === REAL)!;

    expect(slowResult.status).toBe('failed');
    expect(slowResult.error).toMatch(new RegExp(`no answer within ${RETRY.timeoutMs} ms`));
    expect(slowResult.types).toEqual([expect.objectContaining({ type: 'Observation', fetched: 0, error: expect.stringMatching(new RegExp(`slow: GET Observation\\?.*no answer within ${RETRY.timeoutMs} ms`)) })]);
    // Every attempt was made (and each one timed out).
    expect(slow.scope.pendingMocks()).toEqual([]);
    expect(await held(slow.endpointId)).toEqual(new Map());
    expect(await lastRun(slow.endpointId)).toMatchObject({ status: 'failed', error: expect.stringMatching(new RegExp(`no answer within ${RETRY.timeoutMs} ms`)) });

    expect(realResult.status).toBe('ok');
    expect(realResult.error).toBeUndefined();
    const stored = await held(realEndpoint);
    expect([...stored.keys()]).toEqual(['Observation/real-o1', 'Observation/real-o2', 'Patient/real-p1']);
    const p = await hubRead<Patient>('Patient', stored.get('Patient/real-p1'));
    expect(p.name?.[0].family).toBe('陈');
    const o = await hubRead<Observation>('Observation', stored.get('Observation/real-o2'));
    expect(o.subject?.reference).toBe(`Patient/${stored.get('Patient/real-p1')}`);
    expect(await lastRun(realEndpoint)).toMatchObject({ status: 'ok', stored: 3, error: null });
  });

  it('a 200 whose body is not JSON is retried, then that type fails with a clear message; the other types of the source still sync (partial)', async () => {
    const src = await addFake('garbled', ['Patient', 'Observation']);
    let observationAttempts = 0;
    src.scope.get('/fhir/Observation').query(true).times(RETRY.attempts).reply(() => {
      observationAttempts++;
      return [200, '{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Obs'];
    });
    src.scope.get('/fhir/Patient').query(true).reply(200, searchset(`${src.base}/Patient?_count=${PAGE_SIZE}`, [patient('p1', 1)]));

    const result = await sync(src.name);
    expect(result.status).toBe('partial');
    expect(observationAttempts).toBe(RETRY.attempts);
    expect(src.scope.pendingMocks()).toEqual([]);
    const obs = result.types.find((r) => r.type === 'Observation')!;
    expect(obs.error).toMatch(/garbled: GET Observation\?.*the answer is not JSON/);
    expect(obs.fetched).toBe(0);
    const patients = result.types.find((r) => r.type === 'Patient')!;
    expect(patients).toMatchObject({ fetched: 1, created: 1 });
    expect(patients.error).toBeUndefined();
    expect(result.error).toMatch(/^Observation: .*not JSON/);

    expect([...(await held(src.endpointId)).keys()]).toEqual(['Patient/p1']);
    expect(await checkpointOf(src.endpointId, 'Patient')).toBe(stamp(1));
    expect(await checkpointOf(src.endpointId, 'Observation')).toBeUndefined();
    expect(await lastRun(src.endpointId)).toMatchObject({ status: 'partial', stored: 1, error: expect.stringMatching(/Observation: .*not JSON/) });
  });

  it('a page with one valid and one invalid resource: the valid one is stored, the invalid one quarantined with an OperationOutcome, and the source status reports it', async () => {
    const { src, bad, result } = await mixedPageSource('mixed');
    expect(result.status).toBe('ok');
    expect(result.types).toEqual([expect.objectContaining({ type: 'Observation', fetched: 2, created: 1, quarantined: 1 })]);
    expect(result.types[0].error).toBeUndefined();
    expect(src.scope.pendingMocks()).toEqual([]);

    const stored = await held(src.endpointId);
    expect([...stored.keys()]).toEqual(['Observation/good-obs']);
    expect((await hubRead<Observation>('Observation', stored.get('Observation/good-obs'))).code.coding?.[0].code).toBe('8867-4');

    const rows = await t.hub.db.query<{ resource_type: string; source_id: string; content: unknown; outcome: OperationOutcome }>(
      'select resource_type, source_id, content, outcome from fed_quarantine where endpoint_id = $1',
      [src.endpointId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ resource_type: 'Observation', source_id: 'bad-obs' });
    expect(rows[0].content).toEqual(bad); // kept as the source sent it
    expect(rows[0].outcome.resourceType).toBe('OperationOutcome');
    expect(rows[0].outcome.issue[0].severity).toBe('error');
    expect(rows[0].outcome.issue.map((i) => `${i.diagnostics ?? ''} ${(i.expression ?? []).join(' ')}`).join(' ')).toMatch(/\bcode\b/);

    const status = await t.hub.federation.sources.status('mixed');
    expect(status.quarantined).toBe(1);
    expect(status.mapped).toBe(1);
    expect(status.recentQuarantine).toEqual([expect.objectContaining({ type: 'Observation', sourceId: 'bad-obs', reason: expect.stringMatching(/\bcode\b/) })]);
    // The run of the source says so too.
    expect(status.lastRuns[0]).toMatchObject({ kind: 'pull', status: 'ok', fetched: 2, stored: 1, quarantined: 1 });
    expect(await lastRun(src.endpointId)).toMatchObject({ status: 'ok', fetched: 2, stored: 1, quarantined: 1 });
  });

  it('`suhe sources status NAME` shows the quarantined record with its reason, and the run that quarantined it', async () => {
    const { result } = await mixedPageSource('mixed-cli');
    expect(result.types[0]).toMatchObject({ created: 1, quarantined: 1 });
    const lines: string[] = [];
    const code = await sourcesCommand(t.hub, parseArgs(['sources', 'status', 'mixed-cli']), {}, (line) => lines.push(line));
    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^mixed-cli \(active\) Endpoint\/\S+ http:\/\/mixed-cli\.test\/fhir$/);
    expect(lines).toContainEqual(expect.stringMatching(/^\s+1 records held, 1 quarantined$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\s+pull \S+ ok: 2 fetched, 1 stored, 0 unchanged, 0 deleted, 1 quarantined$/));
    const quarantineLine = lines.find((l) => /^\s+quarantined /.test(l));
    expect(quarantineLine).toMatch(/^\s+quarantined Observation\/bad-obs at \d{4}-\d\d-\d\dT\S+: .*\bcode\b/);
    expect(lines).toContainEqual(expect.stringMatching(/^\s+checkpoint Observation: 2026-03-01T08:00:02\.000Z$/));
  });

  it('paging links that loop: the type fails saying so, what arrived before is stored with its checkpoint, and a re-sync resumes from the checkpoint', async () => {
    const src = await addFake('looping', ['Observation']);
    const page2 = `${src.base}/Observation?_sort=_lastUpdated&_count=${PAGE_SIZE}&_page=2`;
    const firstQueries: string[] = [];
    src.scope
      .get('/fhir/Observation')
      .query((q) => q._page === undefined)
      .reply((uri) => {
        firstQueries.push(uri);
        return [200, searchset(`${src.base}/Observation?_sort=_lastUpdated&_count=${PAGE_SIZE}`, [observation('o1', 1), observation('o2', 2)], page2)];
      });
    // Page 2's next link points back at itself (page 1's next URL): the source loops.
    src.scope.get('/fhir/Observation').query((q) => q._page === '2').reply(200, searchset(page2, [observation('o3', 3), observation('o4', 4)], page2));

    const first = await sync(src.name);
    expect(first.status).toBe('failed');
    expect(first.types[0].error).toMatch(/paging links loop/);
    expect(first.types[0]).toMatchObject({ fetched: 4, created: 4 });
    expect(src.scope.pendingMocks()).toEqual([]); // and no third page was asked for (it would have had no answer)
    expect(new URL(firstQueries[0], src.base).searchParams.get('_lastUpdated')).toBeNull();
    expect(await lastRun(src.endpointId)).toMatchObject({ status: 'failed', stored: 4, error: expect.stringMatching(/loop/) });

    // Nothing already received is lost: both pages and the checkpoint of the last one committed.
    const before = await held(src.endpointId);
    expect([...before.keys()]).toEqual(['Observation/o1', 'Observation/o2', 'Observation/o3', 'Observation/o4']);
    await hubRead<Observation>('Observation', before.get('Observation/o1'));
    const checkpoint = await checkpointOf(src.endpointId, 'Observation');
    expect(checkpoint).toBe(stamp(4));

    // The source is fixed: the next sync asks from the checkpoint on.
    src.scope.get('/fhir/metadata').reply(200, CAPABILITY);
    const resumed: string[] = [];
    src.scope.get('/fhir/Observation').query(true).reply((uri) => {
      resumed.push(uri);
      return [200, searchset(`${src.base}${uri.replace(/^\/fhir/, '')}`, [observation('o4', 4), observation('o5', 5)])];
    });
    src.scope.get('/fhir/Observation/_history').query(true).reply((uri) => [200, emptyHistory(`${src.base}${uri.replace(/^\/fhir/, '')}`)]);

    const second = await sync(src.name);
    expect(second.status).toBe('ok');
    expect(second.types[0]).toMatchObject({ fetched: 2, created: 1, unchanged: 1 });
    expect(second.types[0].error).toBeUndefined();
    expect(src.scope.pendingMocks()).toEqual([]);
    expect(resumed).toHaveLength(1);
    const query = new URL(resumed[0], src.base).searchParams;
    expect(query.get('_lastUpdated')).toBe(`ge${checkpoint}`);
    expect(query.get('_sort')).toBe('_lastUpdated');

    const after = await held(src.endpointId);
    expect([...after.keys()]).toEqual(['Observation/o1', 'Observation/o2', 'Observation/o3', 'Observation/o4', 'Observation/o5']);
    for (const [key, hubId] of before) expect(after.get(key)).toBe(hubId);
    expect(await checkpointOf(src.endpointId, 'Observation')).toBe(stamp(5));
  });

  it('a source that fails mid-way (page 1 ok, page 2 a connection error every attempt): page 1 is stored and the checkpoint is its last lastUpdated', async () => {
    const src = await addFake('drops', ['Observation']);
    const page2 = `${src.base}/Observation?_sort=_lastUpdated&_count=${PAGE_SIZE}&_page=2`;
    src.scope.get('/fhir/Observation').query((q) => q._page === undefined).reply(200, searchset(`${src.base}/Observation?_sort=_lastUpdated&_count=${PAGE_SIZE}`, [observation('o1', 1), observation('o2', 2)], page2));
    src.scope.get('/fhir/Observation').query((q) => q._page === '2').times(RETRY.attempts).replyWithError(Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' }));

    const result = await sync(src.name);
    expect(result.status).toBe('failed');
    expect(result.types[0]).toMatchObject({ type: 'Observation', fetched: 2, created: 2 });
    expect(result.types[0].error).toMatch(/drops: GET .*_page=2.*cannot connect \(.*ECONNRESET.*\)/);
    expect(src.scope.pendingMocks()).toEqual([]); // every attempt at page 2 was made

    const stored = await held(src.endpointId);
    expect([...stored.keys()]).toEqual(['Observation/o1', 'Observation/o2']);
    expect((await hubRead<Observation>('Observation', stored.get('Observation/o2'))).valueQuantity?.value).toBe(62);
    expect(await checkpointOf(src.endpointId, 'Observation')).toBe(stamp(2));
    expect(await lastRun(src.endpointId)).toMatchObject({ status: 'failed', fetched: 2, stored: 2, error: expect.stringMatching(/cannot connect/) });
  });
});
