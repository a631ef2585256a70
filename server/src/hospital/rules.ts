// The internet hospital's rule parameters (DOMAIN.md: "every number is a configurable rule
// parameter with this value as its default"). Defaults here; a deployment changes them with a
// JSON file named by SUHE_RULES_FILE (only the keys it gives), tests with config overrides.
// A bad value stops the hub at start with a message that says which key and why.
import { readFileSync } from 'node:fs';

export interface HospitalRules {
  /** IH-01/02: how far back a confirmed diagnosis from a physical institution counts, in days. */
  followUpLookbackDays: number;
  /** IH-01: departments (Organization ids or HealthcareService codes) piloting online first visits. */
  firstVisitDepartments: string[];
  /** IH-09: years of independent practice a doctor needs before consulting online. */
  minPracticeYears: number;
  /** IH-07: children younger than this need a recorded guardian and confirmation. */
  guardianUnderAge: number;
  /** IH-07: special-control drug classes, as `system|code` of the medication's coding (ATC classes by default). */
  specialControlDrugs: string[];
  /** Slots: the longest span one $generate-slots call may cover, in days. */
  maxScheduleDays: number;
  /** The clinics' UTC offset: working hours are local times (China has one time zone). */
  clinicTimeZone: string;
  /** TM-06: hours the invited institution has to accept or decline a teleconsultation before it shows as overdue (fractions allowed). */
  consultResponseHours: number;
  /** MI-03: the hub's own province (first two digits of the GB/T 2260 administrative division code). */
  insuranceHomeProvince: string;
  /** MI-03: provinces whose insured residents settle online visits directly (Yangtze River Delta: 31 Shanghai, 32 Jiangsu, 33 Zhejiang, 34 Anhui). */
  directSettlementProvinces: string[];
  /** MI-01: the fee of one online consultation, in CNY (the Claim's item). */
  onlineConsultationFee: number;
  /** MI-01: share of an approved chronic-disease follow-up the simulated settlement adapter pays (0..1). */
  insuranceReimbursementRatio: number;
  /** MI-01: ICD-10 codes (a code or a category prefix) that make a follow-up a chronic-disease one for settlement. */
  chronicDiseaseCodes: string[];
}

/** ATC classes of narcotic and psychotropic drugs (opioids, hypnotics/sedatives, anxiolytics, psychostimulants, anaesthetics). */
const SPECIAL_CONTROL_ATC = ['N02A', 'N05C', 'N05B', 'N06B', 'N01A', 'N07BC'].map((code) => `http://www.whocc.no/atc|${code}`);

export const DEFAULT_RULES: HospitalRules = {
  followUpLookbackDays: 365,
  firstVisitDepartments: [],
  minPracticeYears: 3,
  guardianUnderAge: 6,
  specialControlDrugs: SPECIAL_CONTROL_ATC,
  maxScheduleDays: 92,
  clinicTimeZone: '+08:00',
  consultResponseHours: 24,
  insuranceHomeProvince: '31',
  directSettlementProvinces: ['31', '32', '33', '34'],
  onlineConsultationFee: 30,
  insuranceReimbursementRatio: 0.7,
  // Hypertension, diabetes, ischaemic heart disease, heart failure, stroke sequelae, COPD, asthma, chronic kidney disease, schizophrenia, bipolar disorder.
  chronicDiseaseCodes: ['I10', 'I11', 'I12', 'I13', 'I15', 'E10', 'E11', 'E12', 'E13', 'E14', 'I20', 'I25', 'I50', 'I69', 'J44', 'J45', 'N18', 'F20', 'F31'],
};

/** The rules: defaults, then the file's keys, then the overrides; checked. */
export function loadRules(file: string | undefined, overrides: Partial<HospitalRules> = {}): HospitalRules {
  let fromFile: Partial<HospitalRules> = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Partial<HospitalRules>;
    } catch (err) {
      throw new Error(`SUHE_RULES_FILE ${file}: ${(err as Error).message}`);
    }
  }
  const rules = { ...DEFAULT_RULES, ...fromFile, ...overrides };
  const unknown = Object.keys(fromFile).filter((k) => !(k in DEFAULT_RULES));
  if (unknown.length) throw new Error(`SUHE_RULES_FILE ${file}: unknown rule(s) ${unknown.join(', ')}; known: ${Object.keys(DEFAULT_RULES).join(', ')}`);
  for (const key of ['followUpLookbackDays', 'minPracticeYears', 'guardianUnderAge', 'maxScheduleDays', 'consultResponseHours'] as const) {
    if (!Number.isFinite(rules[key]) || rules[key] < 0) throw new Error(`rule ${key} must be a number ≥ 0, not ${JSON.stringify(rules[key])}`);
  }
  if (!/^[+-](0\d|1[0-4]):[0-5]\d$/.test(rules.clinicTimeZone)) throw new Error(`rule clinicTimeZone must be a UTC offset such as +08:00, not ${JSON.stringify(rules.clinicTimeZone)}`);
  if (!Number.isFinite(rules.onlineConsultationFee) || rules.onlineConsultationFee < 0) throw new Error(`rule onlineConsultationFee must be a number ≥ 0, not ${JSON.stringify(rules.onlineConsultationFee)}`);
  if (!Number.isFinite(rules.insuranceReimbursementRatio) || rules.insuranceReimbursementRatio < 0 || rules.insuranceReimbursementRatio > 1) throw new Error(`rule insuranceReimbursementRatio must be a number from 0 to 1, not ${JSON.stringify(rules.insuranceReimbursementRatio)}`);
  if (typeof rules.insuranceHomeProvince !== 'string' || !/^\d{2}$/.test(rules.insuranceHomeProvince)) throw new Error(`rule insuranceHomeProvince must be two digits (a province code such as 31), not ${JSON.stringify(rules.insuranceHomeProvince)}`);
  if (!Array.isArray(rules.directSettlementProvinces) || !rules.directSettlementProvinces.every((v) => typeof v === 'string' && /^\d{2}$/.test(v))) throw new Error('rule directSettlementProvinces must be a list of two-digit province codes');
  for (const key of ['firstVisitDepartments', 'specialControlDrugs', 'chronicDiseaseCodes'] as const) {
    if (!Array.isArray(rules[key]) || !rules[key].every((v) => typeof v === 'string')) throw new Error(`rule ${key} must be a list of strings`);
  }
  return rules;
}
