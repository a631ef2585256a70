// The HTTP side of the oracle test: loading the data into a hub, reading it back, running one
// search with every page, comparing with the oracle, and the summary per feature class.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { CorpusQuery } from './corpus.js';
import { OracleUnsupported, TOKEN_TEXT_RULE } from './matchers.js';
import type { OracleResult, SearchOracle } from './oracle.js';
import { keyOf, ResourceStore, type Key, type SyntheaFile } from './store.js';

/** What the test needs of a running hub (the TestHub of test/helpers/hub.ts fits). */
export interface HubClient {
  base: string;
  fetch: typeof fetch;
}

const FHIR_JSON = { 'content-type': 'application/fhir+json' };

async function postTransaction(hub: HubClient, bundle: Bundle | string, what: string): Promise<Bundle> {
  const res = await hub.fetch(hub.base, { method: 'POST', headers: { ...FHIR_JSON, prefer: 'return=minimal' }, body: typeof bundle === 'string' ? bundle : JSON.stringify(bundle) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`loading ${what}: HTTP ${res.status} ${text.slice(0, 2000)}`);
  return JSON.parse(text) as Bundle;
}

/** The server id in a transaction-response entry's `Type/id/_history/n` location. */
function serverId(entry: NonNullable<Bundle['entry']>[number], what: string): string {
  const m = /^([A-Za-z]+)\/([^/]+)/.exec(entry.response?.location ?? '');
  if (!m) throw new Error(`loading ${what}: entry without a location: ${JSON.stringify(entry.response)}`);
  return m[2];
}

export interface LoadReport {
  bundles: number;
  syntheaResources: number;
  supplementResources: number;
  syntheaMs: number;
  supplementMs: number;
  fetchBackMs: number;
  heldResources: number;
}

/**
 * Posts the Synthea transaction bundles as they are (the server resolves their `urn:uuid:`
 * references), then the supplement as one transaction with its references rewritten to server
 * ids. Returns local id → server id (transaction-response entries come in request order).
 */
export async function loadData(hub: HubClient, files: SyntheaFile[], supplement: Resource[]): Promise<{ ids: Map<string, string>; report: Omit<LoadReport, 'fetchBackMs' | 'heldResources'> }> {
  const ids = new Map<string, string>();
  const t0 = performance.now();
  let syntheaResources = 0;
  for (const f of files) {
    const response = await postTransaction(hub, f.bundle, f.file);
    const entries = response.entry ?? [];
    if (entries.length !== f.localIds.length) throw new Error(`loading ${f.file}: ${entries.length} response entries for ${f.localIds.length} requests`);
    entries.forEach((e, i) => ids.set(f.localIds[i], serverId(e, f.file)));
    syntheaResources += entries.length;
  }
  const t1 = performance.now();
  const rewritten = JSON.stringify(
    supplement.map(({ id: _id, ...r }) => r),
    null,
    0,
  ).replace(/"reference":"([A-Z][A-Za-z]+)\/([^"]+)"/g, (whole, type: string, local: string) => {
    const id = ids.get(local);
    if (!id) throw new Error(`supplement: unknown reference target ${type}/${local}`);
    return `"reference":"${type}/${id}"`;
  });
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: (JSON.parse(rewritten) as Resource[]).map((resource) => ({ resource, request: { method: 'POST', url: resource.resourceType } })),
  };
  const response = await postTransaction(hub, bundle, 'the supplement');
  (response.entry ?? []).forEach((e, i) => ids.set(supplement[i].id!, serverId(e, 'the supplement')));
  const t2 = performance.now();
  return {
    ids,
    report: { bundles: files.length, syntheaResources, supplementResources: supplement.length, syntheaMs: Math.round(t1 - t0), supplementMs: Math.round(t2 - t1) },
  };
}

/** Reads every resource of the given types back from the server, following `next` links. */
export async function fetchBack(hub: HubClient, types: string[]): Promise<ResourceStore> {
  const store = new ResourceStore();
  for (const type of types) {
    let url: string | undefined = `${hub.base}/${type}?_count=1000`;
    for (let page = 0; url; page++) {
      if (page > 100) throw new Error(`reading back ${type}: more than 100 pages`);
      const res = await hub.fetch(url);
      if (res.status !== 200) throw new Error(`reading back ${type}: HTTP ${res.status} ${(await res.text()).slice(0, 1000)}`);
      const bundle = (await res.json()) as Bundle;
      for (const e of bundle.entry ?? []) store.add(e.resource!);
      url = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
  }
  return store;
}

// ---------------------------------------------------------------------------------------------

export type Verdict = 'pass' | 'not supported (400)' | 'other HTTP error' | 'wrong answer' | 'oracle doubt';

export interface Outcome {
  /** The corpus text (with `{{localId}}` placeholders): the test's name. */
  name: string;
  /** The query as sent. */
  sent: string;
  features: string[];
  verdict: Verdict;
  /** Time the server took, all pages together. */
  ms?: number;
  status?: number;
  diagnostics?: string;
  expected?: { matches: number; includes: number };
  got?: { matches: number; includes: number };
  missing?: string[];
  extra?: string[];
  missingIncludes?: string[];
  extraIncludes?: string[];
  notes?: string[];
}

/** Encodes a query for the URL: values fully; names keep their `:` and `.` readable. */
export function encodeQuery(params: [string, string][]): string {
  return params.map(([k, v]) => `${encodeURIComponent(k).replace(/%3A/gi, ':')}=${encodeURIComponent(v)}`).join('&');
}

/** Runs one search (every page) and compares it with the oracle. Never throws; the verdict says what happened. */
export async function checkSearch(
  hub: HubClient,
  oracle: SearchOracle,
  q: CorpusQuery,
  name: string,
  substitute: (value: string) => string,
  label: (key: Key) => string,
): Promise<Outcome> {
  const params = q.params.map(([k, v]) => [k, substitute(v)] as [string, string]);
  const path = q.resourceType ? `/${q.resourceType}` : '';
  const sent = `${path.slice(1)}?${params.map(([k, v]) => `${k}=${v}`).join('&')}&_count=${q.count ?? 1000}`;
  const outcome: Outcome = { name, sent, features: q.features, verdict: 'pass' };

  // The oracle first: if it cannot evaluate the query, that is a problem of the test, not the server.
  let expected: OracleResult;
  try {
    expected = oracle.run({ resourceType: q.resourceType, params });
  } catch (err) {
    if (!(err instanceof OracleUnsupported)) throw err;
    return { ...outcome, verdict: 'oracle doubt', notes: [`the oracle does not evaluate this: ${err.message}`] };
  }
  outcome.expected = { matches: expected.matches.size, includes: expected.includes.size };

  const matches: Key[] = [];
  const includes = new Set<Key>();
  const notes: string[] = [];
  const started = performance.now();
  let url: string | undefined = `${hub.base}${path}?${encodeQuery(params)}&_count=${q.count ?? 1000}`;
  for (let page = 0; url; page++) {
    if (page > 500) return { ...outcome, verdict: 'other HTTP error', notes: ['more than 500 pages'] };
    const res = await hub.fetch(url);
    const text = await res.text();
    outcome.ms = Math.round(performance.now() - started);
    if (res.status !== 200) {
      const diagnostics = diagnosticsOf(text);
      const unsupported = res.status === 400 && /not (yet )?supported|unsupported|not implemented/i.test(diagnostics);
      return { ...outcome, verdict: unsupported ? 'not supported (400)' : 'other HTTP error', status: res.status, diagnostics };
    }
    const bundle = JSON.parse(text) as Bundle;
    for (const e of bundle.entry ?? []) {
      const key = keyOf(e.resource!);
      const mode = e.search?.mode;
      if (mode === 'include') includes.add(key);
      else {
        if (mode !== 'match') notes.push(`${key} has search.mode '${mode}'`);
        matches.push(key);
      }
    }
    url = bundle.link?.find((l) => l.relation === 'next')?.url;
  }
  const matchSet = new Set(matches);
  if (matchSet.size !== matches.length) notes.push(`${matches.length - matchSet.size} match(es) returned twice across pages`);
  // The count too: a first page of one leaves the rest to the hub's count query (search/sql.ts).
  // (With one match or none the first page is complete and holds the count: checked above.)
  if (expected.matches.size > 1 && !params.some(([k]) => k === '_count' || k === '_total' || k === '_summary')) {
    const res = await hub.fetch(`${hub.base}${path}?${encodeQuery(params)}&_count=1&_total=accurate`);
    const total = res.status === 200 ? ((await res.json()) as Bundle).total : undefined;
    if (total !== expected.matches.size) notes.push(`Bundle.total is ${total} (HTTP ${res.status}) where ${expected.matches.size} match`);
  }
  // A resource the server included on one page and matched on another counts as a match.
  for (const k of matchSet) includes.delete(k);
  outcome.got = { matches: matchSet.size, includes: includes.size };
  outcome.missing = [...expected.matches].filter((k) => !matchSet.has(k)).map(label);
  outcome.extra = [...matchSet].filter((k) => !expected.matches.has(k)).map(label);
  outcome.missingIncludes = [...expected.includes].filter((k) => !includes.has(k)).map(label);
  outcome.extraIncludes = [...includes].filter((k) => !expected.includes.has(k)).map(label);
  if (expected.selfCheck.length) notes.push(...expected.selfCheck.map((s) => `oracle self-check: ${s}`));
  outcome.notes = notes;
  const differs = outcome.missing.length + outcome.extra.length + outcome.missingIncludes.length + outcome.extraIncludes.length > 0 || notes.some((n) => !n.startsWith('oracle'));
  outcome.verdict = expected.selfCheck.length ? 'oracle doubt' : differs ? 'wrong answer' : 'pass';
  if (outcome.verdict === 'wrong answer' && q.features.includes('modifier :text')) {
    notes.push(`token :text is evaluated by the rule TOKEN_TEXT_RULE='${TOKEN_TEXT_RULE}' (test/helpers/search-oracle/matchers.ts); the hub documents word matching`);
  }
  return outcome;
}

function diagnosticsOf(text: string): string {
  try {
    const body = JSON.parse(text);
    if (body.resourceType === 'OperationOutcome') return (body.issue ?? []).map((i: any) => i.diagnostics ?? i.details?.text ?? i.code).join('; ');
  } catch {
    // not JSON
  }
  return text.slice(0, 500);
}

/** The failure message of a query: what was sent, what came back, what differs. */
export function describeOutcome(o: Outcome): string {
  const lines = [`${o.verdict}: GET ${o.sent}`];
  if (o.status) lines.push(`HTTP ${o.status}: ${o.diagnostics}`);
  if (o.expected && o.got) lines.push(`expected ${o.expected.matches} matches + ${o.expected.includes} included, got ${o.got.matches} + ${o.got.includes}`);
  const list = (title: string, keys?: string[]) => {
    if (keys?.length) lines.push(`${title} (${keys.length}): ${keys.slice(0, 15).join(', ')}${keys.length > 15 ? ', ...' : ''}`);
  };
  list('missing matches', o.missing);
  list('extra matches', o.extra);
  list('missing includes', o.missingIncludes);
  list('extra includes', o.extraIncludes);
  for (const n of o.notes ?? []) lines.push(n);
  return lines.join('\n');
}

const VERDICTS: Verdict[] = ['pass', 'not supported (400)', 'other HTTP error', 'wrong answer', 'oracle doubt'];

/** Counts per feature class and verdict, as a text table. */
export function summaryTable(outcomes: Outcome[]): string {
  const rows = new Map<string, Record<Verdict, number>>();
  const row = (f: string) => {
    let r = rows.get(f);
    if (!r) rows.set(f, (r = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>));
    return r;
  };
  for (const o of outcomes) {
    row('ALL')[o.verdict]++;
    for (const f of o.features) row(f)[o.verdict]++;
  }
  const header = ['feature class', 'searches', ...VERDICTS];
  const body = [...rows.entries()]
    .sort((a, b) => (a[0] === 'ALL' ? -1 : b[0] === 'ALL' ? 1 : a[0].localeCompare(b[0])))
    .map(([f, r]) => [f, String(VERDICTS.reduce((s, v) => s + r[v], 0)), ...VERDICTS.map((v) => String(r[v]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const slowest = outcomes
    .filter((o) => o.ms !== undefined)
    .sort((a, b) => b.ms! - a.ms!)
    .slice(0, 5)
    .map((o) => `  ${String(o.ms).padStart(6)} ms  ${o.sent}`);
  return [fmt(header), ...body.map(fmt), '', 'slowest searches (server time, all pages):', ...slowest].join('\n');
}
