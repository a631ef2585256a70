// Reading family-doctor contracts: a person's (all records the master patient index links), and a
// family doctor's (by the PractitionerRoles they sign as). Contract has no search parameter for
// its type, so the type is checked here.
import type { Contract } from '@medplum/fhirtypes';
import type { FhirRepository } from '../../fhir/repository.js';
import { parseSearchRequest } from '../../fhir/search/parse.js';
import { isFamilyDoctorContract } from './contract-codes.js';

const PAGE = 500;
const LIMITS = { defaultCount: PAGE, maxCount: PAGE, defaultTotal: 'none' as const };

/** Every resource a search matches, page by page. */
export async function searchAll<T>(repo: FhirRepository, type: string, query: [string, string][]): Promise<T[]> {
  const found: T[] = [];
  let cursor: string | undefined;
  do {
    const request = parseSearchRequest(type, query, repo.registry, LIMITS);
    request.cursor = cursor;
    const page = await repo.search(request);
    found.push(...(page.resources as T[]));
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}

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
