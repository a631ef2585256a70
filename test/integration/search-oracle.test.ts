// Search correctness against an independent oracle.
//
// Loads a deterministic subset of the Synthea patients (the 12 smallest bundles of
// ../shared/testdata/fhir/synthea/smart) plus a small supplement built from them (see
// test/helpers/search-oracle/supplement.ts), reads everything back, and runs a corpus of 400+
// searches generated from the data with a seeded PRNG. Each search is compared — matches and
// _include/_revinclude results separately — with what the oracle in test/helpers/search-oracle/
// selects from the same resources: R4 search semantics evaluated in memory with @medplum/core's
// FHIRPath and, where it follows R4, its matchesSearchRequest as a cross-check. The oracle shares
// no code with server/src. Any difference fails that search's test, named by the query.
//
// SEARCH_ORACLE_REPORT=/some/prefix writes every outcome as JSON to /some/prefix-<backend>.json.
// SEARCH_ORACLE_BUNDLES=45 runs on more of the Synthea bundles (a different, larger corpus).
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { clientCredentialsToken, fetchWithToken } from '../helpers/auth.js';
import { availableBackends } from '../helpers/parts.js';
import { generateCorpus, queryText } from '../helpers/search-oracle/corpus.js';
import { ParamRegistry } from '../helpers/search-oracle/definitions.js';
import { checkSearch, describeOutcome, fetchBack, loadData, summaryTable, type HubClient, type LoadReport, type Outcome } from '../helpers/search-oracle/harness.js';
import { SearchOracle } from '../helpers/search-oracle/oracle.js';
import { Prng } from '../helpers/search-oracle/prng.js';
import { loadSyntheaFiles, smallestBundles } from '../helpers/search-oracle/store.js';
import { buildSupplement } from '../helpers/search-oracle/supplement.js';
import { useTestHub } from '../helpers/use-hub.js';

const BUNDLES = Number(process.env.SEARCH_ORACLE_BUNDLES ?? 12);
const SUPPLEMENT_SEED = 7;
/** Per search: generous, so a slow answer on a large data set is reported as such, not as a timeout of the next one. */
const SEARCH_TIMEOUT_MS = 300_000;

// The corpus is built at collection time from the files (not the server), so test names are the
// same on every run and backend; ids appear as {{localId}} placeholders until the data is loaded.
const registry = new ParamRegistry();
const { files, store: fileStore } = loadSyntheaFiles(smallestBundles(BUNDLES));
const supplement = buildSupplement(fileStore, new Prng(SUPPLEMENT_SEED));
for (const r of supplement) fileStore.add(r);
const corpus = generateCorpus(fileStore, registry);
if (corpus.length < 300) throw new Error(`the corpus has only ${corpus.length} searches`);

const backends = await availableBackends('search oracle');

describe.each(backends)('search vs. independent oracle on %s', (backend) => {
  const t = useTestHub(backend, { auth: { rateLimit: { capacity: 100000, perSecond: 10000 } } });
  // The hub's own token would expire during a long run: take a fresh one every minute.
  let token: { value: string; at: number } | undefined;
  const hub: HubClient = {
    get base() {
      return t.base;
    },
    fetch: fetchWithToken(async () => {
      if (!token || Date.now() - token.at > 60_000) token = { value: await clientCredentialsToken(t.url, t.admin), at: Date.now() };
      return token.value;
    }),
  };
  const outcomes: Outcome[] = [];
  let oracle: SearchOracle;
  let ids = new Map<string, string>();
  const localOf = new Map<string, string>();
  let load: LoadReport;

  /** `{{localId}}` → server id, `{{base}}` → the hub's FHIR base. */
  const substitute = (value: string) =>
    value.replace(/\{\{([^{}]+)\}\}/g, (_, local: string) => {
      if (local === 'base') return t.base;
      const id = ids.get(local);
      if (!id) throw new Error(`no server id for local id ${local}`);
      return id;
    });
  /** A result key for people: the server's `Type/id` with the local id it stands for. */
  const label = (key: string) => {
    const [type, id] = key.split('/');
    const local = localOf.get(id);
    return local ? `${key} (${type}/${local})` : key;
  };

  beforeAll(async () => {
    const loaded = await loadData(hub, files, supplement);
    ids = loaded.ids;
    for (const [local, id] of ids) localOf.set(id, local);
    const t0 = performance.now();
    const serverStore = await fetchBack(hub, fileStore.types());
    load = { ...loaded.report, fetchBackMs: Math.round(performance.now() - t0), heldResources: serverStore.size };
    oracle = new SearchOracle(serverStore, registry, t.base);
  }, 900_000);

  afterAll(() => {
    if (!load) return;
    const lines = [
      '',
      `=== search oracle on ${backend}: ${outcomes.length} searches ===`,
      `loaded ${load.bundles} Synthea bundles (${load.syntheaResources} resources) in ${(load.syntheaMs / 1000).toFixed(1)} s, ` +
        `supplement (${load.supplementResources}) in ${(load.supplementMs / 1000).toFixed(1)} s, read back ${load.heldResources} in ${(load.fetchBackMs / 1000).toFixed(1)} s`,
      summaryTable(outcomes),
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
    if (process.env.SEARCH_ORACLE_REPORT) {
      writeFileSync(`${process.env.SEARCH_ORACLE_REPORT}-${backend}.json`, JSON.stringify({ backend, load, outcomes }, null, 1));
    }
  });

  for (const q of corpus) {
    const name = queryText(q);
    it(name, async () => {
      const outcome = await checkSearch(hub, oracle, q, name, substitute, label);
      outcomes.push(outcome);
      if (outcome.verdict !== 'pass') throw new Error(describeOutcome(outcome));
    }, SEARCH_TIMEOUT_MS);
  }
});
