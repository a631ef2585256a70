// FHIR Bulk Data export ($export, system level): kick-off answers 202 with a status URL; the
// status answers 202 with progress, then the manifest; the NDJSON files hold exactly the current
// resources (of the asked types, changed since _since); a job is its client's alone; every export
// is audited per patient (PI-09).
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { smallSyntheaBundles } from '../helpers/federation.js';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';
import { clientCredentialsToken, newBootstrapClient } from '../helpers/auth.js';

const backends = await availableBackends('bulk export');
const [patientBundle] = smallSyntheaBundles(1);

describe.each(backends)('bulk export on %s', (backend) => {
  const t = useTestHub(backend);
  const exportRun = async (query: string, token = t.token) => {
    const kickoff = await fetch(`${t.base}/$export?${query}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', prefer: 'respond-async' } });
    expect(kickoff.status).toBe(202);
    const status = kickoff.headers.get('content-location')!;
    expect(status).toMatch(/\/fhir\/bulk-jobs\/[0-9a-f-]+$/);
    for (let i = 0; i < 600; i++) {
      const res = await fetch(status, { headers: { authorization: `Bearer ${token}` } });
      if (res.status === 200) return { status, manifest: (await res.json()) as { transactionTime: string; request: string; requiresAccessToken: boolean; output: { type: string; url: string; count: number }[] } };
      expect(res.status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('export did not finish');
  };
  const lines = async (url: string) => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${t.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/fhir\+ndjson/);
    return (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Resource);
  };

  beforeAll(async () => {
    const res = await t.fetch(t.base, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: JSON.stringify(patientBundle.bundle) });
    expect(res.status).toBe(200);
  });

  it('exports the current resources of the asked types as NDJSON, with counts and a transactionTime', async () => {
    const { manifest } = await exportRun('_type=Patient,Observation,Encounter');
    expect(manifest.requiresAccessToken).toBe(true);
    expect(manifest.request).toContain('$export');
    const expected = (type: string) => patientBundle.bundle.entry!.filter((e) => e.resource!.resourceType === type).length;
    for (const type of ['Patient', 'Observation', 'Encounter']) {
      const outputs = manifest.output.filter((o) => o.type === type);
      const resources = (await Promise.all(outputs.map((o) => lines(o.url)))).flat();
      expect(resources).toHaveLength(expected(type));
      expect(outputs.reduce((n, o) => n + o.count, 0)).toBe(expected(type));
      expect(resources.every((r) => r.resourceType === type && r.id)).toBe(true);
    }
    expect(manifest.output.some((o) => o.type === 'Claim')).toBe(false);
  });

  it('_since gives only what changed after it; a deleted resource is not exported', async () => {
    const { manifest: first } = await exportRun('_type=Observation');
    const all = await lines(first.output[0].url);
    const changed = { ...all[0], status: 'amended' } as Resource;
    expect((await t.fetch(`${t.base}/Observation/${changed.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(changed) })).status).toBe(200);
    expect((await t.fetch(`${t.base}/Observation/${all[1].id}`, { method: 'DELETE' })).status).toBeLessThan(300);
    const { manifest: next } = await exportRun(`_type=Observation&_since=${encodeURIComponent(first.transactionTime)}`);
    const since = (await Promise.all(next.output.map((o) => lines(o.url)))).flat();
    expect(since.map((r) => r.id)).toEqual([changed.id]);
  });

  it('refuses unknown parameters, types and output formats with 400, and a caller without a token with 401', async () => {
    expect((await t.fetch(`${t.base}/$export?_typeFilter=Patient%3Factive%3Dtrue`)).status).toBe(400);
    expect((await t.fetch(`${t.base}/$export?_type=NoSuchType`)).status).toBe(400);
    expect((await t.fetch(`${t.base}/$export?_outputFormat=text/csv`)).status).toBe(400);
    expect((await fetch(`${t.base}/$export`)).status).toBe(401);
  });

  it("keeps a job to its client: another client gets 404 for its status and files; DELETE cancels it", async () => {
    const { status, manifest } = await exportRun('_type=Patient');
    const other = newBootstrapClient();
    await t.hub.auth.clients.register({ clientId: other.clientId, secret: other.secret, name: 'other system', kind: 'confidential', role: 'admin', redirectUris: [], scope: 'system/*.rs' });
    const token = await clientCredentialsToken(t.url, other, 'system/*.rs');
    expect((await fetch(status, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    expect((await fetch(manifest.output[0].url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    expect((await t.fetch(status, { method: 'DELETE' })).status).toBe(202);
    expect((await t.fetch(status)).status).toBe(404);
    expect((await t.fetch(manifest.output[0].url)).status).toBe(404);
  });

  it('PI-09: an export leaves an AuditEvent for each patient whose data it carried', async () => {
    await exportRun('_type=Encounter');
    await t.hub.audit.flush();
    const patient = patientBundle.bundle.entry!.find((e) => e.resource!.resourceType === 'Patient')!;
    const [{ id }] = await t.hub.db.query<{ id: string }>(`select id from resource where type = 'Patient' and content->'name'->0->>'family' = $1`, [(patient.resource as any).name[0].family]);
    const events = (await (await t.fetch(`${t.base}/AuditEvent?patient=Patient/${id}&_count=100`)).json()) as Bundle;
    expect(events.entry!.some((e) => JSON.stringify(e.resource).includes('$export job='))).toBe(true);
  });
});
