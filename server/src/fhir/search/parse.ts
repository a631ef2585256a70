// Parses a FHIR search query string into a SearchRequest, rejecting what the server cannot
// answer with a 400 that names the parameter (or, under `Prefer: handling=lenient`, ignoring it).
import { Invalid } from '../errors.js';
import type { SearchRequest, SearchFilter, SortKey, TotalMode } from './model.js';
import type { SearchParameterRegistry } from './parameters.js';

export interface SearchLimits {
  defaultCount: number;
  maxCount: number;
  defaultTotal: TotalMode;
}

/** Parameters that shape the result rather than filter it. */
const RESULT_PARAMS = new Set(['_count', '_sort', '_total', '_cursor', '_format', '_pretty']);

const MODIFIERS: Record<string, string[]> = {
  string: ['exact', 'contains', 'missing'],
  token: ['not', 'text', 'missing'],
  date: ['missing'],
  number: ['missing'],
  quantity: ['missing'],
  reference: ['missing'],
  uri: ['below', 'missing'],
};

export function parseSearchRequest(
  resourceType: string,
  query: [string, string][],
  registry: SearchParameterRegistry,
  limits: SearchLimits,
  lenient = false,
): SearchRequest {
  const request: SearchRequest = {
    resourceType,
    filters: [],
    sort: [],
    count: limits.defaultCount,
    total: limits.defaultTotal,
    ignored: [],
    query: query.filter(([k]) => k !== '_cursor'),
  };
  const reject = (name: string, why: string) => {
    if (lenient) request.ignored.push(name);
    else throw new Invalid(`Search parameter '${name}': ${why}`, [name]);
  };

  for (const [rawName, value] of query) {
    const [name, modifier] = splitModifier(rawName);
    if (RESULT_PARAMS.has(name)) {
      applyResultParam(request, name, value, registry, limits);
      continue;
    }
    if (name.includes('.') || name.startsWith('_has')) {
      reject(rawName, 'chained and reverse-chained search are not supported yet');
      continue;
    }
    const param = registry.get(resourceType, name);
    if (!param) {
      reject(rawName, `unknown for ${resourceType}`);
      continue;
    }
    if (param.type === 'composite' || param.type === 'special') {
      reject(rawName, `${param.type} parameters are not supported yet`);
      continue;
    }
    const isReferenceType = param.type === 'reference' && modifier !== undefined && registry.isResourceType(modifier);
    if (modifier !== undefined && !isReferenceType && !(MODIFIERS[param.type] ?? []).includes(modifier)) {
      reject(rawName, `modifier ':${modifier}' is not supported on ${param.type} parameters`);
      continue;
    }
    if (modifier === 'missing' && value !== 'true' && value !== 'false') {
      reject(rawName, "':missing' takes true or false");
      continue;
    }
    const values = splitValues(value);
    if (values.length === 0 || values.some((v) => v === '')) {
      reject(rawName, 'needs a value');
      continue;
    }
    const filter: SearchFilter = { param, modifier, values };
    request.filters.push(filter);
  }
  return request;
}

function applyResultParam(request: SearchRequest, name: string, value: string, registry: SearchParameterRegistry, limits: SearchLimits): void {
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
    case '_sort':
      request.sort = value.split(',').filter(Boolean).map((key): SortKey => {
        const descending = key.startsWith('-');
        const code = descending ? key.slice(1) : key;
        const param = registry.get(request.resourceType, code);
        if (!param || param.type === 'composite' || param.type === 'special') {
          throw new Invalid(`_sort: '${code}' is not a sortable search parameter of ${request.resourceType}`, ['_sort']);
        }
        return { param, descending };
      });
      break;
  }
}

function splitModifier(name: string): [string, string | undefined] {
  const i = name.indexOf(':');
  return i < 0 ? [name, undefined] : [name.slice(0, i), name.slice(i + 1)];
}

/** Splits on commas that are not escaped as `\,`; `\,` `\|` `\$` `\\` keep their literal meaning. */
export function splitValues(value: string): string[] {
  const values: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length && value[i + 1] === ',') {
      current += ',';
      i++;
    } else if (c === ',') {
      values.push(current);
      current = '';
    } else current += c;
  }
  values.push(current);
  return values;
}

/** Splits a token/quantity value on the first unescaped `|`. */
export function splitPipe(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length && (value[i + 1] === '|' || value[i + 1] === '\\' || value[i + 1] === '$')) {
      current += value[i + 1];
      i++;
    } else if (c === '|') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}
