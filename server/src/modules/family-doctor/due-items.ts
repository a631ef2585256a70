// The family doctor's worklist for one patient: which FD-07/08/09 care items are overdue or coming
// due, computed from the patient's record alone (pure; no I/O), so the worklist endpoint, the
// tests and a report all get the same answer.
//
// Semantics (exact; tests plant due dates on them):
// - Dates. Every date is a calendar date in clinic time (+08:00): instants are moved to +08:00
//   before their date is taken (2026-03-31T17:00:00Z is 2026-04-01); `asOf` too. Partial dates
//   (YYYY, YYYY-MM) read as their first day.
// - Events. An Encounter counts only when `finished`; its date is period.start, else period.end.
//   An Observation counts only when final/amended/corrected; its date is effectiveDateTime, else
//   effectiveInstant, else effectivePeriod.start, else issued. Events dated after asOf's date are
//   ignored. Several counting events on one date are one event.
// - Intervals. A "≥4 a year" item (FD-07 hypertension follow-up, FD-08 diabetes follow-up and
//   fasting glucose) is due 91 days after the last counting event; a yearly item (FD-09 health
//   check) 365 days after. With no counting event, it is due one interval after the anchor, the
//   latest of: the contract start; for FD-07/08 the date the condition was first recorded (the
//   earliest, over the patient's counting conditions of that kind, of recordedDate, else
//   onsetDateTime, else the contract start); and the day the patient reached the rule's age (35
//   for FD-07/08, 65 for FD-09).
// - Who. FD-07 needs a counting hypertension Condition (I10–I15), FD-08 a counting type 2 diabetes
//   Condition (E11), and both age 35+ at asOf; FD-09 age 65+. Age is from Patient.birthDate read
//   at its earliest possible day (1950 → 1950-01-01: generous, a worklist should include rather
//   than miss); a patient without a birthDate gets no FD-07/08/09 item.
// - What counts. FD-07: a finished Encounter typed FOLLOW_UP_SYSTEM|hypertension-follow-up with
//   class AMB or HH (face to face; VR and any other class do not count). FD-08: the same with
//   diabetes-follow-up; and a fasting-glucose Observation (LOINC 1558-6 or 14771-0). FD-09: a
//   finished Encounter typed health-check of any class except VR (no class counts too).
// - FD-07 urgent referral (only for patients in FD-07, as above): each ServiceRequest with priority
//   urgent/asap/stat, status active or completed, authoredOn within the last 365 days (after
//   asOf − 365 and not after asOf), not followed up: no finished Encounter typed referral-follow-up
//   or hypertension-follow-up (any class) dated on or after the authored date. It makes one item
//   due authoredOn + 14 days; basis ServiceRequest/<id>; doneLastYear 0, requiredPerYear 1.
// - doneLastYear: the counting events (distinct dates) after asOf − 365 days and not after asOf.
// - Status: overdue when the due date is before asOf's date; due when from asOf's date up to
//   asOf + windowDays (default 30, inclusive). Later items are not returned.
// - Order: by due date, then kind, then basis.
import type { Condition, Encounter, Observation, Patient, ServiceRequest } from '@medplum/fhirtypes';
import {
  ENCOUNTER_TYPES, FACE_TO_FACE_CLASSES, FASTING_GLUCOSE_LOINC, FOLLOW_UP_SYSTEM, HYPERTENSION_RANGES, LOINC_SYSTEM,
  TYPE2_DIABETES_RANGES, VIRTUAL_CLASS, countingConditionsIn, hasCoding,
} from './care-codes.js';
import { addDays, birthDateBound, birthdayAt, clinicDate, clinicDateOf } from './clinic-dates.js';

export interface PanelRecord {
  patient: Patient;
  conditions: Condition[];
  /** Only status 'finished' counts. */
  encounters: Encounter[];
  /** Only status final/amended/corrected counts. */
  observations: Observation[];
  /** Urgent referrals: priority 'urgent' | 'asap' | 'stat'. */
  referrals: ServiceRequest[];
  /** When the family-doctor contract began (the anchor for a first item): YYYY-MM-DD or instant. */
  contractStart: string;
}

export type DueKind = 'hypertension-follow-up' | 'diabetes-follow-up' | 'fasting-glucose' | 'health-check' | 'referral-follow-up';

export interface DueItem {
  rule: 'FD-07' | 'FD-08' | 'FD-09';
  kind: DueKind;
  /** YYYY-MM-DD, clinic time. */
  dueDate: string;
  /** overdue: dueDate < asOf's date; due: within windowDays (default 30) from asOf. */
  status: 'overdue' | 'due';
  /** What was done in the 365 days before asOf, and what a year requires (4, 4, 1; 1 for a referral). */
  doneLastYear: number;
  requiredPerYear: number;
  /** The last event that counted, if any ("Encounter/id" or "Observation/id"); the ServiceRequest for a referral item. */
  basis?: string;
}

export interface DueOptions {
  /** How far ahead (days after asOf) an item is already shown as due. Default 30. */
  windowDays?: number;
}

/** FD-07/08: at least four a year, so one every 91 days (a quarter). */
export const QUARTERLY_INTERVAL_DAYS = 91;
/** FD-09: once a year. */
export const YEARLY_INTERVAL_DAYS = 365;
/** FD-07: an urgent referral is followed up within two weeks. */
export const REFERRAL_FOLLOW_UP_DAYS = 14;
/** FD-07/08 apply from this age, FD-09 from the second. */
export const CHRONIC_CARE_MIN_AGE = 35;
export const HEALTH_CHECK_MIN_AGE = 65;
export const DEFAULT_WINDOW_DAYS = 30;

const URGENT = ['urgent', 'asap', 'stat'];
const REFERRAL_STATUSES = ['active', 'completed'];
const FINAL_OBSERVATION = ['final', 'amended', 'corrected'];

/** A counting event: its clinic date and the reference that names it. */
interface CareEvent { date: string; ref?: string }

/** The FD-07/08/09 items of one patient that are overdue or due within the window, as of `asOf`. */
export function dueItems(record: PanelRecord, asOf: Date, options: DueOptions = {}): DueItem[] {
  const today = clinicDateOf(asOf);
  const windowEnd = addDays(today, options.windowDays ?? DEFAULT_WINDOW_DAYS);
  const yearAgo = addDays(today, -YEARLY_INTERVAL_DAYS);
  const contract = clinicDate(record.contractStart);
  const birth = birthDateBound(record.patient.birthDate, 'earliest');
  const reached = (years: number) => (birth ? birthdayAt(birth, years) : undefined);
  const items: DueItem[] = [];

  const encounters = record.encounters.filter((e) => e.status === 'finished');
  const encounterEvents = (code: string, counts: (e: Encounter) => boolean): CareEvent[] =>
    encounters.filter((e) => e.type?.some((t) => hasCoding(t, FOLLOW_UP_SYSTEM, code)) && counts(e))
      .map((e) => ({ date: clinicDate(e.period?.start ?? e.period?.end) ?? '', ref: e.id ? `Encounter/${e.id}` : undefined }))
      .filter((e) => e.date !== '' && e.date <= today);
  const faceToFace = (e: Encounter) => (FACE_TO_FACE_CLASSES as readonly string[]).includes(e.class?.code ?? '');
  const notVirtual = (e: Encounter) => e.class?.code !== VIRTUAL_CLASS;

  /** The interval item of one kind, when it is due by the window's end. */
  const intervalItem = (rule: DueItem['rule'], kind: DueKind, events: CareEvent[], interval: number, required: number, anchors: (string | undefined)[]) => {
    const last = events.reduce<CareEvent | undefined>((a, e) => (!a || e.date > a.date ? e : a), undefined);
    const from = last?.date ?? latest(anchors);
    if (!from) return;
    const dueDate = addDays(from, interval);
    if (dueDate > windowEnd) return;
    const doneLastYear = new Set(events.filter((e) => e.date > yearAgo).map((e) => e.date)).size;
    items.push({ rule, kind, dueDate, status: dueDate < today ? 'overdue' : 'due', doneLastYear, requiredPerYear: required, ...(last?.ref ? { basis: last.ref } : {}) });
  };

  /** The first-recorded date of the counting conditions of a kind, or undefined when there is none. */
  const firstRecorded = (conditions: Condition[]): string | undefined => {
    if (!conditions.length) return undefined;
    const dates = conditions.map((c) => clinicDate(c.recordedDate ?? c.onsetDateTime) ?? contract ?? '');
    return dates.reduce((a, d) => (d < a ? d : a));
  };

  const reached35 = reached(CHRONIC_CARE_MIN_AGE);
  const chronicAge = reached35 !== undefined && reached35 <= today;

  // FD-07 hypertension: quarterly face-to-face follow-ups, and urgent referrals within two weeks.
  const hypertension = countingConditionsIn(record.conditions, HYPERTENSION_RANGES);
  if (chronicAge && hypertension.length) {
    const anchors = [contract, firstRecorded(hypertension), reached35];
    intervalItem('FD-07', 'hypertension-follow-up', encounterEvents(ENCOUNTER_TYPES.hypertensionFollowUp, faceToFace), QUARTERLY_INTERVAL_DAYS, 4, anchors);
    const followUps = [
      ...encounterEvents(ENCOUNTER_TYPES.referralFollowUp, () => true),
      ...encounterEvents(ENCOUNTER_TYPES.hypertensionFollowUp, () => true),
    ];
    for (const referral of record.referrals) {
      const authored = clinicDate(referral.authoredOn);
      if (!authored || authored > today || authored <= yearAgo) continue;
      if (!URGENT.includes(referral.priority ?? '') || !REFERRAL_STATUSES.includes(referral.status)) continue;
      if (followUps.some((e) => e.date >= authored)) continue;
      const dueDate = addDays(authored, REFERRAL_FOLLOW_UP_DAYS);
      if (dueDate > windowEnd) continue;
      items.push({
        rule: 'FD-07', kind: 'referral-follow-up', dueDate, status: dueDate < today ? 'overdue' : 'due', doneLastYear: 0, requiredPerYear: 1,
        ...(referral.id ? { basis: `ServiceRequest/${referral.id}` } : {}),
      });
    }
  }

  // FD-08 type 2 diabetes: quarterly face-to-face follow-ups and quarterly fasting glucose.
  const diabetes = countingConditionsIn(record.conditions, TYPE2_DIABETES_RANGES);
  if (chronicAge && diabetes.length) {
    const anchors = [contract, firstRecorded(diabetes), reached35];
    intervalItem('FD-08', 'diabetes-follow-up', encounterEvents(ENCOUNTER_TYPES.diabetesFollowUp, faceToFace), QUARTERLY_INTERVAL_DAYS, 4, anchors);
    intervalItem('FD-08', 'fasting-glucose', glucoseEvents(record.observations, today), QUARTERLY_INTERVAL_DAYS, 4, anchors);
  }

  // FD-09: a yearly health check from 65.
  const reached65 = reached(HEALTH_CHECK_MIN_AGE);
  if (reached65 !== undefined && reached65 <= today) {
    intervalItem('FD-09', 'health-check', encounterEvents(ENCOUNTER_TYPES.healthCheck, notVirtual), YEARLY_INTERVAL_DAYS, 1, [contract, reached65]);
  }

  return items.sort((a, b) => cmp(a.dueDate, b.dueDate) || cmp(a.kind, b.kind) || cmp(a.basis ?? '', b.basis ?? ''));
}

/** FD-08: final fasting-glucose results dated on or before `today`. */
function glucoseEvents(observations: Observation[], today: string): CareEvent[] {
  return observations
    .filter((o) => FINAL_OBSERVATION.includes(o.status) && FASTING_GLUCOSE_LOINC.some((code) => hasCoding(o.code, LOINC_SYSTEM, code)))
    .map((o) => ({ date: clinicDate(o.effectiveDateTime ?? o.effectiveInstant ?? o.effectivePeriod?.start ?? o.issued) ?? '', ref: o.id ? `Observation/${o.id}` : undefined }))
    .filter((e) => e.date !== '' && e.date <= today);
}

function latest(dates: (string | undefined)[]): string | undefined {
  return dates.reduce<string | undefined>((a, d) => (d && (!a || d > a) ? d : a), undefined);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
