// Parses a FHIR search query string into a SearchRequest, rejecting what the server cannot
// answer with a 400 that names the parameter (or, under `Prefer: handling=lenient`, ignoring it).
import { Invalid } from '../errors.js';
import { dateRange } from '../index/date-range.js';
import type { Filter, IncludeSpec, SearchRequest, SortKey, SummaryMode, TotalMode, ValueFilter } from './model.js';
import { COLUMN_PARAMS, type SearchParamDef, type SearchParameterRegistry } from './parameters.js';

export interface SearchLimits {
  defaultCount: number;
  maxCount: number;
  defaultTotal: TotalMode;
  /** Most resources `_include`/`_revinclude` add to one page; beyond it the Bundle says so. */
  maxIncludes?: number;
}

/** Parameters that shape the result rather than filter it. */
const RESULT_PARAMS = new Set(['_count', '_sort', '_total', '_cursor', '_format', '_pretty', '_include', '_revinclude', '_summary', '_elements', '_contained', '_containedType', '_type']);

/** Modifiers each parameter type accepts (besides `:[type]` on references). */
const MODIFIERS: Record<string, string[]> = {
  string: ['exact', 'contains', 'text', 'missing'],
  token: ['not', 'text', 'in', 'not-in', 'above', 'below', 'of-type', 'missing'],
  date: ['missing'],
  number: ['missing'],
  quantity: ['missing'],
  reference: ['identifier', 'missing'],
  uri: ['above', 'below', 'missing'],
  composite: ['missing'],
};

const NOT_SUPPORTED_SPECIAL = "special parameters (_text, _content, _query, _filter, _list, near) are not supported (see the CapabilityStatement)";

/** A rejected parameter: a 400 naming it, or ignored under lenient handling. */
class Rejected extends Error {}

/**
 * Bounds on one search, so a single request cannot make the hub compile or PostgreSQL plan a
 * statement for seconds (found by fuzzing: 300 AND-ed names planned for 35 s; six untyped chain
 * levels through multi-target references grew to 16,000 bind values).
 */
export const SEARCH_BOUNDS = {
  /** Filters (parameters other than result parameters) in one request; OR lists count once. */
  filters: 50,
  /** Links of one chain or `_has` path (`subject.organization.partof...`). */
  chainDepth: 8,
  /** Conditions one parameter may expand to: an untyped chain reaches every target type. */
  expandedConditions: 256,
  /** Keys of `_sort`. */
  sortKeys: 8,
  /** Distinct `_include` and `_revinclude` specs: 1,500 `Observation:*` took 2.8 s on one patient. */
  includes: 32,
} as const;

/** Counts what one parameter expands to while it is parsed, and stops it at the bounds. */
class Expansion {
  readonly depth: number;
  readonly #count: { conditions: number };
  constructor(depth = 0, count = { conditions: 0 }) {
    this.depth = depth;
    this.#count = count;
  }
  /** One link further down a chain or `_has`. */
  deeper(): Expansion {
    if (this.depth >= SEARCH_BOUNDS.chainDepth) throw new Rejected(`chains and _has nest at most ${SEARCH_BOUNDS.chainDepth} levels deep`);
    return new Expansion(this.depth + 1, this.#count);
  }
  /** One more condition this parameter compiles to. */
  condition(): void {
    if (++this.#count.conditions > SEARCH_BOUNDS.expandedConditions) {
      throw new Rejected(`expands to more than ${SEARCH_BOUNDS.expandedConditions} conditions: name the target type of each link (subject:Patient.name=...)`);
    }
  }
}

export function parseSearchRequest(
  resourceType: string,
  query: [string, string][],
  registry: SearchParameterRegistry,
  limits: SearchLimits,
  lenient = false,
  types?: string[],
): SearchRequest {
  const request: SearchRequest = {
    resourceType,
    ...(types ? { types } : {}),
    filters: [],
    sort: [],
    count: limits.defaultCount,
    total: limits.defaultTotal,
    include: [],
    ignored: [],
    query: query.filter(([k]) => k !== '_cursor'),
  };
  const searched = types ?? [resourceType];
  for (const [rawName, value] of query) {
    try {
      const base = rawName.split(':')[0];
      if (RESULT_PARAMS.has(base)) applyResultParam(request, rawName, value, registry, limits);
      else {
        if (request.filters.length >= SEARCH_BOUNDS.filters) {
          throw new Invalid(`A search may combine at most ${SEARCH_BOUNDS.filters} parameters; '${rawName}' is one too many`, [rawName]);
        }
        request.filters.push(parseFilter(searched, rawName, value, registry, new Expansion()));
      }
    } catch (err) {
      if (!(err instanceof Rejected)) throw err;
      if (lenient) request.ignored.push(rawName);
      else throw new Invalid(`Search parameter '${rawName}': ${err.message}`, [rawName]);
    }
  }
  return request;
}

/**
 * One parameter as a filter on `types` (one type, or the types of a system search): `_has:...`,
 * a chain `ref[:Type].rest`, or a plain `name[:modifier]`.
 */
function parseFilter(types: string[], name: string, value: string, registry: SearchParameterRegistry, expansion: Expansion): Filter {
  expansion.condition();
  if (name.startsWith('_has:')) return parseHas(types, name, value, registry, expansion.deeper());
  const dot = name.indexOf('.');
  if (dot > 0) return parseChain(types, name.slice(0, dot), name.slice(dot + 1), value, registry, expansion.deeper());
  const [code, modifier] = splitModifier(name);
  const param = commonParam(types, code, registry);
  const filter = valueFilter(param, modifier, value, registry);
  if (types.length !== 1 || !registry.keysTokensBy(types[0], code)) return filter;
  return { ...filter, keysTokens: true, ...(registry.keyedTokensImply(types[0], code) ? { impliedByKeyedTokens: true } : {}) };
}

function parseHas(types: string[], name: string, value: string, registry: SearchParameterRegistry, expansion: Expansion): Filter {
  const [, type, refCode, ...rest] = name.split(':');
  if (!type || !refCode || rest.length === 0) throw new Rejected('_has takes the form _has:Type:reference:parameter=value');
  if (!registry.isResourceType(type)) throw new Rejected(`_has: unknown resource type '${type}'`);
  const reference = registry.get(type, refCode);
  if (!reference || reference.type !== 'reference') throw new Rejected(`_has: '${refCode}' is not a reference parameter of ${type}`);
  if (reference.targets.length && !types.some((t) => reference.targets.includes(t))) {
    throw new Rejected(`_has: ${type}.${refCode} cannot point at ${types.join(' or ')}`);
  }
  return { kind: 'has', type, reference, inner: parseFilter([type], rest.join(':'), value, registry, expansion) };
}

function parseChain(types: string[], head: string, rest: string, value: string, registry: SearchParameterRegistry, expansion: Expansion): Filter {
  const [code, targetType] = splitModifier(head);
  const param = commonParam(types, code, registry);
  if (param.type !== 'reference') throw new Rejected(`'${code}' is not a reference parameter, so it cannot be chained`);
  if (targetType !== undefined && !registry.isResourceType(targetType)) throw new Rejected(`unknown resource type '${targetType}' in the chain`);
  const candidates = targetType ? [targetType] : param.targets.length ? param.targets : registry.resourceTypes;
  // Without a type, the chain reaches every target type that has the next parameter.
  const nextCode = splitModifier(rest.split('.')[0])[0];
  const reachable = nextCode.startsWith('_has') ? candidates : candidates.filter((t) => registry.get(t, nextCode));
  if (reachable.length === 0) throw new Rejected(`no resource type that '${code}' can point at has a parameter '${nextCode}'`);
  return { kind: 'chain', param, targets: reachable.map((type) => ({ type, inner: parseFilter([type], rest, value, registry, expansion) })) };
}

/** The parameter `code` of all `types` (a system search may use only parameters they share). */
function commonParam(types: string[], code: string, registry: SearchParameterRegistry): SearchParamDef {
  const defs = types.map((t) => registry.get(t, code));
  const first = defs[0];
  if (!first || defs.some((d) => !d)) {
    throw new Rejected(types.length === 1 ? `unknown for ${types[0]}` : `not a parameter of every searched type (${types.join(', ')})`);
  }
  if (defs.some((d) => d!.type !== first.type)) throw new Rejected(`has different types across ${types.join(', ')}`);
  return first;
}

function valueFilter(param: SearchParamDef, modifier: string | undefined, value: string, registry: SearchParameterRegistry): ValueFilter {
  if (param.type === 'special' || (!param.expression && !COLUMN_PARAMS.has(param.code))) throw new Rejected(NOT_SUPPORTED_SPECIAL);
  const isReferenceType = param.type === 'reference' && modifier !== undefined && registry.isResourceType(modifier);
  if (modifier !== undefined && !isReferenceType && !(MODIFIERS[param.type] ?? []).includes(modifier)) {
    throw new Rejected(`modifier ':${modifier}' is not supported on ${param.type} parameters`);
  }
  if (modifier === 'missing' && value !== 'true' && value !== 'false') throw new Rejected("':missing' takes true or false");
  if (modifier === 'of-type' && param.code !== 'identifier') throw new Rejected("':of-type' applies to identifier parameters");
  const values = splitValues(value);
  if (values.length === 0 || values.some((v) => v === '')) throw new Rejected('needs a value');
  if (param.type === 'composite' && modifier !== 'missing') {
    for (const v of values) {
      if (splitComposite(v).length !== param.components!.length) throw new Rejected(`a ${param.code} value has ${param.components!.length} parts separated by '$'`);
    }
  }
  return { kind: 'value', param, modifier, values };
}

function applyResultParam(request: SearchRequest, rawName: string, value: string, registry: SearchParameterRegistry, limits: SearchLimits): void {
  const [name, modifier] = splitModifier(rawName);
  switch (name) {
    case '_count': {
      const n = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new Invalid(`_count must be a whole number, got '${value}'`, ['_count']);
      request.count = Math.min(n, limits.maxCount);
      break;
    }
    case '_total':
      if (value !== 'none' && value !== 'accurate' && value !== 'estimate') {
        throw new Invalid(`_total must be none, estimate or accurate, got '${value}'`, ['_total']);
      }
      request.total = value;
      break;
    case '_cursor':
      request.cursor = value;
      break;
    case '_sort': {
      const keys = value.split(',').filter(Boolean);
      if (keys.length > SEARCH_BOUNDS.sortKeys) throw new Invalid(`_sort takes at most ${SEARCH_BOUNDS.sortKeys} keys, got ${keys.length}`, ['_sort']);
      request.sort = keys.map((key): SortKey => {
        const descending = key.startsWith('-');
        const code = descending ? key.slice(1) : key;
        const defs = (request.types ?? [request.resourceType]).map((t) => registry.get(t, code));
        const param = defs[0];
        if (!param || defs.some((d) => d?.type !== param.type) || param.type === 'composite' || param.type === 'special') {
          throw new Invalid(`_sort: '${code}' is not a sortable search parameter of ${request.resourceType}`, ['_sort']);
        }
        return { param, descending };
      });
      break;
    }
    case '_include':
    case '_revinclude':
      if (modifier !== undefined && modifier !== 'iterate' && modifier !== 'recurse') throw new Rejected(`modifier ':${modifier}' is not supported (use :iterate)`);
      for (const spec of value.split(',')) {
        const include = parseInclude(spec, name === '_revinclude', modifier !== undefined, request, registry);
        if (request.include.some((known) => JSON.stringify(known) === JSON.stringify(include))) continue;
        if (request.include.length >= SEARCH_BOUNDS.includes) throw new Invalid(`A search takes at most ${SEARCH_BOUNDS.includes} _include and _revinclude specs`, [rawName]);
        request.include.push(include);
      }
      break;
    case '_summary':
      if (!['true', 'text', 'data', 'count', 'false'].includes(value)) throw new Invalid(`_summary must be true, text, data, count or false, got '${value}'`, ['_summary']);
      request.summary = value as SummaryMode;
      if (value === 'count') request.total = 'accurate';
      break;
    case '_elements':
      request.elements = value.split(',').map((e) => e.trim()).filter(Boolean);
      if (request.elements.some((e) => !/^[A-Za-z][A-Za-z0-9]*(\[x\])?$/.test(e))) {
        throw new Invalid(`_elements lists top-level element names separated by commas, got '${value}'`, ['_elements']);
      }
      break;
    case '_contained':
      // Contained resources are not indexed on their own: searching them is not offered, and
      // `false` (the default) is what every search already does.
      if (value !== 'false') throw new Rejected('searching contained resources is not supported; only _contained=false');
      break;
    case '_containedType':
      throw new Rejected('searching contained resources is not supported');
    case '_type':
      if (!request.types) throw new Rejected('_type applies to a system search (GET [base]?_type=...)');
      break;
  }
}

/** `Source:param[:Target]` or `Source:*`. */
function parseInclude(spec: string, reverse: boolean, iterate: boolean, request: SearchRequest, registry: SearchParameterRegistry): IncludeSpec {
  const [source, code, target, ...extra] = spec.split(':');
  const what = reverse ? '_revinclude' : '_include';
  if (!source || !code || extra.length) throw new Rejected(`${what} takes Type:parameter[:TargetType] or Type:*`);
  if (!registry.isResourceType(source)) throw new Rejected(`${what}: unknown resource type '${source}'`);
  if (target !== undefined && !registry.isResourceType(target)) throw new Rejected(`${what}: unknown target type '${target}'`);
  const searched = request.types ?? [request.resourceType];
  let params: string[];
  if (code === '*') {
    params = registry.forType(source).filter((p) => p.type === 'reference').map((p) => p.code);
  } else {
    const param = registry.get(source, code);
    if (!param || param.type !== 'reference') throw new Rejected(`${what}: '${code}' is not a reference parameter of ${source}`);
    if (target && param.targets.length && !param.targets.includes(target)) throw new Rejected(`${what}: ${source}.${code} cannot point at ${target}`);
    params = [code];
  }
  return { source, params, ...(target ? { target } : {}), iterate, reverse };
}

/** `_count` of history and $everything: a whole number, capped at the maximum; `fallback` when absent. */
export function pageSize(text: string | undefined, limits: SearchLimits, fallback: number): number {
  if (text !== undefined && !/^\d+$/.test(text)) throw new Invalid(`_count must be a whole number, got '${text}'`, ['_count']);
  return Math.min(text !== undefined ? Number(text) : fallback, limits.maxCount);
}

/** `_since` of history and $everything: an instant, or undefined when absent. */
export function sinceInstant(text: string | undefined): string | undefined {
  // FHIR's own formats only (a four-digit year from 0001): what PostgreSQL's timestamptz reads as meant.
  if (text !== undefined && (!dateRange(text) || /^0000/.test(text.trim()))) {
    throw new Invalid(`_since must be an instant (YYYY-MM-DDThh:mm:ss+zz:zz), got '${text.slice(0, 40)}'`, ['_since']);
  }
  return text;
}

function splitModifier(name: string): [string, string | undefined] {
  const i = name.indexOf(':');
  return i < 0 ? [name, undefined] : [name.slice(0, i), name.slice(i + 1)];
}

/** Splits on commas that are not escaped as `\,`; `\|` `\$` `\\` stay escaped for later splits. */
export function splitValues(value: string): string[] {
  return splitEscaped(value, ',', false);
}

/** Splits a token/quantity value on unescaped `|`, unescaping `\|` `\$` `\,` `\\`. */
export function splitPipe(value: string): string[] {
  return splitEscaped(value, '|', true);
}

/** Splits a composite value on unescaped `$`; each part keeps its escapes for its own type. */
export function splitComposite(value: string): string[] {
  return splitEscaped(value, '$', false);
}

/** Removes the search escapes (`\,` `\|` `\$` `\\`) from a value used as it is (string, uri). */
export function unescapeValue(value: string): string {
  return value.replace(/\\([,|$\\])/g, '$1');
}

function splitEscaped(value: string, separator: string, unescape: boolean): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length && ',|$\\'.includes(value[i + 1])) {
      current += unescape || value[i + 1] === separator ? value[i + 1] : c + value[i + 1];
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}
