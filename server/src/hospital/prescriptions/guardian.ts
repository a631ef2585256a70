// IH-07: a child younger than rules.guardianUnderAge is prescribed for only with a guardian and a
// relevant doctor present. The guardian must be on record — a RelatedPerson of the child with a
// parent or guardian relationship (as auth/guardianship.ts models guardians) — and named in the
// prescription (MedicationRequest.supportingInformation, so the doctor's signature covers it);
// the doctor confirms both are present (guardianConfirmed, in the $sign input and in the signed
// JWS payload). A patient without a recorded birth date cannot be shown not to be a child.
import type { MedicationRequest, Patient, RelatedPerson } from '@medplum/fhirtypes';
import { isGuardianRelationship } from '../../auth/guardianship.js';
import { Unprocessable } from '../../fhir/errors.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { idOf } from './codes.js';
import { needsGuardian } from './patient-age.js';

/** The guardian's reference when the patient is a child (checks IH-07), undefined for an adult. */
export async function checkGuardian(
  repo: FhirRepository,
  request: MedicationRequest,
  patientId: string,
  underAge: number,
  confirmed: { parameter: boolean; signed: boolean },
  today: Date,
): Promise<string | undefined> {
  const patient = (await repo.read('Patient', patientId)) as Patient;
  if (!patient.birthDate) throw new Unprocessable(`IH-07: Patient/${patientId} has no birth date on record; it decides whether a guardian must be present (children under ${underAge}), so record it first`);
  if (!needsGuardian(patient.birthDate, underAge, today)) return undefined;
  const named = (request.supportingInformation ?? []).map((r) => idOf(r.reference, 'RelatedPerson')).filter((id): id is string => !!id);
  let guardian: string | undefined;
  for (const id of named) {
    const related = (await repo.read('RelatedPerson', id).catch(() => undefined)) as RelatedPerson | undefined;
    if (related && related.active !== false && related.patient?.reference === `Patient/${patientId}` && isGuardianRelationship(related)) {
      guardian = `RelatedPerson/${id}`;
      break;
    }
  }
  if (!guardian) {
    throw new Unprocessable(
      `IH-07: the patient is under ${underAge}; name their recorded guardian (a RelatedPerson of the patient with relationship parent, mother, father or guardian) in MedicationRequest.supportingInformation before signing`,
      ['MedicationRequest.supportingInformation'],
    );
  }
  if (!confirmed.parameter || !confirmed.signed) {
    throw new Unprocessable(`IH-07: the patient is under ${underAge}; confirm that the guardian and a relevant doctor are present: guardianConfirmed = true, both as a $sign parameter and in the signed JWS payload`);
  }
  return guardian;
}
