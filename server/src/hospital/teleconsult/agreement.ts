// TM-03: the two institutions have a cooperation agreement on file before consults flow. An
// agreement is a FHIR Contract — the resource for a formally recorded agreement — of type
// cooperation-agreement, whose signers' parties are the Organizations that agreed, whose
// `applies` period is its validity and whose status says whether it is in force (executed) or
// ended (terminated, revoked, ...). The signed document goes in legallyBindingAttachment.
// An administrator records it (write-rules.ts); $invite-consult asks here for one in force.
import type { Contract, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { FhirRepository } from '../../fhir/repository.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { AGREEMENT_TYPE, hasCoding } from './codes.js';


export const isAgreement = (resource: { resourceType: string } | undefined): resource is Contract =>
  resource?.resourceType === 'Contract' && hasCoding((resource as Contract).type?.coding, AGREEMENT_TYPE);

/** The Organizations that signed the agreement. */
export function agreementParties(contract: Contract): string[] {
  const refs = (contract.signer ?? []).map((s) => s.party?.reference).filter((r): r is string => !!r && /^Organization\/[A-Za-z0-9\-.]{1,64}$/.test(r));
  return [...new Set(refs)];
}

/** What an agreement must state to be recorded at all (empty: fine). */
export function agreementProblems(contract: Contract): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const problem = (diagnostics: string, expression: string) => issues.push({ severity: 'error', code: 'required', diagnostics: `TM-03: ${diagnostics}`, expression: [expression] });
  if (agreementParties(contract).length < 2) problem('a cooperation agreement names the two (or more) institutions that agreed, as Organization parties of Contract.signer', 'Contract.signer');
  if (!contract.applies?.start) problem('a cooperation agreement states when it starts (Contract.applies.start; applies.end when it is limited)', 'Contract.applies');
  if (contract.applies?.start && contract.applies.end && endOf(contract.applies.end) < Date.parse(contract.applies.start)) problem('Contract.applies.end is before its start', 'Contract.applies');
  if (!contract.status) problem('a cooperation agreement has a status (executed while in force)', 'Contract.status');
  return issues;
}

/** Whether the agreement is in force at `now` between these two institutions. */
export function inForce(contract: Contract, a: string, b: string, now: Date): boolean {
  const parties = agreementParties(contract);
  if (!isAgreement(contract) || !parties.includes(a) || !parties.includes(b)) return false;
  if (contract.status !== 'executed' || !contract.applies?.start) return false;
  return Date.parse(contract.applies.start) <= now.getTime() && (!contract.applies.end || endOf(contract.applies.end) >= now.getTime());
}

/** The agreements on file (any status or period) that `institution` signed. */
export async function agreementsOf(repo: FhirRepository, institution: string): Promise<Contract[]> {
  return (await searchAll<Contract>(repo, 'Contract', [['signer', institution]])).filter(isAgreement);
}

/**
 * Of `candidates` (the inviting doctor's institutions), those with an agreement in force with
 * `invited`; and, when there are none, why not — for the refusal.
 */
export async function cooperatingInstitutions(repo: FhirRepository, candidates: string[], invited: string, now = new Date()): Promise<{ institutions: string[]; why?: string }> {
  const agreements = await agreementsOf(repo, invited);
  const institutions = candidates.filter((c) => agreements.some((a) => inForce(a, c, invited, now)));
  if (institutions.length) return { institutions };
  const between = `${candidates.join(' / ') || 'your institution'} and ${invited}`;
  const lapsed = agreements.find((a) => candidates.some((c) => agreementParties(a).includes(c)));
  if (!lapsed) return { institutions, why: `TM-03: no cooperation agreement between ${between} on file; an administrator records it first (a Contract of type ${AGREEMENT_TYPE.system}|${AGREEMENT_TYPE.code})` };
  const period = `${lapsed.applies?.start ?? '?'} – ${lapsed.applies?.end ?? 'open'}`;
  return { institutions, why: `TM-03: the cooperation agreement between ${between} (Contract/${lapsed.id}, ${lapsed.status}, valid ${period}) is not in force now` };
}

/** A date without a time ends at the end of that day. */
function endOf(value: string): number {
  return Date.parse(value.length === 10 ? `${value}T23:59:59.999Z` : value);
}
