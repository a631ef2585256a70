// Master patient index: the comparable form of a source Patient record.
//
// Every source spells the same facts differently (two OIDs for one ID number, 15- or 18-char
// numbers, Han characters or pinyin, family or given name first, full-width digits, +86 prefixes).
// The matcher must never see those differences, so they are removed here, once, into a flat
// PersonRecord that is cheap to compare and to derive blocking keys from.
import type { HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import { pinyin } from 'pinyin-pro';
import { isResidentIdSystem, parseResidentId, SOCIAL_SECURITY_CARD_SYSTEM } from '../../fhir/identity/resident-id.js';

/**
 * ID-03 identifier systems that name a person (not a chart) and are written case-insensitively.
 * The hub has no central list of these yet; they live here until it does.
 */
export const MEDICAL_INSURANCE_SYSTEM = 'urn:suhe:id:medical-insurance';
export const HEALTH_CARD_SYSTEM = 'urn:suhe:id:health-card';
export const HKMO_PERMIT_SYSTEM = 'urn:suhe:id:hkmo-permit';
export const TAIWAN_PERMIT_SYSTEM = 'urn:suhe:id:taiwan-permit';
/** FHIR's convention for passports: http://hl7.org/fhir/sid/passport-<ISO 3166 alpha-3>. */
export const PASSPORT_SYSTEM_PREFIX = 'http://hl7.org/fhir/sid/passport-';

const PERSON_DOCUMENT_SYSTEMS: ReadonlySet<string> = new Set([
  SOCIAL_SECURITY_CARD_SYSTEM,
  MEDICAL_INSURANCE_SYSTEM,
  HEALTH_CARD_SYSTEM,
  HKMO_PERMIT_SYSTEM,
  TAIWAN_PERMIT_SYSTEM,
]);

/** HL7 v2-0203 identifier type codes of documents that belong to a person rather than to a chart. */
const PERSON_DOCUMENT_TYPE_CODES: ReadonlySet<string> = new Set(['PPN', 'SS', 'NH', 'NI', 'HC', 'PEN', 'DL']);

/**
 * 'document': issued to the person by an authority (insurance card, passport, permit): the same
 *   value at two sources means the same person, a different value is weak evidence against.
 * 'local': issued by one source (MRN and anything unknown): only equality within the same system
 *   means something, because each institution numbers its own charts (ID-03).
 */
export type IdentifierKind = 'document' | 'local';

export interface PersonIdentifier {
  system: string;
  value: string;
  /** Absent on hand-built records; the matcher then classifies by system (identifierKind). */
  kind?: IdentifierKind;
}

export interface PersonRecord {
  /** Validated (ID-01 check char) and normalised to 18 chars; either ID-02 OID. */
  residentId?: string;
  /** A resident ID is present but invalid: why. Such a number is never a deterministic key. */
  residentIdProblem?: string;
  /** The invalid number as written (trimmed, upper-cased): still usable as weak evidence. */
  residentIdRaw?: string;
  /**
   * The valid resident ID contradicts this record's own demographics badly enough (birth date more
   * than a year away) that it probably belongs to someone else, e.g. a newborn registered under a
   * parent's number. The matcher then ignores the number altogether.
   */
  residentIdConflict?: string;
  /** Birth date encoded in the valid resident ID (ID-01); the record's birthDate may be mistyped. */
  residentIdBirthDate?: string;
  /** All other identifiers, normalised. */
  identifiers: PersonIdentifier[];
  /** Chinese full name, family + given, no spaces. */
  hanzi?: string;
  /** Lower-case toneless full name, family first, no spaces, e.g. 'zhangwei'. */
  pinyin?: string;
  /** Same with the given name first: catches swapped names. */
  pinyinGivenFirst?: string;
  /** Normalised (pinyin when the name is in Han characters). */
  family?: string;
  given?: string;
  /** YYYY-MM-DD, or YYYY / YYYY-MM when the source only knows that much. */
  birthDate?: string;
  sex?: 'male' | 'female' | 'other' | 'unknown';
  /** Digits only; mainland numbers without +86/0086; landlines keep their leading 0. */
  phones: string[];
  /** Whitespace/punctuation removed, full-width → half-width, leading 中国 removed. */
  address?: string;
  postalCode?: string;
}

/** Classifies an identifier system, optionally helped by its v2-0203 type code. */
export function identifierKind(system: string, typeCode?: string): IdentifierKind {
  if (PERSON_DOCUMENT_SYSTEMS.has(system) || system.startsWith(PASSPORT_SYSTEM_PREFIX)) return 'document';
  if (typeCode && PERSON_DOCUMENT_TYPE_CODES.has(typeCode)) return 'document';
  return 'local';
}

export function personFromPatient(patient: Patient): PersonRecord {
  const record: PersonRecord = { identifiers: [], phones: [] };
  readIdentifiers(patient.identifier ?? [], record);
  Object.assign(record, readName(patient.name ?? []));
  readDemographics(patient, record);
  record.phones = readPhones(patient);
  const address = readAddress(patient);
  if (address.address) record.address = address.address;
  if (address.postalCode) record.postalCode = address.postalCode;
  return record;
}

// ---------------------------------------------------------------------------------------------
// Identifiers

function readIdentifiers(identifiers: Identifier[], record: PersonRecord): void {
  for (const identifier of identifiers) {
    const system = identifier.system?.trim();
    const value = identifier.value?.trim();
    if (!system || !value) continue;
    if (isResidentIdSystem(system)) {
      readResidentId(value, record);
      continue;
    }
    const typeCode = identifier.type?.coding?.find((c) => c.system === 'http://terminology.hl7.org/CodeSystem/v2-0203')?.code;
    const kind = identifierKind(system, typeCode);
    // Documents are printed in capitals and typed any way; chart numbers are the source's business.
    const normalised = kind === 'document' ? value.replace(/\s+/g, '').toUpperCase() : value;
    if (!record.identifiers.some((i) => i.system === system && i.value === normalised)) {
      record.identifiers.push({ system, value: normalised, kind });
    }
  }
}

/** ID-02: both OIDs carry the one number, so the first valid one wins whichever OID it came under. */
function readResidentId(value: string, record: PersonRecord): void {
  if (record.residentId) return;
  const parsed = parseResidentId(value);
  if (parsed.ok) {
    record.residentId = parsed.normalized;
    record.residentIdBirthDate = parsed.birthDate;
    delete record.residentIdProblem;
    delete record.residentIdRaw;
    return;
  }
  if (!record.residentIdProblem) {
    record.residentIdProblem = parsed.reason;
    record.residentIdRaw = value.replace(/\s+/g, '').toUpperCase();
  }
}

// ---------------------------------------------------------------------------------------------
// Names

const HAN = /\p{Script=Han}/u;
const COMPOUND_SURNAMES = [
  '欧阳', '司马', '诸葛', '上官', '东方', '皇甫', '尉迟', '公孙', '长孙', '慕容', '司徒', '夏侯',
  '令狐', '宇文', '轩辕', '端木', '西门', '独孤', '南宫', '呼延', '申屠', '闻人', '百里',
];
/** Pinyin of common surnames: tells 'Wei Zhang' (given first) from 'Zhang Wei' when only text is known. */
const SURNAME_PINYIN: ReadonlySet<string> = new Set(
  ('wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie ' +
    'song tang han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai du ye cheng su wei lv ' +
    'ding ren shen yao lu jiang cui zhong tan fan wan shi qian dai mao qiu qin gu hou shao meng long duan ' +
    'lei yin yi chang kong bai fu kang xiong jin hao ou ouyang sima zhuge shangguan')
    .split(' '),
);

interface NormalisedName {
  hanzi?: string;
  pinyin?: string;
  pinyinGivenFirst?: string;
  family?: string;
  given?: string;
}

/** Official name first, else the first one; a Han-character name anywhere beats a romanised one. */
function readName(names: HumanName[]): NormalisedName {
  const ordered = [...names].sort((a, b) => rankName(a) - rankName(b));
  const hanName = ordered.find((n) => HAN.test(nameText(n)));
  const chosen = hanName ?? ordered[0];
  return chosen ? normaliseName(chosen) : {};
}

function rankName(name: HumanName): number {
  if (name.use === 'official') return 0;
  if (name.use === 'old' || name.use === 'maiden') return 2;
  return 1;
}

function nameText(name: HumanName): string {
  return [name.family ?? '', ...(name.given ?? []), name.text ?? ''].join(' ');
}

export function normaliseName(name: HumanName): NormalisedName {
  const familyRaw = name.family?.trim() ?? '';
  const givenRaw = (name.given ?? []).join(' ').trim();
  if (familyRaw || givenRaw) return fromParts(familyRaw, givenRaw, familyRaw !== '' && givenRaw !== '');
  const text = name.text?.trim() ?? '';
  if (!text) return {};
  return HAN.test(text) ? fromHanText(text) : fromLatinText(text);
}

function fromParts(familyRaw: string, givenRaw: string, splitKnown: boolean): NormalisedName {
  const family = familyRaw ? toPinyin(familyRaw, true) : undefined;
  const given = givenRaw ? toPinyin(givenRaw, false) : undefined;
  const hanzi = allHan(familyRaw + givenRaw) ? stripSpaces(familyRaw + givenRaw) : undefined;
  return assemble(hanzi, family || undefined, given || undefined, splitKnown);
}

function fromHanText(text: string): NormalisedName {
  const compact = stripSpaces(text);
  // Minority names (买买提·艾力) are not family-first; keep them whole rather than split them wrongly.
  if (/[·•・]/.test(compact)) {
    const whole = compact.replace(/[·•・]/g, '');
    return assemble(whole, undefined, undefined, false, toPinyin(whole, false));
  }
  const familyLength = COMPOUND_SURNAMES.some((s) => compact.startsWith(s)) && compact.length > 2 ? 2 : 1;
  const familyHan = compact.slice(0, familyLength);
  const givenHan = compact.slice(familyLength);
  if (!givenHan) return assemble(compact, toPinyin(familyHan, true), undefined, false);
  return assemble(compact, toPinyin(familyHan, true), toPinyin(givenHan, false), true);
}

/**
 * A romanised name written as one string. Order conventions: 'ZHANG, Wei' and 'ZHANG Wei'
 * (passport style, family in capitals) are explicit; otherwise a known surname decides, and when
 * both or neither token is a surname we assume Chinese order. The matcher also tries the swapped
 * order, so a wrong guess costs little.
 */
function fromLatinText(text: string): NormalisedName {
  const comma = text.indexOf(',');
  if (comma > 0) return fromParts(text.slice(0, comma), text.slice(comma + 1), true);
  const tokens = text.split(/\s+/).filter(Boolean);
  if (tokens.length < 2) return assemble(undefined, undefined, undefined, false, latinToPinyin(text));
  const capitalised = tokens.filter((t) => /\p{Lu}/u.test(t) && t === t.toUpperCase() && t.length > 1);
  if (capitalised.length === 1 && tokens.some((t) => t !== t.toUpperCase())) {
    const familyToken = capitalised[0];
    return fromParts(familyToken, tokens.filter((t) => t !== familyToken).join(' '), true);
  }
  const first = latinToPinyin(tokens[0]);
  const last = latinToPinyin(tokens[tokens.length - 1]);
  const givenFirst = !SURNAME_PINYIN.has(first) && SURNAME_PINYIN.has(last);
  return givenFirst
    ? fromParts(tokens[tokens.length - 1], tokens.slice(0, -1).join(' '), true)
    : fromParts(tokens[0], tokens.slice(1).join(' '), true);
}

function assemble(
  hanzi: string | undefined,
  family: string | undefined,
  given: string | undefined,
  splitKnown: boolean,
  whole?: string,
): NormalisedName {
  const result: NormalisedName = {};
  if (hanzi) result.hanzi = hanzi;
  if (family) result.family = family;
  if (given) result.given = given;
  const full = whole ?? `${family ?? ''}${given ?? ''}`;
  if (full) result.pinyin = full;
  if (splitKnown && family && given) result.pinyinGivenFirst = given + family;
  return result;
}

/** Han → toneless pinyin ('ü' as 'v', the usual keyboard spelling); latin → the same alphabet. */
function toPinyin(value: string, isSurname: boolean): string {
  if (!HAN.test(value)) return latinToPinyin(value);
  const syllables = pinyin(stripSpaces(value), {
    toneType: 'none',
    type: 'array',
    v: true,
    // Surname mode reads 单 as shan and 曾 as zeng, as they are read in family names.
    ...(isSurname ? { mode: 'surname' as const } : {}),
  });
  return syllables.join('').toLowerCase().replace(/[^a-z]/g, '');
}

/** 'Lǚ', 'LYU', 'Lu:' and 'LV' are all spellings of 吕: settle on the keyboard form 'lv'. */
export function latinToPinyin(value: string): string {
  const withV = value.replace(/[üÜǖǘǚǜǕǗǙǛ]/g, 'v').replace(/u:/gi, 'v');
  const plain = withV.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  return plain
    .split(/[^a-z]+/)
    .map((token) => token.replace(/^([ln])yu/, '$1v'))
    .join('');
}

function allHan(value: string): boolean {
  const compact = stripSpaces(value);
  return compact.length > 0 && [...compact].every((c) => HAN.test(c) || /[·•・]/.test(c));
}

function stripSpaces(value: string): string {
  return value.replace(/[\s\u3000]+/g, '');
}

// ---------------------------------------------------------------------------------------------
// Birth date and sex

function readDemographics(patient: Patient, record: PersonRecord): void {
  const birthDate = patient.birthDate?.trim();
  if (birthDate && /^\d{4}(-\d{2}(-\d{2})?)?$/.test(birthDate)) record.birthDate = birthDate;
  else if (record.residentIdBirthDate) record.birthDate = record.residentIdBirthDate;

  const gender = patient.gender;
  const idSex = record.residentId ? parseResidentId(record.residentId) : undefined;
  const sexFromId = idSex?.ok ? idSex.sex : undefined;
  // ID-01: the sequence digit encodes sex; it fills a gap but never overrides what the source said.
  record.sex = gender && gender !== 'unknown' ? gender : (sexFromId ?? gender);
  if (!record.sex) delete record.sex;

  if (record.residentIdBirthDate && record.birthDate && record.birthDate.length === 10) {
    const days = Math.abs(Date.parse(record.birthDate) - Date.parse(record.residentIdBirthDate)) / 86_400_000;
    if (days > 366) {
      record.residentIdConflict = `birth date ${record.birthDate} is ${Math.round(days / 365)} years from the one in the ID number (${record.residentIdBirthDate})`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Phones

function readPhones(patient: Patient): string[] {
  const phones: string[] = [];
  for (const telecom of patient.telecom ?? []) {
    if (telecom.system !== 'phone' && telecom.system !== 'sms') continue;
    const phone = telecom.value ? normalisePhone(telecom.value) : undefined;
    if (phone && !phones.includes(phone)) phones.push(phone);
  }
  return phones;
}

/**
 * '+86 138-0013-8000', '0086 13800138000', '8613800138000' → '13800138000';
 * '+86 21 6234 5678' → '02162345678' (the domestic form keeps the trunk 0 of the area code).
 */
export function normalisePhone(value: string): string | undefined {
  const trimmed = value.normalize('NFKC').trim();
  let digits = trimmed.replace(/\D/g, '');
  const international = /^(\+|00)86/.test(trimmed.replace(/\s/g, ''));
  if (international) {
    digits = digits.replace(/^0{0,2}86/, '');
    if (!digits.startsWith('1')) digits = `0${digits}`;
  } else if (digits.length === 13 && digits.startsWith('861')) {
    digits = digits.slice(2);
  }
  // Fewer than 7 digits is an extension or a fragment, not something two records could share.
  return digits.length >= 7 ? digits : undefined;
}

// ---------------------------------------------------------------------------------------------
// Address

function readAddress(patient: Patient): { address?: string; postalCode?: string } {
  const addresses = patient.address ?? [];
  const chosen = addresses.find((a) => a.use === 'home') ?? addresses.find((a) => a.use !== 'old') ?? addresses[0];
  if (!chosen) return {};
  const parts = [chosen.state, chosen.city, chosen.district, ...(chosen.line ?? [])]
    .map((p) => p?.trim())
    .filter((p): p is string => Boolean(p));
  // Municipalities repeat themselves as state and city (上海市 上海市); say it once.
  const deduplicated = parts.filter((p, i) => parts.indexOf(p) === i);
  const raw = deduplicated.length > 0 ? deduplicated.join('') : (chosen.text ?? '');
  const address = normaliseAddress(raw);
  const postalCode = chosen.postalCode?.normalize('NFKC').replace(/\s/g, '');
  return { ...(address ? { address } : {}), ...(postalCode ? { postalCode } : {}) };
}

export function normaliseAddress(value: string): string | undefined {
  const compact = value
    .normalize('NFKC')
    .replace(/[\s\p{P}\p{S}]+/gu, '')
    .replace(/^中国/, '')
    .toUpperCase();
  return compact || undefined;
}
