// `npm run bench:search-forms -- --db URL [--runs N]`
//
// Times the two statements a one-filter search in the default order can be answered with, on a
// database loaded by `npm run bench:search -- --keep-db NAME`: the general page statement
// (`compileGeneralSearch`, which probes every match) and the match-set statement the hub now
// sends (`compileSearch`, see server/src/fhir/search/match-set-page.ts). Both run alternately on
// one connection, so the machine's noise falls on both alike; each pair must return the same
// rows and total, or the run fails. SQL only: no HTTP, no audit. Prints medians and the ratio.
import pg from 'pg';
import { loadR4Definitions } from '../../server/src/fhir/definitions.js';
import { SearchParameterRegistry } from '../../server/src/fhir/search/parameters.js';
import { parseSearchRequest } from '../../server/src/fhir/search/parse.js';
import { compileGeneralSearch, compileSearch, type CompiledSearch } from '../../server/src/fhir/search/sql.js';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const url = option('db');
const runs = Number(option('runs') ?? 15);
if (!url) throw new Error('--db URL is required: a database loaded by `npm run bench:search -- --keep-db NAME`');
if (!(Number.isInteger(runs) && runs >= 1 && runs <= 1000)) throw new Error('--runs must be 1..1000');

const definitions = loadR4Definitions();
const registry = new SearchParameterRegistry(definitions.resourceTypes, definitions.searchParameters);
const limits = { defaultCount: 20, maxCount: 1000, defaultTotal: 'accurate' as const, maxIncludes: 1000 };
const client = new pg.Client({ connectionString: url });
await client.connect();

try {
  // Family names from the most to the least common, and their two-letter prefixes: broad and
  // narrow filters of the database itself.
  const families = (
    await client.query<{ norm: string }>(
      `select norm from idx_string where res_type = 'Patient' and param = 'family' and norm ~ '^[a-z]+$' group by norm order by count(*) desc, norm`,
    )
  ).rows.map((r) => r.norm);
  if (families.length === 0) throw new Error('no Patient family names in this database: load it with bench:search --keep-db first');
  const picked = [...families.slice(0, 5), ...families.slice(-2)];
  const queries: [string, [string, string][]][] = [
    ...picked.map((f): [string, [string, string][]] => ['Encounter', [['subject.name', f]]]),
    ...[...new Set(picked.map((f) => f.slice(0, 2)))].map((p): [string, [string, string][]] => ['Patient', [['name', p]]]),
    ['Patient', [['name', 'zzzz']]],
  ];

  const timed = async (compiled: CompiledSearch) => {
    const start = performance.now();
    const { rows } = await client.query<{ seq_text: string; total: number | null }>(compiled.sql, compiled.params);
    return { ms: performance.now() - start, rows };
  };
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

  console.log(`${'query'.padEnd(40)} ${'matches'.padStart(8)} ${'general'.padStart(9)} ${'match-set'.padStart(10)} ${'ratio'.padStart(6)}`);
  for (const [type, query] of queries) {
    const request = parseSearchRequest(type, query, registry, limits);
    const general = compileGeneralSearch(request);
    const matchSet = compileSearch(request, { matchSet: true });
    const times = { general: [] as number[], matchSet: [] as number[] };
    let total: number | null = null;
    for (let run = 0; run < runs; run++) {
      const a = await timed(general);
      const b = await timed(matchSet);
      const same = JSON.stringify(a.rows.map((r) => [r.seq_text, r.total])) === JSON.stringify(b.rows.map((r) => [r.seq_text, r.total]));
      if (!same) throw new Error(`${type}?${new URLSearchParams(query)}: the two statements returned different pages`);
      times.general.push(a.ms);
      times.matchSet.push(b.ms);
      total = a.rows[0]?.total ?? a.rows.length;
    }
    const [g, m] = [median(times.general), median(times.matchSet)];
    const label = `${type}?${new URLSearchParams(query)}`;
    console.log(`${label.padEnd(40)} ${String(total).padStart(8)} ${g.toFixed(2).padStart(6)} ms ${m.toFixed(2).padStart(7)} ms ${(m / g).toFixed(2).padStart(5)}×`);
  }
} finally {
  await client.end();
}
