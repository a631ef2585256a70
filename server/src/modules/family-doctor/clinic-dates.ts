// Calendar dates in clinic time for the family-doctor rules (FD-07/08/09). The rules count days
// ("due 91 days after the last follow-up"), and a day is a day on the clinic's wall calendar, not
// in UTC: a visit at 01:00 Shanghai time is recorded as the previous day in UTC. So every FHIR
// date, dateTime or instant is turned into a clinic date (YYYY-MM-DD at +08:00) before comparing.

/** The clinics' UTC offset in minutes (+08:00; China has one time zone). */
export const CLINIC_OFFSET_MINUTES = 8 * 60;

const DAY_MS = 86_400_000;
const DATE_ONLY = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;
const WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;
const WITHOUT_ZONE = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}/;

/**
 * The clinic calendar date of a FHIR date, dateTime or instant, or undefined when it is not one.
 * - a full date (YYYY-MM-DD) is already a calendar date and is kept as it is;
 * - a partial date (YYYY or YYYY-MM) is read as its first day;
 * - a dateTime with a zone (Z or ±hh:mm) is moved to +08:00 and its date taken
 *   (2026-03-31T17:00:00Z is 2026-04-01 in the clinic);
 * - a dateTime without a zone (not valid FHIR, but seen) is taken as clinic local time.
 */
export function clinicDate(value: string | undefined, offsetMinutes = CLINIC_OFFSET_MINUTES): string | undefined {
  if (!value) return undefined;
  const d = DATE_ONLY.exec(value);
  if (d) return validDate(`${d[1]}-${d[2] ?? '01'}-${d[3] ?? '01'}`);
  if (WITH_ZONE.test(value)) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) return undefined;
    return new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 10);
  }
  const local = WITHOUT_ZONE.exec(value);
  return local ? validDate(local[1]) : undefined;
}

/** The clinic calendar date of an instant (the "today" of a rule evaluated at `at`). */
export function clinicDateOf(at: Date, offsetMinutes = CLINIC_OFFSET_MINUTES): string {
  return new Date(at.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 10);
}

/** `date` plus `days` calendar days (negative to go back). */
export function addDays(date: string, days: number): string {
  return new Date(dateMs(date) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole calendar days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: string, to: string): number {
  return Math.round((dateMs(to) - dateMs(from)) / DAY_MS);
}

/**
 * The day someone born on `birth` (YYYY-MM-DD) turns `years` old. Born on 29 February, the
 * birthday of a common year is 1 March (the day the age changes in `youngestAge` too).
 */
export function birthdayAt(birth: string, years: number): string {
  const [y, m, d] = birth.split('-').map(Number);
  return new Date(Date.UTC(y + years, m - 1, d)).toISOString().slice(0, 10);
}

/**
 * The earliest or latest day a FHIR birthDate (YYYY, YYYY-MM or YYYY-MM-DD) can stand for;
 * undefined when it is not a date.
 */
export function birthDateBound(birthDate: string | undefined, bound: 'earliest' | 'latest'): string | undefined {
  const m = birthDate ? DATE_ONLY.exec(birthDate) : null;
  if (!m) return undefined;
  const year = Number(m[1]);
  if (m[3]) return validDate(birthDate);
  if (bound === 'earliest') return validDate(`${m[1]}-${m[2] ?? '01'}-01`);
  const month = m[2] ? Number(m[2]) : 12;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return validDate(`${m[1]}-${String(month).padStart(2, '0')}-${String(last).padStart(2, '0')}`);
}

function dateMs(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y, m - 1, d);
}

/** The date itself when it exists on the calendar (no 2026-02-30), else undefined. */
function validDate(date: string | undefined): string | undefined {
  if (!date) return undefined;
  const [y, m, d] = date.split('-').map(Number);
  if (m < 1 || m > 12 || d < 1) return undefined;
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCMonth() === m - 1 && t.getUTCDate() === d ? date : undefined;
}
