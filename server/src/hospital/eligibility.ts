// Who may practise online (IH-08, IH-09), checked before a doctor publishes a schedule, consults
// or prescribes, and before a pharmacist reviews:
// - IH-08 real-name authentication: the signed-in account carries a verified identity document,
//   and the Practitioner it acts as carries the same identifier — nobody acts in another's name;
// - IH-09 a practising licence (Practitioner.qualification coded practising-licence, with its
//   number) held for at least `minPracticeYears` and not expired, and an active PractitionerRole
//   at the institution (registered there).
// A refusal says which rule failed and what to record to fix it.
import type { Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import type { Actor } from '../fhir/access/access-control.js';
import { Forbidden } from '../fhir/errors.js';
import type { FhirRepository } from '../fhir/repository.js';
import { parseSearchRequest } from '../fhir/search/parse.js';
import type { HospitalRules } from './rules.js';
import { identityOfFhirUser } from '../auth/users.js';

export const QUALIFICATION_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/qualification';
/** 医师执业证书 */
export const DOCTOR_LICENCE = 'practising-licence';
/** 药师执业资格 */
export const PHARMACIST_LICENCE = 'pharmacist-licence';

export interface EligibilityDeps {
  repo: FhirRepository;
  rules: HospitalRules;
  /** The verified identity document recorded on a user account. */
  identityOf(accountId: string): Promise<{ system: string; value: string } | undefined>;
}

export interface Clinician {
  reference: string;
  practitioner: Practitioner;
  /** Organization references the clinician is registered at (active PractitionerRoles). */
  organizations: string[];
}

/**
 * The clinician acting, when they may practise online in `role` (doctor: IH-08/09; pharmacist:
 * identity and licence), at `organization` when one is named.
 */
export async function eligibleClinician(deps: EligibilityDeps, actor: Actor, role: 'doctor' | 'pharmacist', organization?: string, now = new Date()): Promise<Clinician> {
  const ruleIds = role === 'doctor' ? 'IH-08/IH-09' : 'IH-05';
  if (actor.role !== role || !actor.user?.startsWith('Practitioner/')) throw new Forbidden(`${ruleIds}: only a ${role} signed in as their own Practitioner may do this`);
  const identity = actor.account ? await deps.identityOf(actor.account) : undefined;
  return eligiblePractitioner(deps, actor.user, role, identity, organization, now);
}

/**
 * The same checks for a practitioner named in a resource (the doctor a Schedule publishes, the
 * doctor of a booked slot), with the identity verified on the account that acts as them.
 */
export async function eligiblePractitionerByReference(
  deps: EligibilityDeps,
  reference: string,
  role: 'doctor' | 'pharmacist',
  organization?: string,
  now = new Date(),
  /** The transaction to read in, when the check runs inside one (a write rule). */
  within?: FhirRepository,
): Promise<Clinician> {
  if (!/^Practitioner\/[A-Za-z0-9\-.]{1,64}$/.test(reference)) throw new Forbidden(`IH-09: ${reference} is not a Practitioner`);
  const repo = within ?? deps.repo;
  return eligiblePractitioner({ ...deps, repo }, reference, role, await identityOfFhirUser(await repo.sql(), reference), organization, now);
}

async function eligiblePractitioner(
  deps: EligibilityDeps,
  reference: string,
  role: 'doctor' | 'pharmacist',
  identity: { system: string; value: string } | undefined,
  organization: string | undefined,
  now: Date,
): Promise<Clinician> {
  const actor = { user: reference };
  if (!identity) throw new Forbidden(`IH-08: the ${role}'s account has no verified identity (real-name authentication); an administrator records the identity document on the account first`);
  const practitioner = (await deps.repo.read('Practitioner', reference.slice('Practitioner/'.length)).catch(() => undefined)) as Practitioner | undefined;
  if (!practitioner || practitioner.active === false) throw new Forbidden(`IH-08: ${reference} is not an active Practitioner`);
  if (!practitioner.identifier?.some((i) => i.system === identity.system && i.value === identity.value)) {
    throw new Forbidden(`IH-08: ${reference} does not carry the identity verified for this account; nobody acts in another clinician's name`);
  }
  const code = role === 'doctor' ? DOCTOR_LICENCE : PHARMACIST_LICENCE;
  const licence = practitioner.qualification?.find((q) => q.code.coding?.some((c) => c.system === QUALIFICATION_SYSTEM && c.code === code));
  if (!licence?.identifier?.[0]?.value) throw new Forbidden(`IH-09: ${actor.user} has no ${code} (qualification ${QUALIFICATION_SYSTEM}|${code} with its number)`);
  if (licence.period?.end && new Date(licence.period.end) <= now) throw new Forbidden(`IH-09: the ${code} of ${actor.user} expired on ${licence.period.end}`);
  if (role === 'doctor') {
    const since = licence.period?.start ? new Date(licence.period.start) : undefined;
    const needed = new Date(now);
    needed.setFullYear(needed.getFullYear() - deps.rules.minPracticeYears);
    if (!since || since > needed) {
      throw new Forbidden(`IH-09: online consultation needs ${deps.rules.minPracticeYears} years of independent practice; ${actor.user}'s licence ${since ? `dates from ${licence.period!.start}` : 'has no start date'}`);
    }
  }
  const roles = (await deps.repo.search(parseSearchRequest('PractitionerRole', [['practitioner', actor.user], ['active', 'true']], deps.repo.registry, { defaultCount: 100, maxCount: 100, defaultTotal: 'none' }))).resources as PractitionerRole[];
  const organizations = roles.map((r) => r.organization?.reference).filter((r): r is string => !!r);
  if (!organizations.length) throw new Forbidden(`IH-09: ${actor.user} is not registered at any institution (an active PractitionerRole)`);
  if (organization && !organizations.includes(organization)) throw new Forbidden(`IH-09: ${actor.user} is not registered at ${organization}`);
  return { reference: actor.user, practitioner, organizations };
}
