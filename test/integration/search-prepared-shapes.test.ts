// On PostgreSQL a search's SQL goes out as a named (prepared) statement, one name per shape
// (db/statement-names.ts): the hub's text for a shape must not change with the values asked, or
// every request would prepare a new statement. This records what the hub sends for searches that
// differ only in their values, and checks: they share one name once the text has repeated; the
// answers stay right once PostgreSQL has switched to a reused (generic) plan (after five runs);
// and the name really leaves a prepared statement on the connection. PGlite ignores names.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle } from '@medplum/fhirtypes';
import { NAME_AFTER, shapeStatementName } from '../../server/src/db/statement-names.js';
import { availableBackends } from '../helpers/parts.js';
import { recordStatements, type RecordedStatement } from '../helpers/statement-recorder.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = (await availableBackends('search-prepared-shapes')).filter((b) => b === 'postgres');
if (!backends.length) process.stdout.write('SKIPPED (search-prepared-shapes): it checks PostgreSQL prepared statements and PostgreSQL is not here\n');
const SYSTEM = 'urn:test:prepared-shapes';
const PATIENTS = 8;

describe.each(backends)('prepared search shapes on %s', (backend) => {
  const t = useTestHub(backend);
  const ids: string[] = [];
  let recorded: RecordedStatement[] = [];

  beforeAll(async () => {
    for (let k = 0; k < PATIENTS; k++) {
      const res = await t.fetch(`${t.base}/Patient`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: SYSTEM, value: `p-${k}` }] }),
      });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
      // Patient k has k Observations: each answer below has its own size.
      for (let n = 0; n < k; n++) {
        const obs = await t.fetch(`${t.base}/Observation`, {
          method: 'POST',
          headers: { 'content-type': 'application/fhir+json' },
          body: JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: `o-${n}` }, subject: { reference: `Patient/${ids[k]}` } }),
        });
        expect(obs.status).toBe(201);
      }
    }
    recorded = recordStatements(t.hub.db);
  });

  const search = async (path: string): Promise<{ bundle: Bundle; statements: RecordedStatement[] }> => {
    recorded.length = 0;
    const res = await t.fetch(`${t.base}/${path}`);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    const bundle = (await res.json()) as Bundle;
    return { bundle, statements: recorded.filter((s) => /from (resource|idx_)/.test(s.sql) && !/\binsert\b/i.test(s.sql)) };
  };

  it('sends one named statement for searches that differ only in their values, and answers each right', async () => {
    const names: (string | undefined)[] = [];
    // Twice round: PostgreSQL plans the first five runs of a prepared statement for their values,
    // then may reuse one plan for all; the answers must not change when it does.
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < PATIENTS; k++) {
        const { bundle, statements } = await search(`Patient?identifier=${encodeURIComponent(`${SYSTEM}|p-${k}`)}`);
        expect((bundle.entry ?? []).map((e) => e.resource!.id)).toEqual([ids[k]]);
        expect(statements).toHaveLength(1);
        names.push(statements[0].name);
      }
    }
    // Unnamed until the text has run NAME_AFTER times, then always the same name.
    expect(names.slice(0, NAME_AFTER - 1)).toEqual(Array(NAME_AFTER - 1).fill(undefined));
    expect(new Set(names.slice(NAME_AFTER - 1)).size).toBe(1);
    expect(names[NAME_AFTER - 1]).toMatch(/^suhe_shape_[0-9a-f]{20}$/);
  });

  it('names the _revinclude statement too, whatever the number of rows left to include', async () => {
    const includeNames: (string | undefined)[] = [];
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < PATIENTS; k++) {
        const { bundle, statements } = await search(`Patient?_id=${ids[k]}&_revinclude=Observation:subject`);
        const included = (bundle.entry ?? []).filter((e) => e.search?.mode === 'include');
        expect({ k, included: included.length }).toEqual({ k, included: k });
        for (const s of statements.filter((s) => /join idx_reference/.test(s.sql) || /from idx_reference/.test(s.sql))) includeNames.push(s.name);
      }
    }
    expect(includeNames).toHaveLength(2 * PATIENTS);
    expect(new Set(includeNames.slice(NAME_AFTER - 1)).size).toBe(1);
    expect(includeNames[NAME_AFTER - 1]).toMatch(/^suhe_shape_/);
  });

  it('leaves the named statement prepared on the connection that ran it', async () => {
    const { statements } = await search(`Patient?identifier=${encodeURIComponent(`${SYSTEM}|p-0`)}`);
    const { sql, params, name } = statements[0];
    expect(name).toBe(shapeStatementName(sql));
    const prepared = await t.hub.db.transaction(async (tx) => {
      await tx.query(sql, params, { name });
      return tx.query<{ statement: string }>('select statement from pg_prepared_statements where name = $1', [name]);
    });
    expect(prepared.map((p) => p.statement)).toEqual([sql]);
  });
});
