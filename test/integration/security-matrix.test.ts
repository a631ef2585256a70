// Least privilege end to end (SEC-04; PI-01/PI-02 minimum necessary disclosure; PI-09 residents see
// who accessed their records): every role × interaction × patient, over real HTTP with tokens
// obtained through the real sign-in flow, on PGlite and on PostgreSQL.
//
// The expected outcomes are derived from the policy (server/src/auth/policy.ts): a resident sees
// their own compartment; a clinician sees the patients linked to them by a CARE_LINK (here an
// Encounter for doctor1 and a CareTeam for the nurse); the regulator reads and searches only and
// sees no patient data; the admin token sees everything. Denied reads answer 404 (a caller cannot
// probe for ids), denied searches are narrowed (200, nothing of the other patient), denied writes
// answer 403 and leave nothing behind.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Observation, Resource } from '@medplum/fhirtypes';
import { makeResidentId } from '../../server/src/fhir/identity/resident-id.js';
import { availableBackends } from '../helpers/parts.js';
import { createAccount, newPassword, registerPublicApp, signIn } from '../helpers/people.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('security matrix');

const FHIR_JSON = 'application/fhir+json';
const JSON_PATCH = 'application/json-patch+json';
const RESIDENT_ID_SYSTEM = 'urn:oid:2.16.156.10011.1.3';
const MARK = 'urn:suhe:test:security-matrix';
const RESIDENT_SCOPE = 'launch/patient patient/*.cruds openid fhirUser';
const CLINICIAN_SCOPE = 'user/*.cruds openid fhirUser';
/** A request that gets no answer in this time is reported as such instead of stalling the suite. */
const REQUEST_TIMEOUT_MS = 10_000;

const ROLES = ['residentA', 'doctor1', 'doctor2', 'nurse', 'pharmacist', 'regulator', 'admin'] as const;
const OPS = ['read', 'vread', 'history', 'search-subject', 'search', 'create', 'update', 'patch', 'delete'] as const;
const TARGETS = ['A', 'B'] as const;
type Role = (typeof ROLES)[number];
type Op = (typeof OPS)[number];
type Target = (typeof TARGETS)[number];
/** 'role|interaction|target' → outcome: the HTTP status; searches add whether the target's data came back. */
type Table = Record<string, string>;

/** Whose compartment each role may see, per the policy (CARE_LINKS for the clinicians). */
const SEES: Record<Role, readonly Target[]> = {
  residentA: ['A'], // own compartment
  doctor1: ['A'], // Encounter.participant.individual = D1, subject A
  nurse: ['A'], // CareTeam.participant.member = N, subject A
  doctor2: [], // no care relationship
  pharmacist: [], // no care relationship
  regulator: [], // read/search only, no patient compartment
  admin: ['A', 'B'], // unrestricted
};

function expectedOutcome(role: Role, op: Op, target: Target): string {
  const sees = SEES[role].includes(target);
  switch (op) {
    case 'read':
    case 'vread':
    case 'history':
      return sees ? '200' : '404'; // denied reads look like missing resources
    case 'search-subject':
    case 'search':
      return sees ? '200 sees' : '200 none'; // searches are narrowed, not refused
    case 'create':
      return sees ? '201' : '403';
    case 'update':
    case 'patch':
      return sees ? '200' : '403';
    case 'delete':
      return sees ? '204' : '403';
  }
}

const WRITES: ReadonlySet<Op> = new Set<Op>(['create', 'update', 'patch', 'delete']);
const CLINICIANS: ReadonlySet<Role> = new Set<Role>(['doctor1', 'doctor2', 'nurse', 'pharmacist']);

const key = (role: Role, op: Op, target: Target) => `${role}|${op}|${target}`;

/** Rows role|target, columns the interactions; a mismatching cell shows `expected→actual`. */
function renderGrid(expected: Table, actual: Table): string {
  const width = 16;
  const lines = [['role|target'.padEnd(16), ...OPS.map((op) => op.padEnd(width))].join(' ')];
  for (const role of ROLES) {
    for (const target of TARGETS) {
      const cells = OPS.map((op) => {
        const k = key(role, op, target);
        const cell = expected[k] === actual[k] ? actual[k] : `${expected[k]}→${actual[k] ?? '?'} ✗`;
        return (cell ?? '').padEnd(width);
      });
      lines.push([`${role}|${target}`.padEnd(16), ...cells].join(' '));
    }
  }
  return lines.join('\n');
}

interface Reply {
  status: number;
  body: any;
  text: string;
}

describe.each(backends)('security matrix on %s', (backend) => {
  const t = useTestHub(backend, { auth: { rateLimit: { capacity: 1000, perSecond: 100 } } });

  const ids = { A: '', B: '', D1: '', D2: '', N: '', P: '', R: '', org: '' };
  const idNumber = { A: '11010519491231002X', B: makeResidentId('310104', '1985-06-15', 123) };
  const obs: Record<Target, Observation> = {} as Record<Target, Observation>;
  const tokens = {} as Record<Role, string>;
  const patientClaim: Partial<Record<Role, string>> = {};
  let serial = 0;
  const unique = (prefix: string) => `${prefix}-${++serial}`;

  /** One request with a given bearer token (the hub's answer as status, parsed body and text). */
  const call = async (token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
    const res = await fetch(`${t.base}/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': FHIR_JSON } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text };
  };
  const as = (role: Role) => (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(tokens[role], method, path, body, headers);
  const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(t.token, method, path, body, headers);

  const create = async <T extends Resource>(resource: T): Promise<T & { id: string }> => {
    const res = await admin('POST', resource.resourceType, resource);
    if (res.status !== 201) throw new Error(`setup: POST ${resource.resourceType} → ${res.status} ${res.text}`);
    return res.body as T & { id: string };
  };
  const observationFor = (patient: string, marker = unique('obs')): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    identifier: [{ system: MARK, value: marker }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: `Patient/${patient}` },
    valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  });
  const entriesOf = (bundle: any): any[] => (bundle?.entry ?? []).map((e: any) => e.resource);
  const subjectOf = (r: any): string | undefined => r?.subject?.reference;
  /** How many resources carry this marker identifier (admin's view: the truth). */
  const countMarked = async (type: string, marker: string): Promise<number> => {
    const res = await admin('GET', `${type}?identifier=${encodeURIComponent(`${MARK}|${marker}`)}&_total=accurate`);
    expect(res.status).toBe(200);
    return res.body.total as number;
  };
  /** Whether `who` (e.g. Patient/A) is the agent that asked for what the event records. */
  const requestedBy = (event: any, who: string): boolean => (event.agent ?? []).some((a: any) => a.requestor === true && a.who?.reference === who);
  const patientRefsOf = (event: any): string[] => [
    ...(event.entity ?? []).map((e: any) => e.what?.reference).filter((r: unknown): r is string => typeof r === 'string' && r.startsWith('Patient/')),
    ...(event.agent ?? []).map((a: any) => a.who?.reference).filter((r: unknown): r is string => typeof r === 'string' && r.startsWith('Patient/')),
  ];

  beforeAll(async () => {
    ids.A = (await create({ resourceType: 'Patient', identifier: [{ system: RESIDENT_ID_SYSTEM, value: idNumber.A }], name: [{ family: '张', given: ['甲'] }], birthDate: '1949-12-31', gender: 'female' })).id;
    ids.B = (await create({ resourceType: 'Patient', identifier: [{ system: RESIDENT_ID_SYSTEM, value: idNumber.B }], name: [{ family: '李', given: ['乙'] }], birthDate: '1985-06-15', gender: 'male' })).id;
    const practitioner = async (family: string) => (await create({ resourceType: 'Practitioner', name: [{ family }] })).id;
    ids.D1 = await practitioner('Doctor One');
    ids.D2 = await practitioner('Doctor Two');
    ids.N = await practitioner('Nurse');
    ids.P = await practitioner('Pharmacist');
    ids.R = await practitioner('Regulator');
    ids.org = (await create({ resourceType: 'Organization', name: '苏河区卫生健康委员会' })).id;
    await create({
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: `Patient/${ids.A}` },
      participant: [{ individual: { reference: `Practitioner/${ids.D1}` } }],
    });
    await create({ resourceType: 'CareTeam', status: 'active', subject: { reference: `Patient/${ids.A}` }, participant: [{ member: { reference: `Practitioner/${ids.N}` } }] });
    obs.A = await create(observationFor(ids.A, 'shared-A'));
    obs.B = await create(observationFor(ids.B, 'shared-B'));

    await registerPublicApp(t, 'matrix-app');
    const people: { role: Role; accountRole: string; fhirUser: string; identity?: { system: string; value: string }; scope: string }[] = [
      { role: 'residentA', accountRole: 'resident', fhirUser: `Patient/${ids.A}`, identity: { system: RESIDENT_ID_SYSTEM, value: idNumber.A }, scope: RESIDENT_SCOPE },
      { role: 'doctor1', accountRole: 'doctor', fhirUser: `Practitioner/${ids.D1}`, scope: CLINICIAN_SCOPE },
      { role: 'doctor2', accountRole: 'doctor', fhirUser: `Practitioner/${ids.D2}`, scope: CLINICIAN_SCOPE },
      { role: 'nurse', accountRole: 'nurse', fhirUser: `Practitioner/${ids.N}`, scope: CLINICIAN_SCOPE },
      { role: 'pharmacist', accountRole: 'pharmacist', fhirUser: `Practitioner/${ids.P}`, scope: CLINICIAN_SCOPE },
      { role: 'regulator', accountRole: 'regulator', fhirUser: `Practitioner/${ids.R}`, scope: CLINICIAN_SCOPE },
    ];
    // residentB exists (a second real-name resident) but only ever appears as the "other" patient.
    const residentB = { username: 'residentB', password: newPassword(), role: 'resident', fhirUser: `Patient/${ids.B}`, identity: { system: RESIDENT_ID_SYSTEM, value: idNumber.B } };
    await createAccount(t, residentB);
    for (const person of people) {
      const password = newPassword();
      await createAccount(t, { username: person.role, password, role: person.accountRole, fhirUser: person.fhirUser, identity: person.identity });
      const token = await signIn(t, { clientId: 'matrix-app', username: person.role, password, scope: person.scope });
      tokens[person.role] = token.access_token;
      if (token.patient) patientClaim[person.role] = token.patient;
    }
    tokens.admin = t.token;
  });

  it('tokens: the resident is pinned to their own Patient, clinicians get no patient context', () => {
    expect(patientClaim).toEqual({ residentA: ids.A });
  });

  it('a denied read is indistinguishable from a missing resource', async () => {
    const denied = await as('residentA')('GET', `Observation/${obs.B.id}`);
    const missing = await as('residentA')('GET', 'Observation/no-such-observation');
    expect(denied.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(denied.body.resourceType).toBe('OperationOutcome');
    expect(denied.text).not.toContain(ids.B);
    expect((await as('residentA')('GET', `Patient/${ids.B}`)).status).toBe(404);
    expect((await as('doctor2')('GET', `Patient/${ids.A}`)).status).toBe(404);
    expect((await as('doctor1')('GET', `Patient/${ids.A}`)).status).toBe(200);
  });

  it("residentA's Observation search returns only A's, and _total=accurate counts only A's", async () => {
    const truthA = await admin('GET', `Observation?subject=Patient/${ids.A}&_total=accurate&_count=0`);
    const truthAll = await admin('GET', 'Observation?_total=accurate&_count=0');
    const mine = await as('residentA')('GET', 'Observation?_total=accurate&_count=1000');
    expect(mine.status).toBe(200);
    const found = entriesOf(mine.body);
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((r) => subjectOf(r) !== `Patient/${ids.A}`).map((r) => `${r.id} → ${subjectOf(r)}`)).toEqual([]);
    expect(mine.body.total).toBe(truthA.body.total);
    expect(truthAll.body.total).toBeGreaterThan(truthA.body.total);
    expect(mine.text).not.toContain(ids.B);
    // Asking for B explicitly changes nothing.
    const forB = await as('residentA')('GET', `Observation?subject=Patient/${ids.B}&_total=accurate`);
    expect(forB.status).toBe(200);
    expect(forB.body.total).toBe(0);
    expect(entriesOf(forB.body)).toEqual([]);
  });

  it('residentA: Patient search returns only A, whatever the criteria', async () => {
    const all = await as('residentA')('GET', 'Patient?_count=1000&_total=accurate');
    expect(all.status).toBe(200);
    expect(entriesOf(all.body).map((r) => r.id)).toEqual([ids.A]);
    expect(all.body.total).toBe(1);
    const byIdentifier = await as('residentA')('GET', `Patient?identifier=${encodeURIComponent(`${RESIDENT_ID_SYSTEM}|${idNumber.B}`)}&_total=accurate`);
    expect(byIdentifier.status).toBe(200);
    expect(byIdentifier.body.total).toBe(0);
    expect(byIdentifier.text).not.toContain(ids.B);
    const byId = await as('residentA')('GET', `Patient?_id=${ids.B}`);
    expect(entriesOf(byId.body)).toEqual([]);
  });

  it("residentA: chains, _has, _include/_revinclude, system and compartment search and $everything never reach B", async () => {
    const resident = as('residentA');
    const ask = async (path: string) => {
      const res = await resident('GET', path);
      // The returned resources only: links and error messages echo the caller's own query.
      const entries = res.status === 200 ? JSON.stringify(res.body.entry ?? []) : '';
      return { path, status: res.status, ids: entriesOf(res.body).map((r) => `${r.resourceType}/${r.id}`), entries };
    };
    // Each of these would name B (or B's Observation) for an unrestricted caller: the admin's view proves it.
    const leaks = [
      `Observation?subject:Patient.name=${encodeURIComponent('李')}`,
      `Patient?_has:Observation:subject:identifier=${encodeURIComponent(`${MARK}|shared-B`)}`,
      `Observation?_id=${obs.B.id}&_include=Observation:subject`,
      `Patient?_id=${ids.B}&_revinclude=Observation:subject`,
      `?_type=Patient,Observation&_id=${ids.B},${obs.B.id}`,
      `Patient/${ids.B}/Observation`,
      `Patient/${ids.B}/$everything`,
    ];
    for (const path of leaks) {
      const truth = await admin('GET', path);
      expect({ path, status: truth.status, hasB: JSON.stringify(truth.body.entry ?? []).includes(ids.B) }).toEqual({ path, status: 200, hasB: true });
      const seen = await ask(path);
      expect({ path, status: [200, 404].includes(seen.status), leaksB: seen.entries.includes(ids.B) }).toEqual({ path, status: true, leaksB: false });
    }
    // And the same features still work on A's own data.
    expect((await ask(`Observation?_id=${obs.A.id}&_include=Observation:subject`)).ids).toContain(`Patient/${ids.A}`);
    expect((await ask(`Patient/${ids.A}/$everything`)).ids).toEqual(expect.arrayContaining([`Patient/${ids.A}`, `Observation/${obs.A.id}`]));
    expect((await ask(`Patient?_has:Observation:subject:identifier=${encodeURIComponent(`${MARK}|shared-A`)}`)).ids).toEqual([`Patient/${ids.A}`]);
  });

  it("a conditional create by residentA with B's identifier does not reveal B's Patient", async () => {
    const res = await as('residentA')(
      'POST',
      'Patient',
      { resourceType: 'Patient', identifier: [{ system: RESIDENT_ID_SYSTEM, value: idNumber.B }] },
      { 'if-none-exist': `identifier=${RESIDENT_ID_SYSTEM}|${idNumber.B}` },
    );
    // The match is looked for among what A may see (nothing), so a new Patient would be created
    // outside A's compartment: refused.
    expect(res.status).toBe(403);
    expect(res.text).not.toContain(ids.B);
    expect(res.body?.resourceType).toBe('OperationOutcome');
    const truth = await admin('GET', `Patient?identifier=${encodeURIComponent(`${RESIDENT_ID_SYSTEM}|${idNumber.B}`)}&_total=accurate`);
    expect(entriesOf(truth.body).map((r) => r.id)).toEqual([ids.B]);
  });

  it('a transaction from residentA with one entry for B is refused as a whole; nothing is written', async () => {
    const markerA = unique('tx-A');
    const markerB = unique('tx-B');
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:6a1d5a8e-0b1f-4d52-9c2e-1b7a0c3e5f01', resource: observationFor(ids.A, markerA), request: { method: 'POST', url: 'Observation' } },
        { fullUrl: 'urn:uuid:6a1d5a8e-0b1f-4d52-9c2e-1b7a0c3e5f02', resource: observationFor(ids.B, markerB), request: { method: 'POST', url: 'Observation' } },
      ],
    };
    const res = await as('residentA')('POST', '', bundle);
    expect(res.status).toBe(403);
    expect(res.body?.resourceType).toBe('OperationOutcome');
    expect(await countMarked('Observation', markerA)).toBe(0);
    expect(await countMarked('Observation', markerB)).toBe(0);
    // The same transaction with A's entry alone goes through.
    const alone = await as('residentA')('POST', '', { ...bundle, entry: [bundle.entry[0]] });
    expect(alone.status).toBe(200);
    expect(await countMarked('Observation', markerA)).toBe(1);
  });

  it('residentA cannot move their data to another patient, nor write directory data', async () => {
    const own = await create(observationFor(ids.A));
    const moved = await as('residentA')('PUT', `Observation/${own.id}`, { ...own, subject: { reference: `Patient/${ids.B}` } });
    expect(moved.status).toBe(403);
    const patched = await as('residentA')('PATCH', `Observation/${own.id}`, JSON.stringify([{ op: 'replace', path: '/subject/reference', value: `Patient/${ids.B}` }]), { 'content-type': JSON_PATCH });
    expect(patched.status).toBe(403);
    expect((await admin('GET', `Observation/${own.id}`)).body.meta.versionId).toBe('1');
    expect((await as('residentA')('PUT', `Organization/${ids.org}`, { resourceType: 'Organization', id: ids.org, name: 'x' })).status).toBe(403);
    expect((await as('residentA')('POST', 'Practitioner', { resourceType: 'Practitioner', name: [{ family: 'self-made doctor' }] })).status).toBe(403);
  });

  it('type-level and system history are refused to residentA (403); instance history of their own is allowed', async () => {
    expect((await as('residentA')('GET', 'Observation/_history')).status).toBe(403);
    expect((await as('residentA')('GET', 'Patient/_history')).status).toBe(403);
    expect((await as('residentA')('GET', '_history')).status).toBe(403);
    expect((await as('doctor1')('GET', 'Observation/_history')).status).toBe(403);
    expect((await as('residentA')('GET', `Patient/${ids.A}/_history`)).status).toBe(200);
    expect((await admin('GET', 'Observation/_history')).status).toBe(200);
  });

  it('the regulator cannot write anything (403) and sees no Observations', async () => {
    const regulator = as('regulator');
    const writes: [string, string, unknown, Record<string, string>?][] = [
      ['POST', 'Organization', { resourceType: 'Organization', name: 'by regulator' }],
      ['PUT', `Organization/${ids.org}`, { resourceType: 'Organization', id: ids.org, name: 'renamed by regulator' }],
      ['PATCH', `Organization/${ids.org}`, JSON.stringify([{ op: 'replace', path: '/name', value: 'patched' }]), { 'content-type': JSON_PATCH }],
      ['DELETE', `Organization/${ids.org}`, undefined],
      ['POST', 'Practitioner', { resourceType: 'Practitioner', name: [{ family: 'by regulator' }] }],
      ['POST', 'Observation', observationFor(ids.A)],
      ['PUT', `Observation/${obs.A.id}`, { ...obs.A, status: 'amended' }],
      ['DELETE', `Observation/${obs.B.id}`, undefined],
      ['PUT', `Organization?name=${encodeURIComponent('苏河区卫生健康委员会')}`, { resourceType: 'Organization', name: 'conditional by regulator' }],
      ['DELETE', `Organization?_id=${ids.org}`, undefined],
    ];
    const statuses: Record<string, number> = {};
    for (const [method, path, body, headers] of writes) statuses[`${method} ${path}`] = (await regulator(method, path, body, headers)).status;
    expect(statuses).toEqual(Object.fromEntries(writes.map(([method, path]) => [`${method} ${path}`, 403])));
    const batch = await regulator('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Organization', name: 'tx by regulator' }, request: { method: 'POST', url: 'Organization' } }],
    });
    expect(batch.status).toBe(403);
    const org = await admin('GET', `Organization/${ids.org}`);
    expect(org.body.meta.versionId).toBe('1');

    const observations = await regulator('GET', 'Observation?_total=accurate&_count=1000');
    expect(observations.status).toBe(200);
    expect(observations.body.total).toBe(0);
    expect(entriesOf(observations.body)).toEqual([]);
    expect((await regulator('GET', `Observation/${obs.A.id}`)).status).toBe(404);
    expect(entriesOf((await regulator('GET', 'Patient?_count=1000')).body)).toEqual([]);
    // Supervision data outside patient compartments stays readable.
    expect((await regulator('GET', `Organization/${ids.org}`)).status).toBe(200);
  });

  it('AuditEvents cannot be created, updated, patched or deleted through the API, even by the admin (405)', async () => {
    const existing = entriesOf((await admin('GET', 'AuditEvent?_count=1')).body)[0];
    expect(existing?.resourceType).toBe('AuditEvent');
    const forged = { ...existing, id: undefined, meta: undefined, outcomeDesc: 'forged' };
    const attempts: [string, string, unknown, Record<string, string>?][] = [
      ['POST', 'AuditEvent', forged],
      ['PUT', `AuditEvent/${existing.id}`, { ...existing, outcomeDesc: 'rewritten' }],
      ['PATCH', `AuditEvent/${existing.id}`, JSON.stringify([{ op: 'add', path: '/outcomeDesc', value: 'patched' }]), { 'content-type': JSON_PATCH }],
      ['DELETE', `AuditEvent/${existing.id}`, undefined],
      ['PUT', `AuditEvent?_id=${existing.id}`, { ...existing, id: undefined, outcomeDesc: 'conditionally rewritten' }],
      ['DELETE', `AuditEvent?_id=${existing.id}`, undefined],
    ];
    const statuses: Record<string, number> = {};
    for (const [method, path, body, headers] of attempts) statuses[`${method} ${path}`] = (await admin(method, path, body, headers)).status;
    expect(statuses).toEqual(Object.fromEntries(attempts.map(([method, path]) => [`${method} ${path}`, 405])));
    const after = await admin('GET', `AuditEvent/${existing.id}`);
    expect(after.status).toBe(200);
    expect(after.body.meta.versionId).toBe(existing.meta.versionId);
    expect(after.body.outcomeDesc).toBe(existing.outcomeDesc);

    // Bundles are no way around it: a batch entry is refused, and so is a whole transaction.
    const batch = await admin('POST', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: { ...forged, outcomeDesc: 'forged in a batch' }, request: { method: 'POST', url: 'AuditEvent' } },
        { request: { method: 'DELETE', url: `AuditEvent/${existing.id}` } },
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.entry.map((e: any) => e.response.status)).toEqual(['405', '405']);
    const transaction = await admin('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:0c6a4a4e-59a1-4c55-8a7b-6f1f2d3e4a5b', resource: { ...forged, outcomeDesc: 'forged in a transaction' }, request: { method: 'POST', url: 'AuditEvent' } }],
    });
    // A transaction's POSTs are created by runPlanned() through auditedWrite(), not executeInteraction():
    // the read-only rule must hold there too.
    expect(transaction.status).toBe(405);
    const forgedCount = await admin('GET', `AuditEvent?_count=1000&_total=accurate&_lastUpdated=ge${encodeURIComponent(after.body.meta.lastUpdated)}`);
    expect(entriesOf(forgedCount.body).filter((e) => String(e.outcomeDesc ?? '').startsWith('forged'))).toEqual([]);
  });

  it("PI-09: residentA finds doctor1's read of their Observation in AuditEvent?patient=A, and nothing of B's", async () => {
    const fresh = await create(observationFor(ids.A));
    expect((await as('doctor1')('GET', `Observation/${fresh.id}`)).status).toBe(200);
    // Read events are stored in batches (every ~100 ms): poll for a while.
    const deadline = Date.now() + 1500;
    let event: any;
    let last: Reply | undefined;
    while (!event && Date.now() < deadline) {
      last = await as('residentA')('GET', `AuditEvent?patient=${ids.A}&entity=${encodeURIComponent(`Observation/${fresh.id}`)}&_count=1000`);
      expect(last.status).toBe(200);
      event = entriesOf(last.body).find(
        (e) => e.action === 'R' && (e.subtype ?? []).some((c: any) => c.code === 'read') && (e.agent ?? []).some((a: any) => a.who?.reference === `Practitioner/${ids.D1}`),
      );
      if (!event) await new Promise((r) => setTimeout(r, 100));
    }
    expect(event).toBeDefined();
    expect(patientRefsOf(event)).toContain(`Patient/${ids.A}`);

    // B's audit trail stays closed to A: asked directly, nothing comes back.
    expect((await as('doctor2')('GET', `Observation/${obs.B.id}`)).status).toBe(404); // one more event about B (a denial)
    expect((await admin('GET', `Observation/${obs.B.id}`)).status).toBe(200); // and a read of B
    await new Promise((r) => setTimeout(r, 300));
    // residentA's own earlier attempts on B's data (refused reads and writes) are A's own activity and
    // may come back to A; nothing that someone else did to B may.
    const ofB = await as('residentA')('GET', `AuditEvent?patient=${ids.B}&_count=1000`);
    expect(ofB.status).toBe(200);
    expect(entriesOf(ofB.body).filter((e) => !requestedBy(e, `Patient/${ids.A}`)).map((e) => e.id)).toEqual([]);
    const byEntity = await as('residentA')('GET', `AuditEvent?entity=${encodeURIComponent(`Observation/${obs.B.id}`)}&_count=1000`);
    expect(byEntity.status).toBe(200);
    expect(entriesOf(byEntity.body).filter((e) => !requestedBy(e, `Patient/${ids.A}`)).map((e) => e.id)).toEqual([]);
    const truthB = await admin('GET', `AuditEvent?patient=${ids.B}&_total=accurate&_count=0`);
    const byOthers = entriesOf((await admin('GET', `AuditEvent?patient=${ids.B}&_count=1000`)).body).filter((e) => !requestedBy(e, `Patient/${ids.A}`));
    expect(truthB.body.total).toBeGreaterThan(0);
    expect(byOthers.length).toBeGreaterThan(0); // they exist (doctor2's refused read, the admin's read); A just cannot see them
    // Every event residentA can see is about A.
    const all = await as('residentA')('GET', 'AuditEvent?_count=1000');
    expect(all.status).toBe(200);
    expect(entriesOf(all.body).filter((e) => !patientRefsOf(e).includes(`Patient/${ids.A}`)).map((e) => e.id)).toEqual([]);
    // And no other AuditEvent access: residentA cannot write one either.
    expect((await as('residentA')('POST', 'AuditEvent', { ...event, id: undefined, meta: undefined })).status).toBe(405);
  });

  it('PI-01/PI-02: an access to several patients at once shows up for residentA without naming the others', async () => {
    // One search by the admin touching A and B.
    const both = await admin('GET', `Observation?subject=${encodeURIComponent(`Patient/${ids.A},Patient/${ids.B}`)}&_count=1000`);
    const subjects = new Set(entriesOf(both.body).map(subjectOf));
    expect(subjects).toEqual(new Set([`Patient/${ids.A}`, `Patient/${ids.B}`]));
    const byAdmin = (e: any) => (e.agent ?? []).some((a: any) => a.requestor === true && a.who?.identifier?.value === t.admin.clientId);
    const isThisSearch = (e: any) => byAdmin(e) && (e.subtype ?? []).some((c: any) => c.code === 'search-type');
    // residentA learns that the admin searched their Observations (PI-09)...
    const deadline = Date.now() + 1500;
    let visible: any[] = [];
    while (Date.now() < deadline) {
      visible = entriesOf((await as('residentA')('GET', `AuditEvent?patient=${ids.A}&_count=1000`)).body);
      if (visible.some(isThisSearch)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(visible.some(isThisSearch)).toBe(true);
    // ...but nothing someone else did names B: not as an entity, not in a recorded query. (A's own
    // attempts on B are left aside: A named B themselves.)
    const mentioningB = visible.filter((e) => !requestedBy(e, `Patient/${ids.A}`) && JSON.stringify(e).includes(ids.B)).map((e) => e.id);
    expect(mentioningB).toEqual([]);
  });

  /** Set once a request got no answer: the hub is stuck and further requests would only wait. */
  let stuck = false;
  /** Runs one cell of the matrix and describes what happened. */
  const perform = async (role: Role, op: Op, target: Target): Promise<string> => {
    if (stuck) return 'not run: hub stuck';
    try {
      return await performOnce(role, op, target);
    } catch (err) {
      if ((err as Error).name !== 'TimeoutError') throw err;
      stuck = true;
      return `no answer in ${REQUEST_TIMEOUT_MS / 1000} s`;
    }
  };
  const performOnce = async (role: Role, op: Op, target: Target): Promise<string> => {
    const call = as(role);
    const patient = ids[target];
    const shared = obs[target];
    switch (op) {
      case 'read':
        return String((await call('GET', `Observation/${shared.id}`)).status);
      case 'vread':
        return String((await call('GET', `Observation/${shared.id}/_history/1`)).status);
      case 'history':
        return String((await call('GET', `Observation/${shared.id}/_history`)).status);
      case 'search-subject':
      case 'search': {
        const query = op === 'search' ? 'Observation?_count=1000' : `Observation?subject=${encodeURIComponent(`Patient/${patient}`)}&_count=1000`;
        const res = await call('GET', query);
        if (res.status !== 200) return String(res.status);
        const found = entriesOf(res.body);
        if (op === 'search-subject' && found.some((r) => subjectOf(r) !== `Patient/${patient}`)) return '200 wrong subjects';
        return `200 ${found.some((r) => subjectOf(r) === `Patient/${patient}`) ? 'sees' : 'none'}`;
      }
      case 'create': {
        const marker = unique(`create-${role}-${target}`);
        const res = await call('POST', 'Observation', observationFor(patient, marker));
        // A refused write must leave nothing behind.
        if (res.status >= 400 && (await countMarked('Observation', marker)) > 0) return `${res.status} but written`;
        return String(res.status);
      }
      case 'update':
      case 'patch':
      case 'delete': {
        const fresh = await create(observationFor(patient, unique(`${op}-${role}-${target}`)));
        const res =
          op === 'update'
            ? await call('PUT', `Observation/${fresh.id}`, { ...fresh, status: 'amended' })
            : op === 'patch'
              ? await call('PATCH', `Observation/${fresh.id}`, JSON.stringify([{ op: 'replace', path: '/status', value: 'amended' }]), { 'content-type': JSON_PATCH })
              : await call('DELETE', `Observation/${fresh.id}`);
        if (res.status >= 400) {
          const after = await admin('GET', `Observation/${fresh.id}`);
          if (after.status !== 200 || after.body.meta.versionId !== '1') return `${res.status} but written`;
        }
        return String(res.status);
      }
    }
  };

  // Includes clinicians' writes, whose visibility is computed before their transaction opens (a
  // query inside it once left PGlite waiting on itself: this test is the regression test).
  it('SEC-04 / PI-01 / PI-02: role × interaction × patient matrix', async () => {
    const expected: Table = {};
    const actual: Table = {};
    const cells: [Role, Op, Target][] = [];
    for (const role of ROLES) for (const target of TARGETS) for (const op of OPS) cells.push([role, op, target]);
    // Reads and searches first, then writes, clinicians' writes last.
    const phase = ([role, op]: [Role, Op, Target]) => (!WRITES.has(op) ? 0 : CLINICIANS.has(role) ? 2 : 1);
    cells.sort((a, b) => phase(a) - phase(b));
    for (const [role, op, target] of cells) {
      expected[key(role, op, target)] = expectedOutcome(role, op, target);
      actual[key(role, op, target)] = await perform(role, op, target);
    }
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      process.stdout.write(`\nsecurity matrix on ${backend} (expected→actual ✗):\n${renderGrid(expected, actual)}\n`);
    }
    expect(actual).toEqual(expected);
  });

  it('clinicians cannot move data between patients', async () => {
    // doctor1 pulling B's Observation into A's record (B was never visible to them), and pushing A's out.
    const other = await create(observationFor(ids.B));
    const pulled = await as('doctor1')('PUT', `Observation/${other.id}`, { ...other, subject: { reference: `Patient/${ids.A}` } });
    expect(pulled.status).toBe(403);
    const patched = await as('doctor1')('PATCH', `Observation/${other.id}`, JSON.stringify([{ op: 'replace', path: '/subject/reference', value: `Patient/${ids.A}` }]), { 'content-type': JSON_PATCH });
    expect(patched.status).toBe(403);
    const own = await create(observationFor(ids.A));
    const pushed = await as('nurse')('PUT', `Observation/${own.id}`, { ...own, subject: { reference: `Patient/${ids.B}` } });
    expect(pushed.status).toBe(403);
    expect((await admin('GET', `Observation/${other.id}`)).body.meta.versionId).toBe('1');
    expect((await admin('GET', `Observation/${own.id}`)).body.meta.versionId).toBe('1');
  });
});
