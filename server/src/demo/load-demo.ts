import type { Hub } from '../app.js';
import { processBundle } from '../fhir/bundle/process.js';
import { buildDemoDistrict } from './district.js';

/** Loads the demo district into an empty database; leaves a database with data alone. */
export async function loadDemoIfEmpty(hub: Hub, base: string, say: (line: string) => void): Promise<void> {
  const [row] = await hub.db.query<{ n: number }>("select count(*)::int as n from resource where type = 'Patient'");
  if (Number(row.n) > 0) {
    say(`Demo data: skipped, the database already holds ${row.n} patients.`);
    return;
  }
  const bundle = buildDemoDistrict();
  await processBundle(hub.context(base), bundle);
  say(`Demo data: loaded ${bundle.entry?.length ?? 0} resources (institutions, practitioners, residents and their records).`);
}
