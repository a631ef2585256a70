// What the family-doctor module needs from the hub, passed in (app.ts wires it).
import type { FhirRepository } from '../../fhir/repository.js';

export interface FamilyDoctorDeps {
  repo: FhirRepository;
  /** Now (tests move it to reach a contract's expiry or a due date). */
  clock: { now(): Date };
  /** The master patient index: every Patient record of the same people (the federated record). */
  samePerson?(patientIds: readonly string[]): Promise<string[]>;
  /** The person each Patient record belongs to (its golden record, else itself), to count people rather than records. */
  personKeys?(patientIds: readonly string[]): Promise<Map<string, string>>;
}

/** Every record of the person, sorted (so locks are always taken in the same order). */
export async function recordsOfPerson(deps: FamilyDoctorDeps, patientId: string): Promise<string[]> {
  const ids = deps.samePerson ? await deps.samePerson([patientId]) : [patientId];
  return [...new Set([patientId, ...ids])].sort();
}
