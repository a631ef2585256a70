// SQL conditions for one search value against one index row. Columns are reached through a
// Columns function, so the same code matches a row of a plain index table (`i.code`) and one
// component of a composite row (`i.parts->1->>1`).
import { Invalid } from '../errors.js';
import { dateRange, instantMillis, instantText } from '../index/date-range.js';
import { escapeLike, normalizeString, prefixEnd } from '../index/normalize.js';
import type { CodeSet, Prefix } from './model.js';
import { PREFIXES } from './model.js';
import { splitPipe, unescapeValue } from './parse.js';

/** Accumulates positional parameters ($1, $2, ...). */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The SQL expression of a named index column (typed: dates are timestamptz, values numeric). */
export type Columns = (name: string) => string;

export const PLAIN_COLUMNS: Columns = (name) => `i.${name}`;

/** Column positions inside one component of a composite row: the plain tables' order, minus `param`. */
const POSITIONS: Record<string, Record<string, [number, string]>> = {
  string: { value: [0, 'text'], norm: [1, 'text'] },
  token: { system: [0, 'text'], code: [1, 'text'], display: [2, 'text'] },
  date: { lo: [0, 'timestamptz'], hi: [1, 'timestamptz'] },
  number: { value: [0, 'numeric'] },
  quantity: { system: [0, 'text'], code: [1, 'text'], unit: [2, 'text'], value: [3, 'numeric'] },
  reference: { target_type: [0, 'text'], target_id: [1, 'text'], reference: [2, 'text'] },
  uri: { value: [0, 'text'] },
};

/** Columns of component `k` of a composite row; the first token component's code is the indexed `c0`. */
export function compositeColumns(k: number, type: string): Columns {
  return (name) => {
    if (k === 0 && type === 'token' && name === 'code') return 'i.c0';
    const [position, cast] = POSITIONS[type][name];
    return `(i.parts->${k}->>${position})::${cast}`;
  };
}

export interface ValueContext {
  code: string;
  type: string;
  modifier?: string;
  codes?: CodeSet;
}

/** The condition one value puts on one index row of parameter type `type`. */
export function valueCondition(v: ValueContext, value: string, params: SqlParams, col: Columns): string {
  switch (v.type) {
    case 'string': {
      const text = unescapeValue(value);
      if (v.modifier === 'exact') return `${col('value')} = ${params.add(text)}`;
      if (v.modifier === 'contains') return `${col('norm')} like ${params.add('%' + escapeLike(normalizeString(text)) + '%')}`;
      if (v.modifier === 'text') return wordsCondition(col('norm'), text, params);
      return startsWith(col('norm'), normalizeString(text), params);
    }
    case 'token':
      // Displays are stored normalised; lower() keeps rows indexed before that matching ($reindex renews them).
      if (v.modifier === 'text') return wordsCondition(`lower(${col('display')})`, unescapeValue(value), params);
      if (v.codes) return codeSetCondition(v.codes, params, col);
      return tokenCondition(value, params, col);
    case 'date':
      return dateCondition(value, col('lo'), col('hi'), params, v.code);
    case 'number':
      return numberCondition(value, col('value'), params, v.code);
    case 'quantity':
      return quantityCondition(value, params, v.code, col);
    case 'reference':
      return referenceCondition(unescapeValue(value), v.modifier, params, col);
    case 'uri': {
      const uri = unescapeValue(value);
      if (v.modifier === 'below') return `${col('value')} like ${params.add(escapeLike(uri) + '%')}`;
      if (v.modifier === 'above') return `${col('value')} = any(${params.add(uriAncestors(uri))}::text[])`;
      return `${col('value')} = ${params.add(uri)}`;
    }
    default:
      throw new Invalid(`Search parameter '${v.code}' of type ${v.type} is not supported`, [v.code]);
  }
}

/**
 * `column` starts with `prefix`, as a range of text_pattern_ops order rather than `like 'x%'`: a
 * LIKE pattern that is a parameter cannot use the index until the planner sees its value, so a
 * prepared search (db/statement-names.ts) would be planned anew for every name searched; a range
 * of two parameters can use the index in one plan for all. Exact: see prefixEnd.
 */
function startsWith(column: string, prefix: string, params: SqlParams): string {
  const end = prefixEnd(prefix);
  if (!end) return `${column} like ${params.add(escapeLike(prefix) + '%')}`;
  return `(${column} ~>=~ ${params.add(prefix)} and ${column} ~<~ ${params.add(end)})`;
}

/** `:text`: every word searched starts a word of the text. */
function wordsCondition(column: string, text: string, params: SqlParams): string {
  return `(${textWords(text).map((w) => wordCondition(column, w, params)).join(' and ')})`;
}

const MAX_TEXT_WORDS = 16;

/** The normalised words of a `:text` search (each once). */
export function textWords(text: string): string[] {
  const words = [...new Set(normalizeString(unescapeValue(text)).split(' ').filter(Boolean))];
  if (words.length === 0) throw new Invalid('A :text search needs at least one word');
  // Each word is a condition of its own: 200 words took PostgreSQL 8.6 s to plan.
  if (words.length > MAX_TEXT_WORDS) throw new Invalid(`A :text search takes at most ${MAX_TEXT_WORDS} words, got ${words.length}`);
  return words;
}

/** A word that starts the column's text or one of its words. */
export function wordCondition(column: string, word: string, params: SqlParams): string {
  return `(${column} like ${params.add(escapeLike(word) + '%')} or ${column} like ${params.add('% ' + escapeLike(word) + '%')})`;
}

/** A URI and each shorter URI it sits below, cut at '/': what `:above` matches. */
function uriAncestors(uri: string): string[] {
  const out = [uri];
  for (let i = uri.indexOf('//') + 2; i > 1 && i < uri.length; i++) if (uri[i] === '/') out.push(uri.slice(0, i), uri.slice(0, i + 1));
  return [...new Set(out)];
}

export function tokenCondition(value: string, params: SqlParams, col: Columns): string {
  const parts = splitPipe(value);
  if (parts.length === 1) return `${col('code')} = ${params.add(parts[0])}`;
  const [system, code] = parts;
  if (system === '' && code === '') throw new Invalid(`Token '${value}' has neither system nor code`);
  if (system === '') return `(${col('code')} = ${params.add(code)} and ${col('system')} is null)`;
  if (code === '') return `${col('system')} = ${params.add(system)}`;
  return `(${col('code')} = ${params.add(code)} and ${col('system')} = ${params.add(system)})`;
}

/** Codes resolved from a ValueSet or a code hierarchy; an empty code list = the whole system. */
function codeSetCondition(codes: CodeSet, params: SqlParams, col: Columns): string {
  const branches = [...codes].map(([system, list]) =>
    list.length === 0
      ? `${col('system')} = ${params.add(system)}`
      : `(${col('code')} = any(${params.add(list)}::text[]) and ${col('system')} = ${params.add(system)})`,
  );
  return branches.length ? `(${branches.join(' or ')})` : 'false';
}

function splitPrefix(value: string): [Prefix, string] {
  const prefix = value.slice(0, 2) as Prefix;
  if (PREFIXES.includes(prefix) && !/^\d/.test(value.slice(0, 2))) return [prefix, value.slice(2)];
  return ['eq', value];
}

/** R4 range semantics: the resource's [lo, hi] against the search value's [lo, hi]. */
export function dateCondition(value: string, lo: string, hi: string, params: SqlParams, code: string): string {
  const [prefix, text] = splitPrefix(value);
  const range = dateRange(text);
  if (!range) throw new Invalid(`Search parameter '${code}': '${text}' is not a valid date (use YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)`, [code]);
  // Bind only what the prefix uses: an unused parameter has no type and PostgreSQL rejects it.
  let loRef: string | undefined;
  let hiRef: string | undefined;
  const p = {
    get lo() {
      return (loRef ??= `${params.add(range.lo)}::timestamptz`);
    },
    get hi() {
      return (hiRef ??= `${params.add(range.hi)}::timestamptz`);
    },
  };
  switch (prefix) {
    case 'eq':
      return `(${lo} >= ${p.lo} and ${hi} <= ${p.hi})`;
    case 'ne':
      return `not (${lo} >= ${p.lo} and ${hi} <= ${p.hi})`;
    case 'gt':
      return `${hi} > ${p.hi}`;
    case 'lt':
      return `${lo} < ${p.lo}`;
    // ge/le: the resource's range lies above/below the value's (not just touches it), or within it.
    case 'ge':
      return `(${hi} > ${p.hi} or (${lo} >= ${p.lo} and ${hi} <= ${p.hi}))`;
    case 'le':
      return `(${lo} < ${p.lo} or (${lo} >= ${p.lo} and ${hi} <= ${p.hi}))`;
    case 'sa':
      return `${lo} > ${p.hi}`;
    case 'eb':
      return `${hi} < ${p.lo}`;
    case 'ap': {
      // Approximately: within 10% of the distance between the value and now, at least a day.
      // An open end (a date beyond year 9999 in UTC) stays open; widening clamps at years 1–9999.
      const centre = instantMillis(range.lo);
      const slack = Number.isFinite(centre) ? Math.max(86_400_000, Math.abs(Date.now() - centre) * 0.1) : 86_400_000;
      const aLo = params.add(instantText(instantMillis(range.lo) - slack));
      const aHi = params.add(instantText(instantMillis(range.hi) + slack));
      return `(${hi} >= ${aLo}::timestamptz and ${lo} <= ${aHi}::timestamptz)`;
    }
  }
}

const NUMBER_PATTERN = /^[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$/;
/**
 * Largest exponent and length a searched number may have. PostgreSQL's numeric holds 131,072
 * digits before the point and 16,383 after; far smaller bounds still cover every real value.
 */
const MAX_NUMBER_EXPONENT = 1000;
const MAX_NUMBER_LENGTH = 100;

/** Numbers carry their precision: `100` means [99.5, 100.5). */
function numberCondition(value: string, column: string, params: SqlParams, code: string): string {
  const [prefix, text] = splitPrefix(value);
  if (!NUMBER_PATTERN.test(text)) throw new Invalid(`Search parameter '${code}': '${text}' is not a number`, [code]);
  const exponent = Math.abs(Number(text.split(/[eE]/)[1] ?? 0));
  if (text.length > MAX_NUMBER_LENGTH || !(exponent <= MAX_NUMBER_EXPONENT)) {
    throw new Invalid(`Search parameter '${code}': '${text.slice(0, 40)}' is out of range (at most ${MAX_NUMBER_LENGTH} characters and an exponent within ±${MAX_NUMBER_EXPONENT})`, [code]);
  }
  const n = params.add(text);
  const decimals = (text.split(/[eE]/)[0].split('.')[1] ?? '').length;
  const withinPrecision = () => {
    const half = params.add((0.5 * 10 ** -decimals).toString());
    return `(${column} >= ${n}::numeric - ${half}::numeric and ${column} < ${n}::numeric + ${half}::numeric)`;
  };
  switch (prefix) {
    case 'eq':
      return withinPrecision();
    case 'ne':
      return `not ${withinPrecision()}`;
    case 'gt':
    case 'sa':
      return `${column} > ${n}::numeric`;
    case 'lt':
    case 'eb':
      return `${column} < ${n}::numeric`;
    case 'ge':
      return `${column} >= ${n}::numeric`;
    case 'le':
      return `${column} <= ${n}::numeric`;
    case 'ap':
      return `(${column} >= ${n}::numeric * 0.9 and ${column} <= ${n}::numeric * 1.1 or ${column} <= ${n}::numeric * 0.9 and ${column} >= ${n}::numeric * 1.1)`;
  }
}

function quantityCondition(value: string, params: SqlParams, code: string, col: Columns): string {
  const [number, system, unit] = splitPipe(value);
  const conditions = [numberCondition(number, col('value'), params, code)];
  if (system) conditions.push(`${col('system')} = ${params.add(system)}`);
  // With a system the code must match (UCUM `mm[Hg]`); without one, the code or the display unit.
  if (unit && system) conditions.push(`${col('code')} = ${params.add(unit)}`);
  else if (unit) {
    const u = params.add(unit);
    conditions.push(`(${col('code')} = ${u} or ${col('unit')} = ${u})`);
  }
  return `(${conditions.join(' and ')})`;
}

function referenceCondition(value: string, modifier: string | undefined, params: SqlParams, col: Columns): string {
  const typed = /^([A-Z][A-Za-z]+)\/([^/]+)$/.exec(value);
  if (typed) return `(${col('target_type')} = ${params.add(typed[1])} and ${col('target_id')} = ${params.add(typed[2])})`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) return `${col('reference')} = ${params.add(value)}`;
  const id = `${col('target_id')} = ${params.add(value)}`;
  return modifier && modifier !== 'missing' ? `(${id} and ${col('target_type')} = ${params.add(modifier)})` : id;
}
