// Chinese resident identity card number (居民身份证号码, GB 11643-1999): parsing, validation,
// generation and cross-checks against Patient demographics.
//
// ID-01: 18 chars = 6-digit address code + 8-digit birth date (YYYYMMDD) + 3-digit sequence
//        (odd = male, even = female) + 1 check char (ISO 7064 MOD 11-2). Legacy 15-digit numbers
//        (YYMMDD birth date, no check char; all issued to people born in the 1900s) are up-converted.
// ID-02: two identifier systems carry the number; both are accepted and treated as one identifier.
import type { Patient } from '@medplum/fhirtypes';

/** ISO 7064 MOD 11-2 weights for positions 1..17 (2^(18-i) mod 11). */
export const RESIDENT_ID_WEIGHTS: readonly number[] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** Check character for (weighted sum mod 11) = 0..10. */
const CHECK_CHARS = '10X98765432';

/** ID-02: systems of the resident ID number: WS/T 500 (CDA) OID and the HL7 China FHIR IG OID. */
export const RESIDENT_ID_SYSTEMS = ['urn:oid:2.16.156.10011.1.3', 'urn:oid:2.16.840.1.113883.2.23.1.19.1'] as const;
/** ID-02: social-security card number (not a resident ID number). */
export const SOCIAL_SECURITY_CARD_SYSTEM = 'urn:oid:2.16.840.1.113883.2.23.1.19.2';

export type ResidentIdSystem = (typeof RESIDENT_ID_SYSTEMS)[number];

export type ResidentIdSex = 'male' | 'female';

export type ParsedResidentId =
  | { ok: true; normalized: string; birthDate: string; sex: ResidentIdSex; areaCode: string }
  | { ok: false; reason: string };

/** True when `system` is one of the two identifier systems of the resident ID number (ID-02). */
export function isResidentIdSystem(system: string | undefined | null): system is ResidentIdSystem {
  return typeof system === 'string' && (RESIDENT_ID_SYSTEMS as readonly string[]).includes(system);
}

/**
 * ISO 7064 MOD 11-2 check character of the first 17 digits of an 18-char resident ID number.
 * @throws Error when `first17` is not exactly 17 ASCII digits.
 */
export function residentIdCheckChar(first17: string): string {
  if (!/^[0-9]{17}$/.test(first17)) {
    throw new Error(`residentIdCheckChar: expected 17 digits, got ${JSON.stringify(first17)}`);
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    sum += (first17.charCodeAt(i) - 48) * RESIDENT_ID_WEIGHTS[i];
  }
  return CHECK_CHARS[sum % 11];
}

/** True when y-m-d is a real Gregorian calendar date. */
function isCalendarDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= daysInMonth;
}

/** 'YYYYMMDD' → 'YYYY-MM-DD', or undefined when it is not a real calendar date. */
function compactToIsoDate(yyyymmdd: string): string | undefined {
  const year = Number(yyyymmdd.slice(0, 4));
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  if (!isCalendarDate(year, month, day)) return undefined;
  return `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;
}

/**
 * Parses and validates a resident ID number (ID-01). Trims whitespace, upper-cases a trailing `x`,
 * checks length, digits, the birth date (must be a real calendar date) and the check character.
 * A legacy 15-digit number is up-converted to 18 chars ('19' inserted before the 2-digit birth
 * year, check char computed); `normalized` is always the 18-char form.
 */
export function parseResidentId(value: string): ParsedResidentId {
  if (typeof value !== 'string') return { ok: false, reason: 'ID number must be a string' };
  const raw = value.trim().toUpperCase();
  if (raw.length === 0) return { ok: false, reason: 'ID number is empty' };

  let first17: string;
  let given: string | undefined; // the check char as written (18-char form only)
  if (raw.length === 18) {
    if (!/^[0-9]{17}[0-9X]$/.test(raw)) {
      return { ok: false, reason: 'ID number must be 17 digits followed by a digit or X' };
    }
    first17 = raw.slice(0, 17);
    given = raw[17];
  } else if (raw.length === 15) {
    if (!/^[0-9]{15}$/.test(raw)) {
      return { ok: false, reason: 'legacy 15-char ID number must be all digits' };
    }
    first17 = raw.slice(0, 6) + '19' + raw.slice(6);
  } else {
    return { ok: false, reason: `ID number must have 18 characters (or 15 for a legacy number), got ${raw.length}` };
  }

  const birthDate = compactToIsoDate(first17.slice(6, 14));
  if (!birthDate) {
    return { ok: false, reason: `birth date ${first17.slice(6, 14)} in the ID number is not a valid date` };
  }

  const check = residentIdCheckChar(first17);
  if (given !== undefined && given !== check) {
    return { ok: false, reason: `check character is ${given}, expected ${check}` };
  }

  const sequenceDigit = first17.charCodeAt(16) - 48;
  return {
    ok: true,
    normalized: first17 + check,
    birthDate,
    sex: sequenceDigit % 2 === 1 ? 'male' : 'female',
    areaCode: first17.slice(0, 6),
  };
}

/**
 * Builds a valid 18-char resident ID number from its parts. The sex encoded is the parity of
 * `sequence`: odd = male, even = female (ID-01).
 * @param areaCode - 6-digit administrative division code, e.g. '310104'.
 * @param birthDate - 'YYYY-MM-DD', a real calendar date.
 * @param sequence - integer 0..999 (sequence code within the area and birth date).
 */
export function makeResidentId(areaCode: string, birthDate: string, sequence: number): string {
  if (!/^[0-9]{6}$/.test(areaCode)) {
    throw new Error(`makeResidentId: area code must be 6 digits, got ${JSON.stringify(areaCode)}`);
  }
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(birthDate);
  if (!m || !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    throw new Error(`makeResidentId: birth date must be a valid YYYY-MM-DD date, got ${JSON.stringify(birthDate)}`);
  }
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 999) {
    throw new Error(`makeResidentId: sequence must be an integer 0..999, got ${sequence}`);
  }
  const first17 = areaCode + m[1] + m[2] + m[3] + String(sequence).padStart(3, '0');
  return first17 + residentIdCheckChar(first17);
}

/**
 * Cross-checks every identifier of `patient` whose system is a resident-ID system (ID-02) against
 * the number's own rules and the resource's demographics (ID-01). Returns human-readable problems;
 * an empty array means no problem found.
 *
 * - the number must parse (length, digits, real birth date, check char);
 * - `Patient.birthDate` (which may be partial: YYYY or YYYY-MM) must agree with the encoded date;
 * - `Patient.gender` 'male'/'female' must agree with the sequence parity ('other' and 'unknown'
 *   are not compared: they do not assert a sex the number could contradict);
 * - all resident-ID identifiers must denote the same person (ID-02: one identifier, two systems).
 */
export function checkResidentIdAgainstPatient(patient: Patient): string[] {
  const problems: string[] = [];
  const normalizedSeen: string[] = [];
  (patient.identifier ?? []).forEach((identifier, index) => {
    if (!isResidentIdSystem(identifier.system)) return;
    const where = `identifier[${index}] (${identifier.system})`;
    if (!identifier.value) {
      problems.push(`${where}: resident ID identifier has no value`);
      return;
    }
    const parsed = parseResidentId(identifier.value);
    if (!parsed.ok) {
      problems.push(`${where}: invalid resident ID number: ${parsed.reason}`);
      return;
    }
    normalizedSeen.push(parsed.normalized);
    if (patient.birthDate && !parsed.birthDate.startsWith(patient.birthDate)) {
      problems.push(
        `${where}: birth date in the ID number (${parsed.birthDate}) disagrees with Patient.birthDate (${patient.birthDate})`,
      );
    }
    if ((patient.gender === 'male' || patient.gender === 'female') && patient.gender !== parsed.sex) {
      problems.push(`${where}: sex in the ID number (${parsed.sex}) disagrees with Patient.gender (${patient.gender})`);
    }
  });
  const distinct = [...new Set(normalizedSeen)];
  if (distinct.length > 1) {
    problems.push(`patient has ${distinct.length} different resident ID numbers: ${distinct.join(', ')}`);
  }
  return problems;
}
