// Loads every Synthea transaction bundle from ../shared/testdata (on PostgreSQL when present, else
// PGlite) and checks counts per type; then races 50 If-Match updates against one resource on both.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import type { Bundle } from '@medplum/fhirtypes';
import { availableBackends, bulkLoadBackend } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const SMART_DIR = new URL('../../../shared/testdata/fhir/synthea/smart/', import.meta.url);
const backends = await availableBackends('Synthea load and concurrency');

function expectedCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const file of readdirSync(SMART_DIR).filter((f) => f.endsWith('.json'))) {
    const bundle = JSON.parse(readFileSync(new URL(file, SMART_DIR), 'utf8')) as Bundle;
    for (const entry of bundle.entry ?? []) {
      const type = entry.resource!.resourceType;
      counts.set(type, (counts.get(type) ?? 0) + 1);
    }
  }
  return counts;
}

describe.each(backends)('Synthea patients and concurrent writes on %s', (backend) => {
  const t = useTestHub(backend);

  // Thousands of resources: on one backend (bulkLoadBackend); the semantics are tested on both elsewhere.
  if (backend === bulkLoadBackend(backends)) it('loads all 45 Synthea transaction bundles; counts per type match the bundles', async () => {
    const files = readdirSync(SMART_DIR).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(45);
    for (const file of files) {
      const res = await t.fetch(t.base, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
        body: readFileSync(new URL(file, SMART_DIR)),
      });
      const body = (await res.json()) as Bundle;
      expect({ file, status: res.status }).toEqual({ file, status: 200 });
      expect(body.type).toBe('transaction-response');
      expect(body.entry?.every((e) => e.response?.status?.startsWith('201'))).toBe(true);
      // Prefer: return=minimal: the answer names each new resource but does not echo it.
      expect(body.entry?.every((e) => e.resource === undefined && /^\w+\/[0-9a-f-]{36}\/_history\/1$/.test(e.response?.location ?? ''))).toBe(true);
    }
    for (const [type, expected] of expectedCounts()) {
      const res = await t.fetch(`${t.base}/${type}?_count=0&_total=accurate`);
      const bundle = (await res.json()) as Bundle;
      expect({ type, total: bundle.total }).toEqual({ type, total: expected });
    }
    // Every urn:uuid reference was rewritten to a stored resource.
    const obs = (await (await t.fetch(`${t.base}/Observation?_count=5`)).json()) as Bundle<any>;
    for (const entry of obs.entry ?? []) {
      const subject = entry.resource.subject.reference as string;
      expect(subject).toMatch(/^Patient\/[0-9a-f-]{36}$/);
      expect((await t.fetch(`${t.base}/${subject}`)).status).toBe(200);
    }
  });

  it('50 parallel If-Match updates of one resource: exactly one winner per version, no lost update', async () => {
    const created: any = await (
      await t.fetch(`${t.base}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Race' }] }) })
    ).json();
    const id = created.id as string;
    const winners: string[] = [];
    let pending = Array.from({ length: 50 }, (_, i) => i);
    // Each writer reads, then updates with If-Match of what it read; losers (412) retry.
    for (let round = 0; pending.length > 0 && round < 200; round++) {
      const results = await Promise.all(
        pending.map(async (writer) => {
          const current: any = await (await t.fetch(`${t.base}/Patient/${id}`)).json();
          const res = await t.fetch(`${t.base}/Patient/${id}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/fhir+json', 'if-match': `W/"${current.meta.versionId}"` },
            body: JSON.stringify({ ...current, name: [...current.name, { family: `writer-${writer}` }] }),
          });
          expect([200, 412]).toContain(res.status);
          if (res.status === 200) winners.push(((await res.json()) as any).meta.versionId);
          else await res.text();
          return res.status === 200 ? undefined : writer;
        }),
      );
      pending = results.filter((w): w is number => w !== undefined);
    }
    expect(pending).toEqual([]);
    // One winner per version 2..51, and the final version holds all 50 writers' changes.
    expect(winners.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    const final: any = await (await t.fetch(`${t.base}/Patient/${id}`)).json();
    expect(final.meta.versionId).toBe('51');
    const families = new Set(final.name.map((n: any) => n.family));
    for (let w = 0; w < 50; w++) expect(families.has(`writer-${w}`)).toBe(true);
    const history: any = await (await t.fetch(`${t.base}/Patient/${id}/_history?_count=100`)).json();
    expect(history.total).toBe(51);
    expect(history.entry.map((e: any) => e.resource.meta.versionId)).toEqual(Array.from({ length: 51 }, (_, i) => String(51 - i)));
  });
});
