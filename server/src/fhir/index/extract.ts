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
  /** `patient`: the patient the resource belongs to (see keyTokensByPatient), set last. */
  token: [param: string, system: string | null, code: string | null, display: string | null, patient?: string | null][];
  date: [param: string, lo: string, hi: string][];
  number: [param: string, value: string][];
  quantity: [param: string, system: string | null, code: string | null, unit: string | null, value: string][];
  reference: [param: string, targetType: string | null, targetId: string | null, reference: string][];
  uri: [param: string, value: string][];
  /** One row per combination of component values; `parts` holds each component's columns. */
  composite: [param: string, c0: string | null, parts: string][];
}

export type IndexTable = keyof IndexRows;
export const INDEX_TABLES: IndexTable[] = ['string', 'token', 'date', 'number', 'quantity', 'reference', 'uri', 'composite'];

/** The columns of one index value without its parameter: one IndexRows tuple minus `param`. */
type Columns = (string | null)[];

/**
 * Extra token rows that serve two modifiers without new tables: `identifier:of-type` (system and
 * code of the identifier's type; display = the identifier's value) and `subject:identifier`
 * (a Reference's logical identifier). Their names cannot clash with parameter codes.
 */
export const OF_TYPE_SUFFIX = ':of-type';
export const IDENTIFIER_SUFFIX = ':identifier';

export function emptyIndexRows(): IndexRows {
  return { string: [], token: [], date: [], number: [], quantity: [], reference: [], uri: [], composite: [] };
}

export function extractIndexRows(resource: Resource, registry: SearchParameterRegistry): IndexRows {
  const rows = emptyIndexRows();
  const input = [toTypedValue(resource)];
  for (const param of registry.indexedForType(resource.resourceType)) {
    if (param.requiredKeys && !param.requiredKeys.some((key) => key in resource)) continue;
    let values: TypedValue[];
    try {
      values = param.walk ? param.walk(resource as unknown as Record<string, unknown>) : evalFhirPathTyped(param.atom, input);
    } catch {
      continue; // an expression that cannot evaluate on this resource indexes nothing
    }
    for (const value of values) addValue(rows, param, value);
  }
  return keyTokensByPatient(dedupe(rows));
}

/**
 * Gives each token row the patient the resource belongs to, so that a code within one patient's
 * record is one index range (migration 011, which backfills with the same rule): the Patient
 * targets of the `patient` parameter or, where it has none, of `subject`. A resource of several
 * patients has its token rows once per patient; one of none has them once, with patient null.
 * Searches rely on this (search/where.ts pinnedPatient, parameters.ts keysTokensBy): change them together.
 */
function keyTokensByPatient(rows: IndexRows): IndexRows {
  const patientsOf = (code: string) => [...new Set(rows.reference.filter(([param, type, id]) => param === code && type === 'Patient' && id).map(([, , id]) => id!))];
  const fromPatient = patientsOf('patient');
  const patients = fromPatient.length ? fromPatient : patientsOf('subject');
  rows.token = patients.length <= 1
    ? rows.token.map(([param, system, code, display]) => [param, system, code, display, patients[0] ?? null])
    : rows.token.flatMap(([param, system, code, display]) => patients.map((patient) => [param, system, code, display, patient] as IndexRows['token'][number]));
  return rows;
}

function addValue(rows: IndexRows, param: SearchParamDef, typed: TypedValue): void {
  if (typed.value === undefined || typed.value === null) return;
  const code = param.code;
  if (param.type === 'composite') {
    for (const parts of compositeParts(param, typed)) {
      rows.composite.push([code, param.components![0].type === 'token' ? parts[0][1] : null, JSON.stringify(parts)]);
    }
    return;
  }
  const table = rows[param.type as Exclude<IndexTable, 'composite'>] as unknown[][] | undefined;
  if (!table) return;
  for (const columns of valueColumns(param.type, typed)) table.push([code, ...columns]);
  if (param.type === 'token' && typed.type === 'Identifier') {
    for (const coding of typed.value.type?.coding ?? []) {
      if (coding.code && typed.value.value) rows.token.push([code + OF_TYPE_SUFFIX, coding.system ?? null, coding.code, typed.value.value]);
    }
  }
  if (param.type === 'reference' && typeof typed.value === 'object') {
    const identifier = typed.value.identifier;
    if (identifier?.value) rows.token.push([code + IDENTIFIER_SUFFIX, identifier.system ?? null, identifier.value, null]);
  }
}

/** The index columns one value gives for a parameter type (several for a CodeableConcept). */
export function valueColumns(type: string, { type: valueType, value }: TypedValue): Columns[] {
  if (value === undefined || value === null) return [];
  switch (type) {
    case 'string':
      return stringParts(valueType, value).map((text) => [text, normalizeString(text)]);
    case 'token':
      return tokenParts(valueType, value);
    case 'date': {
      const range = dateParts(valueType, value);
      return range ? [[range.lo, range.hi]] : [];
    }
    case 'number':
      return typeof value === 'number' ? [[String(value)]] : [];
    case 'quantity':
      return typeof value === 'object' && typeof value.value === 'number'
        ? [[value.system ?? null, value.code ?? value.currency ?? null, value.unit ?? null, String(value.value)]]
        : [];
    case 'reference': {
      const reference = typeof value === 'string' ? value : value.reference;
      // A Reference by identifier or display only still counts as present (`:missing=false`);
      // its empty row matches no reference search.
      if (typeof reference !== 'string' || !reference) return typeof value === 'object' && (value.identifier || value.display) ? [[null, null, '']] : [];
      const target = parseReference(reference);
      return [[target?.type ?? null, target?.id ?? null, reference]];
    }
    case 'uri':
      return typeof value === 'string' ? [[value]] : [];
    default:
      return [];
  }
}

/**
 * A composite value: for one element reached by the parameter's expression (an Observation, or
 * one of its components), every combination of its components' values, so that
 * `component-code-value-quantity=8480-6$gt140` matches a code and a value of the SAME component.
 */
function compositeParts(param: SearchParamDef, root: TypedValue): Columns[][] {
  let combinations: Columns[][] = [[]];
  for (const component of param.components!) {
    let values: TypedValue[];
    try {
      values = evalFhirPathTyped(component.atom, [root]);
    } catch {
      return [];
    }
    const columns = values.flatMap((v) => valueColumns(component.type, v));
    combinations = combinations.flatMap((prefix) => columns.map((c) => [...prefix, c]));
    if (combinations.length === 0) return [];
  }
  return combinations;
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

/** The display column holds text for `:text`, normalised as string search normalises (case, accents). */
function displayText(text: unknown): string | null {
  return typeof text === 'string' && text ? normalizeString(text) : null;
}

function tokenParts(type: string, value: any): TokenPart[] {
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return [[null, String(value), null]];
  switch (type) {
    case 'Coding':
      return [[value.system ?? null, value.code ?? null, displayText(value.display)]];
    case 'CodeableConcept': {
      const codings: TokenPart[] = (value.coding ?? []).map((c: any) => [c.system ?? null, c.code ?? null, displayText(c.display ?? value.text)]);
      if (value.text) codings.push([null, null, displayText(value.text)]);
      return codings;
    }
    case 'Identifier':
      return value.value || value.system ? [[value.system ?? null, value.value ?? null, displayText(value.type?.text)]] : [];
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
