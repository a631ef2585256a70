// FHIR dates are ranges: `2020` means the whole year, `2020-03-01T10:00` the whole minute.
// Both indexing and search turn a date into [lo, hi] (inclusive, millisecond precision, UTC).

export interface DateRange {
  lo: string;
  hi: string;
}

const DATE_PATTERN = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export const MIN_INSTANT = '-infinity';
export const MAX_INSTANT = 'infinity';

/** The range a FHIR date, dateTime or instant covers; undefined when the text is not a valid date. */
export function dateRange(text: string): DateRange | undefined {
  const m = DATE_PATTERN.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) : 1;
  const day = d ? Number(d) : 1;
  const hour = h ? Number(h) : 0;
  const minute = mi ? Number(mi) : 0;
  const second = s ? Number(s) : 0;
  const millis = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;

  const offsetMinutes = tz && tz !== 'Z' ? (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) : 0;
  const start = utc(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  let end: number;
  if (!mo) end = utc(year + 1, 0, 1) - offsetMinutes * 60_000;
  else if (!d) end = utc(year, month, 1) - offsetMinutes * 60_000;
  else if (!h) end = start + 86_400_000;
  else if (!s) end = start + 60_000;
  else if (!frac) end = start + 1000;
  else end = start + 1;
  return { lo: instantText(start), hi: instantText(end - 1) };
}

function daysInMonth(year: number, month: number): number {
  return new Date(utc(year, month, 0)).getUTCDate();
}

/** Date.UTC without its rule that years 0–99 mean 1900–1999: year 0050 stays 50 AD. */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millis = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime();
}


/** Milliseconds of an instant from instantText; ±Infinity for the open ends. */
export function instantMillis(text: string): number {
  if (text === MIN_INSTANT) return -Infinity;
  if (text === MAX_INSTANT) return Infinity;
  return Date.parse(text);
}

/**
 * An instant as the index stores it: ISO 8601, or -infinity/infinity outside years 1–9999 (what
 * a four-digit year and PostgreSQL's timestamptz both hold).
 */
export function instantText(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999) {
    return ms < 0 ? MIN_INSTANT : MAX_INSTANT;
  }
  return date.toISOString();
}
