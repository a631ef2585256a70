// Durability, on PGlite and on PostgreSQL: the real hub runs as a child process, takes a steady
// stream of creates and transaction Bundles, and is killed with SIGKILL while writes are in flight.
// Restarted on the same data, it must still hold every write it acknowledged (2xx), and no
// transaction may be half-written, whether it was acknowledged or not.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../helpers/hub.js';
import { spawnHub, type SpawnedHub } from '../helpers/spawn-hub.js';
import { availableBackends } from '../helpers/parts.js';

const backends = await availableBackends('durability');

const SYSTEM = 'urn:suhe:test:durability';
/** Acknowledged writes of each kind before the kill; the bound only stops a hang. */
const MIN_ACKED = 8;
const ACK_BOUND_MS = 60_000;
const CREATE_WRITERS = 4;
const TRANSACTION_WRITERS = 4;
const CHECK_CONCURRENCY = 8;
const TIMEOUT = 180_000;
const FHIR_JSON = { 'content-type': 'application/fhir+json' };

type Json = any; // FHIR JSON as it comes over the wire

type State = 'pending' | 'acked' | 'rejected' | 'failed';

interface CreateAttempt {
  key: string;
  state: State;
  inFlightAtKill: boolean;
  status?: number;
  /** The resource the 201 answered with (absent when the connection broke inside the body). */
  resource?: Json;
  id?: string;
  error?: string;
}

interface TransactionAttempt {
  key: string;
  /** Identifier values: the Patient, then the two Observations. */
  values: [string, string, string];
  state: State;
  inFlightAtKill: boolean;
  status?: number;
  /** The created resources, in entry order, from the transaction-response. */
  resources?: Json[];
  error?: string;
}

function patientFor(value: string, note: string): Json {
  return {
    resourceType: 'Patient',
    identifier: [{ system: SYSTEM, value }],
    name: [{ family: 'Durable', given: [note] }],
    gender: 'unknown',
    birthDate: '1980-02-29',
  };
}

function transactionFor(values: [string, string, string], n: number): Json {
  const [p, o1, o2] = [randomUUID(), randomUUID(), randomUUID()];
  const observation = (fullUrl: string, value: string, reading: number) => ({
    fullUrl: `urn:uuid:${fullUrl}`,
    resource: {
      resourceType: 'Observation',
      status: 'final',
      identifier: [{ system: SYSTEM, value }],
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
      subject: { reference: `urn:uuid:${p}` },
      valueQuantity: { value: reading, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    },
    request: { method: 'POST', url: 'Observation' },
  });
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: `urn:uuid:${p}`, resource: patientFor(values[0], `tx ${n}`), request: { method: 'POST', url: 'Patient' } },
      observation(o1, values[1], 60 + (n % 40)),
      observation(o2, values[2], 61 + (n % 40)),
    ],
  };
}

async function readJson(res: Response): Promise<Json> {
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

/** Runs `work` on each item with at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

describe.each(backends)('durability on %s: kill -9 during writes, restart on the same data', (backend) => {
  const run = randomBytes(4).toString('hex');
  const children: ChildProcess[] = [];
  let dataDir: string;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let restarted: SpawnedHub;
  let killOutput = '';
  const creates: CreateAttempt[] = [];
  const transactions: TransactionAttempt[] = [];
  /** What every identifier value matched after the restart (filled by the identifier checks). */
  const matches = new Map<string, Json[]>();

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await restarted.fetch(path ? `${restarted.base}/${path}` : restarted.base, {
      method,
      headers: body === undefined ? {} : FHIR_JSON,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, body: await readJson(res) };
  };

  const search = async (type: string, value: string): Promise<Json[]> => {
    const res = await call('GET', `${type}?identifier=${encodeURIComponent(`${SYSTEM}|${value}`)}&_count=10`);
    if (res.status !== 200) throw new Error(`search ${type} ${value}: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body.entry ?? []).map((e: Json) => e.resource);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'suhe-durability-'));
    if (backend === 'postgres') database = await createTestDatabase();
    const first = await spawnHub(dataDir, database?.url, children);

    // A steady stream of writes from several concurrent clients.
    let stopping = false;
    let sequence = 0;
    const createWriter = async () => {
      while (!stopping) {
        const attempt: CreateAttempt = { key: `${run}-c${++sequence}`, state: 'pending', inFlightAtKill: false };
        creates.push(attempt);
        try {
          const res = await first.fetch(`${first.base}/Patient`, {
            method: 'POST',
            headers: FHIR_JSON,
            body: JSON.stringify(patientFor(attempt.key, `create ${attempt.key}`)),
            signal: AbortSignal.timeout(20_000),
          });
          attempt.status = res.status;
          attempt.state = res.status >= 200 && res.status < 300 ? 'acked' : 'rejected';
          attempt.id = /\/Patient\/([^/]+)\/_history\//.exec(res.headers.get('location') ?? '')?.[1];
          attempt.resource = await readJson(res);
          attempt.id = attempt.resource?.id ?? attempt.id;
        } catch (err) {
          if (attempt.state === 'pending') attempt.state = 'failed';
          attempt.error = String((err as Error).cause ?? (err as Error).message);
        }
      }
    };
    const transactionWriter = async () => {
      while (!stopping) {
        const n = ++sequence;
        const key = `${run}-t${n}`;
        const attempt: TransactionAttempt = { key, values: [`${key}-p`, `${key}-o1`, `${key}-o2`], state: 'pending', inFlightAtKill: false };
        transactions.push(attempt);
        try {
          const res = await first.fetch(first.base, {
            method: 'POST',
            headers: FHIR_JSON,
            body: JSON.stringify(transactionFor(attempt.values, n)),
            signal: AbortSignal.timeout(20_000),
          });
          attempt.status = res.status;
          attempt.state = res.status >= 200 && res.status < 300 ? 'acked' : 'rejected';
          const body = await readJson(res);
          if (attempt.state === 'acked') attempt.resources = body.entry.map((e: Json) => e.resource);
          else attempt.error = JSON.stringify(body);
        } catch (err) {
          if (attempt.state === 'pending') attempt.state = 'failed';
          attempt.error = String((err as Error).cause ?? (err as Error).message);
        }
      }
    };
    const writers = [...Array.from({ length: CREATE_WRITERS }, createWriter), ...Array.from({ length: TRANSACTION_WRITERS }, transactionWriter)];

    // Write until a good number of each kind has been acknowledged (counted, not timed: a busy
    // machine only takes longer), then kill once a create and a transaction are both on the wire.
    const acked = (list: { state: string }[]) => list.filter((a) => a.state === 'acked').length;
    const enoughBy = Date.now() + ACK_BOUND_MS;
    while (Date.now() < enoughBy && (acked(creates) < MIN_ACKED || acked(transactions) < MIN_ACKED)) await new Promise((r) => setTimeout(r, 20));
    const waitUntil = Date.now() + 1000;
    while (Date.now() < waitUntil && !(creates.some((a) => a.state === 'pending') && transactions.some((a) => a.state === 'pending'))) {
      await new Promise((r) => setImmediate(r));
    }
    first.child.kill('SIGKILL');
    for (const a of [...creates, ...transactions]) if (a.state === 'pending') a.inFlightAtKill = true;
    stopping = true;
    const exit = await first.exited;
    await Promise.all(writers);
    killOutput = first.output.join('');
    expect(exit.signal).toBe('SIGKILL');

    restarted = await spawnHub(dataDir, database?.url, children);
    const count = (list: { state: State }[], state: State) => list.filter((a) => a.state === state).length;
    const createsInFlight = creates.filter((a) => a.inFlightAtKill);
    const transactionsInFlight = transactions.filter((a) => a.inFlightAtKill);
    process.stdout.write(
      `durability on ${backend}: first start ${first.startMs} ms; ` +
        `${creates.length} creates sent, ${count(creates, 'acked')} acknowledged; ` +
        `${transactions.length} transactions sent, ${count(transactions, 'acked')} acknowledged; ` +
        `in flight at kill: ${createsInFlight.length} creates, ${transactionsInFlight.length} transactions ` +
        `(${count([...createsInFlight, ...transactionsInFlight], 'acked')} of them still got their 2xx); ` +
        `restart ready in ${restarted.startMs} ms\n`,
    );
    const banner = /^(Suhe |\s+(FHIR API|Capabilities|Patients|Health|Durability:|a power failure)\s)/;
    const unusual = restarted.output
      .join('')
      .split('\n')
      .filter((line) => line.trim() && !banner.test(line));
    if (unusual.length) process.stdout.write(`durability on ${backend}: the restarted hub printed:\n${unusual.join('\n')}\n`);
  }, TIMEOUT);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : undefined)));
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, TIMEOUT);

  it('took a steady stream of acknowledged writes and was killed with writes in flight', () => {
    expect(killOutput).not.toMatch(/error/i);
    const rejected = [...creates, ...transactions].filter((a) => a.state === 'rejected').map((a) => `${a.key}: ${a.status} ${a.error ?? ''}`);
    expect(rejected).toEqual([]); // nothing but 2xx before the kill
    expect(creates.filter((a) => a.state === 'acked').length).toBeGreaterThanOrEqual(MIN_ACKED);
    expect(transactions.filter((a) => a.state === 'acked').length).toBeGreaterThanOrEqual(MIN_ACKED);
    expect([...creates, ...transactions].filter((a) => a.inFlightAtKill).length).toBeGreaterThan(0);
    expect([...creates, ...transactions].filter((a) => a.state === 'pending')).toEqual([]);
  });

  it('every acknowledged create is readable with the content it was acknowledged with', async () => {
    const problems: string[] = [];
    await eachLimited(
      creates.filter((a) => a.state === 'acked'),
      CHECK_CONCURRENCY,
      async (a) => {
        if (!a.id) return void problems.push(`${a.key}: acknowledged without a Location or id`);
        const read = await call('GET', `Patient/${a.id}`);
        if (read.status !== 200) return void problems.push(`${a.key}: Patient/${a.id} answers ${read.status}`);
        if (a.resource) {
          try {
            expect(read.body).toEqual(a.resource);
          } catch {
            problems.push(`${a.key}: Patient/${a.id} differs: acknowledged ${JSON.stringify(a.resource)}, read ${JSON.stringify(read.body)}`);
          }
        } else if (read.body.identifier?.[0]?.value !== a.key) problems.push(`${a.key}: Patient/${a.id} has another identifier`);
      },
    );
    expect(problems).toEqual([]);
  }, TIMEOUT);

  it('every acknowledged transaction is there in full, references intact', async () => {
    const problems: string[] = [];
    await eachLimited(
      transactions.filter((a) => a.state === 'acked' && a.resources),
      CHECK_CONCURRENCY,
      async (a) => {
        const [patient, ...observations] = a.resources!;
        for (const acknowledged of a.resources!) {
          const read = await call('GET', `${acknowledged.resourceType}/${acknowledged.id}`);
          if (read.status !== 200) problems.push(`${a.key}: ${acknowledged.resourceType}/${acknowledged.id} answers ${read.status}`);
          else {
            try {
              expect(read.body).toEqual(acknowledged);
            } catch {
              problems.push(`${a.key}: ${acknowledged.resourceType}/${acknowledged.id} differs from what was acknowledged`);
            }
          }
        }
        for (const observation of observations) {
          if (observation.subject?.reference !== `Patient/${patient.id}`) problems.push(`${a.key}: Observation/${observation.id} points at ${observation.subject?.reference}`);
        }
      },
    );
    expect(problems).toEqual([]);
  }, TIMEOUT);

  it('every transaction, acknowledged or not, is all there or not there at all', async () => {
    const problems: string[] = [];
    let committedUnacknowledged = 0;
    await eachLimited(transactions, CHECK_CONCURRENCY, async (a) => {
      const found = await Promise.all(a.values.map((value, i) => search(i === 0 ? 'Patient' : 'Observation', value)));
      a.values.forEach((value, i) => matches.set(value, found[i]));
      const counts = found.map((list) => list.length);
      if (counts.some((c) => c > 1)) problems.push(`${a.key} (${a.state}): duplicates ${counts.join('/')}`);
      const present = counts.filter((c) => c > 0).length;
      if (present !== 0 && present !== 3) problems.push(`${a.key} (${a.state}): half-written, Patient/Observation/Observation found ${counts.join('/')}`);
      if (a.state === 'acked' && present !== 3) problems.push(`${a.key}: acknowledged but found ${counts.join('/')}`);
      if (a.state === 'acked' && a.resources && present === 3) {
        const ids = found.map((list) => list[0]?.id);
        if (ids.join() !== a.resources.map((r) => r.id).join()) problems.push(`${a.key}: the identifiers find ${ids.join()}, acknowledged ${a.resources.map((r) => r.id).join()}`);
      }
      if (present === 3) {
        const patientId = found[0][0].id;
        for (const obs of [found[1][0], found[2][0]]) {
          if (obs.subject?.reference !== `Patient/${patientId}`) problems.push(`${a.key}: Observation/${obs.id} points at ${obs.subject?.reference}, not Patient/${patientId}`);
        }
        if (a.state !== 'acked') committedUnacknowledged++;
      }
    });
    await eachLimited(creates, CHECK_CONCURRENCY, async (a) => {
      const found = await search('Patient', a.key);
      matches.set(a.key, found);
      if (found.length > 1) problems.push(`${a.key} (${a.state}): ${found.length} Patients`);
      if (a.state === 'acked' && (found.length !== 1 || (a.id && found[0].id !== a.id))) {
        problems.push(`${a.key}: acknowledged as Patient/${a.id}, the identifier finds ${found.map((r) => r.id).join() || 'nothing'}`);
      }
      if (a.state !== 'acked' && found.length === 1) committedUnacknowledged++;
    });
    process.stdout.write(`durability on ${backend}: ${committedUnacknowledged} unacknowledged writes turned out committed (all in full)\n`);
    expect(problems).toEqual([]);
  }, TIMEOUT);

  it('nothing else was written: every stored resource belongs to one whole write, none lacks its search index', async () => {
    const all = async (type: string) => {
      const out: Json[] = [];
      let next: string | undefined = `${restarted.base}/${type}${type.includes('?') ? '&' : '?'}_count=1000`;
      while (next) {
        const res = await restarted.fetch(next, { signal: AbortSignal.timeout(30_000) });
        expect(res.status).toBe(200);
        const page = await readJson(res);
        out.push(...(page.entry ?? []).map((e: Json) => e.resource));
        next = page.link?.find((l: Json) => l.relation === 'next')?.url;
      }
      return out;
    };
    const stored = [...(await all('Patient')), ...(await all('Observation'))];
    const problems: string[] = [];
    for (const resource of stored) {
      const value = resource.identifier?.find((i: Json) => i.system === SYSTEM)?.value;
      const found = value === undefined ? undefined : matches.get(value);
      if (!found) problems.push(`${resource.resourceType}/${resource.id} with identifier ${value} was never sent`);
      else if (!found.some((r) => r.id === resource.id)) problems.push(`${resource.resourceType}/${resource.id} is stored but its identifier does not find it`);
    }
    const expected = [...matches.values()].reduce((n, list) => n + list.length, 0);
    expect(problems).toEqual([]);
    expect(stored.length).toBe(expected);
    // The database is this test's alone: one history row per stored resource, no stray version.
    let versions = 0;
    for (const type of ['Patient', 'Observation']) {
      const history = await call('GET', `${type}/_history?_count=1`);
      expect(history.status).toBe(200);
      versions += history.body.total;
    }
    expect(versions).toBe(stored.length);
    // Each write stored its AuditEvent in the same transaction: every stored resource has its
    // create event, and no create event names a resource that is not stored.
    const createEvents = await all('AuditEvent?subtype=create');
    const audited = new Set(createEvents.flatMap((e) => (e.entity ?? []).filter((x: Json) => x.role?.code === '4').map((x: Json) => x.what?.reference)));
    const missing = stored.map((r) => `${r.resourceType}/${r.id}`).filter((ref) => ![...audited].some((a) => a?.startsWith(`${ref}/_history/`) || a === ref));
    expect(missing).toEqual([]);
    expect(audited.size).toBe(stored.length);
  }, TIMEOUT);

  it('the history of every stored resource holds exactly its one version', async () => {
    const problems: string[] = [];
    // What the identifiers find, and what was acknowledged (even if a search were to miss it).
    const byKey = new Map<string, Json>();
    const acknowledged = [
      ...creates.filter((a) => a.state === 'acked' && a.resource).map((a) => a.resource),
      ...transactions.flatMap((a) => (a.state === 'acked' && a.resources) || []),
    ];
    for (const resource of [...[...matches.values()].flat(), ...acknowledged]) byKey.set(`${resource.resourceType}/${resource.id}`, resource);
    const stored = [...byKey.values()];
    expect(stored.length).toBeGreaterThan(0);
    await eachLimited(stored, CHECK_CONCURRENCY, async (resource) => {
      const history = await call('GET', `${resource.resourceType}/${resource.id}/_history`);
      if (history.status !== 200) return void problems.push(`${resource.resourceType}/${resource.id}/_history answers ${history.status}`);
      const entries = history.body.entry ?? [];
      if (!(history.body.total >= 1) || history.body.total !== entries.length) {
        return void problems.push(`${resource.resourceType}/${resource.id}/_history: total ${history.body.total}, ${entries.length} entries`);
      }
      if (history.body.total !== 1 || entries[0].request?.method !== 'POST' || entries[0].resource?.meta?.versionId !== '1') {
        problems.push(`${resource.resourceType}/${resource.id}/_history: ${entries.map((e: Json) => `${e.request?.method} v${e.resource?.meta?.versionId}`).join(', ')}`);
      }
      const vread = await call('GET', `${resource.resourceType}/${resource.id}/_history/1`);
      if (vread.status !== 200 || vread.body.meta.lastUpdated !== resource.meta.lastUpdated) problems.push(`${resource.resourceType}/${resource.id}/_history/1 answers ${vread.status}`);
    });
    expect(problems).toEqual([]);
  }, TIMEOUT);

  it('the restarted hub takes new creates and transactions', async () => {
    const ready = await fetch(restarted.base.replace(/\/fhir$/, '/readyz'));
    expect(ready.status).toBe(200);
    const key = `${run}-after`;
    const created = await call('POST', 'Patient', patientFor(key, 'after restart'));
    expect(created.status).toBe(201);
    expect((await call('GET', `Patient/${created.body.id}`)).body).toEqual(created.body);
    const values: [string, string, string] = [`${key}-p`, `${key}-o1`, `${key}-o2`];
    const tx = await call('POST', '', transactionFor(values, 0));
    expect(tx.status).toBe(200);
    expect(tx.body.entry.map((e: Json) => e.response.status)).toEqual(['201 Created', '201 Created', '201 Created']);
    const observations = await search('Observation', values[1]);
    expect(observations).toHaveLength(1);
    expect(observations[0].subject.reference).toBe(`Patient/${tx.body.entry[0].resource.id}`);

    // And a clean stop after the restart works too.
    restarted.child.kill('SIGTERM');
    const exit = await restarted.exited;
    expect(exit.code).toBe(0);
  }, TIMEOUT);
});
