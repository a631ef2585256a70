// C-FIND (PS3.4 C.4.1) over the DICOM index: the identifier's keys become QIDO-style parameters
// for compileQido (same matching), rows become DICOM JSON through qidoResult, and each match is
// answered with exactly the keys asked for (plus the level's unique key, Query/Retrieve Level,
// Specific Character Set and Retrieve AE Title). PATIENT level groups the matching studies by
// patient. Results are read a page at a time, so a cancel stops the query between pages.
import type { Database } from '../../db/database.js';
import { shapeStatementName } from '../../db/statement-names.js';
import { FhirError } from '../../fhir/errors.js';
import { compileQido, MAX_LIMIT, type QidoLevel } from '../qido.js';
import { qidoResult, type DicomJson } from '../qido-results.js';
import { naturalValue, QueryRefused, queryLevel, requestedKeys, SKIP, type QrLevel, type RequestedKey } from './identifier.js';

export interface FindOptions {
  root: 'patient' | 'study';
  aeTitle: string;
  /** DICOMweb root, for the RetrieveURL attributes qidoResult produces (not returned unless asked). */
  base: string;
  /** Matches answered at most; past it the query ends with Out of Resources. */
  maxResults: number;
  cancelled(): boolean;
}

export interface FindMatch {
  identifier: Record<string, unknown>;
  patientRef: string | null;
}

const LEVELS: Record<Exclude<QrLevel, 'PATIENT'>, QidoLevel> = { STUDY: 'study', SERIES: 'series', IMAGE: 'instance' };
const UNIQUE_KEY: Record<QrLevel, { keyword: string; tag: string }> = {
  PATIENT: { keyword: 'PatientID', tag: '00100020' },
  STUDY: { keyword: 'StudyInstanceUID', tag: '0020000D' },
  SERIES: { keyword: 'SeriesInstanceUID', tag: '0020000E' },
  IMAGE: { keyword: 'SOPInstanceUID', tag: '00080018' },
};
const PATIENT_KEYS = new Set(['00100010', '00100020', '00100021', '00100030', '00100040']);

/** The matches of a C-FIND identifier, as response identifiers. Throws QueryRefused. */
export async function* findMatches(db: Database, identifier: Record<string, unknown>, options: FindOptions): AsyncGenerator<FindMatch> {
  const level = queryLevel(identifier, options.root);
  const keys = requestedKeys(identifier);
  const unique = UNIQUE_KEY[level];
  if (!keys.some((k) => k.tag === unique.tag)) keys.push({ keyword: unique.keyword, tag: unique.tag, vr: level === 'PATIENT' ? 'LO' : 'UI' });
  const respond = (json: DicomJson): Record<string, unknown> => responseIdentifier(keys, json, level, options.aeTitle);
  let count = 0;
  const source = level === 'PATIENT' ? patients(db, keys, options) : rows(db, LEVELS[level], keys, options);
  for await (const { json, patientRef } of source) {
    if (++count > options.maxResults) throw new QueryRefused(0xa700, `More than ${options.maxResults} matches; narrow the query`);
    yield { identifier: respond(json), patientRef };
  }
}

/** Index rows of one level for the keys, page by page, as DICOM JSON. */
async function* rows(db: Database, level: QidoLevel, keys: RequestedKey[], options: FindOptions): AsyncGenerator<{ json: DicomJson; patientRef: string | null }> {
  const produced = new Set(Object.keys(qidoResult(level, {}, '', new Set())));
  const params: [string, string][] = keys.map((k) => [k.tag, k.match ?? '']);
  // Keys the index has no column for are answered from a stored instance's metadata.
  for (const key of keys) if (!produced.has(key.tag)) params.push(['includefield', key.tag]);
  for (let offset = 0; !options.cancelled(); offset += MAX_LIMIT) {
    const compiled = compile(level, [...params, ['limit', String(MAX_LIMIT)], ['offset', String(offset)]]);
    const page = await db.query<Record<string, unknown>>(compiled.sql, compiled.values, { name: shapeStatementName(compiled.sql) });
    for (const row of page) {
      if (options.cancelled()) return;
      yield { json: qidoResult(level, row, options.base, compiled.includeFields), patientRef: (row.patient_ref as string | null) ?? null };
    }
    if (page.length < MAX_LIMIT) return;
  }
}

/** PATIENT level: the matching studies grouped by Patient ID (and issuer), with their counts. */
async function* patients(db: Database, keys: RequestedKey[], options: FindOptions): AsyncGenerator<{ json: DicomJson; patientRef: string | null }> {
  const params: [string, string][] = keys.filter((k) => PATIENT_KEYS.has(k.tag)).map((k) => [k.tag, k.match ?? '']);
  const groups = new Map<string, { json: DicomJson; patientRef: string | null; studies: number; series: number; instances: number }>();
  for (let offset = 0; !options.cancelled(); offset += MAX_LIMIT) {
    const compiled = compile('study', [...params, ['limit', String(MAX_LIMIT)], ['offset', String(offset)]]);
    const page = await db.query<Record<string, unknown>>(compiled.sql, compiled.values, { name: shapeStatementName(compiled.sql) });
    for (const row of page) {
      const key = row.patient_id !== null && row.patient_id !== undefined ? `id:${row.issuer_of_patient_id ?? ''}|${row.patient_id}` : `ref:${row.patient_ref ?? row.study_uid}`;
      let group = groups.get(key);
      if (!group) {
        if (groups.size >= options.maxResults) throw new QueryRefused(0xa700, `More than ${options.maxResults} matches; narrow the query`);
        const study = qidoResult('study', row, options.base, new Set());
        const json = Object.fromEntries(Object.entries(study).filter(([tag]) => PATIENT_KEYS.has(tag)));
        group = { json, patientRef: (row.patient_ref as string | null) ?? null, studies: 0, series: 0, instances: 0 };
        groups.set(key, group);
      }
      group.studies += 1;
      group.series += Number(row.series_count);
      group.instances += Number(row.instance_count);
    }
    if (page.length < MAX_LIMIT) break;
  }
  for (const group of groups.values()) {
    if (options.cancelled()) return;
    group.json['00201200'] = { vr: 'IS', Value: [group.studies] };
    group.json['00201202'] = { vr: 'IS', Value: [group.series] };
    group.json['00201204'] = { vr: 'IS', Value: [group.instances] };
    yield { json: group.json, patientRef: group.patientRef };
  }
}

function compile(level: QidoLevel, params: [string, string][]) {
  try {
    return compileQido({ level, params, visible: 'all' });
  } catch (err) {
    if (err instanceof FhirError) throw new QueryRefused(0xa900, err.message);
    throw err;
  }
}

/** The keys asked for, with this match's values; empty when the hub has no value. */
function responseIdentifier(keys: RequestedKey[], json: DicomJson, level: QrLevel, aeTitle: string): Record<string, unknown> {
  const out: Record<string, unknown> = { SpecificCharacterSet: 'ISO_IR 192', QueryRetrieveLevel: level, RetrieveAETitle: aeTitle };
  for (const key of keys) {
    const value = naturalValue(json[key.tag], key.vr);
    if (value !== SKIP) out[key.keyword] = value;
  }
  return out;
}
