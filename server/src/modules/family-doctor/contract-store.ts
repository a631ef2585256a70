// Reading family-doctor contracts: a person's (all records the master patient index links), and a
// family doctor's (by the PractitionerRoles they sign as). Contract has no search parameter for
// its type, so the type is checked here.
import type { Contract } from '@medplum/fhirtypes';
import type { FhirRepository } from '../../fhir/repository.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { isFamilyDoctorContract } from './contract-codes.js';


/** The executed family-doctor contracts of these Patient records (a person's records). */
export async function contractsOfPatients(repo: FhirRepository, patientIds: readonly string[]): Promise<Contract[]> {
  if (!patientIds.length) return [];
  const contracts = await searchAll<Contract>(repo, 'Contract', [['subject', patientIds.map((id) => `Patient/${id}`).join(',')], ['status', 'executed']]);
  return contracts.filter(isFamilyDoctorContract);
}

/** The executed family-doctor contracts signed by these PractitionerRoles (a family doctor's). */
export async function contractsOfDoctor(repo: FhirRepository, roles: readonly string[]): Promise<Contract[]> {
  if (!roles.length) return [];
  const contracts = await searchAll<Contract>(repo, 'Contract', [['signer', roles.join(',')], ['status', 'executed']]);
  return contracts.filter(isFamilyDoctorContract);
}
