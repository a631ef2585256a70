// How hospice care (HO-02) is written in FHIR: one place for the codes, so the operations, the
// worklist and the tests agree.
export const HOSPICE_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/hospice';
/** EpisodeOfCare.type, CareTeam.category and CarePlan.category of hospice care. */
export const HOSPICE = { system: HOSPICE_SYSTEM, code: 'hospice', display: '安宁疗护' } as const;

/** The disciplines of a hospice team (CareTeam.participant.role). HO-02 asks for a multidisciplinary team. */
export const DISCIPLINES = ['physician', 'nurse', 'social-worker', 'psychologist', 'spiritual-care', 'pharmacist', 'dietitian', 'volunteer'] as const;
export type Discipline = (typeof DISCIPLINES)[number];
/** Psychological, spiritual or social support: at least one of these beside a physician and a nurse. */
export const PSYCHOSOCIAL: readonly Discipline[] = ['social-worker', 'psychologist', 'spiritual-care'];

/** CarePlan activities (HO-02), each coded in HOSPICE_SYSTEM. */
export const ACTIVITIES = ['symptom-assessment', 'comfort-care', 'psychological-support', 'spiritual-support', 'social-support', 'family-support', 'bereavement-follow-up'] as const;

/**
 * Symptom assessment items, each scored 0 (none) to 10 (worst): pain by LOINC's 0–10 numeric
 * rating, the others as the revised Edmonton Symptom Assessment System (ESAS-r) lists them.
 */
export const PAIN = { system: 'http://loinc.org', code: '72514-3', display: 'Pain severity - 0-10 verbal numeric rating [Score] - Reported' } as const;
export const ESAS_ITEMS = ['tiredness', 'drowsiness', 'nausea', 'appetite', 'shortness-of-breath', 'depression', 'anxiety', 'wellbeing'] as const;
export const ASSESSMENT_PANEL = { system: HOSPICE_SYSTEM, code: 'symptom-assessment', display: '症状评估' } as const;
/** A score at or above this asks the physician to review the symptoms (a Task). */
export const SEVERE_SCORE = 7;

/** Task.code of the hospice's tasks. */
export const TASKS = { symptomReview: 'symptom-review', familySupport: 'family-support', bereavement: 'bereavement-follow-up' } as const;
/** Bereavement follow-up of the family after the death: days after it. */
export const BEREAVEMENT_DAYS = [7, 30, 90] as const;

/** Advance directive decisions (Consent.provision.code), in HOSPICE_SYSTEM. */
export const DIRECTIVES = ['no-cpr', 'no-intubation', 'no-icu-transfer', 'no-artificial-nutrition', 'comfort-care-only', 'die-at-home'] as const;
export const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
/** LOINC 75320-2 Advance directive. */
export const ADVANCE_DIRECTIVE = { system: 'http://loinc.org', code: '75320-2', display: 'Advance directive' } as const;

export const coded = (code: string, display?: string) => ({ coding: [{ system: HOSPICE_SYSTEM, code, ...(display ? { display } : {}) }] });
export const isHospice = (concepts: { coding?: { system?: string; code?: string }[] }[] | undefined) =>
  !!concepts?.some((c) => c.coding?.some((x) => x.system === HOSPICE.system && x.code === HOSPICE.code));
