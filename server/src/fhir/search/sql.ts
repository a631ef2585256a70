// Compiles a SearchRequest into one SQL statement over `resource` and the index tables.
// Nothing is filtered in JS after fetching: every condition, the order and the page are SQL.
import { isBigintText } from '../../db/database.js';
import { Invalid } from '../errors.js';
import type { Filter, SearchRequest, SortKey } from './model.js';
import { SqlParams } from './values.js';
import { matchSetPage } from './match-set-page.js';
import { compileWhere, indexOnlyCount, indexTable, matchingIndexRows } from './where.js';

export { SqlParams };

export interface CompiledSearch {
  sql: string;
  params: unknown[];
  countSql?: string;
  countParams?: unknown[];
  /**
   * Whether `sql` also answers the count, in a `total` column of every row: null when the first
   * page is not full (its length is the total then). A separate count query would cost a round
   * trip of its own.
   */
  countInPage?: boolean;
}

function whereOf(request: SearchRequest, params: SqlParams): string {
  return compileWhere(request.types ?? [request.resourceType], request.filters, request.restriction, params);
}

/** The sort expression for one key and the SQL type its cursor value is cast back to. */
function sortExpression(key: SortKey, params: SqlParams): { expr: string; cast: string } {
  const { param } = key;
  if (param.code === '_id') return { expr: 'r.id collate "C"', cast: 'text' };
  if (param.code === '_lastUpdated') return { expr: 'r.last_updated', cast: 'timestamptz' };
  const table = indexTable(param.type);
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

/** Where the next page starts: the last row's sort keys and seq, for the sort it was made under. */
interface Cursor {
  keys: (string | null)[];
  seq: string;
  /** The `_sort` the keys belong to: a cursor taken to another sort would compare unlike keys. */
  sort: string;
}

/** How PostgreSQL prints the sort keys a cursor carries back, by the SQL type they are cast to. */
const KEY_TEXT: Record<string, RegExp> = {
  text: /^[^\u0000]*$/,
  numeric: /^-?\d+(\.\d+)?$/,
  timestamptz: /^(-?infinity|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}( BC)?)$/,
};

function sortSignature(request: SearchRequest): string {
  return request.sort.map((key) => `${key.descending ? '-' : ''}${key.param.code}`).join(',');
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/**
 * The cursor of a request, checked against it. Values that pass but still do not fit their sort
 * key's SQL type (an edited date, say) are rejected by PostgreSQL, which the repository answers
 * with the same 400.
 */
function decodeCursor(text: string, request: SearchRequest, casts: string[]): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    const keysFit = Array.isArray(cursor.keys) && cursor.keys.length === casts.length && cursor.keys.every((k, n) => k === null || (typeof k === 'string' && KEY_TEXT[casts[n]].test(k)));
    const seqFits = typeof cursor.seq === 'string' && isBigintText(cursor.seq);
    if (keysFit && seqFits && cursor.sort === sortSignature(request)) return cursor;
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
export interface CompileOptions {
  /**
   * Whether a one-filter search in the default order may use the match-set statement
   * (match-set-page.ts). The repository allows it on PostgreSQL only: on PGlite (WebAssembly)
   * planning the longer statement cost 1.2–1.5 ms more per search than it saved on the embedded
   * hub's data (a 600-patient probe, name searches of 0–38 matches).
   */
  matchSet?: boolean;
}

export function compileSearch(request: SearchRequest, options: CompileOptions = {}): CompiledSearch {
  const result = options.matchSet && request.sort.length === 0 && request.count > 0 ? compileMatchSetSearch(request) : undefined;
  return result ?? compileGeneralSearch(request);
}

/** A search of one positive index filter in the default order (match-set-page.ts); else undefined. */
function compileMatchSetSearch(request: SearchRequest): CompiledSearch | undefined {
  if (request.filters.some(namesOneRecord)) return undefined;
  const params = new SqlParams();
  const indexRows = matchingIndexRows(request.types ?? [request.resourceType], request.filters, request.restriction, params);
  if (!indexRows) return undefined;
  const afterSeq = request.cursor ? decodeCursor(request.cursor, request, []).seq : undefined;
  const withTotal = request.total === 'accurate' && request.summary !== 'count';
  return { sql: matchSetPage(request, indexRows, params, afterSeq, withTotal), params: params.values, countInPage: withTotal, ...countQuery(request) };
}

/**
 * Filters whose matches are few or one record's, created together: an identifier (one or two
 * resources by design), references to patients (`subject=Patient/1`: a record, 270 Observations
 * of 360,000), and chains ending in either (`subject:Patient.identifier=…`). Their matches are not
 * spread along the type, so the walk could only fail (0.2–1.1 ms more per search on the benchmark
 * database); they keep the general statement.
 */
function namesOneRecord(filter: Filter): boolean {
  if (filter.kind === 'chain') return filter.targets.some((t) => namesOneRecord(t.inner));
  if (filter.kind !== 'value') return false;
  if (filter.param.code.endsWith('identifier')) return true;
  const onlyPatients = filter.param.targets.length === 1 && filter.param.targets[0] === 'Patient';
  return filter.param.type === 'reference' && filter.values.every((v) => v.startsWith('Patient/') || (onlyPatients && !v.includes('/')));
}

/** The separate count query (`_total=accurate` when the page did not carry it, or `estimate`). */
function countQuery(request: SearchRequest): Pick<CompiledSearch, 'countSql' | 'countParams'> {
  if (request.total !== 'accurate' && request.total !== 'estimate') return {};
  const countParams = new SqlParams();
  // `estimate` reads the planner's row estimate of the plain form (repository.ts).
  const fromIndex = request.total === 'accurate' ? indexOnlyCount(request.types ?? [request.resourceType], request.filters, request.restriction, countParams) : undefined;
  return { countSql: fromIndex ?? `select count(*)::int as total from resource r where ${whereOf(request, countParams)}`, countParams: countParams.values };
}

/** The form every search can take (exported so a benchmark can compare it with the match-set form). */
export function compileGeneralSearch(request: SearchRequest): CompiledSearch {
  const params = new SqlParams();
  const where = whereOf(request, params);
  const keys = request.sort.map((key) => ({ ...sortExpression(key, params), descending: key.descending }));
  const select = keys.map((k, n) => `, ${k.expr} as k${n}`).join('');
  const inner = `select r.type, r.id, r.seq${select}\n from resource r\n where ${where}`;
  const orderOf = (prefix: string) =>
    [...keys.flatMap((k, n) => [`(${prefix}k${n} is null)`, `${prefix}k${n}${k.descending ? ' desc' : ''}`]), `${prefix}seq`].join(', ');
  const order = orderOf('');

  let after = '';
  if (request.cursor) {
    const cursor = decodeCursor(request.cursor, request, keys.map((k) => k.cast));
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
  const keyText = keys.map((k, n) => `, p.k${n}::text as k${n}`).join('');
  const keyColumns = keys.map((_k, n) => `, k${n}`).join('');
  // The page is chosen from keys alone (type, id, seq, sort keys: index-only where the covering
  // index serves), and only its rows are joined back for their content: a search matching
  // thousands reads thousands of index entries, not thousands of resources.
  // seq stays a bigint inside so the order can use the (type, seq) index; text only on the way out.
  const page = `select type, id, seq${keyColumns} from (${inner}) page ${after}\n order by ${order}\n limit ${params.add(request.count + 1)}`;
  const columns = `select r.content::text as content, p.seq::text as seq_text${keyText}`;
  const join = `join resource r on r.type = p.type and r.id = p.id\n order by ${orderOf('p.')}`;
  let sql = `${columns} from (${page}) p ${join}`;
  // A count read from one filter's index rows rides along as an uncorrelated subquery under a
  // CASE: PostgreSQL runs it once, and only when the CASE reaches it (a later page, or a full first
  // page), which saves the count's round trip. It adds little to planning. A count repeating a
  // WHERE of several filters would not ride along: it doubles the statement's planning (1.0 → 2.0
  // ms for code + subject), paid even by the first pages that turn out not to be full.
  const count = request.total === 'accurate' && request.summary !== 'count' ? indexOnlyCount(request.types ?? [request.resourceType], request.filters, request.restriction, params) : undefined;
  const countInPage = count !== undefined;
  if (count) {
    const needed = request.cursor ? 'true' : `(select count(*) from p) > ${params.add(request.count)}`;
    sql = `with p as materialized (${page})\n${columns}, case when ${needed} then (${count}) end as total from p ${join}`;
  }

  return { sql, params: params.values, countInPage, ...countQuery(request) };
}

/** The cursor of the page after the one ending with `row`. */
export function cursorAfter(row: Record<string, unknown>, request: SearchRequest): string {
  const keys = request.sort.map((_key, n) => (row[`k${n}`] as string | null) ?? null);
  return encodeCursor({ keys, seq: String(row.seq_text), sort: sortSignature(request) });
}
