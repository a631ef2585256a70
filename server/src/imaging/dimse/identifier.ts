// C-FIND / C-MOVE / C-GET identifiers as dcmjs-dimse hands them over (naturalized: keyword ->
// value) and back: which keys were asked for, what each one matches (PS3.4 C.2.2.2 — the same
// semantics QIDO-RS has, so matching is compileQido's), and DICOM JSON attributes turned into
// the values dcmjs encodes.
import { keywordOf, normalizeTag, tagForKeyword, vrOf } from '../dictionary.js';

export type QrLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';

/** A refusal with its DIMSE status and an Error Comment. */
export class QueryRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestedKey {
  keyword: string;
  /** 8 upper-case hex digits. */
  tag: string;
  vr: string | undefined;
  /** What to match, in QIDO syntax; undefined = universal matching (return the attribute). */
  match?: string;
}

// Identifier attributes that are not query keys.
const NOT_KEYS = new Set(['QueryRetrieveLevel', 'SpecificCharacterSet', 'RetrieveAETitle', 'QueryRetrieveView', 'TimezoneOffsetFromUTC', 'InstanceAvailability', '_vrMap']);
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN', 'AT']);

export function queryLevel(identifier: Record<string, unknown>, root: 'patient' | 'study'): QrLevel {
  const raw = identifier.QueryRetrieveLevel;
  const level = (Array.isArray(raw) ? raw[0] : raw)?.toString().trim().toUpperCase();
  const allowed: QrLevel[] = root === 'patient' ? ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'] : ['STUDY', 'SERIES', 'IMAGE'];
  if (!level) throw new QueryRefused(0xa900, 'Query/Retrieve Level (0008,0052) is missing');
  if (!allowed.includes(level as QrLevel)) throw new QueryRefused(0xa900, `Query/Retrieve Level '${level.slice(0, 16)}' is not valid for the ${root} root model`);
  return level as QrLevel;
}

/** The keys of an identifier, in order; private and unknown tags are skipped. */
export function requestedKeys(identifier: Record<string, unknown>): RequestedKey[] {
  const keys: RequestedKey[] = [];
  for (const [name, value] of Object.entries(identifier)) {
    if (NOT_KEYS.has(name)) continue;
    const tag = tagForKeyword(name) ?? normalizeTag(name);
    if (!tag || tag.startsWith('0000') || tag.startsWith('0002') || Number.parseInt(tag.slice(3, 4), 16) % 2 === 1) continue;
    const vr = vrOf(tag);
    keys.push({ keyword: keywordOf(tag) ?? name, tag, vr, match: matchString(value, vr) });
  }
  return keys;
}

/** A naturalized value → a QIDO match string; undefined for universal matching. */
export function matchString(value: unknown, vr: string | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (vr === 'SQ') return undefined; // sequence matching is not supported: return the attribute
  let text: string;
  if (Array.isArray(value)) {
    if (!value.length) return undefined;
    if (vr === 'PN') {
      const first = value[0] as unknown;
      text = typeof first === 'object' && first ? personNameText(first as Record<string, unknown>) : String(first ?? '');
    } else {
      if (value.some((v) => typeof v === 'object' && v !== null)) return undefined;
      text = value.map((v) => String(v ?? '').trim()).join('\\');
    }
  } else if (typeof value === 'object') {
    text = vr === 'PN' ? personNameText(value as Record<string, unknown>) : '';
  } else {
    text = String(value);
  }
  text = text.replace(/[\0 ]+$/, '').trim();
  // Empty, or nothing but '*', is universal matching (PS3.4 C.2.2.2.3).
  if (!text || /^\*+$/.test(text) || /^\\+$/.test(text)) return undefined;
  return text;
}

function personNameText(name: Record<string, unknown>): string {
  for (const group of ['Alphabetic', 'Ideographic', 'Phonetic']) {
    const part = name[group];
    if (typeof part === 'string' && part.trim()) return part;
  }
  return '';
}

type JsonAttribute = { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string };
export const SKIP = Symbol('skip');

/**
 * A DICOM JSON attribute → the naturalized value dcmjs writes. Absent values become [] (a
 * zero-length element: dcmjs writes '' as a 0 for binary numbers). Binary VRs are skipped.
 */
export function naturalValue(attribute: JsonAttribute | undefined, vr: string | undefined): unknown {
  const type = attribute?.vr ?? vr;
  if (type && BINARY_VRS.has(type)) return SKIP;
  if (!attribute?.Value || attribute.Value.length === 0) return [];
  if (type === 'SQ') return attribute.Value.map((item) => naturalItem(item as Record<string, JsonAttribute>));
  if (type === 'PN') return attribute.Value.map((v) => (typeof v === 'object' && v ? v : { Alphabetic: String(v ?? '') }));
  const values = attribute.Value.filter((v) => v !== null && v !== undefined && (typeof v !== 'number' || Number.isFinite(v)));
  if (!values.length) return [];
  return values.length === 1 ? values[0] : values;
}

function naturalItem(item: Record<string, JsonAttribute>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [tag, attribute] of Object.entries(item)) {
    const keyword = keywordOf(tag);
    if (!keyword) continue;
    const value = naturalValue(attribute, attribute.vr);
    if (value !== SKIP) out[keyword] = value;
  }
  return out;
}
