// The pharmacy's care relationship, for the access policy (auth/policy.ts, wired in app.ts): a
// prescription goes to the pharmacy of the prescribing doctor's institution (its review Task is
// owned by that Organization). While one of the institution's prescriptions is under review,
// approved and awaiting dispensing, or out for delivery, the institution's pharmacists — staff
// who hold a pharmacist licence — see the patient's record, so they can review it against the
// patient's allergies, conditions and other medication (IH-05). Reads are audited with purpose
// TREAT and the prescription as the reason. Once the prescription is completed, cancelled or
// delivered, the relationship is gone at the next request (the chain stays readable to the people
// who took part in it through $trace).
import type { MedicationRequest, Practitioner, Task } from '@medplum/fhirtypes';
import type { FhirRepository } from '../../fhir/repository.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { PHARMACIST_LICENCE, QUALIFICATION_SYSTEM } from '../eligibility.js';
import { DELIVERY_TASK, idOf, PRESCRIPTION_TAG } from './codes.js';


export interface PharmacyRelationship {
  patient: string;
  purpose: { code: string; reason: string };
}

/** The patients of the open prescriptions of the institutions these actors (a pharmacist, their roles and institutions) work for. */
export async function pharmacyRelationships(repo: FhirRepository, actors: string[]): Promise<PharmacyRelationship[]> {
  const organizations = actors.filter((a) => /^Organization\/[A-Za-z0-9\-.]{1,64}$/.test(a));
  const practitioner = idOf(actors.find((a) => a.startsWith('Practitioner/')), 'Practitioner');
  if (!organizations.length || !practitioner) return [];
  const out: PharmacyRelationship[] = [];
  const owners = organizations.join(',');
  for (const request of await searchAll<MedicationRequest>(repo, 'MedicationRequest', [
    ['_tag', `${PRESCRIPTION_TAG.system}|${PRESCRIPTION_TAG.code}`],
    ['status', 'on-hold,active'],
    ['_has:Task:focus:owner', owners],
  ])) {
    const patient = idOf(request.subject?.reference, 'Patient');
    if (patient) out.push({ patient, purpose: { code: 'TREAT', reason: `IH-05: pharmacy of prescription MedicationRequest/${request.id}` } });
  }
  for (const task of await searchAll<Task>(repo, 'Task', [
    ['code', `${DELIVERY_TASK.system}|${DELIVERY_TASK.code}`],
    ['owner', owners],
    ['status', 'requested,in-progress'],
  ])) {
    const patient = idOf(task.for?.reference, 'Patient');
    if (patient) out.push({ patient, purpose: { code: 'TREAT', reason: `IH-13: delivery Task/${task.id}` } });
  }
  if (!out.length) return [];
  // Only the institution's pharmacists (a doctor of the same hospital gets no access from this).
  const person = (await repo.read('Practitioner', practitioner).catch(() => undefined)) as Practitioner | undefined;
  const pharmacist = person?.qualification?.some((q) => q.code.coding?.some((c) => c.system === QUALIFICATION_SYSTEM && c.code === PHARMACIST_LICENCE));
  return pharmacist ? out : [];
}

