// The insurance part's systems and codes (MI-01..MI-03): the credential types of MI-02 (a CodeSystem
// of the hub), the extensions a Coverage carries (credential, insured area), the tag that marks
// what the hub's insurance operations write, and the codes of a settlement's outcome.
import type { Coding } from '@medplum/fhirtypes';

const BASE = 'https://suhe.example.cn/fhir';

/** MI-02 credential types: 01 e-voucher token, 02 ID number, 03 social-security card. */
export const CREDENTIAL_TYPE_SYSTEM = `${BASE}/CodeSystem/insurance-credential-type`;
export const CREDENTIAL_TYPES = {
  '01': 'Medical insurance e-voucher token (医保电子凭证)',
  '02': 'Resident ID number (身份证号)',
  '03': 'Social-security card (社会保障卡)',
} as const;
export type CredentialType = keyof typeof CREDENTIAL_TYPES;
export const isCredentialType = (code: unknown): code is CredentialType => typeof code === 'string' && code in CREDENTIAL_TYPES;

/** Coverage extension: the credential — type, masked display and SHA-256 digest (sub-extensions). */
export const CREDENTIAL_EXTENSION = `${BASE}/StructureDefinition/insurance-credential`;
/** Coverage extension: the insured area, a 6-digit GB/T 2260 administrative division code (MI-03). */
export const INSURED_AREA_EXTENSION = `${BASE}/StructureDefinition/insured-area`;
/** Identifier system of GB/T 2260 administrative division codes (the insurer is named by its area). */
export const ADMIN_DIVISION_SYSTEM = `${BASE}/sid/gb-t-2260`;
/** Identifier of the charge of one visit, on its Claim, ClaimResponse or Invoice: the Encounter id (one charge per visit). */
export const VISIT_CHARGE_SYSTEM = `${BASE}/sid/online-visit-charge`;

/** What the insurance operations write: plain REST writes do not change these (write rule). */
export const INSURANCE_TAG: Coding = { system: `${BASE}/CodeSystem/insurance`, code: 'internet-hospital', display: 'Written by the internet hospital\'s insurance operations' };

export const SERVICE_SYSTEM = `${BASE}/CodeSystem/online-service`;
export const FOLLOW_UP_SERVICE: Coding = { system: SERVICE_SYSTEM, code: 'online-follow-up', display: 'Online follow-up consultation' };
export const FIRST_VISIT_SERVICE: Coding = { system: SERVICE_SYSTEM, code: 'online-first-visit', display: 'Online first visit (pilot department)' };

/** Outcome codes of a settlement (ClaimResponse.error / processNote). */
export const SETTLEMENT_SYSTEM = `${BASE}/CodeSystem/insurance-settlement`;
export const PATIENT_SHARE: Coding = { system: SETTLEMENT_SYSTEM, code: 'patient-share', display: 'Amount due from the patient' };
export const ADJUDICATION = 'http://terminology.hl7.org/CodeSystem/adjudication';
export const PUBLIC_POLICY: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PUBLICPOL', display: 'public healthcare' };
export const PROFESSIONAL_CLAIM: Coding = { system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional', display: 'Professional' };
