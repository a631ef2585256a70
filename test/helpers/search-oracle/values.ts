// Value-level primitives of the search oracle, written from the R4 search specification
// (https://hl7.org/fhir/R4/search.html): escaping, date ranges, decimal precision, string
// normalisation. Nothing here is taken from the server code: the oracle must stay independent.

/** Splits on an unescaped separator (`,` between OR values, `|` in tokens, `$` in composites). Escapes are kept for later splits. */
export function splitUnescaped(value: string, separator: ',' | '|' | '$'): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      current += c + value[i + 1];
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

/** Removes the search escapes `\,` `\|` `\$` `\\` once a value has been split into its parts. */
export function unescapeValue(value: string): string {
  return value.replace(/\\([,|$\\])/g, '$1');
}

/** Escapes a literal so the server reads it back unchanged. */
export function escapeValue(value: string): string {
  return value.replace(/[\\,|$]/g, (c) => '\\' + c);
}

// ---------------------------------------------------------------------------------------------
// Dates. R4: "the date/time value has an implicit range based on its precision"; `2015` covers the
// whole year. A value without a time zone is read as UTC: the spec leaves it to the server's local
// time zone and this hub documents UTC (and runs the tests in UTC).

/** An inclusive range of instants in milliseconds since the epoch; open ends are ±Infinity. */
export interface InstantRange {
  lo: number;
  hi: number;
}

const DATE_PATTERN = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

/** The instants a FHIR date, dateTime or instant (or a search value of that shape) covers. */
export function dateRange(text: string): InstantRange | undefined {
  const m = DATE_PATTERN.exec(text.trim());
  if (!m) return undefined;
  const [, ys, mos, ds, hs, mis, ss, frac, tz] = m;
  const year = Number(ys);
  const month = mos ? Number(mos) : 1;
  const day = ds ? Number(ds) : 1;
  const hour = hs ? Number(hs) : 0;
  const minute = mis ? Number(mis) : 0;
  const second = ss ? Number(ss) : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  // Fractions: three digits are a millisecond; fewer digits are coarser (".2" is a tenth of a second).
  const digits = frac ? Math.min(frac.length, 3) : 0;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const offset = tz && tz !== 'Z' ? (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000 : 0;

  const start = utc(year, month, day, hour, minute, second, ms);
  let end: number;
  if (!mos) end = utc(year + 1, 1, 1);
  else if (!ds) end = month === 12 ? utc(year + 1, 1, 1) : utc(year, month + 1, 1);
  else if (!hs) end = start + 86_400_000;
  else if (!ss) end = start + 60_000;
  else if (!frac) end = start + 1000;
  else end = start + 10 ** (3 - digits);
  return { lo: start - offset, hi: end - offset - 1 };
}

// ---------------------------------------------------------------------------------------------
// Decimals, compared exactly (no floating point): a number is digits × 10^-scale as a BigInt.

export interface Decimal {
  digits: bigint;
  scale: number;
}

const DECIMAL_PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export function parseDecimal(text: string): Decimal | undefined {
  const m = DECIMAL_PATTERN.exec(text.trim());
  if (!m || (!m[2] && !m[3])) return undefined;
  const [, sign, int, fraction = '', exp] = m;
  let scale = fraction.length - (exp ? Number(exp) : 0);
  let digits = BigInt((int || '0') + fraction);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits: sign === '-' ? -digits : digits, scale };
}

/** A JSON number as the decimal it was written as (JavaScript prints the shortest round-trip form). */
export function decimalOf(value: number): Decimal {
  return parseDecimal(String(value))!;
}

function align(a: Decimal, b: Decimal): [bigint, bigint] {
  const scale = Math.max(a.scale, b.scale);
  return [a.digits * 10n ** BigInt(scale - a.scale), b.digits * 10n ** BigInt(scale - b.scale)];
}

export function compareDecimal(a: Decimal, b: Decimal): number {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The implicit range of a search number: "100" means [99.5, 100.5), "0.25" means [0.245, 0.255).
 * (R4 speaks of significant figures; for plain decimals, as the corpus writes them, both readings
 * give the same half-unit of the last written digit. Exponent forms are never generated.)
 */
export function precisionRange(text: string): { value: Decimal; lo: Decimal; hi: Decimal } | undefined {
  const value = parseDecimal(text);
  if (!value) return undefined;
  // Half a unit of the last digit = 5 × 10^-(scale+1).
  const scaled: Decimal = { digits: value.digits * 10n, scale: value.scale + 1 };
  return { value, lo: { digits: scaled.digits - 5n, scale: scaled.scale }, hi: { digits: scaled.digits + 5n, scale: scaled.scale } };
}

// ---------------------------------------------------------------------------------------------
// Strings. R4: "a field matches a string query if the value of the field equals or starts with the
// supplied parameter value, after both have been normalized by case and accent". Normalising here
// means: Unicode NFD, combining marks removed, lower-cased. (Whitespace is left alone: the spec says
// nothing about it, and the corpus only uses text as it stands in the data.)

export function normalizeString(value: string): string {
  return value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}
