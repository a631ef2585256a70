// Per-type matching of one search value against the values a parameter selected from a resource,
// written from the R4 search specification (https://hl7.org/fhir/R4/search.html).
//
// @medplum/core's matchesSearchRequest implements only part of this (and differs from R4 in places:
// its string match is "contains", its date `eq` is "overlaps", it has no number, quantity or
// composite matching), so the oracle carries its own matchers and uses medplum as a cross-check
// where medplum follows the spec (see oracle.ts).
import type { TypedValue } from '@medplum/core';
import type { CodeableConcept, Coding, ContactPoint, Identifier, Period, Quantity, Reference } from '@medplum/fhirtypes';
import type { ParamType } from './definitions.js';
import { parseReference } from './store.js';
import { compareDecimal, dateRange, decimalOf, normalizeString, precisionRange, splitUnescaped, unescapeValue, type Decimal, type InstantRange } from './values.js';

/** Thrown for searches the oracle does not evaluate: the corpus must not contain them. */
export class OracleUnsupported extends Error {}

/**
 * How token `:text` is evaluated. R4 (the spec this oracle follows) makes it a string search: the
 * whole display/text starts with the value. This hub documents R5-style word matching instead
 * (docs/SEARCH.md: `Observation?code:text=choles` finds "Total Cholesterol"), a deliberate
 * deviation from R4. Changing this to 'words' accepts that deviation: a project decision, to be
 * made here in the open — not by bending the oracle towards whatever the server returns.
 */
export const TOKEN_TEXT_RULE: 'r4-string' | 'words' = 'words'; // decided: the documented word rule (R5 style)

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';
const PREFIXES = new Set(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

/** `ge2015` → ['ge', '2015']; no prefix means `eq`. A prefix is two letters followed by the value. */
export function splitPrefix(value: string): [Prefix, string] {
  const head = value.slice(0, 2);
  if (PREFIXES.has(head) && value.length > 2) return [head as Prefix, value.slice(2)];
  return ['eq', value];
}

// ---------------------------------------------------------------------------------------------
// String

/** The strings a string parameter matches against: for HumanName and Address each part on its own (R4 §3.1.1.4.6). */
export function stringsOf(values: TypedValue[]): string[] {
  const out: string[] = [];
  const push = (s: unknown) => {
    if (typeof s === 'string' && s.length > 0) out.push(s);
  };
  for (const { type, value } of values) {
    if (typeof value === 'string') push(value);
    else if (type === 'HumanName') {
      push(value.text);
      push(value.family);
      for (const part of [...(value.given ?? []), ...(value.prefix ?? []), ...(value.suffix ?? [])]) push(part);
    } else if (type === 'Address') {
      push(value.text);
      for (const line of value.line ?? []) push(line);
      for (const part of [value.city, value.district, value.state, value.postalCode, value.country]) push(part);
    } else {
      throw new OracleUnsupported(`string search on a ${type}`);
    }
  }
  return out;
}

export function matchString(values: TypedValue[], search: string, modifier: string | undefined): boolean {
  const literal = unescapeValue(search);
  const strings = stringsOf(values);
  switch (modifier) {
    case undefined: {
      // Default: equals or starts with, after case and accent normalisation.
      const wanted = normalizeString(literal);
      return strings.some((s) => normalizeString(s).startsWith(wanted));
    }
    case 'exact':
      // Exact: the whole string, case and accents significant.
      return strings.some((s) => s === literal);
    case 'contains': {
      const wanted = normalizeString(literal);
      return strings.some((s) => normalizeString(s).includes(wanted));
    }
    default:
      throw new OracleUnsupported(`string modifier :${modifier}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Token

export interface Token {
  system?: string;
  code?: string;
}

/**
 * The (system, code) pairs of a token parameter, per the R4 token table: Coding and CodeableConcept
 * give their codings, Identifier its system and value, ContactPoint its value (no system), boolean
 * "true"/"false", and primitive strings (code, id, uri, string) themselves. A `code` element's
 * implicit system (from its binding) is not modelled: the corpus never searches `system|code` on a
 * plain code element.
 */
export function tokensOf(values: TypedValue[]): Token[] {
  const out: Token[] = [];
  const coding = (c: Coding) => out.push({ system: c.system, code: c.code });
  for (const { type, value } of values) {
    switch (type) {
      case 'Coding':
        coding(value as Coding);
        break;
      case 'CodeableConcept':
        for (const c of (value as CodeableConcept).coding ?? []) coding(c);
        break;
      case 'Identifier':
        out.push({ system: (value as Identifier).system, code: (value as Identifier).value });
        break;
      case 'ContactPoint':
        out.push({ code: (value as ContactPoint).value });
        break;
      case 'boolean':
        out.push({ code: String(value) });
        break;
      default:
        if (typeof value === 'string') out.push({ code: value });
        else throw new OracleUnsupported(`token search on a ${type}`);
    }
  }
  return out;
}

/**
 * `[code]`, `[system]|[code]`, `|[code]` (no system) and `[system]|` (any code of that system).
 * Codes compare exactly: R4 leaves case sensitivity to the code system, and the corpus writes every
 * code exactly as the data has it.
 */
export function tokenMatches(token: Token, search: string): boolean {
  const parts = splitUnescaped(search, '|').map(unescapeValue);
  if (parts.length === 1) return token.code === parts[0];
  if (parts.length !== 2) throw new OracleUnsupported(`token value '${search}'`);
  const [system, code] = parts;
  if (system === '' && code === '') throw new OracleUnsupported(`token value '${search}'`);
  if (system === '') return !token.system && token.code === code;
  if (code === '') return token.system === system;
  return token.system === system && token.code === code;
}

/** The texts `:text` searches: CodeableConcept.text and Coding.display, Identifier.type.text. */
export function textsOf(values: TypedValue[]): string[] {
  const out: string[] = [];
  for (const { type, value } of values) {
    if (type === 'CodeableConcept') {
      const cc = value as CodeableConcept;
      if (cc.text) out.push(cc.text);
      for (const c of cc.coding ?? []) if (c.display) out.push(c.display);
    } else if (type === 'Coding') {
      if ((value as Coding).display) out.push((value as Coding).display!);
    } else if (type === 'Identifier') {
      const text = (value as Identifier).type?.text;
      if (text) out.push(text);
    }
  }
  return out;
}

/** A value set the oracle can expand: explicit concept lists or whole code systems, minus exclusions. */
export interface ValueSetMembership {
  has(system: string, code: string): boolean;
}

/** Terminology the token modifiers need, looked up among the held resources. */
export interface Terminology {
  valueSet(url: string): ValueSetMembership;
  /** The code itself and every code below it (`below`) or above it (`above`) in the system's is-a hierarchy. */
  related(system: string, code: string, direction: 'above' | 'below'): Set<string>;
}

export function matchToken(values: TypedValue[], search: string, modifier: string | undefined, terminology: Terminology): boolean {
  switch (modifier) {
    case undefined:
      return tokensOf(values).some((t) => tokenMatches(t, search));
    case 'text': {
      const wanted = normalizeString(unescapeValue(search));
      const texts = textsOf(values).map(normalizeString);
      if (TOKEN_TEXT_RULE === 'r4-string') {
        // R4: "processed as a string search against the text associated with the code" — the
        // string rule: the whole text starts with the value, case and accent insensitive.
        return texts.some((t) => t.startsWith(wanted));
      }
      // 'words' (R5's text search; the rule docs/SEARCH.md gives for this hub): every word of the
      // value starts a word of one associated text, case and accent insensitive on both sides.
      const words = wanted.split(/\s+/).filter(Boolean);
      return texts.some((t) => {
        const own = t.split(/\s+/);
        return words.every((w) => own.some((x) => x.startsWith(w)));
      });
    }
    case 'of-type': {
      // `[type-system]|[type-code]|[identifier-value]`: an Identifier whose type has that coding and whose value is that.
      const parts = splitUnescaped(search, '|').map(unescapeValue);
      if (parts.length !== 3) throw new OracleUnsupported(`:of-type value '${search}'`);
      const [system, code, idValue] = parts;
      return values.some(
        ({ type, value }) => type === 'Identifier' && (value as Identifier).value === idValue && ((value as Identifier).type?.coding ?? []).some((c) => c.system === system && c.code === code),
      );
    }
    case 'in': {
      const vs = terminology.valueSet(unescapeValue(search));
      return tokensOf(values).some((t) => !!t.system && !!t.code && vs.has(t.system, t.code));
    }
    case 'above':
    case 'below': {
      // R4: `:below` — the resource's code is subsumed by the search code (is-a it, itself included);
      // `:above` — the resource's code subsumes the search code. Only `system|code` is meaningful.
      const parts = splitUnescaped(search, '|').map(unescapeValue);
      if (parts.length !== 2 || !parts[0] || !parts[1]) throw new OracleUnsupported(`:${modifier} value '${search}'`);
      const [system, code] = parts;
      const related = terminology.related(system, code, modifier);
      return tokensOf(values).some((t) => t.system === system && !!t.code && related.has(t.code));
    }
    default:
      throw new OracleUnsupported(`token modifier :${modifier}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Date

/** The instants a date-typed value covers: date, dateTime, instant; a Period (open ends unbounded). */
export function rangesOf(values: TypedValue[]): InstantRange[] {
  const out: InstantRange[] = [];
  for (const { type, value } of values) {
    if (typeof value === 'string') {
      const r = dateRange(value);
      if (r) out.push(r);
      else throw new OracleUnsupported(`date search on '${value}'`);
    } else if (type === 'Period') {
      const p = value as Period;
      const start = p.start ? dateRange(p.start) : undefined;
      const end = p.end ? dateRange(p.end) : undefined;
      out.push({ lo: start ? start.lo : -Infinity, hi: end ? end.hi : Infinity });
    } else {
      throw new OracleUnsupported(`date search on a ${type}`);
    }
  }
  return out;
}

/**
 * R4 prefix semantics on ranges (search range S, target range T):
 *   eq  S fully contains T          ne  S does not fully contain T
 *   gt  the range above S overlaps T (T ends after S)
 *   lt  the range below S overlaps T (T starts before S)
 *   ge  gt, or S fully contains T   le  lt, or S fully contains T
 *   sa  T does not overlap S and lies above it (T starts after S ends)
 *   eb  T does not overlap S and lies below it (T ends before S starts)
 *   ap  the server decides the width; the hub's documented rule is used (below)
 */
export function rangeMatches(prefix: Prefix, s: InstantRange, t: InstantRange): boolean {
  const contains = t.lo >= s.lo && t.hi <= s.hi;
  switch (prefix) {
    case 'eq':
      return contains;
    case 'ne':
      return !contains;
    case 'gt':
      return t.hi > s.hi;
    case 'lt':
      return t.lo < s.lo;
    case 'ge':
      return t.hi > s.hi || contains;
    case 'le':
      return t.lo < s.lo || contains;
    case 'sa':
      return t.lo > s.hi;
    case 'eb':
      return t.hi < s.lo;
    case 'ap': {
      // R4 leaves ap's width to the server; this is the hub's documented rule (docs/SEARCH.md):
      // "within 10 % of the distance from now, at least a day either side" — the search range
      // widened by that much, overlapping the target. `now` is read when the oracle evaluates, a
      // few seconds from when the server did: negligible against widths of months or years.
      const slack = Math.max(86_400_000, Math.abs(Date.now() - s.lo) * 0.1);
      return t.hi >= s.lo - slack && t.lo <= s.hi + slack;
    }
  }
}

export function matchDate(values: TypedValue[], search: string): boolean {
  const [prefix, text] = splitPrefix(unescapeValue(search));
  const s = dateRange(text);
  if (!s) throw new OracleUnsupported(`date value '${search}'`);
  return rangesOf(values).some((t) => rangeMatches(prefix, s, t));
}

// ---------------------------------------------------------------------------------------------
// Number and quantity

/**
 * R4 number rules: without a prefix (or with `eq`/`ne`) the search value stands for its implicit
 * precision range ("100" is [99.5, 100.5)); with gt, lt, ge, le, sa, eb "the implicit precision of
 * the number is ignored". The target value is taken as exact.
 */
export function numberMatches(prefix: Prefix, text: string, target: number): boolean {
  const range = precisionRange(text);
  if (!range) throw new OracleUnsupported(`number value '${text}'`);
  const x = decimalOf(target);
  const inRange = compareDecimal(x, range.lo) >= 0 && compareDecimal(x, range.hi) < 0;
  const c = compareDecimal(x, range.value);
  switch (prefix) {
    case 'eq':
      return inRange;
    case 'ne':
      return !inRange;
    case 'gt':
    case 'sa':
      return c > 0;
    case 'lt':
    case 'eb':
      return c < 0;
    case 'ge':
      return c >= 0;
    case 'le':
      return c <= 0;
    case 'ap': {
      // The hub's documented rule (R4 leaves the width to the server): within ±10 % of the value, bounds included.
      const tenth: Decimal = { digits: range.value.digits < 0n ? -range.value.digits : range.value.digits, scale: range.value.scale + 1 };
      const lo: Decimal = { digits: range.value.digits * 10n - tenth.digits, scale: range.value.scale + 1 };
      const hi: Decimal = { digits: range.value.digits * 10n + tenth.digits, scale: range.value.scale + 1 };
      return compareDecimal(x, lo) >= 0 && compareDecimal(x, hi) <= 0;
    }
  }
}

export function matchNumber(values: TypedValue[], search: string): boolean {
  const [prefix, text] = splitPrefix(unescapeValue(search));
  return values.some(({ type, value }) => {
    if (typeof value !== 'number') throw new OracleUnsupported(`number search on a ${type}`);
    return numberMatches(prefix, text, value);
  });
}

const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Duration', 'Distance', 'Count', 'SimpleQuantity', 'MoneyQuantity']);

/**
 * `[prefix][number]|[system]|[code]`. With a system, the code is matched against Quantity.code;
 * with an empty system (`5.4||mg`) against Quantity.code or Quantity.unit (R4 §3.1.1.4.10).
 * Values of other types (a composite's `value.as(Quantity)` also yields CodeableConcepts in
 * @medplum/core) are not quantities and never match.
 */
export function matchQuantity(values: TypedValue[], search: string): boolean {
  const parts = splitUnescaped(search, '|').map(unescapeValue);
  if (parts.length !== 1 && parts.length !== 3) throw new OracleUnsupported(`quantity value '${search}'`);
  const [number, system = '', code = ''] = parts;
  const [prefix, text] = splitPrefix(number);
  return values.some(({ type, value }) => {
    if (!QUANTITY_TYPES.has(type)) return false;
    const q = value as Quantity;
    if (typeof q.value !== 'number') return false;
    if (q.comparator) throw new OracleUnsupported('quantity with a comparator');
    if (!numberMatches(prefix, text, q.value)) return false;
    if (system && q.system !== system) return false;
    if (code && (system ? q.code !== code : q.code !== code && q.unit !== code)) return false;
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Reference

/** The reference strings a reference parameter holds (Reference.reference, or a canonical/uri itself). */
export function referencesOf(values: TypedValue[]): string[] {
  const out: string[] = [];
  for (const { value } of values) {
    if (typeof value === 'string') out.push(value);
    else if (typeof (value as Reference).reference === 'string') out.push((value as Reference).reference!);
  }
  return out;
}

/**
 * `Type/id`, a plain `id` (any type, or the type of a `:Type` modifier), or an absolute URL (the
 * server's own base reads as local; anything else compares as written). `:identifier` matches
 * Reference.identifier as a token, without resolving anything.
 */
export function matchReference(values: TypedValue[], search: string, modifier: string | undefined, base: string): boolean {
  const literal = unescapeValue(search);
  if (modifier === 'identifier') {
    return values.some(({ value }) => {
      const identifier = (value as Reference).identifier;
      return !!identifier && tokenMatches({ system: identifier.system, code: identifier.value }, search);
    });
  }
  const typeModifier = modifier;
  if (typeModifier !== undefined && !/^[A-Z][A-Za-z]+$/.test(typeModifier)) throw new OracleUnsupported(`reference modifier :${modifier}`);
  const refs = referencesOf(values).map((r) => parseReference(r, base));
  const wanted = parseReference(literal, base);
  if (wanted.key) return refs.some((r) => r.key === wanted.key && (!typeModifier || r.type === typeModifier));
  if (/^[a-z][a-z0-9+.-]*:/i.test(literal)) return refs.some((r) => r.url === literal);
  return refs.some((r) => r.id === literal && (!typeModifier || r.type === typeModifier));
}

// ---------------------------------------------------------------------------------------------
// URI

/**
 * Exact match by default. `:below`: the resource's uri starts with the value; `:above`: the value
 * starts with the resource's uri. (R4 describes both on URL paths; the corpus only uses values cut
 * at a `/`, where string prefixes and path prefixes agree.)
 */
export function matchUri(values: TypedValue[], search: string, modifier: string | undefined): boolean {
  const literal = unescapeValue(search);
  const uris = values.map((v) => v.value).filter((v): v is string => typeof v === 'string');
  switch (modifier) {
    case undefined:
      return uris.includes(literal);
    case 'below':
      return uris.some((u) => u.startsWith(literal));
    case 'above':
      return uris.some((u) => literal.startsWith(u));
    default:
      throw new OracleUnsupported(`uri modifier :${modifier}`);
  }
}

// ---------------------------------------------------------------------------------------------

/** One value of a parameter of a given type (the value may be an OR-part already). */
export function matchTyped(
  type: ParamType,
  values: TypedValue[],
  search: string,
  modifier: string | undefined,
  ctx: { base: string; terminology: Terminology },
): boolean {
  switch (type) {
    case 'string':
      return matchString(values, search, modifier);
    case 'token':
      return matchToken(values, search, modifier, ctx.terminology);
    case 'date':
      if (modifier) throw new OracleUnsupported(`date modifier :${modifier}`);
      return matchDate(values, search);
    case 'number':
      if (modifier) throw new OracleUnsupported(`number modifier :${modifier}`);
      return matchNumber(values, search);
    case 'quantity':
      if (modifier) throw new OracleUnsupported(`quantity modifier :${modifier}`);
      return matchQuantity(values, search);
    case 'reference':
      return matchReference(values, search, modifier, ctx.base);
    case 'uri':
      return matchUri(values, search, modifier);
    default:
      throw new OracleUnsupported(`parameter type ${type}`);
  }
}
