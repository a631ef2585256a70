// PI-03: a parent or guardian acts for a child under 14. The hub knows the relationship from a
// RelatedPerson on the child's record (relationship: parent, mother, father or guardian) whose
// identifier is the guardian's verified identity document — the one their account is bound to.
import type { Patient, RelatedPerson } from '@medplum/fhirtypes';
import { isResidentIdSystem, RESIDENT_ID_SYSTEMS } from '../fhir/identity/resident-id.js';
import type { FhirRepository } from '../fhir/repository.js';
import { parseSearchRequest } from '../fhir/search/parse.js';

export const GUARDIAN_AGE_LIMIT = 14;
const ROLE_CODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const GUARDIAN_CODES = new Set(['GUARD', 'PRN', 'MTH', 'FTH', 'ADOPTP', 'ADOPTM', 'ADOPTF', 'STPPRN', 'STPMTH', 'STPFTH']);

/** The ids of children under 14 for whom the person with this identity document is parent or guardian. */
export async function wardsOf(repo: FhirRepository, identity: { system: string; value: string }, today = new Date()): Promise<string[]> {
  // The two resident-ID systems name one identifier (ID-02).
  const systems = isResidentIdSystem(identity.system) ? [...RESIDENT_ID_SYSTEMS] : [identity.system];
  const tokens = systems.map((s) => `${s}|${identity.value}`).join(',');
  const limits = { defaultCount: 100, maxCount: 100, defaultTotal: 'none' as const };
  const related = (await repo.search(parseSearchRequest('RelatedPerson', [['identifier', tokens], ['active:not', 'false']], repo.registry, limits))).resources as RelatedPerson[];
  const children = related
    .filter(isGuardianRelationship)
    .map((r) => r.patient?.reference?.match(/^Patient\/([A-Za-z0-9\-.]{1,64})$/)?.[1])
    .filter((id): id is string => !!id);
  const wards: string[] = [];
  for (const id of new Set(children)) {
    const child = (await repo.read('Patient', id).catch(() => undefined)) as Patient | undefined;
    if (child?.birthDate && ageOn(child.birthDate, today) < GUARDIAN_AGE_LIMIT) wards.push(id);
  }
  return wards;
}

/** Whether the RelatedPerson is the patient's parent or guardian (v3 RoleCode). */
export function isGuardianRelationship(related: RelatedPerson): boolean {
  return !!related.relationship?.some((cc) => cc.coding?.some((c) => c.system === ROLE_CODE && GUARDIAN_CODES.has(c.code ?? '')));
}

/** Whole years between a birth date (YYYY, YYYY-MM or YYYY-MM-DD) and `today`. */
export function ageOn(birthDate: string, today: Date): number {
  const [year, month = 1, day = 1] = birthDate.split('-').map(Number);
  let age = today.getUTCFullYear() - year;
  if (today.getUTCMonth() + 1 < month || (today.getUTCMonth() + 1 === month && today.getUTCDate() < day)) age--;
  return age;
}
