// NU-03: who may take home-nursing orders, checked when a provider dispatches a nurse:
// - an active Practitioner, not suspended (no qualification or registry entry carrying the
//   `suspended` extension with valueBoolean true);
// - a nurse licence (qualification QUALIFICATION_SYSTEM|nurse-licence) held at least 5 years and
//   not expired — the years of clinical nursing;
// - a title of 护师 (senior-nurse) or higher (qualification QUALIFICATION_SYSTEM|nurse-title whose
//   code also carries the title from NURSE_TITLE_SYSTEM); 护士 (nurse) is not enough;
// - an entry in the national nurse registry (an identifier of NURSE_REGISTRY);
// - an active PractitionerRole at the provider institution.
// Each refusal is a 422 naming NU-03 and what is missing, so the institution knows what to record.
import type { Identifier, Practitioner, PractitionerQualification } from '@medplum/fhirtypes';
import { Unprocessable } from '../../fhir/errors.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { QUALIFICATION_SYSTEM } from '../../hospital/eligibility.js';
import { organizationsOf, readOrNull } from './chain-store.js';

export { QUALIFICATION_SYSTEM };
/** 护士执业证书 */
export const NURSE_LICENCE = 'nurse-licence';
/** 护理专业技术职称 */
export const NURSE_TITLE = 'nurse-title';
export const NURSE_TITLE_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/nurse-title';
/** Lowest to highest. */
export const NURSE_TITLES = ['nurse', 'senior-nurse', 'supervisor-nurse', 'associate-chief-nurse', 'chief-nurse'] as const;
export const MIN_TITLE = 'senior-nurse';
export const NURSE_REGISTRY = 'https://suhe.example.cn/fhir/sid/nurse-registry';
export const SUSPENDED_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/suspended';
export const MIN_NURSING_YEARS = 5;

const hasCode = (q: PractitionerQualification, system: string, code: string) => !!q.code.coding?.some((c) => c.system === system && c.code === code);
const suspended = (x: { extension?: { url: string; valueBoolean?: boolean }[] }) => !!x.extension?.some((e) => e.url === SUSPENDED_EXTENSION && e.valueBoolean === true);

/** The nurse's Practitioner when NU-03 allows them to take this provider's orders; 422 naming what is missing. */
export async function eligibleNurse(repo: FhirRepository, reference: string, provider: string, now: Date): Promise<Practitioner> {
  const id = reference.slice('Practitioner/'.length);
  const nurse = await readOrNull<Practitioner>(repo, 'Practitioner', id);
  if (!nurse) throw new Unprocessable(`NU-03: ${reference} does not exist`, ['nurse']);
  if (nurse.active === false) throw new Unprocessable(`NU-03: ${reference} is not active (suspended or retired) and takes no orders`, ['nurse']);
  const qualifications = nurse.qualification ?? [];
  const registry: Identifier[] = (nurse.identifier ?? []).filter((i) => i.system === NURSE_REGISTRY && i.value);
  if (qualifications.some(suspended) || registry.some(suspended)) throw new Unprocessable(`NU-03: ${reference} is suspended (${SUSPENDED_EXTENSION}) and takes no orders`, ['nurse']);

  const licence = qualifications.find((q) => hasCode(q, QUALIFICATION_SYSTEM, NURSE_LICENCE));
  if (!licence) throw new Unprocessable(`NU-03: ${reference} has no nurse licence (qualification ${QUALIFICATION_SYSTEM}|${NURSE_LICENCE})`, ['nurse']);
  if (licence.period?.end && new Date(licence.period.end) <= now) throw new Unprocessable(`NU-03: the nurse licence of ${reference} expired on ${licence.period.end}`, ['nurse']);
  const since = licence.period?.start ? new Date(licence.period.start) : undefined;
  const needed = new Date(now);
  needed.setUTCFullYear(needed.getUTCFullYear() - MIN_NURSING_YEARS);
  if (!since || Number.isNaN(since.getTime()) || since > needed) {
    throw new Unprocessable(`NU-03: home nursing needs at least ${MIN_NURSING_YEARS} years of clinical nursing; the nurse licence of ${reference} ${since ? `dates from ${licence.period!.start}` : 'has no start date'}`, ['nurse']);
  }

  const titleQualification = qualifications.find((q) => hasCode(q, QUALIFICATION_SYSTEM, NURSE_TITLE));
  const title = titleQualification?.code.coding?.find((c) => c.system === NURSE_TITLE_SYSTEM)?.code;
  const rank = NURSE_TITLES.indexOf(title as (typeof NURSE_TITLES)[number]);
  if (rank < 0) throw new Unprocessable(`NU-03: ${reference} has no nursing title (qualification ${QUALIFICATION_SYSTEM}|${NURSE_TITLE} coded in ${NURSE_TITLE_SYSTEM})`, ['nurse']);
  if (rank < NURSE_TITLES.indexOf(MIN_TITLE)) throw new Unprocessable(`NU-03: home nursing needs the title 护师 (${MIN_TITLE}) or higher; ${reference} is ${title} (护士)`, ['nurse']);

  if (!registry.length) throw new Unprocessable(`NU-03: ${reference} has no entry in the national nurse registry (identifier ${NURSE_REGISTRY})`, ['nurse']);
  if (!(await organizationsOf(repo, reference)).includes(provider)) throw new Unprocessable(`NU-03: ${reference} has no active PractitionerRole at ${provider}, the provider institution`, ['nurse']);
  return nurse;
}
