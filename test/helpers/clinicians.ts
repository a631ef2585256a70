// People of the internet hospital for tests, set up through the hub's own APIs: institutions,
// doctors and pharmacists who meet (or deliberately miss) IH-08/IH-09 — a verified identity on the
// account, the same identifier on the Practitioner, a licence held for so many years, an active
// PractitionerRole — and residents with a verified identity (IH-10). Each signs in through the
// real authorization-code flow and gets a user token.
import { makeResidentId } from '../../server/src/fhir/identity/resident-id.js';
import { DOCTOR_LICENCE, PHARMACIST_LICENCE, QUALIFICATION_SYSTEM } from '../../server/src/hospital/eligibility.js';
import type { TestHub } from './hub.js';
import { createAccount, newPassword, registerPublicApp, signIn } from './people.js';

export const RESIDENT_ID = 'urn:oid:2.16.156.10011.1.3';
const APP = 'hospital-test-app';
const SCOPE = 'openid fhirUser user/*.cruds patient/*.cruds';
const appRegistered = new WeakMap<TestHub, Promise<void>>();
let sequence = 1;

export interface Person {
  username: string;
  password: string;
  /** Practitioner/{id} or Patient/{id} */
  reference: string;
  id: string;
  token: string;
  identity?: { system: string; value: string };
}

export async function createResource<T extends { id?: string }>(t: TestHub, resource: Record<string, unknown>): Promise<T & { id: string }> {
  const res = await t.fetch(`${t.base}/${resource.resourceType}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) });
  const body = (await res.json()) as T & { id: string };
  if (res.status !== 201) throw new Error(`POST ${resource.resourceType} → ${res.status} ${JSON.stringify(body)}`);
  return body;
}

export async function createOrganization(t: TestHub, name: string, type = 'prov'): Promise<string> {
  return (await createResource(t, { resourceType: 'Organization', name, active: true, type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: type }] }] })).id;
}

/** A valid 18-character resident ID number (ID-01), different at every call. */
export function nextResidentId(birthDate = '1980-05-17'): string {
  return makeResidentId('310104', birthDate, sequence++ % 1000);
}

async function signedIn(t: TestHub, username: string, password: string): Promise<string> {
  if (!appRegistered.has(t)) appRegistered.set(t, registerPublicApp(t, APP, SCOPE));
  await appRegistered.get(t);
  return (await signIn(t, { clientId: APP, username, password, scope: SCOPE })).access_token;
}

export interface ClinicianOptions {
  username: string;
  /** A nurse gets no licence here (NU-03's qualifications are the home-nursing tests' own). */
  role?: 'doctor' | 'pharmacist' | 'nurse';
  /** Organization id the clinician is registered at (an active PractitionerRole); none when absent. */
  organization?: string;
  /** When the practising licence was issued (default: ten years ago); null for no licence. */
  licensedSince?: string | null;
  /** False: the account has no verified identity (IH-08 fails). */
  verified?: boolean;
  name?: { family: string; given: string[] };
  /** PractitionerRole specialty code (e.g. a department). */
  specialty?: string;
}

export async function createClinician(t: TestHub, options: ClinicianOptions): Promise<Person> {
  const role = options.role ?? 'doctor';
  const identity = { system: RESIDENT_ID, value: nextResidentId('1975-03-02') };
  const licensedSince = options.licensedSince === undefined ? `${new Date().getFullYear() - 10}-01-01` : options.licensedSince;
  const practitioner = await createResource(t, {
    resourceType: 'Practitioner',
    active: true,
    identifier: [identity],
    name: [options.name ?? { family: role === 'doctor' ? '王' : '李', given: [options.username] }],
    ...(licensedSince && role !== 'nurse'
      ? { qualification: [{ code: { coding: [{ system: QUALIFICATION_SYSTEM, code: role === 'doctor' ? DOCTOR_LICENCE : PHARMACIST_LICENCE }] }, identifier: [{ value: `LIC-${options.username}` }], period: { start: licensedSince } }] }
      : {}),
  });
  if (options.organization) {
    await createResource(t, {
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: { reference: `Practitioner/${practitioner.id}` },
      organization: { reference: `Organization/${options.organization}` },
      ...(options.specialty ? { specialty: [{ coding: [{ system: 'https://suhe.example.cn/fhir/CodeSystem/department', code: options.specialty }] }] } : {}),
    });
  }
  const password = newPassword();
  await createAccount(t, { username: options.username, password, role, fhirUser: `Practitioner/${practitioner.id}`, ...(options.verified === false ? {} : { identity }) });
  return { username: options.username, password, reference: `Practitioner/${practitioner.id}`, id: practitioner.id, token: await signedIn(t, options.username, password), identity };
}

/** A resident with a verified identity (IH-10) and their own Patient record. */
export async function createResident(t: TestHub, options: { username: string; birthDate?: string; gender?: 'male' | 'female'; verified?: boolean; name?: { family: string; given: string[] } }): Promise<Person> {
  const birthDate = options.birthDate ?? '1960-04-12';
  const identity = { system: RESIDENT_ID, value: nextResidentId(birthDate) };
  const patient = await createResource(t, {
    resourceType: 'Patient',
    identifier: [identity],
    name: [options.name ?? { family: '张', given: [options.username] }],
    birthDate,
    gender: options.gender ?? (Number(identity.value[16]) % 2 === 1 ? 'male' : 'female'),
  });
  const password = newPassword();
  await createAccount(t, { username: options.username, password, role: 'resident', fhirUser: `Patient/${patient.id}`, ...(options.verified === false ? {} : { identity }) });
  return { username: options.username, password, reference: `Patient/${patient.id}`, id: patient.id, token: await signedIn(t, options.username, password), identity };
}

/** fetch as this person, JSON in and out. */
export function asPerson(t: TestHub, person: Person) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(path.startsWith('http') ? path : `${t.base}/${path.replace(/^\//, '')}`, {
      method,
      headers: { authorization: `Bearer ${person.token}`, ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

export interface NurseOptions {
  username: string;
  /** Organization id of the nurse's active PractitionerRole; none when absent. */
  organization?: string;
  /** When the nurse licence was issued (default: ten years ago); null for no licence. */
  licensedSince?: string | null;
  /** Code in https://suhe.example.cn/fhir/CodeSystem/nurse-title (default senior-nurse, 护师); null for none. */
  title?: string | null;
  /** An entry in the national nurse registry (default true). */
  registered?: boolean;
  /** The registry entry carries the `suspended` extension (NU-03). */
  suspended?: boolean;
}

/** A nurse (account role nurse) with the NU-03 qualifications asked for: licence years, title, registry entry. */
export async function createNurse(t: TestHub, options: NurseOptions): Promise<Person> {
  const identity = { system: RESIDENT_ID, value: nextResidentId('1982-07-09') };
  const licensedSince = options.licensedSince === undefined ? `${new Date().getFullYear() - 10}-01-01` : options.licensedSince;
  const title = options.title === undefined ? 'senior-nurse' : options.title;
  const qualification = [
    ...(licensedSince ? [{ code: { coding: [{ system: QUALIFICATION_SYSTEM, code: 'nurse-licence' }] }, identifier: [{ value: `RN-${options.username}` }], period: { start: licensedSince } }] : []),
    ...(title ? [{ code: { coding: [{ system: QUALIFICATION_SYSTEM, code: 'nurse-title' }, { system: 'https://suhe.example.cn/fhir/CodeSystem/nurse-title', code: title }] } }] : []),
  ];
  const registry = {
    system: 'https://suhe.example.cn/fhir/sid/nurse-registry', value: `NR-${options.username}`,
    ...(options.suspended ? { extension: [{ url: 'https://suhe.example.cn/fhir/StructureDefinition/suspended', valueBoolean: true }] } : {}),
  };
  const practitioner = await createResource(t, {
    resourceType: 'Practitioner', active: true, identifier: [identity, ...(options.registered === false ? [] : [registry])],
    name: [{ family: '护', given: [options.username] }], ...(qualification.length ? { qualification } : {}),
  });
  if (options.organization) {
    await createResource(t, { resourceType: 'PractitionerRole', active: true, practitioner: { reference: `Practitioner/${practitioner.id}` }, organization: { reference: `Organization/${options.organization}` } });
  }
  const password = newPassword();
  await createAccount(t, { username: options.username, password, role: 'nurse', fhirUser: `Practitioner/${practitioner.id}`, identity });
  return { username: options.username, password, reference: `Practitioner/${practitioner.id}`, id: practitioner.id, token: await signedIn(t, options.username, password), identity };
}
