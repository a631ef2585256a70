// A search of one positive index filter in the default order (server/src/fhir/search/match-set-page.ts)
// picks its page either by walking the type in creation order (when matches are common) or by
// probing each match (when they are rare). Both must give the same pages as the plain definition:
// every match exactly once, in creation order, with the same total on every page. The data is
// built so that each query takes the branch it names, and the plan (EXPLAIN ANALYZE) proves it.
// On PGlite the hub keeps the general statement, and the same pages are checked.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { availableBackends } from '../helpers/parts.js';
import { recordStatements, type RecordedStatement } from '../helpers/statement-recorder.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('search-match-set-page');

interface PlanNode {
  'Node Type': string;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];
/** Whether any node of this subtree ran (EXPLAIN ANALYZE marks the others with 0 loops). */
const ran = (plan: PlanNode) => nodes(plan).every((n) => (n['Actual Loops'] ?? 0) > 0);

describe.each(backends)('one-filter search pages on %s', (backend) => {
  const t = useTestHub(backend, { auth: { rateLimit: { capacity: 10000, perSecond: 1000 } } });
  /** Ids by family, in the order they were created; and the Observation of each patient. */
  const patientsOf = new Map<string, string[]>();
  const observationsOf = new Map<string, string[]>();
  let recorded: RecordedStatement[] = [];

  const create = async (resource: Resource): Promise<string> => {
    const res = await t.fetch(`${t.base}/${resource.resourceType}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) });
    expect(res.status).toBe(201);
    return ((await res.json()) as Resource).id!;
  };

  beforeAll(async () => {
    // 40 patients, every other one "Dense"; then 4 "Rare" ones at the end. One Observation each.
    const families = [...Array.from({ length: 40 }, (_, i) => (i % 2 ? 'Other' : 'Dense')), 'Rare', 'Rare', 'Rare', 'Rare'];
    for (const family of families) {
      const patient = await create({ resourceType: 'Patient', name: [{ family, given: ['Test'] }] });
      const observation = await create({ resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${patient}` } });
      patientsOf.set(family, [...(patientsOf.get(family) ?? []), patient]);
      observationsOf.set(family, [...(observationsOf.get(family) ?? []), observation]);
    }
    await t.hub.db.query('analyze');
    recorded = recordStatements(t.hub.db);
  });

  /** Every page of `path` with `_count=3`: the ids in order, each page's total, and the first page's statement. */
  const pages = async (path: string) => {
    const ids: string[] = [];
    const totals: number[] = [];
    let url: string | undefined = `${t.base}/${path}&_count=3`;
    recorded.length = 0;
    while (url) {
      const res = await t.fetch(url);
      expect(res.status).toBe(200);
      const bundle = (await res.json()) as Bundle;
      ids.push(...(bundle.entry ?? []).map((e) => e.resource!.id!));
      totals.push(bundle.total!);
      url = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
    const statement = recorded.find((s) => s.sql.startsWith('with m as materialized'));
    return { ids, totals, statement };
  };

  /** Which way the statement picked its page: 'walk' or 'probe' (the other branch never ran). */
  const branchOf = async (statement: { sql: string; params: unknown[] }) => {
    const [row] = await t.hub.db.query<{ 'QUERY PLAN': unknown }>(`explain (analyze, format json) ${statement.sql}`, statement.params);
    const json = row['QUERY PLAN'];
    const plan = ((typeof json === 'string' ? JSON.parse(json) : json) as { Plan: PlanNode }[])[0].Plan;
    const append = nodes(plan).find((n) => n['Node Type'] === 'Append')!;
    const [walked, probed] = append.Plans!;
    expect(ran(walked) !== ran(probed)).toBe(true);
    return ran(walked) ? 'walk' : 'probe';
  };

  it.each([
    ['a common name', 'walk', 'Patient?name=dense', () => patientsOf.get('Dense')!],
    ['a rare name', 'probe', 'Patient?name=rare', () => patientsOf.get('Rare')!],
    ['a chain to a common name', 'walk', 'Observation?subject:Patient.name=dense', () => observationsOf.get('Dense')!],
    ['a chain to a rare name', 'probe', 'Observation?subject.name=rare', () => observationsOf.get('Rare')!],
  ])('%s (%s): every match once, in creation order, the same total on every page', async (_label, branch, path, expected) => {
    const { ids, totals, statement } = await pages(path);
    expect(ids).toEqual(expected());
    expect(new Set(totals)).toEqual(new Set([expected().length]));
    // PGlite keeps the general statement (sql.ts CompileOptions): same pages, no branch to check.
    if (backend === 'pglite') {
      expect(statement).toBeUndefined();
      return;
    }
    expect(statement).toBeDefined();
    expect(await branchOf(statement!)).toBe(branch);
  });

  it('identifiers, references to a patient, and chains ending in one keep the general statement (their matches are few, or one record)', async () => {
    const patient = patientsOf.get('Dense')![0];
    await t.fetch(`${t.base}/Patient/${patient}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', id: patient, identifier: [{ system: 'urn:test', value: 'p0' }], name: [{ family: 'Dense', given: ['Test'] }] }),
    });
    for (const path of ['Patient?identifier=urn:test|p0', 'Observation?subject:Patient.identifier=urn:test|p0', `Observation?subject=Patient/${patient}`, `Observation?patient=${patient}`]) {
      const { ids, statement } = await pages(path);
      expect({ path, found: ids.length, matchSet: statement !== undefined }).toEqual({ path, found: 1, matchSet: false });
    }
  });

  it('a later page walks on from the cursor, and resources created while paging come last', async () => {
    const first = (await (await t.fetch(`${t.base}/Patient?name=dense&_count=5`)).json()) as Bundle;
    const created = await create({ resourceType: 'Patient', name: [{ family: 'Dense' }] });
    const ids = first.entry!.map((e) => e.resource!.id!);
    let url = first.link?.find((l) => l.relation === 'next')?.url;
    while (url) {
      const bundle = (await (await t.fetch(url)).json()) as Bundle;
      ids.push(...bundle.entry!.map((e) => e.resource!.id!));
      url = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
    expect(ids).toEqual([...patientsOf.get('Dense')!, created]);
  });
});
