// The codes the family-doctor rules (FD-01/04, FD-07/08/09) read from a patient's record: which
// Encounter types are follow-ups and health checks, which ICD-10 codes put a patient in a priority
// group, which LOINC codes are fasting glucose. Kept in one place so the worklist, the priority
// groups and the tests agree on them.
import type { CodeableConcept, Condition } from '@medplum/fhirtypes';

/** The hub's own code system for family-doctor Encounter types (and the disability flag). */
export const FOLLOW_UP_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/family-doctor';

/** Encounter.type codes in FOLLOW_UP_SYSTEM. */
export const ENCOUNTER_TYPES = {
  /** FD-07: a face-to-face hypertension follow-up. */
  hypertensionFollowUp: 'hypertension-follow-up',
  /** FD-08: a face-to-face type 2 diabetes follow-up. */
  diabetesFollowUp: 'diabetes-follow-up',
  /** FD-09: the yearly health check of a patient 65+. */
  healthCheck: 'health-check',
  /** FD-07: the follow-up of an urgent referral. */
  referralFollowUp: 'referral-follow-up',
} as const;

/** FD-01/04: a Condition coded `FOLLOW_UP_SYSTEM|disability` marks a disabled patient. */
export const DISABILITY_CODE = 'disability';
/** FD-01/04: a Patient extension with valueBoolean true marks a disabled patient. */
export const DISABILITY_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/disability';

export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';
export const LOINC_SYSTEM = 'http://loinc.org';
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/** FD-08: fasting glucose in serum/plasma, mass (mg/dL) and molar (mmol/L). */
export const FASTING_GLUCOSE_LOINC = ['1558-6', '14771-0'] as const;
/** Blood pressure panel (for recording FD-07 visits; not needed to count them). */
export const BLOOD_PRESSURE_PANEL_LOINC = '85354-9';

/** Encounter.class codes (v3 ActCode) of a face-to-face visit: ambulatory, home health. Virtual (VR) is not. */
export const FACE_TO_FACE_CLASSES = ['AMB', 'HH'] as const;
export const VIRTUAL_CLASS = 'VR';

/** An inclusive range of ICD-10 categories (letter + two characters), e.g. ['I10', 'I15']. */
export type Icd10Range = readonly [from: string, to: string];

/** FD-07 and the hypertension group: hypertensive diseases I10–I15. */
export const HYPERTENSION_RANGES: readonly Icd10Range[] = [['I10', 'I15']];
/** The diabetes priority group: E10–E14 (type 1, type 2, malnutrition-related, other, unspecified). */
export const DIABETES_RANGES: readonly Icd10Range[] = [['E10', 'E14']];
/** FD-08 counts type 2 diabetes only. */
export const TYPE2_DIABETES_RANGES: readonly Icd10Range[] = [['E11', 'E11']];
/** Tuberculosis A15–A19. */
export const TUBERCULOSIS_RANGES: readonly Icd10Range[] = [['A15', 'A19']];
/**
 * The six diseases of China's severe-mental-disorder programme: schizophrenia F20, persistent
 * delusional disorder F22, schizoaffective disorder F25, bipolar disorder F31, mental disorders due
 * to epilepsy (ICD-10 codes them under F06; the programme means F06.0/F06.2, but matching is by
 * category, so all of F06 counts) and intellectual disability with psychotic disorder (F70–F79;
 * the code alone cannot show the psychosis, so every F7x counts).
 */
export const SEVERE_MENTAL_RANGES: readonly Icd10Range[] = [['F20', 'F20'], ['F22', 'F22'], ['F25', 'F25'], ['F31', 'F31'], ['F06', 'F06'], ['F70', 'F79']];
/** Pregnancy: Z33 pregnant state, Z34 supervision of normal pregnancy, Z35 of high-risk pregnancy, and chapter XV O00–O9A. */
export const PREGNANCY_RANGES: readonly Icd10Range[] = [['Z33', 'Z35'], ['O00', 'O9A']];

const CATEGORY = /^[A-Z][0-9][0-9A-Z]$/;

/**
 * Whether an ICD-10 code falls in the categories `from`..`to` (inclusive). Only the category (the
 * first three characters) is compared, so `I10.x00`, `I11.9` and `E11` all have a category; the
 * comparison is by character, which orders O99 before O9A as ICD-10-CM does.
 */
export function icd10InRange(code: string | undefined, from: string, to: string): boolean {
  const category = code?.trim().slice(0, 3).toUpperCase();
  if (!category || !CATEGORY.test(category)) return false;
  return category >= from.toUpperCase() && category <= to.toUpperCase();
}

/** Whether a CodeableConcept has an ICD-10 coding in one of the ranges. */
export function codedInRanges(concept: CodeableConcept | undefined, ranges: readonly Icd10Range[]): boolean {
  return (concept?.coding ?? []).some((c) => c.system === ICD10_SYSTEM && ranges.some(([from, to]) => icd10InRange(c.code, from, to)));
}

/** Whether a CodeableConcept has the coding `system|code`. */
export function hasCoding(concept: CodeableConcept | undefined, system: string, code: string): boolean {
  return (concept?.coding ?? []).some((c) => c.system === system && c.code === code);
}

const ACTIVE_CLINICAL = ['active', 'recurrence', 'relapse'];
const EXCLUDED_VERIFICATION = ['refuted', 'entered-in-error'];

/**
 * Whether a Condition counts: its clinicalStatus is active, recurrence or relapse (or absent), and
 * its verificationStatus is neither refuted nor entered-in-error.
 */
export function isCountingCondition(condition: Condition): boolean {
  const clinical = condition.clinicalStatus?.coding?.map((c) => c.code) ?? [];
  if (clinical.length && !clinical.some((c) => c !== undefined && ACTIVE_CLINICAL.includes(c))) return false;
  const verification = condition.verificationStatus?.coding?.map((c) => c.code) ?? [];
  return !verification.some((c) => c !== undefined && EXCLUDED_VERIFICATION.includes(c));
}

/** The counting conditions coded in one of the ranges. */
export function countingConditionsIn(conditions: readonly Condition[], ranges: readonly Icd10Range[]): Condition[] {
  return conditions.filter((c) => isCountingCondition(c) && codedInRanges(c.code, ranges));
}
