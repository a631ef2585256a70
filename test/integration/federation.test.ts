// Federation end to end: three real Suhe instances on 127.0.0.1 play a district hospital, a
// community clinic and a private clinic, each with its own Synthea patients plus the same three
// residents under its own MRNs and its own way of writing them. The hub pulls them (client
// credentials against each source's token endpoint), links the residents through the master
// patient index (ID-01..03), and answers for each resident as one person.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, Encounter, Observation, Parameters, Patient, Provenance, Task } from '@medplum/fhirtypes';
import { residentsBundle, RESIDENTS, smallSyntheaBundles, MRN_SYSTEM, type SourceName } from '../helpers/federation.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { availableBackends } from '../helpers/parts.js';
import { createAccount, newPassword, registerPublicApp, signIn } from '../helpers/people.js';
import { useTestHub } from '../helpers/use-hub.js';
import { RESIDENT_ID_SYSTEMS } from '../../server/src/fhir/identity/resident-id.js';

const backends = await availableBackends('federation');
const SOURCES: SourceName[] = ['hospital', 'clinic', 'private'];
const synthea = smallSyntheaBundles(6);
const FAST_RETRY = { attempts: 3, baseDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 5_000, timeoutMs: 20_000 };

describe.each(backends)('federation of three sources on %s', (backend) => {
  const t = useTestHub(backend);
  const sources = {} as Record<SourceName, TestHub>;
  const endpoint = {} as Record<SourceName, string>;
  const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
  const get = async <T>(path: string) => {
    const res = await t.fetch(`${t.base}/${path}`);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return json<T>(res);
  };
  const sync = (name: SourceName) => t.hub.federation.sync(name, { retry: FAST_RETRY });
  const hubIdOf = async (name: SourceName, type: string, sourceId: string) => {
    const [row] = await t.hub.db.query<{ hub_id: string }>('select hub_id from fed_map where endpoint_id = $1 and resource_type = $2 and source_id = $3', [endpoint[name], type, sourceId]);
    return row?.hub_id;
  };

  beforeAll(async () => {
    for (const [i, name] of SOURCES.entries()) {
      const source = await startTestHub('pglite');
      sources[name] = source;
      for (const { bundle } of synthea.slice(i * 2, i * 2 + 2)) {
        expect((await source.fetch(`${source.base}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: JSON.stringify(bundle) })).status).toBe(200);
      }
      expect((await source.fetch(`${source.base}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(residentsBundle(name)) })).status).toBe(200);
      const added = await t.hub.federation.sources.add({
        name, baseUrl: source.base, organizationName: `${name} (test)`, auth: 'client-credentials', clientId: source.admin.clientId, secret: source.admin.secret, scope: 'system/*.rs', pageSize: 50, ratePerSecond: 500,
        // The private clinic is paged through searches; the others offer Bulk Data $export and are pulled that way.
        bulk: name !== 'private',
      });
      endpoint[name] = added.endpointId;
    }
  });

  afterAll(async () => {
    for (const s of Object.values(sources)) await s.close();
  });

  it('pulls every source: each source record becomes one hub record with meta.source and a Provenance naming the source Organization', async () => {
    // All three at once: the same residents arrive from three sources concurrently.
    const results = await t.hub.federation.syncAll({ retry: FAST_RETRY });
    expect(results.map((r) => r.source).sort()).toEqual([...SOURCES].sort());
    for (const result of results) {
      expect(result).toMatchObject({ status: 'ok' });
      expect(result.types.every((r) => !r.error)).toBe(true);
      expect(result.types.reduce((n, r) => n + r.quarantined, 0)).toBe(0);
    }
    const exports = async (name: SourceName) => Number((await sources[name].hub.db.query<{ n: number }>('select count(*)::int as n from bulk_export_job'))[0].n);
    expect(await exports('hospital')).toBe(1);
    expect(await exports('clinic')).toBe(1);
    expect(await exports('private')).toBe(0);
    const [{ n }] = await t.hub.db.query<{ n: number }>('select count(*)::int as n from fed_map where arrived');
    const expected = synthea.reduce((n, s) => n + (s.bundle.entry?.length ?? 0), 0) + SOURCES.length * RESIDENTS.length * 3;
    // Synthea bundles hold types the default list does not pull (none in the smallest six) — all arrive.
    expect(Number(n)).toBe(expected);

    const hubEncounter = await hubIdOf('clinic', 'Encounter', 'clinic-a-visit');
    const encounter = await get<Encounter>(`Encounter/${hubEncounter}`);
    expect(encounter.meta?.source).toBe(`Endpoint/${endpoint.clinic}`);
    expect(encounter.subject?.reference).toBe(`Patient/${await hubIdOf('clinic', 'Patient', 'clinic-a')}`);
    const provenance = await get<Bundle>(`Provenance?target=Encounter/${hubEncounter}`);
    expect(provenance.entry).toHaveLength(1);
    const p = provenance.entry![0].resource as Provenance;
    const source = await t.hub.federation.sources.get('clinic');
    expect(p.agent[0].who?.reference).toBe(source.organization);
    expect(p.entity?.[0].what.reference).toBe(`Endpoint/${endpoint.clinic}`);
  });

  it('refuses a source it could not use, saying what to fix', async () => {
    const add = (input: Record<string, unknown>) => t.hub.federation.sources.add({ name: 'x', baseUrl: 'http://127.0.0.1:9/fhir', ...input } as never);
    await expect(add({ name: 'hospital' })).rejects.toThrow(/already exists/);
    await expect(add({ name: 'Bad Name' })).rejects.toThrow(/lower-case letters, digits and dashes/);
    await expect(add({ baseUrl: 'ftp://x/fhir' })).rejects.toThrow(/must be http or https/);
    await expect(add({ auth: 'bearer' })).rejects.toThrow(/bearer auth needs a token/);
    await expect(add({ auth: 'client-credentials', clientId: 'c' })).rejects.toThrow(/needs a client id and a secret/);
    await expect(add({ types: ['Patient', 'Nonsense'] })).rejects.toThrow(/'Nonsense' is not a FHIR resource type/);
    expect((await t.hub.federation.sources.list()).sources.map((s) => s.name)).not.toContain('x');
  });

  it('ID-01..03: links the same resident from three sources to one golden Patient, and keeps different people apart', async () => {
    for (const r of RESIDENTS) {
      const ids = await Promise.all(SOURCES.map((s) => hubIdOf(s, 'Patient', `${s}-${r.key}`)));
      const patients = await Promise.all(ids.map((id) => get<Patient>(`Patient/${id}`)));
      const goldens = new Set(patients.map((p) => p.link?.find((l) => l.type === 'refer')?.other.reference));
      expect(goldens.size).toBe(1);
      const golden = await get<Patient>([...goldens][0]!);
      expect(golden.meta?.tag?.some((tag) => tag.code === 'golden')).toBe(true);
      expect(golden.link?.map((l) => l.other.reference).sort()).toEqual(ids.map((id) => `Patient/${id}`).sort());
      // ID-02: one resident ID number, normalised, whatever OID each source used.
      expect(golden.identifier?.filter((i) => (RESIDENT_ID_SYSTEMS as readonly string[]).includes(i.system!)).map((i) => i.value)).toEqual([r.residentId]);
    }
    const goldenOf = async (s: SourceName, id: string) => (await get<Patient>(`Patient/${await hubIdOf(s, 'Patient', id)}`)).link?.find((l) => l.type === 'refer')?.other.reference;
    expect(await goldenOf('hospital', 'hospital-a')).not.toBe(await goldenOf('hospital', 'hospital-b'));
    // The Synthea patients of different sources are different people: each has a golden record of its own.
    const [{ goldens }] = await t.hub.db.query<{ goldens: number }>('select count(distinct golden_id)::int as goldens from mpi_record');
    expect(Number(goldens)).toBe(RESIDENTS.length + synthea.length);
  });

  it('ID-01: a source record whose ID number fails its check digit is stored, flagged, and still linked by demographics', async () => {
    const patient = await get<Patient>(`Patient/${await hubIdOf('clinic', 'Patient', 'clinic-c')}`);
    expect(patient.meta?.tag?.find((tag) => tag.code === 'invalid-resident-id')?.display).toMatch(/ID-01/);
    const flagged = await get<Bundle>('Patient?_tag=https://suhe.example.cn/fhir/CodeSystem/federation|invalid-resident-id');
    expect(flagged.entry?.map((e) => e.resource!.id)).toEqual([patient.id]);
  });

  it("$everything and patient= search on a golden Patient cover every linked source's records", async () => {
    const hospitalA = await get<Patient>(`Patient/${await hubIdOf('hospital', 'Patient', 'hospital-a')}`);
    const golden = hospitalA.link!.find((l) => l.type === 'refer')!.other.reference!;
    const everything = await get<Bundle>(`${golden}/$everything?_count=100`);
    const encounters = everything.entry!.filter((e) => e.resource!.resourceType === 'Encounter').map((e) => (e.resource as Encounter).meta?.source);
    expect(encounters.sort()).toEqual(SOURCES.map((s) => `Endpoint/${endpoint[s]}`).sort());
    const ids = everything.entry!.map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);
    expect(new Set(ids).size).toBe(ids.length);
    const observations = await get<Bundle>(`Observation?patient=${golden}&code=http://loinc.org|8480-6`);
    expect(observations.entry).toHaveLength(SOURCES.length);
    const compartment = await get<Bundle>(`${golden}/Encounter`);
    expect(compartment.entry).toHaveLength(SOURCES.length);
  });

  it('PIXm ($ihe-pix, ITI-83): a hospital MRN gives the clinic MRN and the resident ID number under either OID', async () => {
    const r = RESIDENTS[0];
    const pix = await get<Parameters>(`Patient/$ihe-pix?sourceIdentifier=${encodeURIComponent(`${MRN_SYSTEM('hospital')}|HOSPITAL-a-1958`)}&targetSystem=${encodeURIComponent(MRN_SYSTEM('clinic'))}`);
    expect(pix.parameter).toEqual([{ name: 'targetIdentifier', valueIdentifier: { system: MRN_SYSTEM('clinic'), value: 'CLINIC-a-1958' } }]);
    const byId = await get<Parameters>(`Patient/$ihe-pix?sourceIdentifier=${encodeURIComponent(`${RESIDENT_ID_SYSTEMS[1]}|${r.residentId}`)}`);
    const values = byId.parameter!.filter((p) => p.name === 'targetIdentifier').map((p) => p.valueIdentifier!.value);
    expect(values).toEqual(expect.arrayContaining(['HOSPITAL-a-1958', 'CLINIC-a-1958', 'PRIVATE-a-1958']));
    expect(byId.parameter!.filter((p) => p.name === 'targetId')).toHaveLength(4);
    expect((await t.fetch(`${t.base}/Patient/$ihe-pix?sourceIdentifier=${encodeURIComponent(`${MRN_SYSTEM('hospital')}|nobody`)}`)).status).toBe(404);
    expect((await t.fetch(`${t.base}/Patient/$ihe-pix`)).status).toBe(400);
  });

  it('PDQm (ITI-78) is the Patient search: by name and birth date it finds each source record and the golden record', async () => {
    const r = RESIDENTS[0];
    const found = await get<Bundle>(`Patient?family=${encodeURIComponent(r.family)}&given=${encodeURIComponent(r.given)}&birthdate=${r.birthDate}&gender=${r.gender}`);
    const ids = found.entry!.map((e) => e.resource!.id).sort();
    const hospital = await hubIdOf('hospital', 'Patient', 'hospital-a');
    const clinic = await hubIdOf('clinic', 'Patient', 'clinic-a');
    const golden = (await get<Patient>(`Patient/${hospital}`)).link!.find((l) => l.type === 'refer')!.other.reference!.slice('Patient/'.length);
    expect(ids).toEqual([hospital, clinic, golden].sort());
    const byPhone = await get<Bundle>(`Patient?telecom=${r.phone}`);
    expect(byPhone.entry!.map((e) => e.resource!.id)).toEqual(expect.arrayContaining([hospital, golden]));
  });

  it('$match (ITI-119) scores candidates with match grades', async () => {
    const r = RESIDENTS[1];
    const res = await t.fetch(`${t.base}/Patient/$match`, {
      method: 'POST', headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', name: [{ family: r.family, given: [r.given] }], birthDate: r.birthDate, gender: r.gender, telecom: [{ system: 'phone', value: r.phone }] } }] }),
    });
    expect(res.status).toBe(200);
    const bundle = await json<Bundle>(res);
    expect(bundle.entry!.length).toBeGreaterThanOrEqual(1);
    const best = bundle.entry![0];
    expect((best.resource as Patient).birthDate).toBe(r.birthDate);
    expect(best.search?.extension?.[0]).toMatchObject({ url: 'http://hl7.org/fhir/StructureDefinition/match-grade' });
    expect(['certain', 'probable']).toContain(best.search?.extension?.[0].valueCode);
    expect(best.search!.score).toBeGreaterThan(0.5);
  });

  it('a second sync stores nothing new; an update and a delete at a source reach the hub', async () => {
    const versions = async () => Number((await t.hub.db.query<{ n: number }>(`select count(*)::int as n from resource_history where type <> 'AuditEvent'`))[0].n);
    const before = await versions();
    for (const name of SOURCES) {
      const again = await sync(name);
      expect(again.status).toBe('ok');
      expect(again.types.reduce((n, r) => n + r.created + r.updated, 0)).toBe(0);
    }
    // No new version of anything but the audit trail (the syncs' own AuditEvents).
    expect(await versions()).toBe(before);

    const clinic = sources.clinic;
    const obs = (await (await clinic.fetch(`${clinic.base}/Observation/clinic-b-bp`)).json()) as Observation;
    expect((await clinic.fetch(`${clinic.base}/Observation/clinic-b-bp`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...obs, valueQuantity: { ...obs.valueQuantity, value: 151 } }) })).status).toBe(200);
    expect((await sources.private.fetch(`${sources.private.base}/Encounter/private-c-visit`, { method: 'DELETE' })).status).toBeLessThan(300);
    const clinicRun = await sync('clinic');
    expect(clinicRun.types.find((r) => r.type === 'Observation')).toMatchObject({ updated: 1 });
    await sync('private');
    const hubObs = await get<Observation>(`Observation/${await hubIdOf('clinic', 'Observation', 'clinic-b-bp')}`);
    expect(hubObs.valueQuantity?.value).toBe(151);
    expect(hubObs.meta?.versionId).toBe('2');
    expect((await t.fetch(`${t.base}/Encounter/${await hubIdOf('private', 'Encounter', 'private-c-visit')}`)).status).toBe(410);
  });

  it('push: $ingest from an institution client is the same pipeline, idempotent, and forward references resolve when their target arrives', async () => {
    const push = await t.hub.federation.sources.add({ name: 'push-clinic', baseUrl: 'http://127.0.0.1:9/fhir', organizationName: 'push clinic', pushClient: t.admin.clientId });
    const bundle = synthea[0].bundle;
    const ingest = (body: Bundle) => t.fetch(`${t.base}/$ingest`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
    const first = await ingest(bundle);
    expect(first.status).toBe(200);
    const answer = await json<Bundle>(first);
    expect(answer.entry!.every((e) => e.response?.status === '201 Created')).toBe(true);
    const again = await json<Bundle>(await ingest(bundle));
    expect(again.entry!.every((e) => e.response?.status === '200 OK')).toBe(true);
    const unversioned = (b: Bundle) => b.entry!.map((e) => e.response!.location!.split('/_history')[0]);
    expect(unversioned(again)).toEqual(unversioned(answer));

    // An Observation that points at a Patient the source has not sent yet...
    const later = { resourceType: 'Patient', id: 'late-1', name: [{ family: '赵', given: ['敏'] }], birthDate: '2001-02-03', gender: 'female' };
    const obs = { resourceType: 'Observation', id: 'early-obs', status: 'final', code: { text: 'note' }, subject: { reference: 'Patient/late-1' } };
    const o = await json<Bundle>(await ingest({ resourceType: 'Bundle', type: 'batch', entry: [{ resource: obs, request: { method: 'PUT', url: 'Observation/early-obs' } }] } as Bundle));
    const stored = await get<Observation>(o.entry![0].response!.location!.split('/_history')[0]);
    const target = stored.subject!.reference!;
    expect((await t.fetch(`${t.base}/${target}`)).status).toBe(404);
    // ... resolves once it arrives.
    const p = await json<Bundle>(await ingest({ resourceType: 'Bundle', type: 'batch', entry: [{ resource: later, request: { method: 'PUT', url: 'Patient/late-1' } }] } as Bundle));
    expect(p.entry![0].response!.location!.startsWith(`${target}/_history/`)).toBe(true);
    expect((await get<Patient>(target)).meta?.source).toBe(`Endpoint/${push.endpointId}`);
    // A delete entry propagates.
    const d = await json<Bundle>(await ingest({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'DELETE', url: 'Observation/early-obs' } }] } as Bundle));
    expect(d.entry![0].response!.status).toBe('204 No Content');
    expect((await t.fetch(`${t.base}/${stored.resourceType}/${stored.id}`)).status).toBe(410);
  });

  it('over the FHIR API: Endpoint/{id}/$sync pulls in the background with a Task to follow; the CapabilityStatement lists the operations', async () => {
    const res = await t.fetch(`${t.base}/Endpoint/${endpoint.private}/$sync`, { method: 'POST' });
    expect(res.status).toBe(202);
    const task = await json<Task>(res);
    expect(task.status).toBe('in-progress');
    let current = task;
    for (let i = 0; i < 600 && current.status === 'in-progress'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      current = await get<Task>(`Task/${task.id}`);
    }
    expect(current.status).toBe('completed');
    expect(current.output?.map((o) => o.type.text)).toContain('Patient');
    const sources = await get<Bundle>('Endpoint?_tag=https://suhe.example.cn/fhir/CodeSystem/federation|source');
    expect(sources.entry!.map((e) => (e.resource as { name?: string }).name)).toEqual(expect.arrayContaining([...SOURCES]));
    const capability = await get<{ rest: { operation?: { name: string }[]; resource: { type: string; operation?: { name: string }[] }[] }[] }>('metadata');
    expect(capability.rest[0].operation?.map((o) => o.name)).toEqual(expect.arrayContaining(['export', 'ingest']));
    const patientOps = capability.rest[0].resource.find((r) => r.type === 'Patient')!.operation!.map((o) => o.name);
    expect(patientOps).toEqual(expect.arrayContaining(['everything', 'ihe-pix', 'match', 'mpi-link', 'mpi-unlink', 'mpi-merge', 'mpi-undo']));
  });

  it('quarantines what fails validation with the reason, stores the rest, and reports it per source', async () => {
    const bad = { resourceType: 'Observation', id: 'bad-1', status: 'final', valueQuantity: { value: 'not a number' } };
    const good = { resourceType: 'Observation', id: 'good-1', status: 'final', code: { text: 'x' } };
    const res = await t.fetch(`${t.base}/$ingest`, {
      method: 'POST', headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [{ resource: bad, request: { method: 'PUT', url: 'Observation/bad-1' } }, { resource: good, request: { method: 'PUT', url: 'Observation/good-1' } }] }),
    });
    const answer = await json<Bundle>(res);
    expect(answer.entry![0].response!.status).toBe('422 Unprocessable Entity');
    expect(JSON.stringify(answer.entry![0].response!.outcome)).toMatch(/code|value/);
    expect(answer.entry![1].response!.status).toBe('201 Created');
    const status = await t.hub.federation.sources.status('push-clinic');
    expect(status.quarantined).toBe(1);
    expect(status.recentQuarantine[0]).toMatchObject({ type: 'Observation', sourceId: 'bad-1' });
  });

  it('review queue: a steward links, and undoes the link; every decision is audited', async () => {
    const patient = await get<Patient>(`Patient/${await hubIdOf('private', 'Patient', 'private-b')}`);
    const golden = patient.link!.find((l) => l.type === 'refer')!.other.reference!;
    const unlink = await t.fetch(`${t.base}/Patient/$mpi-unlink`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'patient', valueReference: { reference: `Patient/${patient.id}` } }, { name: 'reason', valueString: 'test' }] }) });
    expect(unlink.status).toBe(200);
    const action = (await json<Parameters>(unlink)).parameter!.find((p) => p.name === 'action')!.valueString!;
    const moved = await get<Patient>(`Patient/${patient.id}`);
    expect(moved.link!.find((l) => l.type === 'refer')!.other.reference).not.toBe(golden);
    const undo = await t.fetch(`${t.base}/Patient/$mpi-undo`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'action', valueString: action }] }) });
    expect(undo.status).toBe(200);
    expect((await get<Patient>(`Patient/${patient.id}`)).link!.find((l) => l.type === 'refer')!.other.reference).toBe(golden);
    expect((await t.fetch(`${t.base}/Patient/$mpi-undo`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'action', valueString: action }] }) })).status).toBe(400);
    // An action id beyond bigint names no action: a 400, not a database error.
    expect((await t.fetch(`${t.base}/Patient/$mpi-undo`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'action', valueString: '99999999999999999999' }] }) })).status).toBe(400);
    const [{ n }] = await t.hub.db.query<{ n: number }>(`select count(*)::int as n from resource where type = 'AuditEvent' and content::text like '%$mpi-unlink action=${action}%'`);
    expect(Number(n)).toBeGreaterThan(0);
    const open = await get<Bundle>('Task?code=https://suhe.example.cn/fhir/CodeSystem/federation|mpi-review&status=requested');
    for (const e of open.entry ?? []) expect((e.resource as Task).focus?.reference).toMatch(/^Patient\//);
  });

  it('an uncertain pair goes to the review queue; a steward links it, and a merge of two golden records is undone', async () => {
    const post = (path: string, body: unknown) => t.fetch(`${t.base}/${path}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
    const params = (...parameter: unknown[]) => ({ resourceType: 'Parameters', parameter });
    const goldenOf = async (id: string) => (await get<Patient>(`Patient/${id}`)).link?.find((l) => l.type === 'refer')?.other.reference?.slice('Patient/'.length);
    // Resident a's name and sex, a birth date one day off, nothing else: possible, not probable.
    const maybe = { resourceType: 'Patient', id: 'maybe-a', name: [{ family: '张', given: ['伟'] }], birthDate: '1958-03-13', gender: 'male' };
    const ingested = await json<Bundle>(await post('$ingest', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: maybe, request: { method: 'PUT', url: 'Patient/maybe-a' } }] }));
    const maybeId = ingested.entry![0].response!.location!.split('/')[1];
    const goldenA = (await goldenOf((await hubIdOf('hospital', 'Patient', 'hospital-a'))!))!;
    expect(await goldenOf(maybeId)).not.toBe(goldenA);
    const queue = await get<Bundle>(`Task?code=https://suhe.example.cn/fhir/CodeSystem/federation|mpi-review&status=requested&focus=Patient/${maybeId}`);
    expect(queue.entry).toHaveLength(1);
    const task = queue.entry![0].resource as Task;
    expect(task.for?.reference).toBe(`Patient/${goldenA}`);
    expect(task.description).toMatch(/birth date differs by one day/);

    const link = await post('Patient/$mpi-link', params({ name: 'patient', valueReference: { reference: `Patient/${maybeId}` } }, { name: 'golden', valueReference: { reference: `Patient/${goldenA}` } }, { name: 'reason', valueString: 'same person, birth date mistyped' }));
    expect(link.status).toBe(200);
    expect(await goldenOf(maybeId)).toBe(goldenA);
    expect((await get<Patient>(`Patient/${goldenA}`)).link?.map((l) => l.other.reference)).toContain(`Patient/${maybeId}`);
    expect((await get<Task>(`Task/${task.id}`)).status).toBe('completed');

    const goldenB = (await goldenOf((await hubIdOf('hospital', 'Patient', 'hospital-b'))!))!;
    const goldenC = (await goldenOf((await hubIdOf('hospital', 'Patient', 'hospital-c'))!))!;
    const merge = await post('Patient/$mpi-merge', params({ name: 'source', valueReference: { reference: `Patient/${goldenB}` } }, { name: 'target', valueReference: { reference: `Patient/${goldenC}` } }));
    expect(merge.status).toBe(200);
    const retired = await get<Patient>(`Patient/${goldenB}`);
    expect(retired.active).toBe(false);
    expect(retired.link).toEqual([{ other: { reference: `Patient/${goldenC}` }, type: 'replaced-by' }]);
    expect(await goldenOf((await hubIdOf('clinic', 'Patient', 'clinic-b'))!)).toBe(goldenC);
    const action = (await json<Parameters>(merge)).parameter!.find((p) => p.name === 'action')!.valueString!;
    expect((await post('Patient/$mpi-undo', params({ name: 'action', valueString: action }))).status).toBe(200);
    for (const s of SOURCES) expect(await goldenOf((await hubIdOf(s, 'Patient', `${s}-b`))!)).toBe(goldenB);
    expect((await get<Patient>(`Patient/${goldenB}`)).active).toBe(true);
    expect((await post('Patient/$mpi-merge', params({ name: 'source', valueReference: { reference: `Patient/${goldenB}` } }))).status).toBe(400);
  });

  it("a resident signed in as one institution's record sees their records from every source, and nobody else's", async () => {
    await registerPublicApp(t, 'resident-app', 'openid fhirUser launch/patient patient/*.rs');
    const password = newPassword();
    const own = (await hubIdOf('hospital', 'Patient', 'hospital-a'))!;
    await createAccount(t, { username: 'zhangwei', password, role: 'resident', fhirUser: `Patient/${own}`, identity: { system: RESIDENT_ID_SYSTEMS[0], value: RESIDENTS[0].residentId } });
    const token = (await signIn(t, { clientId: 'resident-app', username: 'zhangwei', password, scope: 'openid fhirUser launch/patient patient/*.rs' })).access_token;
    const as = (path: string) => fetch(`${t.base}/${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await as(`Observation/${await hubIdOf('clinic', 'Observation', 'clinic-a-bp')}`)).status).toBe(200);
    expect((await as(`Observation/${await hubIdOf('private', 'Observation', 'private-a-bp')}`)).status).toBe(200);
    expect((await as(`Observation/${await hubIdOf('clinic', 'Observation', 'clinic-b-bp')}`)).status).toBe(404);
    const search = (await (await as('Observation?code=http://loinc.org|8480-6')).json()) as Bundle;
    expect(search.entry?.map((e) => (e.resource as Observation).meta?.source).sort()).toEqual(SOURCES.map((s) => `Endpoint/${endpoint[s]}`).sort());
  });
});
