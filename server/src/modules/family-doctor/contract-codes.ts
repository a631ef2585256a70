// How a family-doctor contract (FD-02, FD-05) is written in FHIR. One place for the codes, so the
// signing operation, the panel, the write rule and the tests agree.
import type { Contract } from '@medplum/fhirtypes';
import { FOLLOW_UP_SYSTEM } from './care-codes.js';

/** Contract.type of a family-doctor contract, and PlanDefinition.type of its service packages. */
export const FAMILY_DOCTOR_SYSTEM = FOLLOW_UP_SYSTEM;
export const CONTRACT_TYPE = { system: FAMILY_DOCTOR_SYSTEM, code: 'family-doctor-contract' } as const;
export const BASIC_PACKAGE = 'basic-package';
export const PERSONALISED_PACKAGE = 'personalised-package';
/** PlanDefinition extension: the package's price a year (valueMoney, CNY). */
export const PACKAGE_PRICE_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/package-price';
/** Contract extension (FD-05 "1+1+1"): parts `districtHospital` and `cityHospital` (valueReference Organization). */
export const ONE_PLUS_ONE_PLUS_ONE = 'https://suhe.example.cn/fhir/StructureDefinition/one-plus-one-plus-one';

/**
 * Organization.type codings of the district's institutions (the same system the demo district
 * uses): the family doctor works at a community health centre; FD-05's choices are a district
 * and a city hospital.
 */
export const INSTITUTION_CATEGORY = 'http://suhe.example.cn/fhir/CodeSystem/institution-category';
export const COMMUNITY_CENTRE = 'community-health-centre';
export const DISTRICT_HOSPITAL = 'district-hospital';
export const CITY_HOSPITAL = 'city-hospital';

/** Contract.signer.type codes (HL7 contract signer types). */
export const SIGNER_TYPES = 'http://terminology.hl7.org/CodeSystem/contractsignertypecodes';

/** FD-02: a contract runs at least this long. */
export const MIN_TERM_YEARS = 1;

export const isFamilyDoctorContract = (contract: Pick<Contract, 'type'> | undefined) =>
  !!contract?.type?.coding?.some((c) => c.system === CONTRACT_TYPE.system && c.code === CONTRACT_TYPE.code);

/** The family doctor's PractitionerRole a contract names (the signer of type HPROV). */
export const familyDoctorOf = (contract: Contract) => contract.signer?.find((s) => s.type.code === 'HPROV')?.party.reference;
/** The patient a contract covers. */
export const patientOf = (contract: Contract) => contract.subject?.[0]?.reference;
/** The FD-05 choice: the district and the city hospital. */
export function chosenHospitals(contract: Contract): { districtHospital?: string; cityHospital?: string } {
  const parts = contract.extension?.find((e) => e.url === ONE_PLUS_ONE_PLUS_ONE)?.extension ?? [];
  const ref = (url: string) => parts.find((p) => p.url === url)?.valueReference?.reference;
  return { districtHospital: ref('districtHospital'), cityHospital: ref('cityHospital') };
}

/** True while the contract is executed and `date` (YYYY-MM-DD, clinic time) lies in its term [start, end). */
export function inForce(contract: Contract, date: string): boolean {
  const start = contract.applies?.start?.slice(0, 10);
  const end = contract.applies?.end?.slice(0, 10);
  return contract.status === 'executed' && !!start && start <= date && (!end || date < end);
}
