// Identifiers for the hub's own queries to a PACS (Study Root C-FIND / C-MOVE, PS3.4 C.4): the
// caller's keys (keywords or tags → match strings) checked and turned into the naturalized form
// dcmjs-dimse encodes, the level's usual return keys added; and the naturalized identifiers the
// PACS answers with turned into the DICOM JSON model (PS3.18 F.2), as QIDO-RS would give them.
import type { DicomJsonAttribute, DicomJsonDataSet, DicomJsonValue } from '../dicom-json.js';
import { keywordOf, normalizeTag, tagForKeyword, vrOf } from '../dictionary.js';
import { isUid } from './part10.js';

export type RemoteLevel = 'STUDY' | 'SERIES' | 'IMAGE';
export const REMOTE_LEVELS: readonly RemoteLevel[] = ['STUDY', 'SERIES', 'IMAGE'];

/** A query the hub will not send, with a message for the caller. */
export class InvalidQuery extends Error {}

/** What the hub asks for at each level when the caller names no such key (universal matching). */
const RETURN_KEYS: Record<RemoteLevel, string[]> = {
  STUDY: ['StudyInstanceUID', 'PatientID', 'PatientName', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'AccessionNumber', 'StudyID', 'StudyDescription', 'ModalitiesInStudy', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'],
  SERIES: ['StudyInstanceUID', 'SeriesInstanceUID', 'Modality', 'SeriesNumber', 'SeriesDescription', 'SeriesDate', 'NumberOfSeriesRelatedInstances'],
  IMAGE: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID', 'InstanceNumber'],
};

// Set by the hub itself, never by the caller.
const RESERVED = new Set(['00080052', '00080005', '00080054', '00080056', '00088201']);
// Values of these VRs cannot be matched with a text key (PS3.4 C.2.2.2: sequences, binary, numbers).
const UNMATCHABLE_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN', 'SQ', 'AT', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV']);
const MAX_KEYS = 64;
const MAX_VALUE_LENGTH = 1024;
const DATE_RANGE = /^(\d{8})?(-(\d{8})?)?$/;
const TIME_RANGE = /^([\d.:]+)?(-([\d.:]+)?)?$/;
const DATETIME_RANGE = /^([\d.+-]*\d)?(-([\d.+-]*\d)?)?$/;

export interface QueryKey {
  keyword: string;
  tag: string;
  vr: string;
  /** '' = universal matching (return the attribute). */
  value: string;
}

/** Checks one caller key: a known, public attribute that can be matched, with a sensible value. */
export function queryKey(name: string, value: unknown): QueryKey {
  const tag = tagForKeyword(name) ?? normalizeTag(name);
  const keyword = tag ? keywordOf(tag) : undefined;
  const vr = tag ? vrOf(tag) : undefined;
  if (!tag || !keyword || !vr) throw new InvalidQuery(`'${name.slice(0, 64)}' is not a DICOM attribute keyword or tag`);
  if (tag.startsWith('0000') || tag.startsWith('0002') || (parseInt(tag.slice(0, 4), 16) & 1) === 1) throw new InvalidQuery(`${keyword} (${tag}) cannot be a query key`);
  if (RESERVED.has(tag)) throw new InvalidQuery(`${keyword} is set by the hub; give the level as "level"`);
  if (typeof value !== 'string') throw new InvalidQuery(`The value of ${keyword} must be a string ("" asks for the attribute without matching it)`);
  if (value.length > MAX_VALUE_LENGTH) throw new InvalidQuery(`The value of ${keyword} is longer than ${MAX_VALUE_LENGTH} characters`);
  if (/[\x00-\x1f\x7f]/.test(value)) throw new InvalidQuery(`The value of ${keyword} contains control characters`);
  const text = value.trim();
  if (text && UNMATCHABLE_VRS.has(vr)) throw new InvalidQuery(`${keyword} (${vr}) cannot be matched; give it as "" to have it returned`);
  if (text && vr === 'UI') {
    const bad = text.split('\\').find((uid) => !isUid(uid.trim()));
    if (bad !== undefined) throw new InvalidQuery(`${keyword}: '${bad.slice(0, 70)}' is not a UID (a list is separated by backslashes)`);
  }
  if (text && vr === 'DA' && (!DATE_RANGE.test(text) || text === '-')) throw new InvalidQuery(`${keyword}: '${text.slice(0, 40)}' is not a date (YYYYMMDD) or a range (YYYYMMDD-, -YYYYMMDD, YYYYMMDD-YYYYMMDD)`);
  if (text && vr === 'TM' && (!TIME_RANGE.test(text) || text === '-')) throw new InvalidQuery(`${keyword}: '${text.slice(0, 40)}' is not a time (HHMMSS) or a range`);
  if (text && vr === 'DT' && (!DATETIME_RANGE.test(text) || text === '-')) throw new InvalidQuery(`${keyword}: '${text.slice(0, 40)}' is not a date-time or a range`);
  return { keyword, tag, vr, value: text };
}

/**
 * The C-FIND identifier (naturalized, as dcmjs-dimse encodes it) for `keys` at `level`, with the
 * level's return keys and `fields` added for universal matching.
 */
export function findIdentifier(level: RemoteLevel, keys: Record<string, unknown>, fields: string[] = []): { identifier: Record<string, unknown>; keys: QueryKey[] } {
  if (!REMOTE_LEVELS.includes(level)) throw new InvalidQuery(`The level must be one of ${REMOTE_LEVELS.join(', ')}`);
  const entries = Object.entries(keys);
  if (entries.length + fields.length > MAX_KEYS) throw new InvalidQuery(`At most ${MAX_KEYS} query keys and fields`);
  const checked = entries.map(([name, value]) => queryKey(name, value));
  const seen = new Set<string>();
  for (const key of checked) {
    if (seen.has(key.tag)) throw new InvalidQuery(`${key.keyword} is given twice`);
    seen.add(key.tag);
  }
  for (const name of [...RETURN_KEYS[level], ...fields]) {
    const key = queryKey(name, '');
    if (!seen.has(key.tag)) {
      seen.add(key.tag);
      checked.push(key);
    }
  }
  const identifier: Record<string, unknown> = { QueryRetrieveLevel: level };
  // UTF-8 only when a value needs it: not every PACS knows ISO_IR 192.
  if (checked.some((k) => /[^\x20-\x7e]/.test(k.value))) identifier.SpecificCharacterSet = 'ISO_IR 192';
  for (const key of checked) identifier[key.keyword] = naturalQueryValue(key);
  return { identifier, keys: checked };
}

/** A match string as dcmjs writes it: [] for a zero-length value, a list for backslash-separated values. */
function naturalQueryValue(key: QueryKey): unknown {
  if (!key.value) return [];
  const values = key.value.split('\\').map((v) => v.trim());
  if (key.vr === 'PN') return values.map((v) => ({ Alphabetic: v }));
  return values.length === 1 ? values[0] : values;
}

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const NUMBER_VRS = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV']);
// Leading spaces are significant in these (PS3.5 6.2); trailing ones never are.
const KEEP_LEADING = new Set(['LT', 'ST', 'UT', 'UR', 'UC']);

/** A naturalized data set (dcmjs: keyword → value, `_vrMap` for ambiguous VRs) → DICOM JSON. */
export function naturalToDicomJson(elements: Record<string, unknown>): DicomJsonDataSet {
  const vrMap = (elements._vrMap ?? {}) as Record<string, string>;
  const out: [string, DicomJsonAttribute][] = [];
  for (const [name, value] of Object.entries(elements)) {
    if (name === '_vrMap') continue;
    const tag = tagForKeyword(name) ?? normalizeTag(name);
    if (!tag || tag.startsWith('0000') || tag.startsWith('0002')) continue;
    const vr = vrMap[name] ?? vrOf(tag) ?? 'UN';
    out.push([tag, jsonAttribute(vr, value)]);
  }
  out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(out);
}

function jsonAttribute(vr: string, value: unknown): DicomJsonAttribute {
  if (value === null || value === undefined || value === '') return { vr };
  if (BINARY_VRS.has(vr)) {
    const bytes = binaryOf(value);
    return bytes && bytes.length ? { vr, InlineBinary: bytes.toString('base64') } : { vr };
  }
  const items = Array.isArray(value) ? value : [value];
  if (vr === 'SQ') return items.length ? { vr, Value: items.map((item) => naturalToDicomJson((item ?? {}) as Record<string, unknown>)) } : { vr };
  const values: DicomJsonValue[] = items.map((item) => jsonValue(vr, item));
  if (!values.length || values.every((v) => v === null)) return { vr };
  return { vr, Value: values };
}

function jsonValue(vr: string, item: unknown): DicomJsonValue {
  if (item === null || item === undefined) return null;
  if (vr === 'PN') {
    if (typeof item === 'object') {
      const name: Record<string, string> = {};
      for (const group of ['Alphabetic', 'Ideographic', 'Phonetic']) {
        const part = (item as Record<string, unknown>)[group];
        if (typeof part === 'string' && part.trim()) name[group] = part.trim();
      }
      return Object.keys(name).length ? name : null;
    }
    const text = String(item).trim();
    return text ? { Alphabetic: text } : null;
  }
  if (typeof item === 'number') return Number.isFinite(item) ? item : null;
  if (typeof item === 'bigint') return item.toString();
  if (NUMBER_VRS.has(vr) || vr === 'IS' || vr === 'DS') {
    const text = String(item).trim();
    const number = Number(text);
    return text && Number.isFinite(number) && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? number : text || null;
  }
  const text = String(item).replace(/[\0 ]+$/, '');
  const trimmed = KEEP_LEADING.has(vr) ? text : text.trimStart();
  return trimmed ? trimmed : null;
}

function binaryOf(value: unknown): Buffer | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first instanceof ArrayBuffer) return Buffer.from(first);
  if (ArrayBuffer.isView(first)) return Buffer.from(first.buffer, first.byteOffset, first.byteLength);
  return undefined;
}
