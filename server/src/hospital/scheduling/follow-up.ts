// IH-01 / IH-02: an online visit is a follow-up. Booking one needs, in the patient's federated
// record (every Patient record the master patient index links to the same person), a confirmed
// diagnosis from a physical institution — a Condition with verificationStatus confirmed that came
// from an institution's system (it carries meta.source: federation or an institution client),
// recorded within the look-back. Departments piloting online first visits are exempt
// (rules.firstVisitDepartments). The basis found goes on the Appointment, so the doctor sees it.
import type { CodeableConcept, Condition } from '@medplum/fhirtypes';
import type { FhirRepository } from '../../fhir/repository.js';
import { parseSearchRequest } from '../../fhir/search/parse.js';
import type { HospitalRules } from '../rules.js';

export type FollowUpDecision = { allowed: true; basis?: Condition; exemptDepartment?: string } | { allowed: false; reason: string };

export async function followUpDecision(
  repo: FhirRepository,
  patientIds: readonly string[],
  departments: CodeableConcept[] | undefined,
  rules: HospitalRules,
  now = new Date(),
): Promise<FollowUpDecision> {
  const codes = (departments ?? []).flatMap((d) => d.coding ?? []).flatMap((c) => [c.code, `${c.system}|${c.code}`]).filter((c): c is string => !!c);
  const exempt = codes.find((c) => rules.firstVisitDepartments.includes(c));
  const since = now.getTime() - rules.followUpLookbackDays * 86_400_000;
  const request = parseSearchRequest(
    'Condition',
    [['patient', patientIds.map((id) => `Patient/${id}`).join(',')], ['verification-status', 'confirmed'], ['_sort', '-_lastUpdated']],
    repo.registry,
    { defaultCount: 200, maxCount: 200, defaultTotal: 'none' },
  );
  const conditions = (await repo.search(request)).resources as Condition[];
  const basis = conditions.find((c) => fromPhysicalInstitution(c) && recordedSince(c, since));
  if (basis) return { allowed: true, basis, exemptDepartment: exempt };
  if (exempt) return { allowed: true, exemptDepartment: exempt };
  return {
    allowed: false,
    reason:
      `IH-01/IH-02: online visits are follow-ups only, and no confirmed diagnosis from a physical hospital or clinic in the last ${rules.followUpLookbackDays} days was found in the patient's record. ` +
      'Visit the clinic in person first (that visit\'s diagnosis then allows online follow-ups), or book a department that offers online first visits.',
  };
}

/** It came from an institution's own system (federated or pushed), not from the online hospital. */
function fromPhysicalInstitution(condition: Condition): boolean {
  const source = condition.meta?.source;
  return !!source && !source.startsWith('urn:suhe:internet-hospital');
}

function recordedSince(condition: Condition, since: number): boolean {
  const when = condition.recordedDate ?? condition.onsetDateTime ?? condition.meta?.lastUpdated;
  return !!when && Date.parse(when) >= since;
}
