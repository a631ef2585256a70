// Master patient index: are two source records the same real person?
//
// Two valid resident ID numbers decide on their own (ID-01/02): equal means the same person, different
// means two people (twins have consecutive numbers). Everything else is weighed the Fellegi–Sunter
// way: each field contributes log2(m/u), where m is how often the observed agreement level occurs
// between records of the same person and u how often between two different people of a district
// registry of about a million. The m/u estimates are written next to each weight so that a reviewer
// can challenge the number rather than the code. Nothing here is random, so a score is reproducible.
import type { IdentifierKind, PersonRecord } from './person.js';
import { identifierKind } from './person.js';
import { bigramDice, jaroWinkler, osaDistance } from './similarity.js';

export interface MatchResult {
  score: number;
  grade: 'certain' | 'probable' | 'possible' | 'certainly-not';
  /**
   * True for a link decided by equal resident ID numbers, not by weights; so `deterministic ||
   * score >= autoLink` reads "link". A veto by two different numbers is the other deterministic
   * decision, but it is reported as grade 'certainly-not' with CERTAINLY_NOT_SCORE and
   * deterministic false, so that nobody mistakes it for a link.
   */
  deterministic: boolean;
  /** Human-readable evidence, with the weight it contributed. */
  reasons: string[];
}

/**
 * Score at or above autoLink: link automatically; review..autoLink: human review queue; below:
 * different people. Scores are bits of evidence. In a registry of about a million people a record
 * has one or two true partners among a million (prior log-odds ≈ −19 bits), so 28 bits leaves
 * posterior odds of about 500:1 (≈ 99.8 % precision) as long as the m/u estimates hold. In practice:
 * a two-syllable given name under a typical surname (~16) plus an exact birth date (~14.5) links; a
 * very common name (张伟, ~12) with a birth date does not, it needs a shared phone, address or card.
 * Below 14 bits a reviewer would mostly be shown strangers.
 */
export const MATCH_THRESHOLDS: { autoLink: number; review: number } = { autoLink: 28, review: 14 };

/** Scores reported for decisions made by the resident ID number, outside any probabilistic range. */
export const CERTAIN_SCORE = 100;
export const CERTAINLY_NOT_SCORE = -100;

export function compareRecords(a: PersonRecord, b: PersonRecord): MatchResult {
  const evidence = weighEvidence(a, b);
  const reasons = evidence.map(describe);
  let score = round(evidence.reduce((sum, e) => sum + e.weight, 0));

  const idA = trustedResidentId(a);
  const idB = trustedResidentId(b);
  if (idA && idB) {
    if (idA === idB) {
      return { score: CERTAIN_SCORE, grade: 'certain', deterministic: true, reasons: ['resident ID number equal', ...reasons] };
    }
    return {
      score: CERTAINLY_NOT_SCORE,
      grade: 'certainly-not',
      deterministic: false,
      reasons: ['resident ID numbers differ: two people (e.g. twins)', ...reasons],
    };
  }
  for (const [label, r] of [['first', a], ['second', b]] as const) {
    if (r.residentIdConflict) reasons.push(`${label} record's resident ID ignored: ${r.residentIdConflict}`);
    else if (r.residentIdProblem) reasons.push(`${label} record's resident ID is invalid (${r.residentIdProblem}): not a deterministic key`);
  }

  if (looksLikeTwins(evidence) && score >= MATCH_THRESHOLDS.autoLink) {
    // Family name, birth date and usually home and phone agree between twins, and those fields
    // are far from independent within a family: only the given name tells them apart, and it does.
    score = MATCH_THRESHOLDS.autoLink - 1;
    reasons.push('given names differ while family name and birth date agree (twins?): held for review');
  }
  return { score, grade: gradeOf(score), deterministic: false, reasons };
}

function gradeOf(score: number): MatchResult['grade'] {
  if (score >= MATCH_THRESHOLDS.autoLink) return 'probable';
  if (score >= MATCH_THRESHOLDS.review) return 'possible';
  return 'certainly-not';
}

/** A valid resident ID that does not contradict its own record's demographics. */
function trustedResidentId(p: PersonRecord): string | undefined {
  return p.residentId && !p.residentIdConflict ? p.residentId : undefined;
}

// ---------------------------------------------------------------------------------------------
// Evidence

type Field = 'name' | 'birthDate' | 'sex' | 'phone' | 'address' | 'household' | 'identifier' | 'residentId';

interface Evidence {
  field: Field;
  level: string;
  weight: number;
  reason: string;
}

function describe(e: Evidence): string {
  const sign = e.weight >= 0 ? '+' : '';
  return `${e.reason} (${sign}${e.weight.toFixed(1)})`;
}

/** log2(m/u): the Fellegi–Sunter weight of an observation. */
function bits(m: number, u: number): number {
  return Math.log2(m / u);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function weighEvidence(a: PersonRecord, b: PersonRecord): Evidence[] {
  const evidence: Evidence[] = [];
  const push = (e: Evidence | undefined): void => {
    if (e) evidence.push(e);
  };
  push(compareNames(a, b));
  push(compareBirthDates(a, b));
  push(compareSex(a, b));
  const phone = comparePhones(a, b);
  const address = compareAddresses(a, b);
  push(phone);
  push(address);
  if (phone && address && phone.weight > 0 && address.weight > 0) {
    // People of one household share both; counting them as independent would double the evidence.
    push({ field: 'household', level: 'same', weight: -Math.min(phone.weight, address.weight) + 3, reason: 'phone and address are one household: counted once' });
  }
  evidence.push(...compareIdentifiers(a, b));
  push(compareInvalidResidentIds(a, b));
  return evidence;
}

/** Twins share family name, birth date and home, but never a card, a chart number or an ID number. */
function looksLikeTwins(evidence: Evidence[]): boolean {
  const name = evidence.find((e) => e.field === 'name');
  const birth = evidence.find((e) => e.field === 'birthDate');
  const sharedNumber = evidence.some((e) => (e.field === 'identifier' || e.field === 'residentId') && e.weight > 0);
  return !sharedNumber && (name?.level === 'family-only' || name?.level === 'typo-given') && (birth?.level === 'exact' || birth?.level === 'adjacent-day' || birth?.level === 'transposed');
}

// ---------------------------------------------------------------------------------------------
// Names

/** Share of the population per surname pinyin (public surname statistics, homophones merged). */
const SURNAME_SHARE: Readonly<Record<string, number>> = {
  wang: 0.074, li: 0.072, zhang: 0.069, liu: 0.054, chen: 0.045, yang: 0.031, zhao: 0.023, huang: 0.022,
  wu: 0.024, zhou: 0.02, xu: 0.022, sun: 0.015, ma: 0.013, zhu: 0.013, hu: 0.012, guo: 0.012, he: 0.011,
  gao: 0.01, lin: 0.01, luo: 0.009, zheng: 0.008, liang: 0.008, xie: 0.007, song: 0.006, tang: 0.006,
  han: 0.006, feng: 0.006, deng: 0.006, cao: 0.005, peng: 0.005, zeng: 0.005, xiao: 0.005, tian: 0.005,
  dong: 0.005, yuan: 0.005, pan: 0.005, yu: 0.009, jiang: 0.006, cai: 0.004, du: 0.004, ye: 0.004,
  cheng: 0.004, su: 0.004, wei: 0.005, lv: 0.004, ding: 0.004, ren: 0.004, shen: 0.004,
};
const RARE_SURNAME_SHARE = 0.002;
/**
 * Two-syllable given names of a generation of women so common that the syllable-count estimate
 * below is ten times too low for them (national name reports).
 */
const COMMON_TWO_SYLLABLE_NAMES: ReadonlySet<string> = new Set([
  'wangxiuying', 'lixiuying', 'zhangxiuying', 'liuxiuying', 'chenxiuying', 'wangxiulan', 'lixiulan',
  'zhangxiulan', 'wangguiying', 'liguiying', 'zhangguiying', 'wangyulan', 'liyulan', 'zhangyulan',
  'wangguilan', 'liguilan', 'wangshuzhen', 'lishuzhen', 'wangfengying', 'lifengying',
]);
const COMMON_TWO_SYLLABLE_SHARE = 1.5e-4;

/** Pinyin syllables ≈ vowel runs ('xiaoming' → iao, i → 2); good enough to size a given name. */
function syllableCount(pinyin: string): number {
  return (pinyin.match(/[aeiouv]+/g) ?? []).length;
}

/** Chance that a random person of the district has this given name (toneless pinyin). */
function givenShare(given: string): number {
  const syllables = syllableCount(given);
  if (syllables <= 1) return 1 / 150;
  if (syllables === 2) return 1 / 4000;
  return 1 / 20000;
}

/** u of full-name agreement: how many people of the district carry this pinyin name. */
function nameFrequency(p: PersonRecord): number {
  if (p.pinyin && COMMON_TWO_SYLLABLE_NAMES.has(p.pinyin)) return COMMON_TWO_SYLLABLE_SHARE;
  if (!p.family || !p.given) return 1e-4;
  return Math.max(1e-6, (SURNAME_SHARE[p.family] ?? RARE_SURNAME_SHARE) * givenShare(p.given));
}

function compareNames(a: PersonRecord, b: PersonRecord): Evidence | undefined {
  if (!a.pinyin || !b.pinyin) return undefined;
  // The more common of the two spellings sets how surprising an agreement is.
  const u = Math.max(nameFrequency(a), nameFrequency(b));
  const name = (level: string, weight: number, reason: string): Evidence => ({ field: 'name', level, weight, reason });
  const bothHan = Boolean(a.hanzi && b.hanzi);

  if (bothHan && a.hanzi === b.hanzi) return name('hanzi', bits(0.95, 0.6 * u), `name equal in Chinese characters (${a.hanzi})`);
  if (a.pinyin === b.pinyin) {
    // Both sides in characters yet different ones: a pinyin input method picked a homophone.
    return bothHan
      ? name('homophone', bits(0.03, 0.4 * u), `names are homophones (${a.hanzi} / ${b.hanzi})`)
      : name('pinyin', bits(0.9, u), `name equal in pinyin (${a.pinyin})`);
  }
  const romanised = !a.hanzi || !b.hanzi;
  if (romanised && (a.pinyin === b.pinyinGivenFirst || a.pinyinGivenFirst === b.pinyin)) {
    return name('swapped', bits(0.1, u), `name equal with given and family name swapped (${a.pinyin} / ${b.pinyin})`);
  }
  // Keying errors happen in romanised names; names typed in characters err by homophones instead,
  // so between two character names a one-letter difference is a different name (涵/航, han/hang).
  if (romanised && Math.min(a.pinyin.length, b.pinyin.length) >= 5 && withinOneEdit(a, b)) {
    // A slip inside the given name under an equal family name is also what a twin's name looks like
    // (玉丽 / 玉璐: yuli / yulu), so it is told apart for the twin rule.
    const level = sameFamily(a, b) ? 'typo-given' : 'typo';
    return name(level, bits(0.05, 15 * u), `names one keystroke apart (${a.pinyin} / ${b.pinyin})`);
  }
  if (a.family && b.family && a.family === b.family) {
    const share = SURNAME_SHARE[a.family] ?? RARE_SURNAME_SHARE;
    return name('family-only', Math.min(0, bits(0.01, share)), `same family name (${a.family}), different given name (${a.given ?? '?'} / ${b.given ?? '?'})`);
  }
  if (a.given && b.given && a.given === b.given) {
    return name('given-only', Math.min(0, bits(0.002, givenShare(a.given))), `same given name (${a.given}), different family name (${a.family ?? '?'} / ${b.family ?? '?'})`);
  }
  if (romanised && bestJaroWinkler(a, b) >= 0.92) {
    return name('similar', Math.max(0, bits(0.01, 100 * u)), `names similar (${a.pinyin} / ${b.pinyin})`);
  }
  return name('different', bits(0.01, 0.95), `names differ (${a.hanzi ?? a.pinyin} / ${b.hanzi ?? b.pinyin})`);
}

/** Family names equal, allowing for a romanised name whose order was guessed wrongly. */
function sameFamily(a: PersonRecord, b: PersonRecord): boolean {
  if (!a.family || !b.family) return false;
  if (a.family === b.family) return true;
  return a.pinyinGivenFirst !== undefined && b.pinyinGivenFirst !== undefined && (a.family === b.given || a.given === b.family);
}

function withinOneEdit(a: PersonRecord, b: PersonRecord): boolean {
  const pairs: [string | undefined, string | undefined][] = [
    [a.pinyin, b.pinyin],
    [a.pinyin, b.pinyinGivenFirst],
    [a.pinyinGivenFirst, b.pinyin],
  ];
  return pairs.some(([x, y]) => x !== undefined && y !== undefined && osaDistance(x, y, 1) <= 1);
}

function bestJaroWinkler(a: PersonRecord, b: PersonRecord): number {
  let best = jaroWinkler(a.pinyin!, b.pinyin!);
  if (b.pinyinGivenFirst) best = Math.max(best, jaroWinkler(a.pinyin!, b.pinyinGivenFirst));
  if (a.pinyinGivenFirst) best = Math.max(best, jaroWinkler(a.pinyinGivenFirst, b.pinyin!));
  return best;
}

// ---------------------------------------------------------------------------------------------
// Birth date

interface DateParts {
  year: number;
  month?: number;
  day?: number;
}

function dateParts(value: string): DateParts {
  const [year, month, day] = value.split('-').map(Number);
  return { year, ...(month ? { month } : {}), ...(day ? { day } : {}) };
}

/** The record's birth date and the one encoded in a trusted resident ID: either may be the typo. */
function candidateBirthDates(p: PersonRecord): string[] {
  const dates = p.birthDate ? [p.birthDate] : [];
  if (p.residentIdBirthDate && !p.residentIdConflict && !dates.includes(p.residentIdBirthDate)) dates.push(p.residentIdBirthDate);
  return dates;
}

const DATE_LEVELS = ['exact', 'adjacent-day', 'transposed', 'same-year-month', 'one-component', 'same-year', 'different'] as const;
type DateLevel = (typeof DATE_LEVELS)[number];

function compareBirthDates(a: PersonRecord, b: PersonRecord): Evidence | undefined {
  const datesA = candidateBirthDates(a);
  const datesB = candidateBirthDates(b);
  if (datesA.length === 0 || datesB.length === 0) return undefined;
  let best: { level: DateLevel; x: string; y: string } | undefined;
  for (const x of datesA) {
    for (const y of datesB) {
      const level = dateLevel(x, y);
      if (!best || DATE_LEVELS.indexOf(level) < DATE_LEVELS.indexOf(best.level)) best = { level, x, y };
    }
  }
  const { level, x, y } = best!;
  const birth = (weight: number, reason: string): Evidence => ({ field: 'birthDate', level, weight, reason });
  switch (level) {
    case 'exact':
      // Many older people were registered on 1 January when the real date was unknown.
      return x.endsWith('-01-01')
        ? birth(bits(0.95, 3e-4), `birth date equal (${x}, a common default date)`)
        : birth(bits(0.95, 4e-5), `birth date equal (${x})`);
    case 'adjacent-day':
      return birth(bits(0.015, 8e-5), `birth date differs by one day (${x} / ${y})`);
    case 'transposed':
      return birth(bits(0.01, 4e-5), `birth date differs by a day/month swap (${x} / ${y})`);
    case 'same-year-month':
      return birth(bits(0.9, 1 / 1200), `birth year and month equal, day unknown on one side (${x} / ${y})`);
    case 'one-component':
      return birth(bits(0.02, 4e-3), `birth date differs in one component (${x} / ${y})`);
    case 'same-year':
      return birth(bits(0.9, 1 / 100), `birth year equal, month unknown on one side (${x} / ${y})`);
    case 'different':
      return birth(bits(0.01, 0.99), `birth dates differ (${x} / ${y})`);
  }
}

function dateLevel(x: string, y: string): DateLevel {
  if (x === y && x.length === 10) return 'exact';
  const p = dateParts(x);
  const q = dateParts(y);
  if (p.day === undefined || q.day === undefined) {
    // One side knows only a year or a year and month: agreement is weaker, not absent.
    if (p.year !== q.year) return 'different';
    if (p.month !== undefined && q.month !== undefined) return p.month === q.month ? 'same-year-month' : 'different';
    return 'same-year';
  }
  const days = Math.abs(Date.UTC(p.year, p.month! - 1, p.day) - Date.UTC(q.year, q.month! - 1, q.day)) / 86_400_000;
  if (days === 1) return 'adjacent-day';
  if (p.year === q.year && p.month === q.day && p.day === q.month) return 'transposed';
  const equalComponents = Number(p.year === q.year) + Number(p.month === q.month) + Number(p.day === q.day);
  return equalComponents === 2 ? 'one-component' : 'different';
}

// ---------------------------------------------------------------------------------------------
// Sex, phone, address

function compareSex(a: PersonRecord, b: PersonRecord): Evidence | undefined {
  const known = (s: PersonRecord['sex']): s is 'male' | 'female' => s === 'male' || s === 'female';
  if (!known(a.sex) || !known(b.sex)) return undefined;
  return a.sex === b.sex
    ? { field: 'sex', level: 'same', weight: bits(0.985, 0.5), reason: `sex equal (${a.sex})` }
    : { field: 'sex', level: 'different', weight: bits(0.01, 0.5), reason: `sex differs (${a.sex} / ${b.sex})` };
}

function comparePhones(a: PersonRecord, b: PersonRecord): Evidence | undefined {
  if (a.phones.length === 0 || b.phones.length === 0) return undefined;
  const shared = a.phones.find((p) => b.phones.includes(p));
  // u: a number is shared mostly within a household (a parent's mobile for a child, a landline).
  return shared
    ? { field: 'phone', level: 'same', weight: bits(0.6, 1e-4), reason: `phone equal (${shared})` }
    : { field: 'phone', level: 'different', weight: bits(0.35, 0.999), reason: 'phones differ' };
}

/** Chinese addresses run from province down to room: one written without its prefix is a suffix. */
function compareAddresses(a: PersonRecord, b: PersonRecord): Evidence | undefined {
  if (!a.address || !b.address) return undefined;
  const [shorter, longer] = a.address.length <= b.address.length ? [a.address, b.address] : [b.address, a.address];
  if (shorter === longer || (shorter.length >= 8 && longer.endsWith(shorter))) {
    return { field: 'address', level: 'same', weight: bits(0.55, 1e-4), reason: 'address equal' };
  }
  const withoutPrefix = longer.slice(longer.length - shorter.length);
  if (bigramDice(shorter, withoutPrefix) >= 0.8 || bigramDice(a.address, b.address) >= 0.85) {
    // Same building, other flat — or the same flat mistyped: neighbours are the u here.
    return { field: 'address', level: 'similar', weight: bits(0.2, 2e-3), reason: `address similar (${a.address} / ${b.address})` };
  }
  return { field: 'address', level: 'different', weight: bits(0.2, 0.997), reason: 'addresses differ' };
}

// ---------------------------------------------------------------------------------------------
// Identifiers other than the resident ID

function kindOf(identifier: { system: string; kind?: IdentifierKind }): IdentifierKind {
  return identifier.kind ?? identifierKind(identifier.system);
}

function compareIdentifiers(a: PersonRecord, b: PersonRecord): Evidence[] {
  const evidence: Evidence[] = [];
  const systems = new Set(a.identifiers.map((i) => i.system));
  for (const system of systems) {
    const valuesB = b.identifiers.filter((i) => i.system === system).map((i) => i.value);
    if (valuesB.length === 0) continue;
    const identifiersA = a.identifiers.filter((i) => i.system === system);
    const kind = kindOf(identifiersA[0]);
    const shared = identifiersA.find((i) => valuesB.includes(i.value));
    if (shared) {
      evidence.push(
        kind === 'document'
          ? { field: 'identifier', level: 'same-document', weight: bits(0.5, 5e-7), reason: `same ${system} number (${shared.value})` }
          : { field: 'identifier', level: 'same-local', weight: bits(0.3, 1e-6), reason: `same record number in ${system} (${shared.value})` },
      );
    } else if (kind === 'document') {
      // Cards are reissued and passports renewed, so a different number is only mild evidence.
      evidence.push({ field: 'identifier', level: 'different-document', weight: bits(0.1, 1), reason: `different ${system} numbers` });
    }
    // Different chart numbers in one system are exactly the duplicates an MPI exists to find: no evidence.
  }
  return evidence;
}

/**
 * An invalid ID number is no key, but it still testifies: it is usually its owner's number with one
 * slip, so one keystroke from the other record's number says "same person" and further away says
 * "someone else".
 */
function compareInvalidResidentIds(a: PersonRecord, b: PersonRecord): Evidence | undefined {
  const pairs: [string | undefined, string | undefined][] = [
    [a.residentIdRaw, b.residentIdRaw ?? trustedResidentId(b)],
    [b.residentIdRaw, trustedResidentId(a)],
  ];
  for (const [invalid, other] of pairs) {
    if (!invalid || !other || invalid.length !== other.length) continue;
    if (invalid === other) return { field: 'residentId', level: 'same-invalid', weight: bits(0.2, 1e-6), reason: 'same invalid resident ID number' };
    if (osaDistance(invalid, other, 1) <= 1) {
      return { field: 'residentId', level: 'typo', weight: bits(0.5, 5e-4), reason: 'resident ID numbers one keystroke apart (one invalid)' };
    }
    return { field: 'residentId', level: 'different', weight: bits(0.1, 1), reason: 'resident ID numbers differ beyond a keystroke (one invalid)' };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Blocking

const MAX_BLOCKING_KEYS = 8;

/**
 * Keys for candidate retrieval: the caller stores them in an indexed text[] column and compares a
 * new record with every stored record sharing any key. Each key is chosen to catch the true
 * matches some perturbation hides from the others while keeping each block small:
 * - rid:  valid resident ID (the deterministic match)
 * - bd:   birth date, also the one in the resident ID when the record's own differs
 * - bds:  year + the unordered {month, day}: a day/month swap lands in the same block
 * - ph:   phone number
 * - pn:   family and given pinyin in alphabetical order: Zhang Wei = Wei Zhang = 张伟 = 章伟
 * - pyb:  initials of family and given pinyin (again unordered) + birth year: survives a typo
 *         inside the name and any birth date slip within the year
 * - doc:  person-level document numbers (insurance card, passport, permit)
 */
export function blockingKeys(p: PersonRecord): string[] {
  const keys: string[] = [];
  const add = (key: string | undefined): void => {
    if (key && !keys.includes(key)) keys.push(key);
  };
  add(p.residentId && `rid:${p.residentId}`);
  for (const date of candidateBirthDates(p)) {
    if (date.length !== 10) continue;
    add(`bd:${date}`);
    const { year, month, day } = dateParts(date);
    // Only dates that have a valid transposition need the extra block.
    if (day! <= 12 && day !== month) add(`bds:${year}|${Math.min(month!, day!)}|${Math.max(month!, day!)}`);
  }
  for (const phone of p.phones.slice(0, 2)) add(`ph:${phone}`);
  const parts = [p.family, p.given].filter((x): x is string => Boolean(x)).sort();
  if (parts.length === 2) add(`pn:${parts.join('|')}`);
  else if (p.pinyin) add(`pn:${p.pinyin}`);
  const birthYear = p.birthDate?.slice(0, 4) ?? p.residentIdBirthDate?.slice(0, 4);
  if (parts.length === 2 && birthYear) add(`pyb:${parts.map((x) => x[0]).join('')}|${birthYear}`);
  for (const identifier of p.identifiers) {
    if (kindOf(identifier) === 'document') add(`doc:${identifier.system}|${identifier.value}`);
  }
  return keys.slice(0, MAX_BLOCKING_KEYS);
}
