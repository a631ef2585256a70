// TM-04: the inviting institution records the patient's written (electronic) consent to the
// teleconsultation before inviting. It is a Consent the invitation refers to
// (ServiceRequest.supportingInfo), and it counts when it is:
// - active, about the invitation's patient;
// - of scope `treatment` — consent to this care, which discloses the record to the invited
//   institution for the consult. A `patient-privacy` Consent would not do: the access policy reads
//   those as standing permits, opening the record to all the institution's staff for good, where
//   a consult opens it only to the consultant while the consult is under way;
// - permitting the invited Organization (provision.actor) for treatment (provision.purpose
//   v3-ActReason TREAT), within its period; a nested deny for it wins;
// - evidenced: the signed form (sourceAttachment or sourceReference) or a verification
//   (verification.verified = true).
import type { Consent, ConsentProvision } from '@medplum/fhirtypes';
import { NotFound, Unprocessable } from '../../fhir/errors.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { ACT_REASON, CONSENT_SCOPE_TREATMENT } from './codes.js';

const TREAT = 'TREAT';

/** The consent when it covers this consult; Unprocessable naming every shortfall when not. */
export async function consultConsent(repo: FhirRepository, consentIds: string[], patient: string, invited: string, now = new Date()): Promise<Consent> {
  if (!consentIds.length) {
    throw new Unprocessable("TM-04: the invitation refers to no consent of the patient; record the patient's written or electronic consent (a Consent) and refer to it from ServiceRequest.supportingInfo", ['ServiceRequest.supportingInfo']);
  }
  const problems: string[] = [];
  for (const id of consentIds) {
    const consent = (await repo.read('Consent', id).catch((err) => {
      if (err instanceof NotFound || (err as { status?: number }).status === 410) return undefined;
      throw err;
    })) as Consent | undefined;
    if (!consent) {
      problems.push(`Consent/${id} does not exist`);
      continue;
    }
    const shortfalls = consentShortfalls(consent, patient, invited, now);
    if (!shortfalls.length) return consent;
    problems.push(`Consent/${id}: ${shortfalls.join('; ')}`);
  }
  throw new Unprocessable(`TM-04: no consent of the patient covers this teleconsultation — ${problems.join(' | ')}`, ['ServiceRequest.supportingInfo']);
}

/** Why this Consent does not cover a consult of `patient` by `invited` (empty: it does). */
export function consentShortfalls(consent: Consent, patient: string, invited: string, now: Date): string[] {
  const out: string[] = [];
  if (consent.status !== 'active') out.push(`it is ${consent.status}, not active`);
  if (consent.patient?.reference !== `Patient/${patient}`) out.push(`it is not the consent of Patient/${patient}`);
  if (!consent.scope?.coding?.some((c) => c.system === CONSENT_SCOPE_TREATMENT.system && c.code === CONSENT_SCOPE_TREATMENT.code)) {
    out.push(`its scope must be ${CONSENT_SCOPE_TREATMENT.system}|${CONSENT_SCOPE_TREATMENT.code} (consent to this care), not a standing privacy permit`);
  }
  if (!consent.provision || decision(consent.provision, invited, now) !== 'permit') out.push(`its provision does not permit ${invited} for treatment (type permit, actor ${invited}, purpose ${ACT_REASON}|${TREAT}, period covering now)`);
  const signed = !!(consent.sourceAttachment?.data || consent.sourceAttachment?.url || consent.sourceReference?.reference);
  const verified = (consent.verification ?? []).some((v) => v.verified === true);
  if (!signed && !verified) out.push('it carries neither the signed form (sourceAttachment or sourceReference) nor a verification (verification.verified = true)');
  return out;
}

/** The most specific provision's decision for `actor` (nested exceptions win; deny wins over permit). */
function decision(provision: ConsentProvision, actor: string, now: Date): 'permit' | 'deny' | undefined {
  const nested = (provision.provision ?? []).map((p) => decision(p, actor, now));
  if (nested.includes('deny')) return 'deny';
  if (nested.includes('permit')) return 'permit';
  if (!(provision.actor ?? []).some((a) => a.reference?.reference === actor)) return undefined;
  // A permit must name treatment among its purposes; a deny limited to other purposes does not apply.
  const purposes = provision.purpose ?? [];
  const forTreatment = purposes.some((p) => p.system === ACT_REASON && p.code === TREAT);
  if (!forTreatment && (purposes.length || provision.type === 'permit')) return undefined;
  const { start, end } = provision.period ?? {};
  if (start && Date.parse(start) > now.getTime()) return undefined;
  if (end && Date.parse(end.length === 10 ? `${end}T23:59:59.999Z` : end) < now.getTime()) return undefined;
  return provision.type === 'permit' || provision.type === 'deny' ? provision.type : undefined;
}
