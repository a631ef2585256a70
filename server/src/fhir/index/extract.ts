// Turns a resource into the rows of the typed search-index tables, by evaluating each search
// parameter's FHIRPath expression (parsed once, see search/parameters.ts) with @medplum/core.
import { evalFhirPathTyped, toTypedValue, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { SearchParamDef, SearchParameterRegistry } from '../search/parameters.js';
import { dateRange, MAX_INSTANT, MIN_INSTANT } from './date-range.js';
import { parseReference } from './extract-reference.js';
import { normalizeString } from './normalize.js';

export { parseReference };

export interface IndexRows {
  string: [param: string, value: string, norm: string][];
  token: [param: string, system: string | null, code: string | null, display: string | null][];
  date: [param: string, lo: string, hi: string][];
  number: [param: string, value: string][];
  quantity: [param: string, system: string | null, code: string | null, unit: string | null, value: string][];
  reference: [param: string, targetType: string | null, targetId: string | null, reference: string][];
  uri: [param: string, value: string][];
}

export type IndexTable = keyof IndexRows;
export const INDEX_TABLES: IndexTable[] = ['string', 'token', 'date', 'number', 'quantity', 'reference', 'uri'];

export function emptyIndexRows(): IndexRows {
  return { string: [], token: [], date: [], number: [], quantity: [], reference: [], uri: [] };
}

export function extractIndexRows(resource: Resource, registry: SearchParameterRegistry): IndexRows {
  const rows = emptyIndexRows();
  const input = [toTypedValue(resource)];
  for (const param of registry.indexedForType(resource.resourceType)) {
    let values: TypedValue[];
    try {
      values = param.walk ? param.walk(resource as unknown as Record<string, unknown>) : evalFhirPathTyped(param.atom, input);
    } catch {
      continue; // an expression that cannot evaluate on this resource indexes nothing
    }
    for (const value of values) addValue(rows, param, value);
  }
  return dedupe(rows);
}

function addValue(rows: IndexRows, param: SearchParamDef, { type, value }: TypedValue): void {
  if (value === undefined || value === null) return;
  const code = param.code;
  switch (param.type) {
    case 'string':
      for (const text of stringParts(type, value)) rows.string.push([code, text, normalizeString(text)]);
      break;
    case 'token':
      rows.token.push(...tokenParts(type, value).map((t) => [code, ...t] as IndexRows['token'][number]));
      break;
    case 'date': {
      const range = dateParts(type, value);
      if (range) rows.date.push([code, range.lo, range.hi]);
      break;
    }
    case 'number':
      if (typeof value === 'number') rows.number.push([code, String(value)]);
      break;
    case 'quantity':
      if (typeof value === 'object' && typeof value.value === 'number') {
        rows.quantity.push([code, value.system ?? null, value.code ?? value.currency ?? null, value.unit ?? null, String(value.value)]);
      }
      break;
    case 'reference': {
      const reference = typeof value === 'string' ? value : value.reference;
      if (typeof reference === 'string' && reference) {
        const target = parseReference(reference);
        rows.reference.push([code, target?.type ?? null, target?.id ?? null, reference]);
      }
      break;
    }
    case 'uri':
      if (typeof value === 'string') rows.uri.push([code, value]);
      break;
  }
}

function stringParts(type: string, value: any): string[] {
  if (typeof value === 'string') return [value];
  if (type === 'HumanName') return [value.text, value.family, ...(value.given ?? []), ...(value.prefix ?? []), ...(value.suffix ?? [])].filter(isText);
  if (type === 'Address') {
    return [value.text, ...(value.line ?? []), value.city, value.district, value.state, value.postalCode, value.country].filter(isText);
  }
  return [];
}

type TokenPart = [system: string | null, code: string | null, display: string | null];

function tokenParts(type: string, value: any): TokenPart[] {
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return [[null, String(value), null]];
  switch (type) {
    case 'Coding':
      return [[value.system ?? null, value.code ?? null, value.display ?? null]];
    case 'CodeableConcept': {
      const codings: TokenPart[] = (value.coding ?? []).map((c: any) => [c.system ?? null, c.code ?? null, c.display ?? value.text ?? null]);
      if (value.text) codings.push([null, null, value.text]);
      return codings;
    }
    case 'Identifier':
      return value.value || value.system ? [[value.system ?? null, value.value ?? null, value.type?.text ?? null]] : [];
    case 'ContactPoint':
      return value.value ? [[value.system ?? null, value.value, null]] : [];
    default:
      return [];
  }
}

function dateParts(type: string, value: any): { lo: string; hi: string } | undefined {
  if (typeof value === 'string') return dateRange(value);
  if (type === 'Period') {
    const start = value.start ? dateRange(value.start) : undefined;
    const end = value.end ? dateRange(value.end) : undefined;
    if (!start && !end) return undefined;
    return { lo: start?.lo ?? MIN_INSTANT, hi: end?.hi ?? MAX_INSTANT };
  }
  if (type === 'Timing') {
    const events = (value.event ?? []).map((e: string) => dateRange(e)).filter(Boolean) as { lo: string; hi: string }[];
    if (!events.length) return undefined;
    return { lo: events.map((e) => e.lo).sort()[0], hi: events.map((e) => e.hi).sort().at(-1)! };
  }
  return undefined;
}

function isText(v: unknown): v is string {
  return typeof v === 'string' && v.trim().length > 0;
}

/** The same value reached through two branches of an expression is one index row. */
function dedupe(rows: IndexRows): IndexRows {
  for (const table of INDEX_TABLES) {
    const seen = new Set<string>();
    (rows as any)[table] = (rows[table] as unknown[][]).filter((row) => {
      const key = JSON.stringify(row);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  return rows;
}
