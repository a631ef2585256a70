// PI-02: Consent resources decide who may see a resident's records beyond the care relationship,
// and a clinician's emergency access (break the glass) overrides a denial only with a reason, and
// is audited as such. Everything goes through the real sign-in and the real API.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { makeUscc } from '../../server/src/auth/institution.js';
import { availableBackends } from '../helpers/parts.js';
import { createAccount, newPassword, registerPublicApp, signIn } from '../helpers/people.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('consent');
const PRIVACY = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] };
const RESIDENT_ID = 'urn:oid:2.16.156.10011.1.3';
const BTG_HEADERS = { 'x-suhe-purpose-of-use': 'BTG', 'x-suhe-break-glass-reason': encodeURIComponent('昏迷急诊，需查既往史 unconscious in A&E') };

describe.each(backends)('consent and break-the-glass on %s', (backend) => {
  const t = useTestHub(backend, { auth: { rateLimit: { capacity: 1000, perSecond: 100 } } });
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};

  const create = async (resource: Resource, token = t.token): Promise<Resource & { id: string }> => {
    const res = await fetch(`${t.base}/${resource.resourceType}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify(resource),
    });
    const body = (await res.json()) as Resource & { id: string };
    if (res.status !== 201) throw new Error(`create ${resource.resourceType}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  const get = (token: string, path: string, headers: Record<string, string> = {}) => fetch(`${t.base}/${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const searchIds = async (token: string, path: string): Promise<string[]> => {
    const bundle = (await (await get(token, path)).json()) as Bundle;
    return (bundle.entry ?? []).map((e) => e.resource!.id!);
  };
  const consent = (patient: string, type: 'permit' | 'deny', actor: string, extra: Record<string, unknown> = {}): Resource =>
    ({
      resourceType: 'Consent',
      status: 'active',
      scope: PRIVACY,
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: `Patient/${patient}` },
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: type === 'permit' ? 'OPTIN' : 'OPTOUT' }] },
      provision: { type, actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference: actor } }], ...extra },
    }) as Resource;

  beforeAll(async () => {
    const a = await create({ resourceType: 'Patient', name: [{ family: '甲' }], identifier: [{ system: RESIDENT_ID, value: '11010519491231002X' }] } as Resource);
    const b = await create({ resourceType: 'Patient', name: [{ family: '乙' }] } as Resource);
    const stranger = await create({ resourceType: 'Practitioner', name: [{ family: '丙' }] } as Resource);
    const carer = await create({ resourceType: 'Practitioner', name: [{ family: '丁' }] } as Resource);
    Object.assign(ids, { A: a.id, B: b.id, stranger: stranger.id, carer: carer.id });
    await create({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${a.id}` }, participant: [{ individual: { reference: `Practitioner/${carer.id}` } }] } as Resource);
    ids.obsA = (await create({ resourceType: 'Observation', status: 'final', code: { text: '血压' }, subject: { reference: `Patient/${a.id}` } } as Resource)).id;
    ids.obsB = (await create({ resourceType: 'Observation', status: 'final', code: { text: '血压' }, subject: { reference: `Patient/${b.id}` } } as Resource)).id;

    await registerPublicApp(t, 'consent-app');
    const people: [string, string, string, string?][] = [
      ['resident.a', 'resident', `Patient/${a.id}`, '11010519491231002X'],
      ['dr.stranger', 'doctor', `Practitioner/${stranger.id}`],
      ['dr.carer', 'doctor', `Practitioner/${carer.id}`],
    ];
    for (const [username, role, fhirUser, idNumber] of people) {
      const password = newPassword();
      await createAccount(t, { username, password, role, fhirUser, ...(idNumber ? { identity: { system: RESIDENT_ID, value: idNumber } } : {}) });
      const scope = role === 'resident' ? 'launch/patient patient/*.cruds' : 'user/*.cruds';
      tokens[username] = (await signIn(t, { clientId: 'consent-app', username, password, scope })).access_token;
    }
    // An institution system (a private clinic) with its Organization.
    const registered = await fetch(`${t.url}/oauth2/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'private-clinic', name: '某民营诊所', kind: 'confidential', role: 'institution', scope: 'system/*.rs',
        organization: { name: '某民营诊所', licenceNumber: 'PDY77777-310115-1', creditCode: makeUscc('91310115MA1K4XY80') },
      }),
    });
    const clinic = (await registered.json()) as { client_secret: string; organization: string };
    expect(registered.status).toBe(201);
    ids.clinicOrg = clinic.organization;
    const token = await fetch(`${t.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`private-clinic:${clinic.client_secret}`).toString('base64')}` },
      body: 'grant_type=client_credentials&scope=system/*.rs',
    });
    tokens.clinic = ((await token.json()) as { access_token: string }).access_token;
  });

  it("PI-03: a parent sees their child's records while the child is under 14, and nobody else's", async () => {
    const now = new Date();
    const birth = (years: number) => `${now.getUTCFullYear() - years}-01-01`;
    const child = await create({ resourceType: 'Patient', name: [{ family: '甲', given: ['小'] }], birthDate: birth(8) } as Resource);
    const teen = await create({ resourceType: 'Patient', name: [{ family: '甲', given: ['大'] }], birthDate: birth(15) } as Resource);
    const neighbour = await create({ resourceType: 'Patient', name: [{ family: '邻' }], birthDate: birth(6) } as Resource);
    const mother = (patient: string, idNumber: string) =>
      ({
        resourceType: 'RelatedPerson',
        patient: { reference: `Patient/${patient}` },
        relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH' }] }],
        identifier: [{ system: 'urn:oid:2.16.840.1.113883.2.23.1.19.1', value: idNumber }], // the other resident-ID system: one identifier (ID-02)
      }) as Resource;
    await create(mother(child.id, '11010519491231002X'));
    await create(mother(teen.id, '11010519491231002X'));
    await create(mother(neighbour.id, '110105194912310101'));
    const obs = async (patient: string) => (await create({ resourceType: 'Observation', status: 'final', code: { text: '身高' }, subject: { reference: `Patient/${patient}` } } as Resource)).id;
    const [childObs, teenObs, neighbourObs] = [await obs(child.id), await obs(teen.id), await obs(neighbour.id)];

    const token = tokens['resident.a'];
    expect((await get(token, `Observation/${childObs}`)).status).toBe(200);
    expect((await get(token, `Patient/${child.id}`)).status).toBe(200);
    expect((await get(token, `Observation/${teenObs}`)).status).toBe(404);
    expect((await get(token, `Observation/${neighbourObs}`)).status).toBe(404);
    const seen = await searchIds(token, 'Observation?_count=100');
    expect(seen).toContain(childObs);
    expect(seen).toContain(ids.obsA);
    expect(seen).not.toContain(teenObs);
    expect(seen).not.toContain(neighbourObs);
  });

  it("IH-10: a resident account binds the resident's own verified identity, never somebody else's record", async () => {
    const attempt = (fhirUser: string, value: string) =>
      fetch(`${t.url}/oauth2/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: `r-${value.slice(-4)}-${fhirUser.slice(-4)}`, password: newPassword(), role: 'resident', fhirUser, identity: { system: RESIDENT_ID, value } }),
      });
    const wrongRecord = await attempt(`Patient/${ids.B}`, '11010519491231002X');
    expect(wrongRecord.status).toBe(400);
    expect(JSON.stringify(await wrongRecord.json())).toContain('does not match');
    expect((await attempt(`Patient/${ids.A}`, '110105194912310021')).status).toBe(400); // fails the ID-01 check
    expect((await attempt('Patient/no-such-patient', '11010519491231002X')).status).toBe(400);
  });

  it('PI-02: a resident permits a doctor with no care relationship; the doctor then sees their records, and only theirs', async () => {
    expect((await get(tokens['dr.stranger'], `Observation/${ids.obsA}`)).status).toBe(404);
    const permit = await create(consent(ids.A, 'permit', `Practitioner/${ids.stranger}`), tokens['resident.a']);
    expect((await get(tokens['dr.stranger'], `Observation/${ids.obsA}`)).status).toBe(200);
    expect(await searchIds(tokens['dr.stranger'], 'Observation')).toEqual([ids.obsA]);
    expect((await get(tokens['dr.stranger'], `Observation/${ids.obsB}`)).status).toBe(404);
    // Withdrawn (status inactive): access ends at once.
    const res = await fetch(`${t.base}/Consent/${permit.id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens['resident.a']}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ ...permit, status: 'inactive' }),
    });
    expect(res.status).toBe(200);
    expect((await get(tokens['dr.stranger'], `Observation/${ids.obsA}`)).status).toBe(404);
  });

  it('PI-02: a permit outside its period or for another purpose grants nothing', async () => {
    const expired = await create(consent(ids.A, 'permit', `Practitioner/${ids.stranger}`, { period: { start: '2020-01-01', end: '2021-12-31' } }), tokens['resident.a']);
    const research = await create(
      consent(ids.A, 'permit', `Practitioner/${ids.stranger}`, { purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH' }] }),
      tokens['resident.a'],
    );
    expect((await get(tokens['dr.stranger'], `Observation/${ids.obsA}`)).status).toBe(404);
    for (const c of [expired, research]) await fetch(`${t.base}/Consent/${c.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens['resident.a']}` } });
  });

  it('PI-02: a deny reaches past the care relationship, and break-the-glass overrides it only with a reason, audited as such', async () => {
    expect((await get(tokens['dr.carer'], `Observation/${ids.obsA}`)).status).toBe(200);
    const deny = await create(consent(ids.A, 'deny', `Practitioner/${ids.carer}`), tokens['resident.a']);
    expect((await get(tokens['dr.carer'], `Observation/${ids.obsA}`)).status).toBe(404);
    expect(await searchIds(tokens['dr.carer'], 'Observation')).toEqual([]);

    // Emergency: the reason is required, residents cannot claim it.
    expect((await get(tokens['dr.carer'], `Observation/${ids.obsA}`, { 'x-suhe-purpose-of-use': 'BTG' })).status).toBe(400);
    expect((await get(tokens['resident.a'], `Observation/${ids.obsA}`, BTG_HEADERS)).status).toBe(403);
    const emergency = await get(tokens['dr.carer'], `Observation/${ids.obsA}`, BTG_HEADERS);
    expect(emergency.status).toBe(200);

    // The resident sees who broke the glass, and why, in their own audit trail (PI-09).
    let btg: any[] = [];
    for (const deadline = Date.now() + 3000; !btg.length && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const events = ((await (await get(tokens['resident.a'], `AuditEvent?patient=${ids.A}&_count=200`)).json()) as Bundle<any>).entry ?? [];
      btg = events.map((e) => e.resource).filter((e) => e.agent?.some((a: any) => a.purposeOfUse?.some((p: any) => p.coding?.some((c: any) => c.code === 'BTG'))));
    }
    expect(btg).toHaveLength(1);
    const agent = btg[0].agent.find((a: any) => a.requestor);
    expect(agent.who.reference).toBe(`Practitioner/${ids.carer}`);
    expect(agent.purposeOfUse[0].text).toContain('昏迷急诊');
    await fetch(`${t.base}/Consent/${deny.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens['resident.a']}` } });
    expect((await get(tokens['dr.carer'], `Observation/${ids.obsA}`)).status).toBe(200);
  });

  it("PI-02: a deny naming an institution keeps that resident's records from its system, reads and searches alike", async () => {
    expect((await get(tokens.clinic, `Observation/${ids.obsA}`)).status).toBe(200);
    const deny = await create(consent(ids.A, 'deny', ids.clinicOrg), tokens['resident.a']);
    expect((await get(tokens.clinic, `Observation/${ids.obsA}`)).status).toBe(404);
    expect((await get(tokens.clinic, `Patient/${ids.A}`)).status).toBe(404);
    const seen = await searchIds(tokens.clinic, 'Observation?_count=100');
    expect(seen).toContain(ids.obsB);
    expect(seen).not.toContain(ids.obsA);
    const patients = await searchIds(tokens.clinic, 'Patient?_count=100');
    expect(patients).toContain(ids.B);
    expect(patients).not.toContain(ids.A);
    await fetch(`${t.base}/Consent/${deny.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens['resident.a']}` } });
    expect((await get(tokens.clinic, `Observation/${ids.obsA}`)).status).toBe(200);
  });
});
