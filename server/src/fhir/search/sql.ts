// Compiles a SearchRequest into one SQL statement over `resource` and the index tables.
// Nothing is filtered in JS after fetching: every condition, the order and the page are SQL.
import { Invalid } from '../errors.js';
import { dateRange } from '../index/date-range.js';
import { escapeLike, normalizeString } from '../index/normalize.js';
import type { Prefix, SearchFilter, SearchRequest, SortKey } from './model.js';
import { PREFIXES } from './model.js';
import { splitPipe } from './parse.js';

/** Accumulates positional parameters ($1, $2, ...). */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const TABLE_OF: Record<string, string> = {
  string: 'idx_string',
  token: 'idx_token',
  date: 'idx_date',
  number: 'idx_number',
  quantity: 'idx_quantity',
  reference: 'idx_reference',
  uri: 'idx_uri',
};

export interface CompiledSearch {
  sql: string;
  params: unknown[];
  countSql?: string;
  countParams?: unknown[];
}

/** The WHERE clause (over alias `r`) for all filters of a request. */
export function compileWhere(request: SearchRequest, params: SqlParams): string {
  const conditions = [`r.type = ${params.add(request.resourceType)}`, 'not r.deleted'];
  for (const filter of request.filters) conditions.push(compileFilter(filter, params));
  if (request.compartment) conditions.push(compartmentCondition(request.resourceType, request.compartment, params));
  return conditions.join('\n  and ');
}

/** The caller may see only (or all but) these patients' compartments: a Patient by id (or link), others by reference. */
function compartmentCondition(type: string, compartment: NonNullable<SearchRequest['compartment']>, params: SqlParams): string {
  const patients = params.add(compartment.patients);
  const linked = compartment.params.length
    ? `exists (select 1 from idx_reference i where i.res_type = r.type and i.res_id = r.id and i.param = any(${params.add(compartment.params)}::text[])
       and i.target_type = 'Patient' and i.target_id = any(${patients}::text[]))`
    : 'false';
  if (compartment.except) return type === 'Patient' ? `(r.id <> all(${patients}::text[]) and not ${linked})` : `not ${linked}`;
  return type === 'Patient' ? `(r.id = any(${patients}::text[]) or ${linked})` : linked;
}

function compileFilter(filter: SearchFilter, params: SqlParams): string {
  const { param, modifier } = filter;
  if (param.code === '_id') return `r.id = any(${params.add(filter.values)}::text[])`;
  if (param.code === '_lastUpdated') {
    return `(${filter.values.map((v) => dateCondition(v, 'r.last_updated', 'r.last_updated', params, param.code)).join(' or ')})`;
  }
  const table = TABLE_OF[param.type];
  const scope = `i.res_type = r.type and i.res_id = r.id and i.param = ${params.add(param.code)}`;
  if (modifier === 'missing') {
    return `${filter.values[0] === 'true' ? 'not ' : ''}exists (select 1 from ${table} i where ${scope})`;
  }
  if (param.type === 'token' && modifier === 'not') {
    const any = filter.values.map((v) => tokenCondition(v, params)).join(' or ');
    return `not exists (select 1 from ${table} i where ${scope} and (${any}))`;
  }
  const any = filter.values.map((v) => valueCondition(filter, v, params)).join(' or ');
  return `exists (select 1 from ${table} i where ${scope} and (${any}))`;
}

function valueCondition(filter: SearchFilter, value: string, params: SqlParams): string {
  const { param, modifier } = filter;
  switch (param.type) {
    case 'string':
      if (modifier === 'exact') return `i.value = ${params.add(value)}`;
      if (modifier === 'contains') return `i.norm like ${params.add('%' + escapeLike(normalizeString(value)) + '%')}`;
      return `i.norm like ${params.add(escapeLike(normalizeString(value)) + '%')}`;
    case 'token':
      if (modifier === 'text') return `lower(i.display) like ${params.add(escapeLike(normalizeString(value)) + '%')}`;
      return tokenCondition(value, params);
    case 'date':
      return dateCondition(value, 'i.lo', 'i.hi', params, param.code);
    case 'number':
      return numberCondition(value, 'i.value', params, param.code);
    case 'quantity':
      return quantityCondition(value, params, param.code);
    case 'reference':
      return referenceCondition(value, modifier, params);
    case 'uri':
      if (modifier === 'below') return `i.value like ${params.add(escapeLike(value) + '%')}`;
      return `i.value = ${params.add(value)}`;
    default:
      throw new Invalid(`Search parameter '${param.code}' of type ${param.type} is not supported`, [param.code]);
  }
}

function tokenCondition(value: string, params: SqlParams): string {
  const parts = splitPipe(value);
  if (parts.length === 1) return `i.code = ${params.add(parts[0])}`;
  const [system, code] = parts;
  if (system === '' && code === '') throw new Invalid(`Token '${value}' has neither system nor code`);
  if (system === '') return `(i.code = ${params.add(code)} and i.system is null)`;
  if (code === '') return `i.system = ${params.add(system)}`;
  return `(i.code = ${params.add(code)} and i.system = ${params.add(system)})`;
}

function splitPrefix(value: string): [Prefix, string] {
  const prefix = value.slice(0, 2) as Prefix;
  if (PREFIXES.includes(prefix) && !/^\d/.test(value.slice(0, 2))) return [prefix, value.slice(2)];
  return ['eq', value];
}

/** R4 range semantics: the resource's [lo, hi] against the search value's [lo, hi]. */
function dateCondition(value: string, lo: string, hi: string, params: SqlParams, code: string): string {
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
    case 'ge':
      return `${hi} >= ${p.lo}`;
    case 'le':
      return `${lo} <= ${p.hi}`;
    case 'sa':
      return `${lo} > ${p.hi}`;
    case 'eb':
      return `${hi} < ${p.lo}`;
    case 'ap': {
      // Approximately: within 10% of the distance between the value and now, at least a day.
      const centre = Date.parse(range.lo);
      const slack = Math.max(86_400_000, Math.abs(Date.now() - centre) * 0.1);
      const aLo = params.add(new Date(Date.parse(range.lo) - slack).toISOString());
      const aHi = params.add(new Date(Date.parse(range.hi) + slack).toISOString());
      return `(${hi} >= ${aLo}::timestamptz and ${lo} <= ${aHi}::timestamptz)`;
    }
  }
}

const NUMBER_PATTERN = /^[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$/;

/** Numbers carry their precision: `100` means [99.5, 100.5). */
function numberCondition(value: string, column: string, params: SqlParams, code: string): string {
  const [prefix, text] = splitPrefix(value);
  if (!NUMBER_PATTERN.test(text)) throw new Invalid(`Search parameter '${code}': '${text}' is not a number`, [code]);
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

function quantityCondition(value: string, params: SqlParams, code: string): string {
  const [number, system, unit] = splitPipe(value);
  const conditions = [numberCondition(number, 'i.value', params, code)];
  if (system) conditions.push(`i.system = ${params.add(system)}`);
  if (unit) {
    const u = params.add(unit);
    conditions.push(`(i.code = ${u} or i.unit = ${u})`);
  }
  return `(${conditions.join(' and ')})`;
}

function referenceCondition(value: string, modifier: string | undefined, params: SqlParams): string {
  const typed = /^([A-Z][A-Za-z]+)\/([^/]+)$/.exec(value);
  if (typed) return `(i.target_type = ${params.add(typed[1])} and i.target_id = ${params.add(typed[2])})`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) return `i.reference = ${params.add(value)}`;
  const id = `i.target_id = ${params.add(value)}`;
  return modifier ? `(${id} and i.target_type = ${params.add(modifier)})` : id;
}

/** The sort expression for one key and the SQL type its cursor value is cast back to. */
function sortExpression(key: SortKey, params: SqlParams): { expr: string; cast: string } {
  const { param } = key;
  if (param.code === '_id') return { expr: 'r.id collate "C"', cast: 'text' };
  if (param.code === '_lastUpdated') return { expr: 'r.last_updated', cast: 'timestamptz' };
  const table = TABLE_OF[param.type];
  const agg = key.descending ? 'max' : 'min';
  const column: Record<string, [string, string]> = {
    string: ['i.norm collate "C"', 'text'],
    token: ['i.code collate "C"', 'text'],
    date: [key.descending ? 'i.hi' : 'i.lo', 'timestamptz'],
    number: ['i.value', 'numeric'],
    quantity: ['i.value', 'numeric'],
    reference: ['i.reference collate "C"', 'text'],
    uri: ['i.value collate "C"', 'text'],
  };
  const [col, cast] = column[param.type];
  return {
    expr: `(select ${agg}(${col}) from ${table} i where i.res_type = r.type and i.res_id = r.id and i.param = ${params.add(param.code)})`,
    cast,
  };
}

interface Cursor {
  keys: (string | null)[];
  seq: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string, keyCount: number): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (Array.isArray(cursor.keys) && cursor.keys.length === keyCount && /^\d+$/.test(cursor.seq)) return cursor;
  } catch {
    // fall through
  }
  throw new Invalid('_cursor is not valid for this search: follow the Bundle links unchanged', ['_cursor']);
}

/**
 * The page query. Keyset paging: rows are ordered by the sort keys and then `seq` (set once at
 * creation), and the next page starts strictly after the last row seen, so concurrent writes
 * never make a page repeat or skip a match. Each key sorts nulls last via an `is null` flag.
 */
export function compileSearch(request: SearchRequest): CompiledSearch {
  const params = new SqlParams();
  const where = compileWhere(request, params);
  const keys = request.sort.map((key) => ({ ...sortExpression(key, params), descending: key.descending }));
  const select = keys.map((k, n) => `, ${k.expr} as k${n}`).join('');
  const inner = `select r.content::text as content, r.seq${select}\n from resource r\n where ${where}`;
  const order = [...keys.flatMap((k, n) => [`(k${n} is null)`, `k${n}${k.descending ? ' desc' : ''}`]), 'seq'].join(', ');

  let after = '';
  if (request.cursor) {
    const cursor = decodeCursor(request.cursor, keys.length);
    const clauses: string[] = [];
    const equalSoFar: string[] = [];
    keys.forEach((k, n) => {
      const value = cursor.keys[n];
      const flag = params.add(value === null);
      const v = `${params.add(value)}::${k.cast}`;
      const cmp = k.descending ? '<' : '>';
      clauses.push([...equalSoFar, `(k${n} is null) > ${flag}::boolean`].join(' and '));
      equalSoFar.push(`(k${n} is null) = ${flag}::boolean`);
      clauses.push([...equalSoFar, `k${n} ${cmp} ${v}`].join(' and '));
      equalSoFar.push(`k${n} is not distinct from ${v}`);
    });
    clauses.push([...equalSoFar, `seq > ${params.add(cursor.seq)}::bigint`].join(' and '));
    after = `where (${clauses.map((c) => `(${c})`).join(' or ')})`;
  }
  const keyText = keys.map((k, n) => `, k${n}::text as k${n}`).join('');
  // seq stays a bigint inside so the order can use the (type, seq) index; text only on the way out.
  const sql = `select content, seq::text as seq_text${keyText} from (${inner}) page ${after}\n order by ${order}\n limit ${params.add(request.count + 1)}`;

  const result: CompiledSearch = { sql, params: params.values };
  if (request.total === 'accurate' || request.total === 'estimate') {
    const countParams = new SqlParams();
    result.countSql = `select count(*)::int as total from resource r where ${compileWhere(request, countParams)}`;
    result.countParams = countParams.values;
  }
  return result;
}

export function cursorAfter(row: Record<string, unknown>, keyCount: number): string {
  const keys: (string | null)[] = [];
  for (let n = 0; n < keyCount; n++) keys.push((row[`k${n}`] as string | null) ?? null);
  return encodeCursor({ keys, seq: String(row.seq_text) });
}
