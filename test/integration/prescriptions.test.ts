// E-prescriptions of the internet hospital over the FHIR API, on both databases: a doctor makes a
// key pair on their "device" (node:crypto), registers the public key, drafts a MedicationRequest
// with a plain FHIR create, and signs it with a compact JWS over the draft's content hash; the
// prescription stays inactive until a pharmacist of the institution approves it, is dispensed and
// delivered, and $trace shows the whole chain — to the patient, the doctor, the pharmacist and the
// regulator, who reads but never writes. Each rule test names its DOMAIN.md rule.
import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, MedicationDispense, MedicationRequest, OperationOutcome, Parameters, Provenance, Resource, Task } from '@medplum/fhirtypes';
import { contentHash } from '../../server/src/fhir/content-hash.js';
import { clientCredentialsToken } from '../helpers/auth.js';
import { asPerson, createClinician, createOrganization, createResident, createResource, type Person } from '../helpers/clinicians.js';
import type { TestHub } from '../helpers/hub.js';
import { availableBackends } from '../helpers/parts.js';
import { createAccount, newPassword, registerPublicApp, signIn } from '../helpers/people.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('prescriptions');
const ATC = 'http://www.whocc.no/atc';
const ENALAPRIL = { coding: [{ system: ATC, code: 'C09AA02', display: 'enalapril' }], text: '依那普利片 10mg' };
const MORPHINE = { coding: [{ system: ATC, code: 'N02AA01', display: 'morphine' }], text: '硫酸吗啡缓释片' };
const REVIEW = 'https://suhe.example.cn/fhir/CodeSystem/task|prescription-review';

interface Device {
  privateKey: KeyObject;
  publicKey: KeyObject;
  alg: 'ES256' | 'RS256';
  kid?: string;
}

function device(alg: 'ES256' | 'RS256'): Device {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...pair, alg };
}

function compactJws(key: Device, claims: object, header: object = {}): string {
  const h = Buffer.from(JSON.stringify({ alg: key.alg, typ: 'JWT', ...(key.kid ? { kid: key.kid } : {}), ...header })).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const input = Buffer.from(`${h}.${p}`);
  const signature = key.alg === 'ES256' ? sign('sha256', input, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }) : sign('sha256', input, key.privateKey);
  return `${h}.${p}.${signature.toString('base64url')}`;
}

const param = (body: Parameters, name: string) => body.parameter?.find((p) => p.name === name);
const resourceParam = <T extends Resource>(body: Parameters, name: string) => param(body, name)?.resource as T;
const diagnostics = (body: unknown) => ((body as OperationOutcome)?.issue ?? []).map((i) => i.diagnostics).join(' | ');
const yearsAgo = (years: number, days = 0) => {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() - years);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
};

/** A person signed in through a public app with their own role (the regulator, ...). */
async function personWithRole(t: TestHub, username: string, role: string): Promise<Person> {
  const practitioner = await createResource(t, { resourceType: 'Practitioner', name: [{ family: username }] });
  const password = newPassword();
  await createAccount(t, { username, password, role, fhirUser: `Practitioner/${practitioner.id}` });
  await registerPublicApp(t, `${username}-app`, 'openid fhirUser user/*.cruds');
  const token = (await signIn(t, { clientId: `${username}-app`, username, password, scope: 'openid fhirUser user/*.cruds' })).access_token;
  return { username, password, reference: `Practitioner/${practitioner.id}`, id: practitioner.id, token };
}

describe.each(backends)('e-prescriptions on %s', (backend) => {
  const t = useTestHub(backend);
  const org: Record<string, string> = {};
  let doctor: Person;
  let colleague: Person;
  let unverified: Person;
  let junior: Person;
  let pharmacist: Person;
  let outsidePharmacist: Person;
  let resident: Person;
  let regulator: Person;
  let appToken = '';
  let child = '';
  let guardian = '';
  const keys: Record<string, Device> = {};
  const as = (person: Person) => asPerson(t, person);
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await t.fetch(`${t.base}/${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/fhir+json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const draftFor = (patient: string, requester: Person, extra: Partial<MedicationRequest> = {}): MedicationRequest => ({
    resourceType: 'MedicationRequest',
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: ENALAPRIL,
    subject: { reference: patient },
    requester: { reference: requester.reference },
    authoredOn: new Date().toISOString().slice(0, 10),
    dosageInstruction: [{ text: '每日一次，每次一片，口服' }],
    dispenseRequest: { quantity: { value: 28, unit: '片' } },
    ...extra,
  });
  const draft = async (by: Person, request: MedicationRequest): Promise<MedicationRequest> => {
    const res = await as(by)('POST', 'MedicationRequest', request);
    expect([res.status, diagnostics(res.body)]).toEqual([201, '']);
    return res.body as MedicationRequest;
  };
  /** The doctor's device signs the draft as the hub holds it now. */
  const claimsFor = (request: MedicationRequest, signer: Person, extra: object = {}) => ({
    sub: signer.reference,
    target: `MedicationRequest/${request.id}/_history/${request.meta!.versionId}`,
    sha256: contentHash(request),
    iat: Math.floor(Date.now() / 1000),
    ...extra,
  });
  const signAs = (by: Person, id: string, jws: string, more: Parameters['parameter'] = []) =>
    as(by)('POST', `MedicationRequest/${id}/$sign`, { resourceType: 'Parameters', parameter: [{ name: 'signature', valueString: jws }, ...(more ?? [])] });
  const signed = async (request: MedicationRequest) => {
    const res = await signAs(doctor, request.id!, compactJws(keys.doctor, claimsFor(request, doctor)));
    expect([res.status, diagnostics(res.body)]).toEqual([200, '']);
    return res.body as Parameters;
  };
  const review = (by: Person, taskId: string, decision: string, reason?: string) =>
    as(by)('POST', `Task/${taskId}/$review`, { resourceType: 'Parameters', parameter: [{ name: 'decision', valueCode: decision }, ...(reason ? [{ name: 'reason', valueString: reason }] : [])] });
  const approved = async () => {
    const task = resourceParam<Task>(await signed(await draft(doctor, draftFor(resident.reference, doctor))), 'task');
    const res = await review(pharmacist, task.id!, 'approve');
    expect([res.status, diagnostics(res.body)]).toEqual([200, '']);
    return resourceParam<MedicationRequest>(res.body, 'medicationRequest');
  };
  const registerKey = (by: Person, practitionerId: string, jwk: unknown) =>
    as(by)('POST', `Practitioner/${practitionerId}/$register-signing-key`, { resourceType: 'Parameters', parameter: [{ name: 'key', valueString: JSON.stringify(jwk) }] });

  beforeAll(async () => {
    org.hospital = await createOrganization(t, '苏河区中心医院互联网医院');
    org.other = await createOrganization(t, '邻区人民医院');
    doctor = await createClinician(t, { username: 'rx-doctor', organization: org.hospital });
    colleague = await createClinician(t, { username: 'rx-colleague', organization: org.hospital });
    unverified = await createClinician(t, { username: 'rx-unverified', organization: org.hospital, verified: false });
    junior = await createClinician(t, { username: 'rx-junior', organization: org.hospital, licensedSince: yearsAgo(1) });
    pharmacist = await createClinician(t, { username: 'rx-pharmacist', role: 'pharmacist', organization: org.hospital });
    outsidePharmacist = await createClinician(t, { username: 'rx-pharmacist-2', role: 'pharmacist', organization: org.other });
    resident = await createResident(t, { username: 'rx-resident' });
    regulator = await personWithRole(t, 'rx-regulator', 'regulator');
    child = (await createResource(t, { resourceType: 'Patient', name: [{ family: '张', given: ['小明'] }], birthDate: yearsAgo(3), gender: 'male' })).id;
    guardian = (await createResource(t, {
      resourceType: 'RelatedPerson',
      active: true,
      patient: { reference: `Patient/${child}` },
      relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH' }] }],
      name: [{ family: '张', given: ['丽'] }],
    })).id;
    // The online visits that make them treating doctors (IH-05) of the resident and the child.
    for (const patient of [resident.reference, `Patient/${child}`]) {
      await createResource(t, {
        resourceType: 'Encounter',
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' },
        subject: { reference: patient },
        participant: [doctor, colleague, unverified, junior].map((d) => ({ individual: { reference: d.reference } })),
        serviceProvider: { reference: `Organization/${org.hospital}` },
      });
    }
    const app = await fetch(`${t.url}/oauth2/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token}` },
      body: JSON.stringify({ client_id: 'rx-ai-engine', name: 'AI prescribing assistant', kind: 'confidential', role: 'app', scope: 'system/*.cruds' }),
    });
    const registered = (await app.json()) as { client_secret: string };
    appToken = await clientCredentialsToken(t.url, { clientId: 'rx-ai-engine', secret: registered.client_secret }, 'system/*.cruds');
    keys.doctor = device('ES256');
    keys.colleague = device('RS256');
  }, 180_000);

  it('IH-05/IH-08: a doctor registers the public key of their own key pair; private keys, other people and ineligible doctors are refused', async () => {
    const jwk = keys.doctor.publicKey.export({ format: 'jwk' });
    expect((await registerKey(doctor, doctor.id, keys.doctor.privateKey.export({ format: 'jwk' }))).status).toBe(400);
    expect((await registerKey(colleague, doctor.id, jwk)).status).toBe(403); // not their Practitioner
    expect((await admin('POST', `Practitioner/${doctor.id}/$register-signing-key`, { resourceType: 'Parameters', parameter: [{ name: 'key', valueString: JSON.stringify(jwk) }] })).status).toBe(403);
    const res = await registerKey(doctor, doctor.id, jwk);
    expect([res.status, diagnostics(res.body)]).toEqual([200, '']);
    keys.doctor.kid = param(res.body, 'kid')?.valueString;
    expect(param(res.body, 'alg')?.valueCode).toBe('ES256');
    expect(keys.doctor.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await registerKey(colleague, colleague.id, jwk)).status).toBe(409); // the doctor's key is theirs alone
    const rsa = await registerKey(colleague, colleague.id, keys.colleague.publicKey.export({ format: 'jwk' }));
    expect(rsa.status).toBe(200);
    keys.colleague.kid = param(rsa.body, 'kid')?.valueString;
    const refusedUnverified = await registerKey(unverified, unverified.id, device('ES256').publicKey.export({ format: 'jwk' }));
    expect(refusedUnverified.status).toBe(403);
    expect(diagnostics(refusedUnverified.body)).toContain('IH-08');
    const refusedJunior = await registerKey(junior, junior.id, device('ES256').publicKey.export({ format: 'jwk' }));
    expect(refusedJunior.status).toBe(403);
    expect(diagnostics(refusedJunior.body)).toContain('IH-09');
    expect((await registerKey(pharmacist, pharmacist.id, device('ES256').publicKey.export({ format: 'jwk' }))).status).toBe(403);
  });

  it('IH-05: the treating doctor signs their draft with their own key; it stays inactive (on-hold) until a pharmacist approves it, with a review Task and a Provenance whose JWS verifies', async () => {
    const request = await draft(doctor, draftFor(resident.reference, doctor));
    expect(request.status).toBe('draft');
    const body = await signed(request);
    const onHold = resourceParam<MedicationRequest>(body, 'medicationRequest');
    expect(onHold).toMatchObject({ id: request.id, status: 'on-hold', meta: { versionId: '2' } });
    expect(onHold.meta?.tag).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'internet-hospital' })]));
    const task = resourceParam<Task>(body, 'task');
    expect(task).toMatchObject({
      status: 'requested',
      intent: 'order',
      code: { coding: [expect.objectContaining({ code: 'prescription-review' })] },
      focus: { reference: `MedicationRequest/${request.id}` },
      for: { reference: resident.reference },
      requester: { reference: doctor.reference },
      owner: { reference: `Organization/${org.hospital}` },
    });
    const provenance = resourceParam<Provenance>(body, 'provenance');
    expect(provenance.target).toEqual([{ reference: `MedicationRequest/${request.id}/_history/1` }]);
    expect(provenance.agent[0]).toMatchObject({ who: { reference: doctor.reference }, onBehalfOf: { reference: `Organization/${org.hospital}` } });
    const signature = provenance.signature![0];
    expect(signature).toMatchObject({ sigFormat: 'application/jose', who: { reference: doctor.reference } });
    // Anyone holding the doctor's public key can check the signature and what it binds.
    const jws = Buffer.from(signature.data!, 'base64').toString();
    const [h, p, s] = jws.split('.');
    expect(verify('sha256', Buffer.from(`${h}.${p}`), { key: keys.doctor.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))).toBe(true);
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const version1 = (await as(doctor)('GET', `MedicationRequest/${request.id}/_history/1`)).body as MedicationRequest;
    expect(claims).toMatchObject({ sub: doctor.reference, target: `MedicationRequest/${request.id}/_history/1`, sha256: contentHash(version1) });
    // Stored as it was answered; not active; and a prescription is signed once.
    expect((await as(resident)('GET', `MedicationRequest/${request.id}`)).body.status).toBe('on-hold');
    expect((await as(doctor)('GET', `Task?focus=MedicationRequest/${request.id}&code=${encodeURIComponent(REVIEW)}`)).body.entry).toHaveLength(1);
    expect((await signAs(doctor, request.id!, compactJws(keys.doctor, claimsFor(onHold, doctor)))).status).toBe(409);
  });

  it('IH-05: a forged, other-key, altered-content or stale signature is refused and nothing is written', async () => {
    const request = await draft(doctor, draftFor(resident.reference, doctor));
    const stranger = device('ES256');
    const attempts: [string, string, number][] = [
      ['unregistered key', compactJws(stranger, claimsFor(request, doctor)), 403],
      ["another doctor's key", compactJws(keys.colleague, claimsFor(request, doctor)), 403],
      ['altered content', compactJws(keys.doctor, claimsFor({ ...request, dosageInstruction: [{ text: '每日三次' }] }, doctor)), 422],
      ['another resource', compactJws(keys.doctor, { ...claimsFor(request, doctor), target: 'MedicationRequest/other/_history/1' }), 422],
      ['another signer named', compactJws(keys.doctor, claimsFor(request, colleague)), 403],
      ['key id of the doctor, signed by a stranger', compactJws({ ...stranger, kid: keys.doctor.kid }, claimsFor(request, doctor)), 403],
      ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claimsFor(request, doctor))).toString('base64url')}.AA`, 403],
    ];
    const valid = compactJws(keys.doctor, claimsFor(request, doctor));
    const [vh, , vs] = valid.split('.');
    attempts.push(['payload swapped under a valid signature', `${vh}.${Buffer.from(JSON.stringify({ ...claimsFor(request, doctor), sha256: 'f'.repeat(64) })).toString('base64url')}.${vs}`, 403]);
    for (const [what, jws, status] of attempts) {
      const res = await signAs(doctor, request.id!, jws);
      expect([what, res.status, res.body.resourceType]).toEqual([what, status, 'OperationOutcome']);
      expect([what, diagnostics(res.body)]).toEqual([what, expect.stringMatching(/IH-0[58]/)]);
    }
    // The draft changed after the device read it: the old signature no longer applies.
    const edited = (await as(doctor)('PUT', `MedicationRequest/${request.id}`, { ...request, note: [{ text: '饭后服用' }] })).body as MedicationRequest;
    expect(edited.meta?.versionId).toBe('2');
    expect((await signAs(doctor, request.id!, valid)).status).toBe(409);
    expect((await as(doctor)('GET', `MedicationRequest/${request.id}`)).body.status).toBe('draft');
    expect((await as(doctor)('GET', `Task?focus=MedicationRequest/${request.id}`)).body.entry ?? []).toEqual([]);
    expect((await as(doctor)('GET', `Provenance?target=MedicationRequest/${request.id}`)).body.entry ?? []).toEqual([]);
    // Signed over the current version, it goes through.
    await signed(edited);
  });

  it('IH-05/IH-08/IH-09: only the requester signs, and only a doctor who may practise online', async () => {
    const request = await draft(doctor, draftFor(resident.reference, doctor));
    const byColleague = await signAs(colleague, request.id!, compactJws(keys.colleague, claimsFor(request, colleague)));
    expect(byColleague.status).toBe(403);
    expect(diagnostics(byColleague.body)).toContain('IH-05');
    // Drafting does not make a prescription; signing does, and checks eligibility.
    const own = await draft(unverified, draftFor(resident.reference, unverified));
    const refused = await signAs(unverified, own.id!, compactJws(device('ES256'), claimsFor(own, unverified)));
    expect(refused.status).toBe(403);
    expect(diagnostics(refused.body)).toContain('IH-08');
    const juniors = await draft(junior, draftFor(resident.reference, junior));
    const tooRecent = await signAs(junior, juniors.id!, compactJws(device('ES256'), claimsFor(juniors, junior)));
    expect(tooRecent.status).toBe(403);
    expect(diagnostics(tooRecent.body)).toContain('IH-09');
    expect([403, 404]).toContain((await signAs(pharmacist, request.id!, compactJws(device('ES256'), claimsFor(request, pharmacist)))).status); // 404 without a care link
    expect((await as(doctor)('GET', `MedicationRequest/${request.id}`)).body.status).toBe('draft');
  });

  it('IH-06: no prescription statistics — a third-party system reads, searches, counts and exports no prescriptions or dispenses', async () => {
    const asApp = (path: string) => fetch(`${t.base}/${path}`, { headers: { authorization: `Bearer ${appToken}`, accept: 'application/fhir+json' } });
    for (const path of ['MedicationRequest', 'MedicationRequest?_summary=count', 'MedicationDispense?_count=1', '?_type=MedicationRequest']) {
      const res = await asApp(path);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(diagnostics(await res.json())).toContain('IH-06');
    }
    // Included through another search, they are left out (the administrator's same search has them).
    const revinclude = 'Patient?_revinclude=MedicationRequest:subject&_count=100';
    const types = async (res: Response) => ((await res.json()) as Bundle).entry!.map((e) => e.resource!.resourceType);
    expect(await types(await t.fetch(`${t.base}/${revinclude}`))).toContain('MedicationRequest');
    expect(await types(await asApp(revinclude))).not.toContain('MedicationRequest');
    // The same app still reads other records (the rule is about prescriptions).
    expect((await asApp('Patient?_count=1')).status).toBe(200);
    // Its bulk export leaves prescriptions out.
    const kickoff = await fetch(`${t.base}/$export`, { headers: { authorization: `Bearer ${appToken}`, accept: 'application/fhir+json', prefer: 'respond-async' } });
    expect(kickoff.status).toBe(202);
    const status = kickoff.headers.get('content-location')!;
    let manifest: { output?: { type: string }[] } | undefined;
    for (let i = 0; i < 200 && !manifest; i++) {
      const res = await fetch(status, { headers: { authorization: `Bearer ${appToken}` } });
      if (res.status === 200) manifest = (await res.json()) as { output?: { type: string }[] };
      else await new Promise((done) => setTimeout(done, 50));
    }
    expect(manifest?.output?.length).toBeGreaterThan(0);
    expect(manifest!.output!.map((o) => o.type)).not.toContain('MedicationRequest');
    const explicit = await fetch(`${t.base}/$export?_type=MedicationRequest`, { headers: { authorization: `Bearer ${appToken}`, accept: 'application/fhir+json', prefer: 'respond-async' } });
    expect(explicit.status).toBe(403);
  });

  it('IH-06: only a doctor creates a prescription, only as a draft in their own name; nothing else makes or activates one', async () => {
    const resident_ = await as(resident)('POST', 'MedicationRequest', draftFor(resident.reference, doctor));
    expect(resident_.status).toBe(403);
    expect(diagnostics(resident_.body)).toContain('IH-06');
    for (const status of ['draft', 'active']) {
      const res = await fetch(`${t.base}/MedicationRequest`, { method: 'POST', headers: { authorization: `Bearer ${appToken}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(draftFor(resident.reference, doctor, { status: status as 'draft' })) });
      expect([status, res.status]).toEqual([status, 403]);
      expect(diagnostics(await res.json())).toContain('IH-06');
    }
    const active = await as(doctor)('POST', 'MedicationRequest', draftFor(resident.reference, doctor, { status: 'active' }));
    expect(active.status).toBe(422);
    expect(diagnostics(active.body)).toContain('IH-06');
    expect((await as(doctor)('POST', 'MedicationRequest', draftFor(resident.reference, colleague))).status).toBe(403);
    expect((await as(pharmacist)('POST', 'MedicationRequest', draftFor(resident.reference, doctor))).status).toBe(403);
    expect((await admin('POST', 'MedicationRequest', draftFor(resident.reference, doctor))).status).toBe(403);
    // In a transaction Bundle the same rule applies.
    const bundle = await as(doctor)('POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: draftFor(resident.reference, doctor, { status: 'active' }), request: { method: 'POST', url: 'MedicationRequest' } }] });
    expect(bundle.status).toBe(422);
    // A physical institution's record may be shared, but it is no internet-hospital prescription.
    const record = await admin('POST', 'MedicationRequest', draftFor(resident.reference, doctor, { status: 'active' }));
    expect(record.status).toBe(201);
    expect((await signAs(doctor, record.body.id, compactJws(keys.doctor, claimsFor(record.body, doctor)))).status).toBe(409);
    expect([404, 422]).toContain((await as(pharmacist)('POST', `MedicationRequest/${record.body.id}/$dispense`, { resourceType: 'Parameters', parameter: [] })).status);
    expect((await admin('POST', `MedicationRequest/${record.body.id}/$dispense`, { resourceType: 'Parameters', parameter: [] })).status).toBe(422);
    // Once signed, plain writes cannot change the prescription or its review, whoever writes.
    const body = await signed(await draft(doctor, draftFor(resident.reference, doctor)));
    const onHold = resourceParam<MedicationRequest>(body, 'medicationRequest');
    const task = resourceParam<Task>(body, 'task');
    for (const writer of [doctor, pharmacist]) expect((await as(writer)('PUT', `MedicationRequest/${onHold.id}`, { ...onHold, status: 'active' })).status).toBe(403);
    expect((await admin('PUT', `MedicationRequest/${onHold.id}`, { ...onHold, status: 'active' })).status).toBe(403);
    expect((await admin('DELETE', `MedicationRequest/${onHold.id}`)).status).toBe(403);
    expect((await as(pharmacist)('PUT', `Task/${task.id}`, { ...task, status: 'completed' })).status).toBe(403);
    expect((await as(pharmacist)('POST', 'MedicationDispense', { resourceType: 'MedicationDispense', status: 'completed', medicationCodeableConcept: ENALAPRIL, subject: { reference: resident.reference }, authorizingPrescription: [{ reference: `MedicationRequest/${onHold.id}` }] })).status).toBe(403);
    expect((await as(doctor)('GET', `MedicationRequest/${onHold.id}`)).body.status).toBe('on-hold');
    // The API offers no operation that generates a prescription.
    const capability = (await admin('GET', 'metadata')).body;
    const operations = (type: string) => capability.rest[0].resource.find((r: { type: string }) => r.type === type).operation.map((o: { name: string }) => o.name);
    expect(operations('MedicationRequest').filter((n: string) => !['validate', 'reindex'].includes(n)).sort()).toEqual(['dispense', 'sign', 'trace']);
    expect(operations('Task')).toEqual(expect.arrayContaining(['review', 'delivery']));
    expect(operations('Practitioner')).toEqual(expect.arrayContaining(['register-signing-key']));
  });

  it('IH-07: special-control drugs are refused at drafting and at signing', async () => {
    const morphine = await as(doctor)('POST', 'MedicationRequest', draftFor(resident.reference, doctor, { medicationCodeableConcept: MORPHINE }));
    expect(morphine.status).toBe(422);
    expect(diagnostics(morphine.body)).toMatch(/IH-07.*N02AA01.*N02A/);
    // A stored Medication is read at signing.
    const diazepam = await createResource(t, { resourceType: 'Medication', code: { coding: [{ system: ATC, code: 'N05BA01', display: 'diazepam' }] } });
    const referenced = await draft(doctor, draftFor(resident.reference, doctor, { medicationCodeableConcept: undefined, medicationReference: { reference: `Medication/${diazepam.id}` } }));
    const refused = await signAs(doctor, referenced.id!, compactJws(keys.doctor, claimsFor(referenced, doctor)));
    expect(refused.status).toBe(422);
    expect(diagnostics(refused.body)).toMatch(/IH-07.*N05BA01.*N05B/);
    // An uncoded medication cannot be checked, so it is not signed.
    const uncoded = await draft(doctor, draftFor(resident.reference, doctor, { medicationCodeableConcept: { text: '某药' } }));
    const unchecked = await signAs(doctor, uncoded.id!, compactJws(keys.doctor, claimsFor(uncoded, doctor)));
    expect(unchecked.status).toBe(422);
    expect(diagnostics(unchecked.body)).toContain('IH-07');
    expect((await as(doctor)('GET', `MedicationRequest/${referenced.id}`)).body.status).toBe('draft');
  });

  it('IH-07: a child under 6 needs a recorded guardian named in the prescription and the doctor\'s confirmation that guardian and doctor are present', async () => {
    const patient = `Patient/${child}`;
    const request = await draft(doctor, draftFor(patient, doctor));
    const noGuardian = await signAs(doctor, request.id!, compactJws(keys.doctor, claimsFor(request, doctor, { guardianConfirmed: true })), [{ name: 'guardianConfirmed', valueBoolean: true }]);
    expect(noGuardian.status).toBe(422);
    expect(diagnostics(noGuardian.body)).toMatch(/IH-07.*guardian/);
    // A RelatedPerson who is not a guardian does not count.
    const neighbour = await createResource(t, { resourceType: 'RelatedPerson', patient: { reference: patient }, relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'NBOR' }] }] });
    const withNeighbour = (await as(doctor)('PUT', `MedicationRequest/${request.id}`, { ...request, supportingInformation: [{ reference: `RelatedPerson/${neighbour.id}` }] })).body as MedicationRequest;
    expect((await signAs(doctor, request.id!, compactJws(keys.doctor, claimsFor(withNeighbour, doctor, { guardianConfirmed: true })), [{ name: 'guardianConfirmed', valueBoolean: true }])).status).toBe(422);
    const named = (await as(doctor)('PUT', `MedicationRequest/${request.id}`, { ...request, supportingInformation: [{ reference: `RelatedPerson/${guardian}` }] })).body as MedicationRequest;
    const unconfirmed = await signAs(doctor, request.id!, compactJws(keys.doctor, claimsFor(named, doctor)));
    expect(unconfirmed.status).toBe(422);
    expect(diagnostics(unconfirmed.body)).toMatch(/IH-07.*present/);
    const unsignedConfirmation = await signAs(doctor, request.id!, compactJws(keys.doctor, claimsFor(named, doctor)), [{ name: 'guardianConfirmed', valueBoolean: true }]);
    expect(unsignedConfirmation.status).toBe(422);
    const ok = await signAs(doctor, request.id!, compactJws(keys.doctor, claimsFor(named, doctor, { guardianConfirmed: true })), [{ name: 'guardianConfirmed', valueBoolean: true }]);
    expect([ok.status, diagnostics(ok.body)]).toEqual([200, '']);
    const provenance = resourceParam<Provenance>(ok.body, 'provenance');
    expect(provenance.agent.map((a) => a.who?.reference)).toEqual([doctor.reference, `RelatedPerson/${guardian}`]);
    // From the age limit on, no guardian is needed.
    const older = (await createResource(t, { resourceType: 'Patient', name: [{ family: '李' }], birthDate: yearsAgo(6, 1) })).id;
    await createResource(t, { resourceType: 'Encounter', status: 'in-progress', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' }, subject: { reference: `Patient/${older}` }, participant: [{ individual: { reference: doctor.reference } }] });
    await signed(await draft(doctor, draftFor(`Patient/${older}`, doctor)));
  });

  it('IH-05: a pharmacist of the institution approves (→ active) or rejects with a reason (→ cancelled); nobody else reviews', async () => {
    const first = await signed(await draft(doctor, draftFor(resident.reference, doctor)));
    const task = resourceParam<Task>(first, 'task');
    const id = resourceParam<MedicationRequest>(first, 'medicationRequest').id!;
    // The institution's pharmacists find the review in their queue and read the prescription and its patient.
    const queue = await as(pharmacist)('GET', `Task?owner=Organization/${org.hospital}&code=${encodeURIComponent(REVIEW)}&status=requested`);
    expect(queue.body.entry.map((e: { resource: Task }) => e.resource.id)).toContain(task.id);
    expect((await as(pharmacist)('GET', `MedicationRequest/${id}`)).status).toBe(200);
    expect((await as(pharmacist)('GET', resident.reference)).status).toBe(200);
    expect((await as(outsidePharmacist)('GET', `MedicationRequest/${id}`)).status).toBe(404);
    expect((await review(doctor, task.id!, 'approve')).status).toBe(403);
    expect((await review(outsidePharmacist, task.id!, 'approve')).status).toBe(404); // another institution's: not visible
    expect((await review(pharmacist, task.id!, 'reject')).status).toBe(400); // a rejection needs its reason
    expect((await review(pharmacist, task.id!, 'maybe')).status).toBe(400);
    const ok = await review(pharmacist, task.id!, 'approve');
    expect([ok.status, diagnostics(ok.body)]).toEqual([200, '']);
    expect(resourceParam<MedicationRequest>(ok.body, 'medicationRequest').status).toBe('active');
    expect(resourceParam<Task>(ok.body, 'task')).toMatchObject({ status: 'completed', output: expect.arrayContaining([{ type: { text: 'decision' }, valueCode: 'approve' }]) });
    expect(resourceParam<Provenance>(ok.body, 'provenance')).toMatchObject({ agent: [expect.objectContaining({ who: { reference: pharmacist.reference } })], activity: { coding: [expect.objectContaining({ code: 'approve' })] } });
    expect((await as(resident)('GET', `MedicationRequest/${id}`)).body.status).toBe('active');
    expect((await review(pharmacist, task.id!, 'reject', 'too late')).status).toBe(409);

    const second = await signed(await draft(doctor, draftFor(resident.reference, doctor)));
    const rejected = await review(pharmacist, resourceParam<Task>(second, 'task').id!, 'reject', '剂量与患者肾功能不符，请调整');
    expect(rejected.status).toBe(200);
    expect(resourceParam<MedicationRequest>(rejected.body, 'medicationRequest')).toMatchObject({ status: 'cancelled', statusReason: { text: expect.stringContaining('剂量与患者肾功能不符') } });
    expect(resourceParam<Task>(rejected.body, 'task')).toMatchObject({ status: 'rejected', statusReason: { text: '剂量与患者肾功能不符，请调整' } });
    expect((await as(pharmacist)('POST', `MedicationRequest/${resourceParam<MedicationRequest>(second, 'medicationRequest').id}/$dispense`, { resourceType: 'Parameters', parameter: [] })).status).toBe(422);
  });

  it('IH-05/IH-13: dispensing only after approval; delivery moves requested → in-progress → completed and completes the prescription', async () => {
    const body = await signed(await draft(doctor, draftFor(resident.reference, doctor)));
    const id = resourceParam<MedicationRequest>(body, 'medicationRequest').id!;
    const dispense = (by: Person, parameter: Parameters['parameter'] = []) => as(by)('POST', `MedicationRequest/${id}/$dispense`, { resourceType: 'Parameters', parameter });
    const early = await dispense(pharmacist);
    expect(early.status).toBe(422);
    expect(diagnostics(early.body)).toContain('IH-05');
    expect((await review(pharmacist, resourceParam<Task>(body, 'task').id!, 'approve')).status).toBe(200);
    expect((await dispense(doctor)).status).toBe(403);
    const done = await dispense(pharmacist, [{ name: 'address', valueAddress: { text: '上海市苏河区某路 1 号' } }]);
    expect([done.status, diagnostics(done.body)]).toEqual([200, '']);
    const medicationDispense = resourceParam<MedicationDispense>(done.body, 'medicationDispense');
    expect(medicationDispense).toMatchObject({ status: 'in-progress', authorizingPrescription: [{ reference: `MedicationRequest/${id}` }], performer: [{ actor: { reference: pharmacist.reference } }], quantity: { value: 28 } });
    const delivery = resourceParam<Task>(done.body, 'task');
    expect(delivery).toMatchObject({ status: 'requested', focus: { reference: `MedicationDispense/${medicationDispense.id}` }, basedOn: [{ reference: `MedicationRequest/${id}` }] });
    expect((await dispense(pharmacist)).status).toBe(409); // one dispense at a time
    const move = (status: string, more: Parameters['parameter'] = []) => as(pharmacist)('POST', `Task/${delivery.id}/$delivery`, { resourceType: 'Parameters', parameter: [{ name: 'status', valueCode: status }, ...(more ?? [])] });
    expect((await move('completed')).status).toBe(409); // not yet dispatched
    expect((await as(doctor)('POST', `Task/${delivery.id}/$delivery`, { resourceType: 'Parameters', parameter: [{ name: 'status', valueCode: 'in-progress' }] })).status).toBe(403);
    expect((await move('in-progress', [{ name: 'trackingNumber', valueString: 'SF1234567890' }])).body.parameter[0].resource.status).toBe('in-progress');
    const delivered = await move('completed');
    expect(delivered.status).toBe(200);
    expect((await as(resident)('GET', `MedicationDispense/${medicationDispense.id}`)).body).toMatchObject({ status: 'completed', whenHandedOver: expect.any(String) });
    expect((await as(resident)('GET', `MedicationRequest/${id}`)).body.status).toBe('completed');
    expect((await move('failed', [{ name: 'reason', valueString: 'x' }])).status).toBe(409);
    expect((await dispense(pharmacist)).status).toBe(422); // completed: nothing left to dispense

    // Handed over at the pharmacy: completed at once.
    const pickup = await approved();
    const counter = await as(pharmacist)('POST', `MedicationRequest/${pickup.id}/$dispense`, { resourceType: 'Parameters', parameter: [{ name: 'delivery', valueBoolean: false }] });
    expect(counter.status).toBe(200);
    expect(resourceParam<MedicationDispense>(counter.body, 'medicationDispense').status).toBe('completed');
    expect(resourceParam<MedicationRequest>(counter.body, 'medicationRequest').status).toBe('completed');

    // A failed delivery stops that dispense; the prescription can be dispensed again.
    const retry = await approved();
    const first = await as(pharmacist)('POST', `MedicationRequest/${retry.id}/$dispense`, { resourceType: 'Parameters', parameter: [] });
    const failedTask = resourceParam<Task>(first.body, 'task');
    expect((await as(pharmacist)('POST', `Task/${failedTask.id}/$delivery`, { resourceType: 'Parameters', parameter: [{ name: 'status', valueCode: 'failed' }] })).status).toBe(400);
    expect((await as(pharmacist)('POST', `Task/${failedTask.id}/$delivery`, { resourceType: 'Parameters', parameter: [{ name: 'status', valueCode: 'failed' }, { name: 'reason', valueString: '地址无人签收' }] })).status).toBe(200);
    expect((await as(pharmacist)('GET', `MedicationDispense/${resourceParam<MedicationDispense>(first.body, 'medicationDispense').id}`)).body.status).toBe('stopped');
    expect((await as(pharmacist)('POST', `MedicationRequest/${retry.id}/$dispense`, { resourceType: 'Parameters', parameter: [] })).status).toBe(200);
  });

  it('IH-13: $trace shows the whole chain to the patient, the doctor, the pharmacist and the regulator (read-only), audited', async () => {
    const request = await approved();
    const dispensed = await as(pharmacist)('POST', `MedicationRequest/${request.id}/$dispense`, { resourceType: 'Parameters', parameter: [] });
    const delivery = resourceParam<Task>(dispensed.body, 'task');
    for (const status of ['in-progress', 'completed']) {
      expect((await as(pharmacist)('POST', `Task/${delivery.id}/$delivery`, { resourceType: 'Parameters', parameter: [{ name: 'status', valueCode: status }] })).status).toBe(200);
    }
    const traces: Record<string, Bundle> = {};
    for (const [name, person] of [['resident', resident], ['doctor', doctor], ['pharmacist', pharmacist], ['regulator', regulator]] as const) {
      const res = await as(person)('GET', `MedicationRequest/${request.id}/$trace`);
      expect([name, res.status]).toEqual([name, 200]);
      traces[name] = res.body as Bundle;
    }
    const trace = traces.regulator;
    expect(trace).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    const resources = trace.entry!.map((e) => e.resource!);
    const states = (type: string) => resources.filter((r) => r.resourceType === type).map((r) => (r as { status?: string }).status);
    expect(states('MedicationRequest')).toEqual(['draft', 'on-hold', 'active', 'completed']);
    expect(states('MedicationDispense')).toEqual(['in-progress', 'completed']);
    const tasks = resources.filter((r): r is Task => r.resourceType === 'Task');
    expect(tasks.filter((task) => task.code?.coding?.[0].code === 'prescription-review').map((task) => task.status)).toEqual(['requested', 'completed']);
    expect(tasks.filter((task) => task.code?.coding?.[0].code === 'prescription-delivery').map((task) => task.status)).toEqual(['requested', 'in-progress', 'completed']);
    const steps = resources.filter((r): r is Provenance => r.resourceType === 'Provenance').map((p) => p.activity?.coding?.[0].code);
    expect(steps).toEqual(['sign', 'approve', 'dispense', 'deliver', 'deliver']);
    const outcome = resources.at(-1) as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue.map((i) => [i.severity, i.diagnostics])).toEqual([['information', expect.stringMatching(/IH-05.*signature verifies/)]]);
    // In time order: the signed draft first, delivered last.
    const times = trace.entry!.slice(0, -1).map((e) => e.resource!.meta!.lastUpdated!);
    expect([...times].sort()).toEqual(times);
    expect(traces.resident.entry).toHaveLength(trace.entry!.length);
    // Others see nothing; the regulator reads but writes nothing.
    expect((await as(outsidePharmacist)('GET', `MedicationRequest/${request.id}/$trace`)).status).toBe(404);
    const regulatorWrites: [string, string, unknown][] = [
      ['POST', 'MedicationRequest', draftFor(resident.reference, doctor)],
      ['PUT', `MedicationRequest/${request.id}`, request],
      ['POST', `MedicationRequest/${request.id}/$sign`, { resourceType: 'Parameters', parameter: [{ name: 'signature', valueString: 'a.b.c' }] }],
      ['POST', `MedicationRequest/${request.id}/$dispense`, { resourceType: 'Parameters', parameter: [] }],
      ['POST', `Task/${delivery.id}/$delivery`, { resourceType: 'Parameters', parameter: [{ name: 'status', valueCode: 'failed' }, { name: 'reason', valueString: 'x' }] }],
      ['POST', `Task/${tasks[0].id}/$review`, { resourceType: 'Parameters', parameter: [{ name: 'decision', valueCode: 'reject' }, { name: 'reason', valueString: 'x' }] }],
      ['POST', `Practitioner/${regulator.id}/$register-signing-key`, { resourceType: 'Parameters', parameter: [{ name: 'key', valueString: JSON.stringify(device('ES256').publicKey.export({ format: 'jwk' })) }] }],
    ];
    for (const [method, path, body] of regulatorWrites) expect([method, path, (await as(regulator)(method, path, body)).status]).toEqual([method, path, 403]);
    // A physical institution's record is outside the regulator's prescription interface.
    const record = await admin('POST', 'MedicationRequest', draftFor(resident.reference, doctor, { status: 'active' }));
    expect((await as(regulator)('GET', `MedicationRequest/${record.body.id}/$trace`)).status).toBe(404);
    // The regulator's trace is in the patient's audit trail.
    let events: Resource[] = [];
    for (let i = 0; i < 50 && !events.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const found = (await admin('GET', `AuditEvent?patient=${resident.reference}&agent=${regulator.reference}&_count=100`)).body as Bundle;
      events = (found.entry ?? []).map((e) => e.resource!).filter((e) => JSON.stringify(e).includes('$trace'));
    }
    expect(events.length).toBeGreaterThan(0);
  });

  it('bad input answers 4xx with an OperationOutcome and writes nothing', async () => {
    const request = await draft(doctor, draftFor(resident.reference, doctor));
    const raw = async (method: string, path: string, body: string, type = 'application/fhir+json') => {
      const res = await fetch(`${t.base}/${path}`, { method, headers: { authorization: `Bearer ${doctor.token}`, 'content-type': type }, body });
      return { status: res.status, body: (await res.json()) as OperationOutcome };
    };
    const cases: [string, { status: number; body: OperationOutcome }][] = [
      ['malformed JSON', await raw('POST', `MedicationRequest/${request.id}/$sign`, '{"resourceType": "Parameters", ')],
      ['not Parameters', await as(doctor)('POST', `MedicationRequest/${request.id}/$sign`, { resourceType: 'Patient' })],
      ['no signature', await as(doctor)('POST', `MedicationRequest/${request.id}/$sign`, { resourceType: 'Parameters', parameter: [] })],
      ['signature not a JWS', await signAs(doctor, request.id!, 'not-a-jws')],
      ['payload without claims', await signAs(doctor, request.id!, compactJws(keys.doctor, { hello: 'world' }))],
      ['guardianConfirmed not boolean', await signAs(doctor, request.id!, compactJws(keys.doctor, claimsFor(request, doctor)), [{ name: 'guardianConfirmed', valueString: 'yes' }])],
      ['no body', await as(doctor)('POST', `MedicationRequest/${request.id}/$sign`)],
      ['unknown prescription', await signAs(doctor, 'no-such-id', compactJws(keys.doctor, claimsFor(request, doctor)))],
      ['GET on a POST operation', await as(doctor)('GET', `MedicationRequest/${request.id}/$sign`)],
      ['key not JSON', await as(doctor)('POST', `Practitioner/${doctor.id}/$register-signing-key`, { resourceType: 'Parameters', parameter: [{ name: 'key', valueString: '{oops' }] })],
      ['no key', await as(doctor)('POST', `Practitioner/${doctor.id}/$register-signing-key`, { resourceType: 'Parameters', parameter: [] })],
      ['review of a Task that is no review', await as(pharmacist)('POST', `Task/${(await createResource(t, { resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: resident.reference }, owner: { reference: `Organization/${org.hospital}` } })).id}/$review`, { resourceType: 'Parameters', parameter: [{ name: 'decision', valueCode: 'approve' }] })],
      ['delivery status unknown', await as(pharmacist)('POST', 'Task/whatever/$delivery', { resourceType: 'Parameters', parameter: [{ name: 'status', valueCode: 'lost' }] })],
      ['dispense quantity not a quantity', await as(pharmacist)('POST', `MedicationRequest/${request.id}/$dispense`, { resourceType: 'Parameters', parameter: [{ name: 'quantity', valueString: 'lots' }] })],
      ['inside a Bundle', await as(doctor)('POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: { resourceType: 'Parameters', parameter: [{ name: 'signature', valueString: compactJws(keys.doctor, claimsFor(request, doctor)) }] }, request: { method: 'POST', url: `MedicationRequest/${request.id}/$sign` } }] })],
    ];
    for (const [what, res] of cases) {
      if (what === 'inside a Bundle') {
        expect([what, (res.body as unknown as Bundle).entry?.[0].response?.status]).toEqual([what, '400']);
        continue;
      }
      expect([what, res.status >= 400 && res.status < 500, res.status === 500, res.body?.resourceType]).toEqual([what, true, false, 'OperationOutcome']);
    }
    expect(cases.find(([w]) => w === 'unknown prescription')![1].status).toBe(404);
    expect(cases.find(([w]) => w === 'GET on a POST operation')![1].status).toBe(405);
    expect((await as(doctor)('GET', `MedicationRequest/${request.id}`)).body).toMatchObject({ status: 'draft', meta: { versionId: '1' } });
  });
});

describe.each(backends)('e-prescriptions with a configured special-control list on %s', (backend) => {
  const CUSTOM = 'https://suhe.example.cn/fhir/CodeSystem/drug';
  const t = useTestHub(backend, { rules: { specialControlDrugs: [`${CUSTOM}|TEST-CONTROLLED`] } });

  it('IH-07: the special-control list is configuration: a listed custom code is refused, and what the list leaves out is not', async () => {
    const organization = await createOrganization(t, '配置测试医院');
    const doctor = await createClinician(t, { username: 'rx-config-doctor', organization });
    const patient = (await createResource(t, { resourceType: 'Patient', name: [{ family: '王' }], birthDate: '1970-01-01' })).id;
    await createResource(t, { resourceType: 'Encounter', status: 'in-progress', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' }, subject: { reference: `Patient/${patient}` }, participant: [{ individual: { reference: doctor.reference } }] });
    const draftOf = (medicationCodeableConcept: object) => ({ resourceType: 'MedicationRequest', status: 'draft', intent: 'order', medicationCodeableConcept, subject: { reference: `Patient/${patient}` }, requester: { reference: doctor.reference } });
    const custom = await asPerson(t, doctor)('POST', 'MedicationRequest', draftOf({ coding: [{ system: CUSTOM, code: 'TEST-CONTROLLED' }] }));
    expect(custom.status).toBe(422);
    expect(diagnostics(custom.body)).toContain(`IH-07: ${CUSTOM}|TEST-CONTROLLED`);
    expect((await asPerson(t, doctor)('POST', 'MedicationRequest', draftOf(MORPHINE))).status).toBe(201);
  });
});
