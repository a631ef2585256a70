// Every search query class is served by an index: the SQL the hub actually sends for each class
// (recorded at the database interface while the request runs over HTTP) is EXPLAINed with
// sequential scans disabled, and any Seq Scan left on `resource` or an index table fails the test.
// With seq scans off the planner still picks one when NO index can serve the query, so this
// catches a query class that lost its index (a new condition shape, a dropped index), on data of
// any size. The plans the planner really chooses at scale are in docs/PERFORMANCE.md
// (`npm run bench:search`).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle } from '@medplum/fhirtypes';
import { availableBackends } from '../helpers/parts.js';
import { recordStatements, type RecordedStatement } from '../helpers/statement-recorder.js';
import { useTestHub } from '../helpers/use-hub.js';

const SYNTHEA = resolve(fileURLToPath(new URL('../../..', import.meta.url)), 'shared/testdata/fhir/synthea/smart');
const backends = await availableBackends('search-plans');

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

const TABLES = /^(resource|idx_\w+)$/;

describe.each(backends)('search query plans on %s', (backend) => {
  const t = useTestHub(backend, { auth: { rateLimit: { capacity: 10000, perSecond: 1000 } } });
  let patient = '';
  let practitioner = '';
  let recorded: RecordedStatement[] = [];

  beforeAll(async () => {
    // The three smallest Synthea patients: every type and reference shape the classes below use.
    const files = readdirSync(SYNTHEA)
      .filter((f) => f.endsWith('.json'))
      .sort((a, b) => statSync(join(SYNTHEA, a)).size - statSync(join(SYNTHEA, b)).size)
      .slice(0, 3);
    for (const file of files) {
      const res = await t.fetch(t.base, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: readFileSync(join(SYNTHEA, file)) });
      expect(res.status).toBe(200);
    }
    const first = (await (await t.fetch(`${t.base}/Patient?_count=1`)).json()) as Bundle;
    patient = first.entry![0].resource!.id!;
    const doctor = (await (await t.fetch(`${t.base}/Practitioner?_count=1`)).json()) as Bundle;
    practitioner = doctor.entry![0].resource!.id!;
    await t.hub.db.query('analyze');
    recorded = recordStatements(t.hub.db);
  });

  /** The search statements one request sends (reads of `resource` or an index table, not writes). */
  const statementsOf = async (path: string): Promise<{ sql: string; params: unknown[] }[]> => {
    recorded.length = 0;
    const res = await t.fetch(`${t.base}/${path}`);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    await res.text();
    const read = (sql: string) => /^\s*(select|with [pm] as)/i.test(sql) && /from (resource|idx_)/.test(sql) && !/\b(insert|update|delete)\b/i.test(sql);
    return recorded.filter((s) => read(s.sql));
  };

  const planOf = async (sql: string, params: unknown[]): Promise<PlanNode> =>
    t.hub.db.transaction(async (tx) => {
      await tx.query('set local enable_seqscan = off');
      const [row] = await tx.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${sql}`, params);
      const json = row['QUERY PLAN'];
      return ((typeof json === 'string' ? JSON.parse(json) : json) as { Plan: PlanNode }[])[0].Plan;
    });

  const CLASSES: [label: string, index: string, path: () => string][] = [
    ['token: identifier', 'idx_token_search', () => 'Patient?identifier=https://github.com/synthetichealth/synthea|x'],
    ['token: code and subject', 'idx_token_search', () => `Observation?code=http://loinc.org|8302-2&subject=Patient/${patient}`],
    ['string: name prefix', 'idx_string_search', () => 'Patient?name=ab'],
    ['date: range with prefix', 'idx_date_search', () => 'Observation?date=ge2015-01-01&date=lt2016-01-01'],
    ['quantity', 'idx_quantity_search', () => 'Observation?value-quantity=gt100'],
    ['composite', 'idx_composite_search', () => 'Observation?code-value-quantity=http://loinc.org|8302-2$gt100'],
    ['chain: one level', 'idx_string_search', () => 'Observation?subject:Patient.name=ab'],
    ['chain: two levels', 'idx_string_search', () => 'Encounter?subject.general-practitioner.name=ab'],
    ['_has', 'idx_token_search', () => 'Patient?_has:Observation:patient:code=8302-2'],
    ['_include', 'idx_reference_search', () => `Encounter?subject=Patient/${patient}&_include=Encounter:participant`],
    ['_revinclude', 'idx_reference_target', () => `Patient?_id=${patient}&_revinclude=Observation:subject`],
    ['compartment search', 'idx_reference_search', () => `Patient/${patient}/Observation`],
    ['$everything', 'idx_reference_target', () => `Patient/${patient}/$everything?_count=50`],
    ['_sort and keyset page', 'idx_date_probe', () => 'Observation?_sort=-date&_count=5'],
    ['system search', 'resource_keys|resource_pkey', () => `?_type=Patient,Practitioner&_id=${patient},${practitioner}`],
    // Either reference index serves it: the target index now carries (res_type, res_id, param).
    ['reverse reference', 'idx_reference_(search|target)', () => `Encounter?participant=Practitioner/${practitioner}`],
  ];

  it('answers a one-filter page and its total in one statement (no round trip for the count)', async () => {
    for (const path of ['Observation?code=http://loinc.org|8302-2&_count=1', `Observation?subject=Patient/${patient}&_count=2`]) {
      recorded.length = 0;
      const bundle = (await (await t.fetch(`${t.base}/${path}`)).json()) as Bundle;
      const searches = recorded.filter((s) => /from (resource|idx_)/.test(s.sql) && !/\b(insert|update|delete)\b/i.test(s.sql));
      expect({ path, statements: searches.length, total: bundle.total! > bundle.entry!.length }).toEqual({ path, statements: 1, total: true });
      // The next page counts in the same statement too.
      const next = bundle.link!.find((l) => l.relation === 'next')!.url;
      recorded.length = 0;
      const page2 = (await (await t.fetch(next)).json()) as Bundle;
      expect(page2.total).toBe(bundle.total);
      expect(recorded.filter((s) => /from (resource|idx_)/.test(s.sql) && !/\b(insert|update|delete)\b/i.test(s.sql))).toHaveLength(1);
    }
  });

  it.each(CLASSES)('%s uses indexes only (led by %s)', async (_label, index, path) => {
    const used = new Set<string>();
    const statements = await statementsOf(path());
    expect(statements.length).toBeGreaterThan(0);
    for (const { sql, params } of statements) {
      const plan = nodes(await planOf(sql, params));
      const scans = plan.filter((n) => n['Node Type'] === 'Seq Scan' && TABLES.test(n['Relation Name'] ?? '')).map((n) => n['Relation Name']);
      expect({ sql: sql.slice(0, 160), scans }).toEqual({ sql: sql.slice(0, 160), scans: [] });
      expect(plan.some((n) => /Index/.test(n['Node Type']))).toBe(true);
      for (const n of plan) if (n['Index Name']) used.add(n['Index Name']);
    }
    // The class's selective condition is served by its own search index, not by probing every row.
    expect({ path: path(), used: [...used].some((u) => new RegExp(`^(${index})$`).test(u)) }).toEqual({ path: path(), used: true });
  });
});
