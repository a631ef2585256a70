// A family doctor's panel: the people whose contract with one of the doctor's roles is in force
// today, and, for the worklist and the priority groups, each person's federated record (every
// Patient record the master patient index links to them) — conditions, visits, fasting-glucose
// results and urgent referrals. Loaded in batches of patients, a few searches per batch, so a
// panel of hundreds costs a handful of queries rather than a few per patient.
import type { Condition, Contract, Encounter, Observation, Patient, ServiceRequest } from '@medplum/fhirtypes';
import type { FhirRepository } from '../../fhir/repository.js';
import { FASTING_GLUCOSE_LOINC, LOINC_SYSTEM } from './care-codes.js';
import { clinicDateOf } from './clinic-dates.js';
import { inForce, patientOf } from './contract-codes.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { contractsOfDoctor } from './contract-store.js';
import type { PanelRecord } from './due-items.js';
import type { FamilyDoctorDeps } from './family-doctor-deps.js';

const BATCH = 100;

export interface PanelMember {
  contract: Contract;
  /** The Patient record the contract names. */
  patientId: string;
  record: PanelRecord;
}

/** The contracts in force today signed by these PractitionerRoles, one per person (the latest start wins). */
export async function panelContracts(deps: FamilyDoctorDeps, roles: readonly string[], now: Date): Promise<Contract[]> {
  const today = clinicDateOf(now);
  const byPatient = new Map<string, Contract>();
  for (const contract of (await contractsOfDoctor(deps.repo, roles)).filter((c) => inForce(c, today))) {
    const patient = patientOf(contract);
    if (!patient) continue;
    const earlier = byPatient.get(patient);
    if (!earlier || (earlier.applies?.start ?? '') < (contract.applies?.start ?? '')) byPatient.set(patient, contract);
  }
  return [...byPatient.values()];
}

/** Each contract's patient with their federated record. */
export async function loadPanel(deps: FamilyDoctorDeps, contracts: readonly Contract[]): Promise<PanelMember[]> {
  const people: Person[] = [];
  for (const contract of contracts) {
    const patientId = patientOf(contract)!.slice('Patient/'.length);
    const records = deps.samePerson ? [...new Set([patientId, ...(await deps.samePerson([patientId]))])] : [patientId];
    people.push({ patientId, records, contractStart: contract.applies!.start! });
  }
  const loaded = await loadRecords(deps, people);
  return contracts.flatMap((contract, i) => (loaded[i] ? [{ contract, patientId: people[i].patientId, record: loaded[i]! }] : []));
}

/** A person to load: the Patient record shown, all their records, and (for due items) the contract's start. */
export interface Person {
  patientId: string;
  records: readonly string[];
  contractStart: string;
}

/** Each person's federated record (undefined when the shown Patient record is gone). */
export async function loadRecords(deps: FamilyDoctorDeps, people: readonly Person[]): Promise<(PanelRecord | undefined)[]> {
  const personOf = new Map<string, number>();
  people.forEach((m, i) => m.records.forEach((id) => personOf.set(id, i)));
  const all = [...personOf.keys()];
  const patients = new Map<string, Patient>();
  const found = people.map(() => ({ conditions: [] as Condition[], encounters: [] as Encounter[], observations: [] as Observation[], referrals: [] as ServiceRequest[] }));
  const owner = (reference: string | undefined) => (reference?.startsWith('Patient/') ? personOf.get(reference.slice('Patient/'.length)) : undefined);
  const glucose = FASTING_GLUCOSE_LOINC.map((code) => `${LOINC_SYSTEM}|${code}`).join(',');
  for (let i = 0; i < all.length; i += BATCH) {
    const ids = all.slice(i, i + BATCH);
    const subjects = ids.map((id) => `Patient/${id}`).join(',');
    for (const patient of await searchAll<Patient>(deps.repo, 'Patient', [['_id', ids.join(',')]])) patients.set(patient.id!, patient);
    for (const c of await searchAll<Condition>(deps.repo, 'Condition', [['subject', subjects]])) pushTo(found, owner(c.subject?.reference), 'conditions', c);
    for (const e of await searchAll<Encounter>(deps.repo, 'Encounter', [['subject', subjects], ['status', 'finished']])) pushTo(found, owner(e.subject?.reference), 'encounters', e);
    for (const o of await searchAll<Observation>(deps.repo, 'Observation', [['subject', subjects], ['code', glucose]])) pushTo(found, owner(o.subject?.reference), 'observations', o);
    for (const r of await searchAll<ServiceRequest>(deps.repo, 'ServiceRequest', [['subject', subjects], ['priority', 'urgent,asap,stat']])) pushTo(found, owner(r.subject?.reference), 'referrals', r);
  }
  return people.map((m, i) => {
    const patient = patients.get(m.patientId);
    return patient ? { patient, ...found[i], contractStart: m.contractStart } : undefined;
  });
}

function pushTo<K extends 'conditions' | 'encounters' | 'observations' | 'referrals'>(
  found: { conditions: Condition[]; encounters: Encounter[]; observations: Observation[]; referrals: ServiceRequest[] }[],
  index: number | undefined,
  key: K,
  resource: (typeof found)[number][K][number],
): void {
  if (index !== undefined) (found[index][key] as unknown[]).push(resource);
}
