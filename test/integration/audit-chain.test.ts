// The tamper-evident audit trail end to end: a hub process writes AuditEvents, `suhe audit verify`
// confirms the hash chain, and then the database is edited behind the hub's back (an AuditEvent's
// content changed, a chain row removed) and the same command names the first broken link. Also:
// the append-only triggers, and the AuditEvent each write stores with it. PGlite and PostgreSQL.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { PGlite } from '@electric-sql/pglite';
import type { AuditEvent, Bundle, Patient } from '@medplum/fhirtypes';
import pg from 'pg';
import { pruneAuditEvents, sealPending, verifyAuditChain } from '../../server/src/audit/chain-store.js';
import type { SqlExecutor } from '../../server/src/db/database.js';
import { createTestDatabase } from '../helpers/hub.js';
import { availableBackends } from '../helpers/parts.js';
import { ROOT, spawnHub, type SpawnedHub } from '../helpers/spawn-hub.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('audit chain');
const FHIR_JSON = { 'content-type': 'application/fhir+json' };
const APPEND_ONLY = /append-only/;

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'suhe-audit-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function suhe(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, SUHE_LOG_LEVEL: 'warn' };
  delete env.SUHE_DATABASE_URL;
  const run = spawnSync(process.execPath, ['bin/suhe.js', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, output: `${run.stdout}${run.stderr}` };
}

/** Direct SQL on the hub's database while no hub runs, as an operator (or an intruder) with database access would. */
interface Sql extends SqlExecutor {
  /** Runs `work` in one transaction; rolled back if it throws. */
  transaction(work: (tx: SqlExecutor) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

async function openSql(target: { dataDir: string; databaseUrl?: string }): Promise<Sql> {
  if (target.databaseUrl) {
    const client = new pg.Client({ connectionString: target.databaseUrl });
    await client.connect();
    const query = async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[];
    return {
      query,
      async transaction(work) {
        await client.query('begin');
        try {
          await work({ query });
          await client.query('commit');
        } catch (err) {
          await client.query('rollback');
          throw err;
        }
      },
      close: () => client.end(),
    };
  }
  // The hub must have stopped: PGlite's files belong to one process at a time.
  const db = new PGlite(join(target.dataDir, 'pglite'));
  await db.waitReady;
  const executor = (runner: Pick<PGlite, 'query'>): SqlExecutor => ({
    query: async <T>(sql: string, params: unknown[] = []) => (await runner.query<T>(sql, params)).rows,
  });
  return {
    ...executor(db),
    transaction: async (work) => void (await db.transaction((tx) => work(executor(tx)))),
    close: () => db.close(),
  };
}

async function withSql<T>(target: { dataDir: string; databaseUrl?: string }, work: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = await openSql(target);
  try {
    return await work(sql);
  } finally {
    await sql.close();
  }
}

/** Edits a stored row the way the triggers cannot see: replication role skips ordinary triggers (superuser only). */
const bypassingTriggers = (sql: Sql, work: (tx: SqlExecutor) => Promise<void>) =>
  sql.transaction(async (tx) => {
    await tx.query('set local session_replication_role = replica');
    await work(tx);
  });

describe.each(backends)('suhe audit verify on %s', (backend) => {
  it('verifies the chain a hub wrote, then names the first tampered link: content-changed, then missing-row', async () => {
    const dataDir = tempDir();
    let databaseUrl: string | undefined;
    if (backend === 'postgres') {
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      databaseUrl = database.url;
    }
    const target = { dataDir, databaseUrl };
    const where = databaseUrl ? ['--database', databaseUrl] : ['--data-dir', dataDir];

    // A hub process, some writes and reads, a clean stop (which flushes and seals the audit queue).
    const hub: SpawnedHub = await spawnHub(dataDir, databaseUrl, children);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await hub.fetch(`${hub.base}/${path}`, { method, headers: body ? FHIR_JSON : {}, body: body ? JSON.stringify(body) : undefined });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
    };
    const created = await call('POST', 'Patient', { resourceType: 'Patient', name: [{ family: '赵', given: ['敏'] }], gender: 'female' });
    expect(created.status).toBe(201);
    const id = created.body!.id as string;
    expect((await call('GET', `Patient/${id}`)).status).toBe(200);
    expect((await call('PUT', `Patient/${id}`, { ...created.body, birthDate: '1980-02-29' })).status).toBe(200);
    expect((await call('POST', 'Observation', {
      resourceType: 'Observation', status: 'final', code: { text: 'body weight' }, subject: { reference: `Patient/${id}` },
      valueQuantity: { value: 61, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    })).status).toBe(201);
    expect((await call('GET', `Observation?subject=Patient/${id}`)).status).toBe(200);
    expect((await call('GET', `Patient/${id}/_history`)).status).toBe(200);
    expect((await call('DELETE', `Patient/${id}`)).status).toBe(204);
    hub.child.kill('SIGTERM');
    expect((await hub.exited).code).toBe(0);

    const first = suhe('audit', 'verify', ...where);
    expect(first.output).toMatch(/OK: \d+ links verified/);
    expect(first.status).toBe(0);
    const links = Number(/OK: (\d+) links verified/.exec(first.stdout)![1]);
    // Token grant, 4 writes, 3 reads/searches, at least: every one of them is in the chain, nothing outside it.
    expect(links).toBeGreaterThanOrEqual(8);
    const middle = await withSql(target, async (sql) => {
      const [counts] = await sql.query<{ chained: number; events: number; pending: number }>(
        `select (select count(*) from audit_chain)::int as chained,
                (select count(*) from resource where type = 'AuditEvent')::int as events,
                (select count(*) from audit_pending)::int as pending`,
      );
      expect(counts).toEqual({ chained: links, events: links, pending: 0 });
      const [row] = await sql.query<{ position: number; resource_id: string }>(
        'select position::int as position, resource_id from audit_chain order by position offset $1 limit 1',
        [Math.floor(links / 2)],
      );
      return row;
    });
    expect(middle.position).toBeGreaterThan(1);
    expect(middle.position).toBeLessThan(links);

    // 1. Change what an AuditEvent says. The trigger refuses a plain UPDATE, and the retention
    //    setting only permits deletion; someone who can switch triggers off can still edit the row.
    const original = await withSql(target, async (sql) => {
      const sel = 'select content::text as content from resource where type = $1 and id = $2';
      const [{ content }] = await sql.query<{ content: string }>(sel, ['AuditEvent', middle.resource_id]);
      const event = JSON.parse(content) as AuditEvent;
      const edited = JSON.stringify({ ...event, outcome: event.outcome === '8' ? '0' : '8' });
      const update = 'update resource set content = $3::jsonb where type = $1 and id = $2';
      await expect(sql.query(update, ['AuditEvent', middle.resource_id, edited])).rejects.toThrow(APPEND_ONLY);
      await sql
        .transaction(async (tx) => {
          await tx.query("select set_config('suhe.audit_retention', 'on', true)");
          await tx.query(update, ['AuditEvent', middle.resource_id, edited]);
        })
        .catch(() => undefined); // refused or silently ignored: either way the content must be as it was
      expect((await sql.query<{ content: string }>(sel, ['AuditEvent', middle.resource_id]))[0].content).toBe(content);

      await bypassingTriggers(sql, (tx) => tx.query(update, ['AuditEvent', middle.resource_id, edited]).then(() => undefined));
      expect(JSON.parse((await sql.query<{ content: string }>(sel, ['AuditEvent', middle.resource_id]))[0].content).outcome).toBe(JSON.parse(edited).outcome);
      return content;
    });
    const changed = suhe('audit', 'verify', ...where);
    expect(changed.status).toBe(1);
    expect(changed.stdout).toContain(`BROKEN at position ${middle.position} (AuditEvent/${middle.resource_id}): content-changed`);
    expect(changed.stdout).toContain(`${middle.position - 1} links before it verified.`);

    // Put the content back exactly: the chain verifies again (it hashes content, not storage).
    await withSql(target, (sql) =>
      bypassingTriggers(sql, (tx) => tx.query('update resource set content = $2::jsonb where type = $3 and id = $1', [middle.resource_id, original, 'AuditEvent']).then(() => undefined)),
    );
    const restored = suhe('audit', 'verify', ...where);
    expect(restored.stdout).toContain(`OK: ${links} links verified`);
    expect(restored.status).toBe(0);

    // 2. Remove a link from the middle of the chain (the retention setting lets the delete through).
    await withSql(target, async (sql) => {
      const remove = 'delete from audit_chain where position = $1';
      await expect(sql.query(remove, [middle.position])).rejects.toThrow(APPEND_ONLY);
      await sql.transaction(async (tx) => {
        await tx.query("select set_config('suhe.audit_retention', 'on', true)");
        expect(await tx.query(`${remove} returning position`, [middle.position])).toHaveLength(1);
      });
    });
    const removed = suhe('audit', 'verify', ...where);
    expect(removed.status).toBe(1);
    expect(removed.stdout).toMatch(new RegExp(`BROKEN at position ${middle.position}\\b.*(missing-row|link-broken)`));
    expect(removed.stdout).not.toMatch(/^OK:/m);
  }, 240_000);
});

describe.each(backends)('audit records on %s', (backend) => {
  const t = useTestHub(backend);

  const post = async (resource: Record<string, unknown>) => {
    const res = await t.fetch(`${t.base}/${resource.resourceType as string}`, { method: 'POST', headers: FHIR_JSON, body: JSON.stringify(resource) });
    expect(res.status).toBe(201);
    return (await res.json()) as Patient;
  };

  const search = async (query: string): Promise<AuditEvent[]> => {
    const res = await t.fetch(`${t.base}/AuditEvent?${query}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as Bundle<AuditEvent>).entry?.map((e) => e.resource!) ?? [];
  };

  const waitFor = async <T>(probe: () => Promise<T | undefined>, what: string): Promise<T> => {
    for (const started = Date.now(); Date.now() - started < 10_000; ) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  it('AuditEvent rows cannot be updated or deleted, nor chain rows changed, without the retention setting', async () => {
    const patient = await post({ resourceType: 'Patient', name: [{ family: '孙', given: ['丽'] }] });
    const db = t.hub.db;
    const [event] = await db.query<{ id: string }>(
      `select id from resource where type = 'AuditEvent' and content @> $1::jsonb limit 1`,
      [JSON.stringify({ entity: [{ what: { reference: `Patient/${patient.id}/_history/1` } }] })],
    );
    expect(event).toBeDefined();

    await expect(db.query(`update resource set content = content || '{"outcome":"8"}' where type = 'AuditEvent' and id = $1`, [event.id])).rejects.toThrow(APPEND_ONLY);
    await expect(db.query(`update resource set deleted = true where type = 'AuditEvent' and id = $1`, [event.id])).rejects.toThrow(APPEND_ONLY);
    await expect(db.query(`delete from resource where type = 'AuditEvent' and id = $1`, [event.id])).rejects.toThrow(APPEND_ONLY);
    await expect(db.query(`delete from resource where type = 'AuditEvent'`)).rejects.toThrow(APPEND_ONLY);
    await expect(db.query(`update resource_history set content = '{}' where type = 'AuditEvent' and id = $1`, [event.id])).rejects.toThrow(APPEND_ONLY);
    await expect(db.query(`delete from resource_history where type = 'AuditEvent' and id = $1`, [event.id])).rejects.toThrow(APPEND_ONLY);

    // Once sealed, the chain row is just as fixed.
    await waitFor(async () => (await db.query('select 1 from audit_chain where resource_id = $1', [event.id])).length ? true : undefined, 'the event to be sealed');
    await expect(db.query(`update audit_chain set hash = repeat('0', 64) where resource_id = $1`, [event.id])).rejects.toThrow(APPEND_ONLY);
    await expect(db.query('delete from audit_chain where resource_id = $1', [event.id])).rejects.toThrow(APPEND_ONLY);

    // Other resources stay writable by the store, of course.
    await expect(db.query(`update resource set content = content where type = 'Patient' and id = $1`, [patient.id])).resolves.toEqual([]);

    // The retention job's way: with the setting in its transaction the delete goes through (rolled back here).
    const rollback = new Error('rollback on purpose');
    await expect(
      db.transaction(async (tx) => {
        await tx.query("select set_config('suhe.audit_retention', 'on', true)");
        expect(await tx.query(`delete from resource where type = 'AuditEvent' and id = $1 returning id`, [event.id])).toEqual([{ id: event.id }]);
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    // The setting was local to that transaction: outside it, deletion is refused again and the row is there.
    await expect(db.query(`delete from resource where type = 'AuditEvent' and id = $1`, [event.id])).rejects.toThrow(APPEND_ONLY);
    expect(await db.query(`select id from resource where type = 'AuditEvent' and id = $1`, [event.id])).toEqual([{ id: event.id }]);
  });

  it('every write stores its AuditEvent with it: create, update and delete name the version written', async () => {
    const patient = await post({ resourceType: 'Patient', name: [{ family: '周', given: ['杰'] }], gender: 'male' });
    const id = patient.id!;
    // Searched at once, with no wait: the event was committed in the write's own transaction.
    const created = await search(`entity=Patient/${id}&subtype=create`);
    expect(created).toHaveLength(1);
    const [event] = created;
    expect(event.subtype).toEqual([expect.objectContaining({ system: 'http://hl7.org/fhir/restful-interaction', code: 'create' })]);
    expect(event.action).toBe('C');
    expect(event.outcome).toBe('0');
    expect(event.entity?.map((e) => e.what?.reference)).toEqual(expect.arrayContaining([`Patient/${id}/_history/1`, `Patient/${id}`]));
    expect(event.agent.some((a) => a.who?.identifier?.value === t.admin.clientId)).toBe(true);

    // The same event found without the reference index, in case entity= did not match versioned references.
    const byType = await search('subtype=create&_count=100');
    expect(byType.filter((e) => e.entity?.some((x) => x.what?.reference === `Patient/${id}/_history/1`)).map((e) => e.id)).toEqual([event.id]);

    const read = await t.fetch(`${t.base}/Patient/${id}`);
    const updated = await t.fetch(`${t.base}/Patient/${id}`, { method: 'PUT', headers: FHIR_JSON, body: JSON.stringify({ ...(await read.json() as Patient), birthDate: '1975-06-01' }) });
    expect(updated.status).toBe(200);
    const [update] = await search(`entity=Patient/${id}&subtype=update`);
    expect(update?.action).toBe('U');
    expect(update?.entity?.map((e) => e.what?.reference)).toContain(`Patient/${id}/_history/2`);

    expect((await t.fetch(`${t.base}/Patient/${id}`, { method: 'DELETE' })).status).toBe(204);
    const [deletion] = await search(`entity=Patient/${id}&subtype=delete`);
    expect(deletion?.action).toBe('D');
    expect(deletion?.entity?.map((e) => e.what?.reference)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^Patient/${id}(/_history/\\d+)?$`))]));
  });

  it('a transaction Bundle stores one AuditEvent per entry it writes', async () => {
    const res = await t.fetch(t.base, {
      method: 'POST',
      headers: FHIR_JSON,
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:6f1c1a52-0c2e-4c55-9b0a-0c7c1b7f0001', resource: { resourceType: 'Patient', name: [{ family: '吴' }] }, request: { method: 'POST', url: 'Patient' } },
          { fullUrl: 'urn:uuid:6f1c1a52-0c2e-4c55-9b0a-0c7c1b7f0002', resource: { resourceType: 'Patient', name: [{ family: '郑' }] }, request: { method: 'POST', url: 'Patient' } },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const ids = ((await res.json()) as Bundle).entry!.map((e) => /Patient\/([^/]+)/.exec(e.response!.location!)![1]);
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      const events = await search(`entity=Patient/${id}&subtype=create`);
      expect(events).toHaveLength(1);
      expect(events[0].entity?.map((e) => e.what?.reference)).toContain(`Patient/${id}/_history/1`);
    }
  });

  it('PI-09: a search answering with several patients stores one event per patient, each found by patient and sealed', async () => {
    const family = `审计${backend}`;
    const patients = await Promise.all([1, 2, 3, 4, 5].map((n) => post({ resourceType: 'Patient', name: [{ family, given: [`第${n}`] }] })));
    const res = await t.fetch(`${t.base}/Patient?family=${encodeURIComponent(family)}&_count=50`);
    expect(((await res.json()) as Bundle).entry).toHaveLength(5);
    // The events are written as one family (index/family.ts); each must be what its patient's own
    // event would be: in that patient's compartment only, and found by the patient-keyed token
    // rows (`subtype` within `patient`, migration 011).
    const ofThisSearch = (e: AuditEvent) => e.agent?.some((a) => a.requestor && a.who?.identifier?.value === t.admin.clientId);
    const found = new Map<string, AuditEvent>();
    for (const patient of patients) {
      const events = await waitFor(async () => {
        const hits = (await search(`patient=Patient/${patient.id}&subtype=search-type`)).filter(ofThisSearch);
        return hits.length ? hits : undefined;
      }, `the search's AuditEvent of Patient/${patient.id}`);
      expect(events).toHaveLength(1);
      expect(events[0].entity?.map((e) => e.what?.reference)).toEqual([`Patient/${patient.id}`]);
      expect(JSON.stringify(events[0])).not.toContain(encodeURIComponent(family)); // the query is in the other event
      found.set(patient.id!, events[0]);
    }
    expect(new Set([...found.values()].map((e) => e.id)).size).toBe(5);
    // One more event holds the query and names no patient.
    const queries = (await search('subtype=search-type&_count=1000')).filter((e) => ofThisSearch(e) && JSON.stringify(e).includes(encodeURIComponent(family)));
    expect(queries.map((e) => e.entity?.filter((x) => x.what?.reference?.startsWith('Patient/')).length)).toEqual([0]);
    // Every one of them is linked into the hash chain and verifies.
    const ids = [...found.values(), ...queries].map((e) => e.id!);
    await waitFor(async () => ((await t.hub.db.query<{ n: number }>('select count(*)::int as n from audit_chain where resource_id = any($1::text[])', [ids]))[0].n === 6 ? true : undefined), 'the events to be sealed');
    expect((await verifyAuditChain(t.hub.db)).problem).toBeUndefined();
  });
});

describe.each(backends)('audit retention on %s (SEC-05)', (backend) => {
  const t = useTestHub(backend);

  const writePatients = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await t.fetch(`${t.base}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Patient', name: [{ family: `留存${i}` }] }) });
      expect(res.status).toBe(201);
    }
    await t.hub.audit.flush();
    while ((await sealPending(t.hub.db)) > 0);
  };

  it('pruning removes the oldest events as a prefix of the chain; the rest, and what follows, still verify from the new anchor', async () => {
    await writePatients(3);
    const before = await verifyAuditChain(t.hub.db);
    expect(before.problem).toBeUndefined();
    expect(before.checked).toBeGreaterThanOrEqual(3);

    const removed = await pruneAuditEvents(t.hub.db, new Date(Date.now() + 1000));
    expect(removed).toBe(before.checked);
    const [{ n }] = await t.hub.db.query<{ n: number }>(`select count(*)::int as n from resource where type = 'AuditEvent'`);
    const [{ c }] = await t.hub.db.query<{ c: number }>('select count(*)::int as c from audit_chain');
    expect(Number(c)).toBe(0);
    // Only events not yet sealed when the prune ran can remain.
    const afterPrune = await verifyAuditChain(t.hub.db);
    expect(Number(n)).toBeLessThanOrEqual(afterPrune.pending);
    expect(afterPrune.problem).toBeUndefined();
    expect(afterPrune.head).toEqual(before.head);

    // Outside the retention job, deleting audit records is still refused.
    await writePatients(2);
    await expect(t.hub.db.query(`delete from resource where type = 'AuditEvent'`)).rejects.toThrow(/append-only/);
    await expect(t.hub.db.query('delete from audit_chain')).rejects.toThrow(/append-only/);

    const later = await verifyAuditChain(t.hub.db);
    expect(later.problem).toBeUndefined();
    expect(later.checked).toBeGreaterThanOrEqual(2);
  });
});
