// PI-02: residents decide who may see their records. A Consent (scope patient-privacy, status
// active) permits or denies access to the actors it names — a practitioner, a PractitionerRole or
// an institution (Organization) — optionally only for some purposes and a period. A nested
// provision is an exception to its parent and wins for the actors it names. Deny wins over
// permit within the same level; a deny reaches past care relationships, and only a declared
// break-the-glass emergency overrides it (audited as such).
//
// Consents are found by the actors they name (the R4 `actor` search parameter covers the top
// provision's actors), so a Consent must name the actor it is about.
import type { Consent, ConsentProvision, Resource } from '@medplum/fhirtypes';
import type { FhirRepository } from '../fhir/repository.js';
import { searchAll } from '../fhir/search/search-all.js';

export const PRIVACY_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope|patient-privacy';
/** v3 ActReason: treatment, and emergency treatment (break the glass). */
export const PURPOSE = { treatment: 'TREAT', breakTheGlass: 'BTG' } as const;

export interface ConsentDecisions {
  permit: Set<string>;
  deny: Set<string>;
}

/** Which patients' Consents permit or deny these actors (e.g. Practitioner/1, Organization/2) now, for `purpose`. */
export async function consentDecisions(repo: FhirRepository, actors: string[], purpose: string, now = new Date()): Promise<ConsentDecisions> {
  const decisions: ConsentDecisions = { permit: new Set(), deny: new Set() };
  if (!actors.length) return decisions;
  const query: [string, string][] = [['actor', actors.join(',')], ['status', 'active'], ['scope', PRIVACY_SCOPE]];
  for (const resource of await searchAll<Resource>(repo, 'Consent', query)) decide(resource, actors, purpose, now, decisions);
  return decisions;
}

function decide(resource: Resource, actors: string[], purpose: string, now: Date, decisions: ConsentDecisions): void {
  const consent = resource as Consent;
  const patient = consent.patient?.reference?.match(/^Patient\/([A-Za-z0-9\-.]{1,64})$/)?.[1];
  if (!patient || !consent.provision) return;
  const verdict = applicable(consent.provision, actors, purpose, now);
  if (verdict === 'deny') decisions.deny.add(patient);
  else if (verdict === 'permit') decisions.permit.add(patient);
}

/** The decision of the most specific provision that applies to these actors, if any. */
function applicable(provision: ConsentProvision, actors: string[], purpose: string, now: Date): 'permit' | 'deny' | undefined {
  const nested = (provision.provision ?? []).map((p) => applicable(p, actors, purpose, now)).filter(Boolean);
  if (nested.includes('deny')) return 'deny';
  if (nested.includes('permit')) return 'permit';
  if (!applies(provision, actors, purpose, now)) return undefined;
  return provision.type === 'permit' || provision.type === 'deny' ? provision.type : undefined;
}

function applies(provision: ConsentProvision, actors: string[], purpose: string, now: Date): boolean {
  const named = (provision.actor ?? []).map((a) => a.reference?.reference).filter(Boolean);
  if (!named.length || !named.some((ref) => actors.includes(ref!))) return false;
  const purposes = (provision.purpose ?? []).map((p) => p.code);
  if (purposes.length && !purposes.includes(purpose)) return false;
  const { start, end } = provision.period ?? {};
  if (start && new Date(start) > now) return false;
  // A date without a time ends at the end of that day.
  if (end && new Date(end.length === 10 ? `${end}T23:59:59.999Z` : end) < now) return false;
  return true;
}
