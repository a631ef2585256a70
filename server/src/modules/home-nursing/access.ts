// The provider's care relationship, for the access policy (auth/policy.ts, wired in app.ts): while
// a home-nursing order to an institution is open (awaiting assessment, or assessed and being
// served), that institution's staff see the patient's record — to assess the applicant (NU-06)
// against their conditions and prescriptions, dispatch a nurse and answer the duty desk's alarms
// (NU-08). Reads are audited with purpose TREAT and the order as the reason. When the order is
// completed or revoked the relationship ends at the next request.
import type { ServiceRequest } from '@medplum/fhirtypes';
import type { DerivedRelationship } from '../../auth/policy.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { CHAIN_TAG, ORDER_CATEGORY } from './codes.js';

export async function providerRelationships(repo: FhirRepository, actors: string[]): Promise<DerivedRelationship[]> {
  const organizations = actors.filter((a) => /^Organization\/[A-Za-z0-9\-.]{1,64}$/.test(a));
  if (!organizations.length || !actors.some((a) => a.startsWith('Practitioner/'))) return [];
  // Only real orders (the chain tag, which only the operations write): a look-alike ServiceRequest
  // written by plain REST must not open anyone's record to an institution.
  const open = await searchAll<ServiceRequest>(repo, 'ServiceRequest', [
    ['_tag', `${CHAIN_TAG.system}|${CHAIN_TAG.code}`],
    ['performer', organizations.join(',')],
    ['category', `${ORDER_CATEGORY.system}|${ORDER_CATEGORY.code}`],
    ['status', 'on-hold,active'],
  ]);
  return open.flatMap((order) => {
    const patient = order.subject?.reference?.startsWith('Patient/') ? order.subject.reference.slice('Patient/'.length) : undefined;
    return patient ? [{ patient, purpose: { code: 'TREAT', reason: `NU-06: home-nursing order ServiceRequest/${order.id}` } }] : [];
  });
}
