// QIDO-RS (PS3.18 §10.6): query keys → one SQL statement over the DICOM index, rows → DICOM JSON.
// Matching (PS3.4 C.2.2.2): single value (exact; person names ignore case), wildcard (* and ?),
// range (dates and times, `a-b`, `a-`, `-b`), UID and value lists (commas), universal (empty
// value: matches all, returns the attribute). `fuzzymatching=true` matches a person name by the
// start of any of its components. Keys are keywords (PatientName) or tags (00100010).
import { Invalid } from '../fhir/errors.js';
import { tagForKeyword } from './dictionary.js';

export type QidoLevel = 'study' | 'series' | 'instance';

interface KeyDef {
  tag: string;
  keyword: string;
  vr: string;
  level: QidoLevel;
  column: string;
  match: 'text' | 'name' | 'range' | 'uid' | 'list' | 'integer' | 'array';
}

export const KEYS: KeyDef[] = [
  { tag: '0020000D', keyword: 'StudyInstanceUID', vr: 'UI', level: 'study', column: 's.study_uid', match: 'uid' },
  { tag: '00100010', keyword: 'PatientName', vr: 'PN', level: 'study', column: 's.patient_name_key', match: 'name' },
  { tag: '00100020', keyword: 'PatientID', vr: 'LO', level: 'study', column: 's.patient_id', match: 'text' },
  { tag: '00100021', keyword: 'IssuerOfPatientID', vr: 'LO', level: 'study', column: 's.issuer_of_patient_id', match: 'text' },
  { tag: '00100030', keyword: 'PatientBirthDate', vr: 'DA', level: 'study', column: 's.patient_birth_date', match: 'range' },
  { tag: '00100040', keyword: 'PatientSex', vr: 'CS', level: 'study', column: 's.patient_sex', match: 'list' },
  { tag: '00080020', keyword: 'StudyDate', vr: 'DA', level: 'study', column: 's.study_date', match: 'range' },
  { tag: '00080030', keyword: 'StudyTime', vr: 'TM', level: 'study', column: 's.study_time', match: 'range' },
  { tag: '00080050', keyword: 'AccessionNumber', vr: 'SH', level: 'study', column: 's.accession_number', match: 'text' },
  { tag: '00200010', keyword: 'StudyID', vr: 'SH', level: 'study', column: 's.study_id', match: 'text' },
  { tag: '00081030', keyword: 'StudyDescription', vr: 'LO', level: 'study', column: 's.study_description', match: 'text' },
  { tag: '00080090', keyword: 'ReferringPhysicianName', vr: 'PN', level: 'study', column: 's.referring_physician_name', match: 'name' },
  { tag: '00080080', keyword: 'InstitutionName', vr: 'LO', level: 'study', column: 's.institution_name', match: 'text' },
  { tag: '00080061', keyword: 'ModalitiesInStudy', vr: 'CS', level: 'study', column: 's.modalities', match: 'array' },
  { tag: '0020000E', keyword: 'SeriesInstanceUID', vr: 'UI', level: 'series', column: 'se.series_uid', match: 'uid' },
  { tag: '00080060', keyword: 'Modality', vr: 'CS', level: 'series', column: 'se.modality', match: 'list' },
  { tag: '00200011', keyword: 'SeriesNumber', vr: 'IS', level: 'series', column: 'se.series_number', match: 'integer' },
  { tag: '0008103E', keyword: 'SeriesDescription', vr: 'LO', level: 'series', column: 'se.series_description', match: 'text' },
  { tag: '00180015', keyword: 'BodyPartExamined', vr: 'CS', level: 'series', column: 'se.body_part', match: 'list' },
  { tag: '00400244', keyword: 'PerformedProcedureStepStartDate', vr: 'DA', level: 'series', column: 'se.performed_start_date', match: 'range' },
  { tag: '00400245', keyword: 'PerformedProcedureStepStartTime', vr: 'TM', level: 'series', column: 'se.performed_start_time', match: 'range' },
  { tag: '00080018', keyword: 'SOPInstanceUID', vr: 'UI', level: 'instance', column: 'i.sop_instance_uid', match: 'uid' },
  { tag: '00080016', keyword: 'SOPClassUID', vr: 'UI', level: 'instance', column: 'i.sop_class_uid', match: 'uid' },
  { tag: '00200013', keyword: 'InstanceNumber', vr: 'IS', level: 'instance', column: 'i.instance_number', match: 'integer' },
];
const BY_NAME = new Map<string, KeyDef>(KEYS.flatMap((k) => [[k.tag, k], [k.keyword.toLowerCase(), k]]));
const LEVEL_RANK: Record<QidoLevel, number> = { study: 0, series: 1, instance: 2 };
const CONTROL = new Set(['limit', 'offset', 'fuzzymatching', 'includefield']);
export const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;

export interface QidoQuery {
  level: QidoLevel;
  /** From the path: /studies/{uid}/series, /studies/{uid}/series/{uid}/instances. */
  studyUid?: string;
  seriesUid?: string;
  params: [string, string][];
  /** Patients whose studies the caller may see: all, these, or all but these. */
  visible: 'all' | readonly string[] | { allExcept: readonly string[] };
  /** Studies shared with the caller, visible whatever their patient. */
  shared?: readonly string[];
}

export interface CompiledQido {
  sql: string;
  values: unknown[];
  limit: number;
  offset: number;
  includeFields: Set<string> | 'all';
  /** Query keys that were not understood and were ignored (reported in a Warning header). */
  ignored: string[];
}

/** Matching keys of one query: 500 repeated PatientName wildcards took PostgreSQL 0.8 s to plan. */
const MAX_MATCH_KEYS = 32;

export function compileQido(query: QidoQuery): CompiledQido {
  const values: unknown[] = [];
  const bind = (v: unknown) => `$${values.push(v)}`;
  const where: string[] = [];
  const ignored: string[] = [];
  let limit = DEFAULT_LIMIT;
  let offset = 0;
  let fuzzy = false;
  const includeFields = new Set<string>();
  let includeAll = false;
  // PostgreSQL's text cannot hold a NUL, and no DICOM value does either.
  if ([query.studyUid, query.seriesUid, ...query.params.flat()].some((text) => text?.includes('\u0000'))) {
    throw new Invalid('The query holds a NUL character (%00), which no DICOM key or value may contain');
  }
  for (const [name, value] of query.params) {
    const lower = name.toLowerCase();
    if (lower === 'limit') limit = count(name, value, 1, MAX_LIMIT);
    else if (lower === 'offset') offset = count(name, value, 0, Number.MAX_SAFE_INTEGER);
    else if (lower === 'fuzzymatching') fuzzy = value === 'true';
    else if (lower === 'includefield') {
      for (const field of value.split(',')) {
        if (field === 'all') includeAll = true;
        else {
          const tag = tagOf(field);
          if (tag) includeFields.add(tag);
          else ignored.push(`includefield=${field}`);
        }
      }
    }
  }
  for (const [name, value] of query.params) {
    if (CONTROL.has(name.toLowerCase())) continue;
    const key = BY_NAME.get(name.length === 8 && /^[0-9a-fA-F]{8}$/.test(name) ? name.toUpperCase() : name.toLowerCase());
    if (!key || LEVEL_RANK[key.level] > LEVEL_RANK[query.level]) {
      ignored.push(name);
      continue;
    }
    includeFields.add(key.tag);
    const matching = value === '' ? undefined : condition(key, value, fuzzy, bind);
    if (matching) where.push(matching); // else universal matching
    if (where.length > MAX_MATCH_KEYS) throw new Invalid(`A query takes at most ${MAX_MATCH_KEYS} matching keys (a key's alternatives go in one comma-separated value)`);
  }
  if (query.studyUid) where.push(`s.study_uid = ${bind(query.studyUid)}`);
  if (query.seriesUid) where.push(`se.series_uid = ${bind(query.seriesUid)}`);
  const { visible } = query;
  const sharedToo = (condition: string) => (query.shared?.length ? `(${condition} or s.study_uid = any(${bind(query.shared)}))` : condition);
  if (Array.isArray(visible)) where.push(sharedToo(`s.patient_ref = any(${bind(visible)})`));
  else if (visible !== 'all') where.push(sharedToo(`(s.patient_ref is null or not (s.patient_ref = any(${bind((visible as { allExcept: readonly string[] }).allExcept)})))`));
  const from = {
    study: 'dicom_study s',
    series: 'dicom_series se join dicom_study s on s.study_uid = se.study_uid',
    instance: 'dicom_instance i join dicom_series se on se.series_uid = i.series_uid join dicom_study s on s.study_uid = se.study_uid',
  }[query.level];
  const order = { study: 's.seq', series: 'se.seq', instance: 'i.instance_number nulls last, i.seq' }[query.level];
  const columns = { study: 's.*', series: 's.*, se.*, se.seq as series_seq', instance: 's.*, se.*, i.*, i.seq as instance_seq' }[query.level];
  const wantsMetadata = includeAll || [...includeFields].some((tag) => !KEYS.some((k) => k.tag === tag));
  const metadata = !wantsMetadata
    ? ''
    : query.level === 'instance'
      ? ', i.metadata as sample_metadata'
      : `, (select m.metadata from dicom_instance m where m.${query.level === 'study' ? 'study_uid = s.study_uid' : 'series_uid = se.series_uid'} order by m.seq limit 1) as sample_metadata`;
  const sql = `select ${columns}${metadata} from ${from}${where.length ? ` where ${where.join(' and ')}` : ''} order by ${order} limit ${bind(limit)} offset ${bind(offset)}`;
  return { sql, values, limit, offset, includeFields: includeAll ? 'all' : includeFields, ignored };
}

/** The SQL condition of one key's value; undefined for universal matching (a list of no values). */
function condition(key: KeyDef, value: string, fuzzy: boolean, bind: (v: unknown) => string): string | undefined {
  const col = key.column;
  switch (key.match) {
    case 'uid': {
      const uids = value.split(/[,\\]/).map((u) => u.trim()).filter(Boolean);
      if (uids.length === 0) return undefined;
      if (uids.some((u) => !/^[0-9.]{1,64}$/.test(u))) throw new Invalid(`${key.keyword}: '${value}' is not a UID or a comma-separated list of UIDs`);
      return uids.length === 1 ? `${col} = ${bind(uids[0])}` : `${col} = any(${bind(uids)})`;
    }
    case 'range':
      return rangeCondition(key, value, bind);
    case 'integer': {
      if (!/^[+-]?\d{1,9}$/.test(value.trim())) throw new Invalid(`${key.keyword}: '${value}' is not an integer`);
      return `${col} = ${bind(Number(value))}`;
    }
    case 'array': {
      const codes = value.split(/[,\\]/).map((c) => c.trim()).filter(Boolean);
      return codes.length === 0 ? undefined : `${col} && ${bind(codes)}::text[]`;
    }
    case 'list': {
      const codes = value.split(/[,\\]/).map((c) => c.trim()).filter(Boolean);
      if (codes.length === 0) return undefined;
      return codes.length === 1 ? textCondition(col, codes[0], bind) : `(${codes.map((c) => textCondition(col, c, bind)).join(' or ')})`;
    }
    case 'name':
      return nameCondition(col, value, fuzzy, bind);
    default:
      return textCondition(col, value, bind);
  }
}

function textCondition(col: string, value: string, bind: (v: unknown) => string): string {
  if (!/[*?]/.test(value)) return `${col} = ${bind(value)}`;
  return `${col} like ${bind(likePattern(value))}`;
}

// Person names are matched without regard to case, on any component group (alphabetic,
// ideographic, phonetic are kept as 'A=I=P' upper-cased in one key).
function nameCondition(col: string, value: string, fuzzy: boolean, bind: (v: unknown) => string): string {
  const upper = value.toUpperCase();
  const target = col === 's.referring_physician_name' ? `upper(${col})` : col;
  if (fuzzy) {
    // Any name component beginning with the value: at the start, or after ^, = or a space.
    const p = likePattern(upper.endsWith('*') ? upper : `${upper}*`);
    const starts = ['', '%^', '%=', '% '].map((prefix) => `${target} like ${bind(prefix + p)}`);
    return `(${starts.join(' or ')})`;
  }
  if (col === 's.referring_physician_name') return `${target} like ${bind(`%${likePattern(upper).replace(/^%|%$/g, '')}%`)}`;
  // Single value or wildcard matching against each component group (each has its own index).
  const groups = ['s.patient_name_alphabetic', 's.patient_name_ideographic', 's.patient_name_phonetic'];
  const wild = /[*?]/.test(value);
  const operand = bind(wild ? likePattern(upper) : upper);
  return `(${groups.map((g) => `${g} ${wild ? 'like' : '='} ${operand}`).join(' or ')})`;
}

function rangeCondition(key: KeyDef, value: string, bind: (v: unknown) => string): string {
  const pattern = key.vr === 'DA' ? /^\d{8}$/ : /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/;
  const dash = value.indexOf('-');
  const [from, to] = dash < 0 ? [value, value] : [value.slice(0, dash), value.slice(dash + 1)];
  for (const part of [from, to]) {
    const text = part.replace(/[.:]/g, (c) => (key.vr === 'DA' && c === '.' ? '' : c === ':' ? '' : c));
    if (part && (!pattern.test(text) || !(key.vr === 'DA' ? isCalendarDate(text) : isClockTime(text)))) {
      throw new Invalid(`${key.keyword}: '${value}' is not a ${key.vr === 'DA' ? 'date (YYYYMMDD)' : 'time (HHMMSS)'} or a range of them (a-b, a-, -b)`);
    }
  }
  if (!from && !to) throw new Invalid(`${key.keyword}: '${value}' is an empty range`);
  const clean = (v: string) => (key.vr === 'DA' ? v.replace(/\./g, '') : v.replace(/:/g, ''));
  if (dash < 0) return key.vr === 'DA' ? `${key.column} = ${bind(clean(from))}` : `${key.column} like ${bind(`${clean(from)}%`)}`;
  const parts: string[] = [];
  if (from) parts.push(`${key.column} >= ${bind(clean(from))}`);
  // An upper time bound of 10 means up to 10:59:59.999999: compare with a padded bound.
  if (to) parts.push(`${key.column} <= ${bind(key.vr === 'DA' ? clean(to) : `${clean(to)}~`)}`);
  return parts.join(' and ');
}

/** YYYYMMDD naming a day of the calendar (20231399 does not). */
function isCalendarDate(text: string): boolean {
  const [year, month, day] = [text.slice(0, 4), text.slice(4, 6), text.slice(6, 8)].map(Number);
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** HH[MM[SS[.F]]] within a day's clock. */
function isClockTime(text: string): boolean {
  const [hour, minute = 0, second = 0] = [text.slice(0, 2), text.slice(2, 4), text.slice(4, 6)].filter(Boolean).map(Number);
  return hour < 24 && minute < 60 && second < 60;
}

/** DICOM wildcards → SQL LIKE (with LIKE's own characters escaped). */
function likePattern(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%').replace(/\?/g, '_');
}

function count(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new Invalid(`${name} must be a whole number of at least ${min}, got '${value}'`);
  return Math.min(Number(value), max);
}

/** A keyword or 8-hex-digit tag → the tag, upper-case; undefined when unknown. */
export function tagOf(field: string): string | undefined {
  if (/^[0-9a-fA-F]{8}$/.test(field)) return field.toUpperCase();
  return BY_NAME.get(field.toLowerCase())?.tag ?? tagForKeyword(field);
}
