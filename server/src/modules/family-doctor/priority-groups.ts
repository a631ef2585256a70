// FD-01/04: the priority groups of family-doctor contracting (重点人群) a patient belongs to, from
// the record alone: 65+, pregnant women, children, the disabled, and patients with hypertension,
// diabetes, tuberculosis or a severe mental disorder. Doctors sign these first and the worklist
// shows them; the groups are returned in one fixed order so lists and tests compare as they are.
//
// - A Condition counts when clinicalStatus is active/recurrence/relapse (or absent) and
//   verificationStatus is not refuted/entered-in-error (see care-codes.ts for the codes).
// - Age is counted on asOf's clinic date (+08:00). A partial birthDate (1950, 1950-06) is read
//   generously in both directions: its earliest possible day for "65+" and its latest for
//   "child under 7", so a patient who may be in a group is shown in it. No birthDate, no age group.
// - Children are 0–6 years (under 7), as China's basic public health service counts them.
// - Disabled: the Patient extension DISABILITY_EXTENSION with valueBoolean true, or a counting
//   Condition coded FOLLOW_UP_SYSTEM|disability.
import { youngestAge } from '../../hospital/prescriptions/patient-age.js';
import {
  DIABETES_RANGES, DISABILITY_CODE, DISABILITY_EXTENSION, FOLLOW_UP_SYSTEM, HYPERTENSION_RANGES, PREGNANCY_RANGES,
  SEVERE_MENTAL_RANGES, TUBERCULOSIS_RANGES, countingConditionsIn, hasCoding, isCountingCondition,
} from './care-codes.js';
import { birthDateBound, birthdayAt, clinicDateOf } from './clinic-dates.js';
import type { PanelRecord } from './due-items.js';

export type PriorityGroup = 'elderly-65' | 'pregnant' | 'child' | 'disabled' | 'hypertension' | 'diabetes' | 'tuberculosis' | 'severe-mental-disorder';

/** All groups, in the order `priorityGroups` returns them. */
export const PRIORITY_GROUPS: readonly PriorityGroup[] = ['elderly-65', 'pregnant', 'child', 'disabled', 'hypertension', 'diabetes', 'tuberculosis', 'severe-mental-disorder'];

export const ELDERLY_AGE = 65;
/** Children are younger than this. */
export const CHILD_UNDER_AGE = 7;

/** FD-01/04: the priority groups the patient belongs to on asOf's clinic date, in PRIORITY_GROUPS order. */
export function priorityGroups(record: PanelRecord, asOf: Date): PriorityGroup[] {
  const today = clinicDateOf(asOf);
  const { patient, conditions } = record;
  const has = (ranges: Parameters<typeof countingConditionsIn>[1]) => countingConditionsIn(conditions, ranges).length > 0;

  const earliestBirth = birthDateBound(patient.birthDate, 'earliest');
  const elderly = earliestBirth !== undefined && birthdayAt(earliestBirth, ELDERLY_AGE) <= today;
  // youngestAge reads a partial birthDate as its last possible day; it counts on a UTC date, so it
  // is given the clinic date as a UTC midnight.
  // (A birthDate after asOf is an error, not a child.)
  const child = earliestBirth !== undefined && earliestBirth <= today
    && youngestAge(patient.birthDate!, new Date(`${today}T00:00:00Z`)) < CHILD_UNDER_AGE;
  const disabled = (patient.extension ?? []).some((e) => e.url === DISABILITY_EXTENSION && e.valueBoolean === true)
    || conditions.some((c) => isCountingCondition(c) && hasCoding(c.code, FOLLOW_UP_SYSTEM, DISABILITY_CODE));

  const member: Record<PriorityGroup, boolean> = {
    'elderly-65': elderly,
    pregnant: has(PREGNANCY_RANGES),
    child,
    disabled,
    hypertension: has(HYPERTENSION_RANGES),
    diabetes: has(DIABETES_RANGES),
    tuberculosis: has(TUBERCULOSIS_RANGES),
    'severe-mental-disorder': has(SEVERE_MENTAL_RANGES),
  };
  return PRIORITY_GROUPS.filter((g) => member[g]);
}
