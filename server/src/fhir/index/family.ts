// A family of resources that differ only in one value: the AuditEvents of one search answer, one
// per patient (BALP), are identical but for the patient they name. Serialising and indexing one of
// them and copying the JSON and index rows with the value replaced costs a fraction of doing it for
// each: for a QIDO-RS answer of 100 patients it is most of the hub's work of auditing it.
import { isDeepStrictEqual } from 'node:util';
import type { Resource } from '@medplum/fhirtypes';
import type { SearchParameterRegistry } from '../search/parameters.js';
import { extractIndexRows, INDEX_TABLES, type IndexRows } from './extract.js';

/** Stands for each member's id in the template's JSON. */
export const FAMILY_ID = 'suhe-family-member-id';

// A second spelling of the slot and the id for the check in planFamily: other letters and other
// case, so that any lowercasing or other normalisation of either shows as a difference.
const PROBE_SLOT = 'Probe.Slot-Q7';
const PROBE_ID = 'Probe.Id-Z9';

// Members' values go into JSON text unescaped: only what a FHIR id may hold is accepted.
const VERBATIM_VALUE = /^[A-Za-z0-9\-.]{1,64}$/;

export interface FamilyPlan {
  /** The template's JSON, its id FAMILY_ID, naming `slot` where each member names its value. */
  json: string;
  rows: IndexRows;
  slot: string;
}

/**
 * The plan for copying `template` (prepared for storage, its id FAMILY_ID), or undefined when a copy
 * would not be what indexing the member itself gives: the template is indexed a second time with
 * the slot and id spelt differently, and the copy is used only when replacing them in the first
 * rows gives exactly the second. So a search parameter that normalises, parses or drops the value
 * turns the family back into resources indexed one by one.
 */
export function planFamily(template: Resource, slot: string, registry: SearchParameterRegistry): FamilyPlan | undefined {
  if (template.id !== FAMILY_ID) throw new Error(`a family template's id must be ${FAMILY_ID}`);
  const json = JSON.stringify(template);
  const rows = extractIndexRows(template, registry);
  const probe = JSON.parse(spell(json, slot, PROBE_SLOT, PROBE_ID)) as Resource;
  const probeRows = extractIndexRows(probe, registry);
  if (!isDeepStrictEqual(fillRows(rows, slot, PROBE_SLOT, PROBE_ID), probeRows)) return undefined;
  return { json, rows, slot };
}

/** Whether `value` can be copied into a member by planFamily's JSON and row substitution. */
export function isVerbatimValue(value: string): boolean {
  return VERBATIM_VALUE.test(value) && !value.includes(FAMILY_ID);
}

/** One member: the template's JSON and index rows with the slot replaced by `value`, under `id`. */
export function member(plan: FamilyPlan, value: string, id: string): { content: string; rows: IndexRows } {
  return { content: spell(plan.json, plan.slot, value, id), rows: fillRows(plan.rows, plan.slot, value, id) };
}

function spell(text: string, slot: string, value: string, id: string): string {
  return text.replaceAll(slot, value).replaceAll(FAMILY_ID, id);
}

function fillRows(rows: IndexRows, slot: string, value: string, id: string): IndexRows {
  const fill = (cell: unknown) => (typeof cell === 'string' && (cell.includes(slot) || cell.includes(FAMILY_ID)) ? spell(cell, slot, value, id) : cell);
  const out = {} as Record<keyof IndexRows, unknown[][]>;
  for (const table of INDEX_TABLES) out[table] = (rows[table] as unknown[][]).map((row) => row.map(fill));
  return out as unknown as IndexRows;
}

/** `value` with `slot` replaced by `replacement` in every string it holds (a member made the slow way). */
export function replaceStrings<T>(value: T, slot: string, replacement: string): T {
  if (typeof value === 'string') return value.replaceAll(slot, replacement) as T;
  if (Array.isArray(value)) return value.map((v) => replaceStrings(v, slot, replacement)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, slot, replacement)])) as T;
  return value;
}
