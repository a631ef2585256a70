// A synthetic district population for measuring the master patient index: real people (the ground
// truth), each seen as 1–4 Patient records by the hospital, community clinic and private clinic,
// with the data-quality problems those sources actually have. Seeded: same seed, same population.
//
// Every perturbation has its rate in RATES below, chosen to resemble what the sources produce, not
// to flatter the matcher. The population is small (about a thousand people), so the confusers a
// registry of a million would contain — namesakes, shared birth dates, twins, households — are
// generated explicitly at the density the matcher would meet them among its candidates there.
import type { Address, ContactPoint, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import { pinyin } from 'pinyin-pro';
import { makeResidentId, RESIDENT_ID_SYSTEMS, residentIdCheckChar, SOCIAL_SECURITY_CARD_SYSTEM } from '../../server/src/fhir/identity/resident-id.js';
import { HKMO_PERMIT_SYSTEM, PASSPORT_SYSTEM_PREFIX, TAIWAN_PERMIT_SYSTEM } from '../../server/src/federation/mpi/person.js';

export type Source = 'hospital' | 'clinic' | 'private';

export interface PopulationRecord {
  /** Unique record id. */
  key: string;
  /** Ground truth: the real person behind the record. */
  personId: string;
  patient: Patient;
  source: Source;
}

export interface Population {
  records: PopulationRecord[];
}

/** All rates are probabilities per person or per record, as stated. */
export const RATES = {
  // --- people -------------------------------------------------------------------------------
  /** Per person: gets a twin (so about twice this share of people are twins; China ≈ 1–2 % of births). */
  twin: 0.012,
  /** Per person: lives with the previous person (spouse, parent or child): same address, often same phone. */
  household: 0.3,
  /** Per person: one of the ~30 most common full names of China (张伟, 王芳, 李娜, 刘洋 ...). */
  commonName: 0.08,
  /** Per person: a namesake of an earlier, unrelated person — same full name, sex and birth year. */
  namesakeSameYear: 0.02,
  /** Per person: a namesake who also shares the exact birth date (≈ the collision rate of a 1M registry). */
  namesakeSameDate: 0.005,
  /** Per person born before 1965: registered as born on 1 January (real date unknown). */
  januaryFirstOld: 0.06,
  /** Per person: no resident ID at all — HK/Macau/Taiwan permit or foreign passport only (ID-03). */
  noResidentId: 0.02,
  /** Per person: has a social-security card number besides the ID number. */
  insuranceCard: 0.7,
  /** Per person: reachable by phone (a child on a parent's mobile; some elderly only on a landline). */
  mobile: 0.93,
  /** Per person aged 65+: landline instead of a mobile. */
  landlineElderly: 0.25,
  // --- records ------------------------------------------------------------------------------
  /** Records per person: 1, 2, 3, 4 with these probabilities (mean ≈ 2.2). */
  recordsPerPerson: [0.3, 0.3, 0.28, 0.12],
  /** Source of each record. */
  source: { hospital: 0.45, clinic: 0.35, private: 0.2 } as Record<Source, number>,
  /** Per record: resident ID captured at all (private clinics often skip it). */
  residentIdCaptured: { hospital: 0.96, clinic: 0.92, private: 0.5 } as Record<Source, number>,
  /** Per captured ID of someone born before 1985: legacy 15-digit first-generation number. */
  legacy15: 0.05,
  /** Per captured ID: one digit mistyped, so the check character fails (data-quality problem). */
  wrongCheckDigit: 0.015,
  /** Per captured ID ending in X: written with a lower-case x. */
  lowerCaseX: 0.3,
  /** Per record of a permit/passport holder: the document number captured. */
  documentCaptured: 0.85,
  /** Per record of a card holder: card number captured. */
  cardCaptured: { hospital: 0.5, clinic: 0.6, private: 0.1 } as Record<Source, number>,
  /** Per captured card/document: typed in lower case or with spaces. */
  cardFormatting: 0.1,
  /** Per second-or-later record at the same source: a new MRN (duplicate registration) instead of the old chart. */
  newMrnAtSameSource: 0.5,
  /** Per record, by source: name in Han characters only as HumanName.text (no family/given parts). */
  hanTextOnly: { hospital: 0.1, clinic: 0.15, private: 0.15 } as Record<Source, number>,
  /** Per record, by source: name romanised (pinyin/latin) instead of Han characters. */
  romanised: { hospital: 0.02, clinic: 0.02, private: 0.3 } as Record<Source, number>,
  /** Per record of a permit/passport holder: name romanised as in the document. */
  romanisedDocumentHolder: 0.6,
  /** Per romanised name: only as text (else family/given parts). */
  romanisedTextOnly: 0.5,
  /** Per romanised text-only name: given name first ('Wei Zhang'). */
  givenFirst: 0.4,
  /** Per romanised name: one keystroke error (substitution, insertion, deletion or transposition). */
  pinyinTypo: 0.08,
  /** Per Han-character name: one given-name character replaced by a homophone (pinyin input method). */
  homophone: 0.04,
  /** Per record: birth date day and month swapped (when the swap is a valid, different date). */
  birthDateSwapped: 0.015,
  /** Per record: birth date one day off. */
  birthDateOffByOne: 0.015,
  /** Per record: birth date by the lunar calendar (3–7 weeks earlier). */
  birthDateLunar: 0.005,
  /** Per record: birth date missing. */
  birthDateMissing: 0.01,
  /** Per record: gender missing / wrong. */
  genderMissing: 0.01,
  genderWrong: 0.003,
  /** Per record of a person with a phone: phone not captured. */
  phoneMissing: 0.12,
  /** Per record of a person with a phone: a different (new or old) number. */
  phoneChanged: 0.08,
  /** Per captured phone: written with +86/0086, spaces or dashes. */
  phoneFormatting: 0.2,
  /** Per record: no address. */
  addressMissing: 0.1,
  /** Per record: a different address (moved). */
  addressMoved: 0.05,
  /** Per address: written without 上海市 / without 上海市苏河区 / with full-width digits / with spaces and dashes / room without 室. */
  addressNoCity: 0.25,
  addressStreetOnly: 0.1,
  addressFullWidth: 0.1,
  addressPunctuation: 0.1,
  addressNoRoomSuffix: 0.05,
} as const;

// ---------------------------------------------------------------------------------------------
// Seeded PRNG: xoshiro128**, state filled by splitmix32 from the seed.

class Random {
  private readonly s = new Uint32Array(4);

  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** Uniform in [0, 1). */
  next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result / 4294967296;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Index drawn with the given weights (need not sum to 1). */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  digits(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += String(this.int(0, 9));
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Name material

/** Surnames with their approximate share (per mille) of the population. */
const SURNAMES: readonly [string, number][] = [
  ['王', 71], ['李', 70], ['张', 67], ['刘', 54], ['陈', 45], ['杨', 31], ['黄', 22], ['赵', 23], ['吴', 20],
  ['周', 19], ['徐', 16], ['孙', 15], ['马', 13], ['朱', 12], ['胡', 12], ['郭', 12], ['何', 11], ['高', 10],
  ['林', 10], ['罗', 9], ['郑', 8], ['梁', 8], ['谢', 7], ['宋', 6], ['唐', 6], ['许', 6], ['韩', 6], ['冯', 6],
  ['邓', 5], ['曹', 5], ['彭', 5], ['曾', 5], ['肖', 5], ['田', 5], ['董', 5], ['袁', 5], ['潘', 5], ['于', 4],
  ['蒋', 4], ['蔡', 4], ['余', 4], ['杜', 4], ['叶', 4], ['程', 4], ['苏', 4], ['魏', 4], ['吕', 4], ['丁', 4],
  ['任', 3], ['沈', 3], ['姚', 3], ['卢', 3], ['钱', 2], ['单', 1], ['欧阳', 1], ['司马', 0.3], ['诸葛', 0.2],
];

/** Given-name characters; those in one string are homophones (same toneless pinyin). */
const HOMOPHONE_GROUPS: readonly string[] = [
  '伟玮炜', '军君钧', '勇永', '杰捷', '涛韬', '明鸣铭', '超朝', '辉晖', '鹏朋', '浩昊皓', '宇雨羽', '轩宣',
  '涵晗', '子梓', '博波', '晨辰宸', '泽择', '俊骏峻', '建健剑', '华桦', '文雯', '志智', '成诚程', '平萍',
  '东冬', '林琳霖', '斌彬', '宏鸿', '峰锋枫', '新欣鑫馨', '阳洋扬', '怡宜依', '思斯', '嘉佳', '睿瑞', '梦萌',
  '婷亭', '静晶婧菁', '丽莉俐', '芳方', '娜纳', '敏民', '燕艳妍', '霞侠', '秀修', '英莹颖', '兰岚', '玉钰',
  '梅玫', '娟鹃', '桂贵', '珍贞', '琴芹', '悦月玥', '雪学', '倩茜', '璐露', '琪琦淇', '慧惠', '薇微',
];
const MALE_CHARS = '伟军勇杰涛明超辉鹏浩宇轩子博晨泽俊建华文志成平东林斌宏峰新阳思嘉睿强磊刚国海天一';
const FEMALE_CHARS = '芳丽静娜敏燕霞秀英兰玉梅娟桂珍琴悦雪倩璐琪婷梦怡思嘉欣涵子雨晨文慧薇萍琳';
/** Names of women born before about 1960, as whole given names. */
const OLD_FEMALE_GIVEN = ['秀英', '桂英', '秀兰', '玉兰', '桂兰', '淑珍', '凤英', '秀珍', '玉珍', '桂珍'];
const COMMON_FULL_NAMES: Record<'male' | 'female', readonly [string, string][]> = {
  male: [
    ['张', '伟'], ['王', '伟'], ['李', '伟'], ['刘', '伟'], ['李', '强'], ['王', '磊'], ['张', '勇'], ['王', '军'],
    ['李', '军'], ['刘', '洋'], ['王', '勇'], ['张', '磊'], ['陈', '伟'], ['张', '涛'], ['王', '涛'], ['李', '杰'],
  ],
  female: [
    ['王', '芳'], ['李', '娜'], ['张', '敏'], ['李', '静'], ['王', '静'], ['张', '丽'], ['王', '丽'], ['王', '敏'],
    ['李', '敏'], ['刘', '芳'], ['王', '艳'], ['李', '娟'], ['张', '静'], ['刘', '洋'], ['王', '秀英'], ['李', '秀英'],
  ],
};

// ---------------------------------------------------------------------------------------------
// Places

/** Registration area codes: mostly Shanghai districts, some people registered elsewhere. */
const AREA_CODES = ['310101', '310104', '310105', '310106', '310106', '310107', '310107', '310110', '320102', '330106', '410102', '510104'];
const STREETS = ['江宁路', '昌平路', '西康路', '武定路', '康定路', '长寿路', '常德路', '胶州路', '新闸路', '延平路', '陕西北路', '余姚路'];
const HOME_CITY = '上海市';
const HOME_DISTRICT = '苏河区';

interface Home {
  street: string;
  lane: number;
  building: number;
  room: string;
  postalCode: string;
}

// ---------------------------------------------------------------------------------------------
// People

type Sex = 'male' | 'female';

interface Person {
  id: string;
  family: string;
  given: string;
  sex: Sex;
  birthDate: string;
  residentId?: string;
  /** ID-03: permit or passport of someone without a resident ID. */
  document?: { system: string; value: string };
  card?: string;
  phone?: string;
  home: Home;
}

/** Reference date of the population: ages are counted to it, so nothing depends on the clock. */
const AS_OF_YEAR = 2025;

const AGE_BANDS: readonly [number, number, number][] = [
  // [from, to, weight] — patients skew old, as a hub's do.
  [0, 6, 8], [7, 17, 10], [18, 39, 25], [40, 59, 27], [60, 79, 23], [80, 100, 7],
];

class PopulationBuilder {
  private readonly people: Person[] = [];
  private readonly usedIds = new Set<string>();

  constructor(private readonly rng: Random) {}

  build(count: number): Person[] {
    while (this.people.length < count) {
      const previous = this.people[this.people.length - 1];
      if (previous && this.rng.chance(RATES.twin) && this.people.length + 2 <= count) {
        const first = this.freshPerson();
        this.people.push(first);
        this.people.push(this.twinOf(first));
      } else if (previous && this.rng.chance(RATES.household)) {
        this.people.push(this.householdMemberOf(previous));
      } else {
        this.people.push(this.freshPerson());
      }
    }
    return this.people;
  }

  private nextId(): string {
    return `person-${String(this.people.length + 1).padStart(5, '0')}`;
  }

  private freshPerson(overrides: Partial<Person> = {}): Person {
    const rng = this.rng;
    const sex: Sex = overrides.sex ?? (rng.chance(0.5) ? 'male' : 'female');
    let birthDate = overrides.birthDate ?? this.randomBirthDate();
    let family = overrides.family;
    let given = overrides.given;
    if (!family || !given) {
      const earlier = this.people.filter((p) => p.sex === sex);
      const namesake = rng.next();
      if (earlier.length > 0 && namesake < RATES.namesakeSameYear + RATES.namesakeSameDate) {
        // An unrelated person with the same name: the case that makes name + birth date ambiguous.
        const model = rng.pick(earlier);
        family = model.family;
        given = model.given;
        birthDate = namesake < RATES.namesakeSameDate ? model.birthDate : `${model.birthDate.slice(0, 4)}${this.randomBirthDate().slice(4)}`;
        if (!isRealDate(birthDate)) birthDate = `${model.birthDate.slice(0, 4)}-03-01`;
      } else if (rng.chance(RATES.commonName)) {
        [family, given] = rng.pick(COMMON_FULL_NAMES[sex]);
      } else {
        family = family ?? SURNAMES[rng.weighted(SURNAMES.map(([, w]) => w))][0];
        given = this.randomGivenName(sex, Number(birthDate.slice(0, 4)));
      }
    }
    const person: Person = {
      id: this.nextId(),
      family,
      given,
      sex,
      birthDate,
      home: overrides.home ?? this.randomHome(),
    };
    if (rng.chance(RATES.noResidentId)) {
      person.document = this.randomDocument();
    } else {
      person.residentId = this.uniqueResidentId(birthDate, sex);
      if (rng.chance(RATES.insuranceCard)) person.card = `${rng.pick(['A', 'B', 'S'])}${rng.digits(8)}`;
    }
    const phone = 'phone' in overrides ? overrides.phone : this.randomPhone(birthDate);
    if (phone) person.phone = phone;
    return person;
  }

  private twinOf(first: Person): Person {
    const rng = this.rng;
    const sex: Sex = rng.chance(0.6) ? first.sex : first.sex === 'male' ? 'female' : 'male';
    let given = first.given;
    while (given === first.given || pinyinOf(given) === pinyinOf(first.given)) {
      const pool = sex === 'male' ? MALE_CHARS : FEMALE_CHARS;
      // Twins' names often share a character (子涵 / 子轩).
      given = first.given.length === 2 && rng.chance(0.5) ? first.given[0] + rng.pick([...pool]) : this.randomGivenName(sex, Number(first.birthDate.slice(0, 4)));
    }
    return this.freshPerson({ family: first.family, given, sex, birthDate: first.birthDate, home: first.home, phone: first.phone });
  }

  private householdMemberOf(head: Person): Person {
    const rng = this.rng;
    const headYear = Number(head.birthDate.slice(0, 4));
    const headIsAdult = AS_OF_YEAR - headYear >= 22;
    if (headIsAdult && rng.chance(0.5)) {
      // Spouse: another family name (Chinese women keep theirs), similar age, own phone.
      const year = clamp(headYear + rng.int(-5, 5), AS_OF_YEAR - 100, AS_OF_YEAR - 18);
      const sex: Sex = head.sex === 'male' ? 'female' : 'male';
      return this.freshPerson({ sex, birthDate: this.randomDateIn(year), home: head.home });
    }
    // Child or parent: the family name of the head; a child under 16 is reached on the head's phone.
    const childYear = headYear + rng.int(22, 35);
    const parentYear = Math.max(headYear - rng.int(22, 35), AS_OF_YEAR - 100);
    const year = childYear <= AS_OF_YEAR && headIsAdult ? childYear : parentYear;
    const birthDate = this.randomDateIn(clamp(year, AS_OF_YEAR - 100, AS_OF_YEAR));
    const sex: Sex = rng.chance(0.5) ? 'male' : 'female';
    let given = this.randomGivenName(sex, year);
    // Chinese families avoid giving a child a parent's name.
    while (given === head.given) given = this.randomGivenName(sex, year);
    const young = AS_OF_YEAR - year < 16;
    return this.freshPerson({ family: head.family, given, sex, birthDate, home: head.home, ...(young ? { phone: head.phone } : {}) });
  }

  private randomBirthDate(): string {
    const band = AGE_BANDS[this.rng.weighted(AGE_BANDS.map(([, , w]) => w))];
    return this.randomDateIn(AS_OF_YEAR - this.rng.int(band[0], band[1]));
  }

  private randomDateIn(year: number): string {
    if (year < 1965 && this.rng.chance(RATES.januaryFirstOld)) return `${year}-01-01`;
    const month = this.rng.int(1, 12);
    const day = this.rng.int(1, daysInMonth(year, month));
    return isoDate(year, month, day);
  }

  private randomGivenName(sex: Sex, birthYear: number): string {
    const rng = this.rng;
    if (sex === 'female' && birthYear < 1960 && rng.chance(0.35)) return rng.pick(OLD_FEMALE_GIVEN);
    const pool = [...(sex === 'male' ? MALE_CHARS : FEMALE_CHARS)];
    const single = rng.chance(birthYear < 1980 ? 0.3 : 0.12);
    if (single) return rng.pick(pool);
    let second = rng.pick(pool);
    const first = rng.pick(pool);
    while (second === first) second = rng.pick(pool);
    return first + second;
  }

  private randomHome(): Home {
    const rng = this.rng;
    return {
      street: rng.pick(STREETS),
      lane: rng.int(1, 999),
      building: rng.int(1, 40),
      room: `${rng.int(1, 6)}0${rng.int(1, 4)}`,
      postalCode: rng.pick(['200040', '200041', '200042', '200060']),
    };
  }

  private uniqueResidentId(birthDate: string, sex: Sex): string {
    for (;;) {
      const sequence = this.rng.int(0, 499) * 2 + (sex === 'male' ? 1 : 0);
      const id = makeResidentId(this.rng.pick(AREA_CODES), birthDate, sequence);
      if (!this.usedIds.has(id)) {
        this.usedIds.add(id);
        return id;
      }
    }
  }

  private randomDocument(): { system: string; value: string } {
    const rng = this.rng;
    const kind = rng.weighted([0.6, 0.25, 0.15]);
    if (kind === 0) return { system: HKMO_PERMIT_SYSTEM, value: `${rng.pick(['H', 'M'])}${rng.digits(8)}` };
    if (kind === 1) return { system: TAIWAN_PERMIT_SYSTEM, value: rng.digits(8) };
    return { system: `${PASSPORT_SYSTEM_PREFIX}${rng.pick(['SGP', 'MYS', 'USA', 'CAN'])}`, value: `${rng.pick(['E', 'K', 'P'])}${rng.digits(7)}` };
  }

  private randomPhone(birthDate: string): string | undefined {
    const rng = this.rng;
    const age = AS_OF_YEAR - Number(birthDate.slice(0, 4));
    // A child is reached on a parent's mobile: the head's within a household, else a parent outside the population.
    if (!rng.chance(RATES.mobile)) return undefined;
    if (age < 16) return randomMobile(rng);
    if (age >= 65 && rng.chance(RATES.landlineElderly)) return `021${rng.pick(['5', '6'])}${rng.digits(7)}`;
    return randomMobile(rng);
  }
}

function randomMobile(rng: Random): string {
  return `1${rng.pick(['35', '36', '37', '38', '39', '58', '59', '86', '88', '77', '99'])}${rng.digits(8)}`;
}

// ---------------------------------------------------------------------------------------------
// Records

interface RecordContext {
  rng: Random;
  source: Source;
  /** MRN per source already given to this person. */
  mrns: Map<Source, string>;
}

function makeRecord(person: Person, context: RecordContext): Patient {
  const { rng, source } = context;
  const identifier: Identifier[] = [];

  identifier.push({
    use: 'usual',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
    system: `urn:suhe:mrn:${source}`,
    value: mrnFor(context),
  });
  if (person.residentId && rng.chance(RATES.residentIdCaptured[source])) {
    identifier.push({ use: 'official', system: residentIdSystemFor(source, rng), value: writtenResidentId(person, rng) });
  }
  if (person.document && rng.chance(RATES.documentCaptured)) {
    identifier.push({ system: person.document.system, value: formatCard(person.document.value, rng) });
  }
  if (person.card && rng.chance(RATES.cardCaptured[source])) {
    identifier.push({ system: SOCIAL_SECURITY_CARD_SYSTEM, value: formatCard(person.card, rng) });
  }

  const patient: Patient = { resourceType: 'Patient', identifier, name: [writtenName(person, source, rng)] };
  const birthDate = writtenBirthDate(person.birthDate, rng);
  if (birthDate) patient.birthDate = birthDate;
  const gender = writtenGender(person.sex, rng);
  if (gender) patient.gender = gender;
  const telecom = writtenPhone(person.phone, rng);
  if (telecom) patient.telecom = [telecom];
  const address = writtenAddress(person.home, source, rng);
  if (address) patient.address = [address];
  return patient;
}

function mrnFor(context: RecordContext): string {
  const { rng, source, mrns } = context;
  const existing = mrns.get(source);
  if (existing && !rng.chance(RATES.newMrnAtSameSource)) return existing;
  const mrn = `${source === 'hospital' ? 'H' : source === 'clinic' ? 'C' : 'P'}${rng.digits(8)}`;
  if (!existing) mrns.set(source, mrn);
  return mrn;
}

/** ID-02: the hospital's FHIR feed uses the HL7 China OID, the clinics' CDA documents the WS/T 500 one. */
function residentIdSystemFor(source: Source, rng: Random): string {
  if (source === 'hospital') return RESIDENT_ID_SYSTEMS[1];
  if (source === 'clinic') return RESIDENT_ID_SYSTEMS[0];
  return rng.pick(RESIDENT_ID_SYSTEMS);
}

function writtenResidentId(person: Person, rng: Random): string {
  let id = person.residentId!;
  const bornBefore1985 = Number(person.birthDate.slice(0, 4)) < 1985;
  if (bornBefore1985 && rng.chance(RATES.legacy15)) {
    // First-generation card: 2-digit year, no check character.
    return id.slice(0, 6) + id.slice(8, 17);
  }
  if (rng.chance(RATES.wrongCheckDigit)) {
    // A slip on one of the 17 digits; the check character then no longer fits.
    for (;;) {
      const position = rng.int(0, 16);
      const digit = String(rng.int(0, 9));
      const mistyped = id.slice(0, position) + digit + id.slice(position + 1, 17);
      if (digit !== id[position] && residentIdCheckChar(mistyped) !== id[17]) {
        id = mistyped + id[17];
        break;
      }
    }
  }
  if (id.endsWith('X') && rng.chance(RATES.lowerCaseX)) id = id.slice(0, 17) + 'x';
  return id;
}

function formatCard(value: string, rng: Random): string {
  if (!rng.chance(RATES.cardFormatting)) return value;
  return rng.chance(0.5) ? value.toLowerCase() : ` ${value.slice(0, 4)} ${value.slice(4)} `;
}

function writtenName(person: Person, source: Source, rng: Random): HumanName {
  const romanised = person.document ? rng.chance(RATES.romanisedDocumentHolder) : rng.chance(RATES.romanised[source]);
  if (romanised) return romanisedName(person, rng);
  let given = person.given;
  if (rng.chance(RATES.homophone)) given = withHomophone(given, rng);
  if (rng.chance(RATES.hanTextOnly[source])) {
    return { use: 'official', text: rng.chance(0.2) ? `${person.family} ${given}` : person.family + given };
  }
  return { use: 'official', text: person.family + given, family: person.family, given: [given] };
}

function romanisedName(person: Person, rng: Random): HumanName {
  let family = capitalise(pinyinOf(person.family, true));
  let given = capitalise(pinyinOf(person.given));
  if (rng.chance(RATES.pinyinTypo)) {
    if (rng.chance(0.3)) family = capitalise(typo(family.toLowerCase(), rng));
    else given = capitalise(typo(given.toLowerCase(), rng));
  }
  if (!rng.chance(RATES.romanisedTextOnly)) {
    // Passport style: family name in capitals.
    return { use: 'official', family: rng.chance(0.5) ? family.toUpperCase() : family, given: [given] };
  }
  const style = rng.next();
  const text = rng.chance(RATES.givenFirst)
    ? `${given} ${family}`
    : style < 0.4
      ? `${family.toUpperCase()} ${given}`
      : style < 0.7
        ? `${family} ${given}`
        : `${family.toLowerCase()} ${given.toLowerCase()}`;
  return { use: 'official', text };
}

/** One keystroke error: substitution, insertion, deletion or transposition of adjacent letters. */
function typo(word: string, rng: Random): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const i = rng.int(0, word.length - 1);
  switch (rng.int(0, 3)) {
    case 0:
      return word.slice(0, i) + rng.pick([...letters.replace(word[i], '')]) + word.slice(i + 1);
    case 1:
      return word.slice(0, i) + rng.pick([...letters]) + word.slice(i);
    case 2:
      return word.length > 2 ? word.slice(0, i) + word.slice(i + 1) : word + rng.pick([...letters]);
    default:
      return i + 1 < word.length && word[i] !== word[i + 1]
        ? word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2)
        : word.slice(0, i) + rng.pick([...letters.replace(word[i], '')]) + word.slice(i + 1);
  }
}

function withHomophone(given: string, rng: Random): string {
  const positions = [...given].map((c, i) => [i, HOMOPHONE_GROUPS.find((g) => g.includes(c))] as const).filter(([, g]) => g !== undefined);
  if (positions.length === 0) return given;
  const [position, group] = rng.pick(positions);
  const original = given[position];
  const alternatives = [...group!].filter((c) => c !== original);
  return given.slice(0, position) + rng.pick(alternatives) + given.slice(position + 1);
}

function writtenBirthDate(birthDate: string, rng: Random): string | undefined {
  const [year, month, day] = birthDate.split('-').map(Number);
  const r = rng.next();
  let threshold = RATES.birthDateMissing;
  if (r < threshold) return undefined;
  if (r < (threshold += RATES.birthDateSwapped)) {
    return day <= 12 && day !== month ? isoDate(year, day, month) : birthDate;
  }
  if (r < (threshold += RATES.birthDateOffByOne)) {
    return shiftDays(birthDate, rng.chance(0.5) ? 1 : -1);
  }
  if (r < (threshold += RATES.birthDateLunar)) {
    return shiftDays(birthDate, -rng.int(21, 49));
  }
  return birthDate;
}

function writtenGender(sex: Sex, rng: Random): Patient['gender'] | undefined {
  const r = rng.next();
  if (r < RATES.genderMissing) return rng.chance(0.5) ? undefined : 'unknown';
  if (r < RATES.genderMissing + RATES.genderWrong) return sex === 'male' ? 'female' : 'male';
  return sex;
}

function writtenPhone(phone: string | undefined, rng: Random): ContactPoint | undefined {
  if (!phone || rng.chance(RATES.phoneMissing)) return undefined;
  const value = rng.chance(RATES.phoneChanged) ? randomMobile(rng) : phone;
  const mobile = value.startsWith('1');
  if (!rng.chance(RATES.phoneFormatting)) return { system: 'phone', value, use: mobile ? 'mobile' : 'home' };
  const formatted = mobile
    ? rng.pick([`+86 ${value.slice(0, 3)} ${value.slice(3, 7)} ${value.slice(7)}`, `0086${value}`, `${value.slice(0, 3)}-${value.slice(3, 7)}-${value.slice(7)}`])
    : rng.pick([`${value.slice(0, 3)}-${value.slice(3)}`, `+86 21 ${value.slice(3)}`, `(021) ${value.slice(3)}`]);
  return { system: 'phone', value: formatted, use: mobile ? 'mobile' : 'home' };
}

function writtenAddress(home: Home, source: Source, rng: Random): Address | undefined {
  if (rng.chance(RATES.addressMissing)) return undefined;
  const actual = rng.chance(RATES.addressMoved) ? movedHome(rng) : home;
  let line = `${actual.street}${actual.lane}弄${actual.building}号${actual.room}${rng.chance(RATES.addressNoRoomSuffix) ? '' : '室'}`;
  if (rng.chance(RATES.addressPunctuation)) {
    line = `${actual.street} ${actual.lane}弄 ${actual.building}号-${actual.room}室`;
  }
  if (rng.chance(RATES.addressFullWidth)) line = toFullWidthDigits(line);
  if (source === 'hospital' && rng.chance(0.6)) {
    return { use: 'home', line: [line], district: HOME_DISTRICT, city: HOME_CITY, state: HOME_CITY, postalCode: actual.postalCode, country: 'CN' };
  }
  const r = rng.next();
  const text = r < RATES.addressStreetOnly
    ? line
    : r < RATES.addressStreetOnly + RATES.addressNoCity
      ? `${HOME_DISTRICT}${line}`
      : `${HOME_CITY}${HOME_DISTRICT}${line}`;
  return { use: 'home', text };
}

function movedHome(rng: Random): Home {
  return { street: rng.pick(STREETS), lane: rng.int(1, 999), building: rng.int(1, 40), room: `${rng.int(1, 6)}0${rng.int(1, 4)}`, postalCode: '200040' };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function pinyinOf(han: string, surname = false): string {
  return pinyin(han, { toneType: 'none', type: 'array', v: true, ...(surname ? { mode: 'surname' as const } : {}) }).join('');
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function toFullWidthDigits(value: string): string {
  return value.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function isoDate(year: number, month: number, day: number): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function isRealDate(value: string): boolean {
  const [year, month, day] = value.split('-').map(Number);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function shiftDays(value: string, days: number): string {
  const [year, month, day] = value.split('-').map(Number);
  const shifted = new Date(Date.UTC(year, month - 1, day + days));
  return isoDate(shifted.getUTCFullYear(), shifted.getUTCMonth() + 1, shifted.getUTCDate());
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

// ---------------------------------------------------------------------------------------------

export function generatePopulation(options: { people: number; seed: number }): Population {
  const rng = new Random(options.seed);
  const people = new PopulationBuilder(rng).build(options.people);
  const sources = Object.keys(RATES.source) as Source[];
  const sourceWeights = sources.map((s) => RATES.source[s]);
  const records: PopulationRecord[] = [];
  let serial = 0;
  for (const person of people) {
    const count = rng.weighted(RATES.recordsPerPerson) + 1;
    const context: RecordContext = { rng, source: 'hospital', mrns: new Map() };
    for (let n = 0; n < count; n++) {
      context.source = sources[rng.weighted(sourceWeights)];
      records.push({ key: `record-${String(++serial).padStart(6, '0')}`, personId: person.id, patient: makeRecord(person, context), source: context.source });
    }
  }
  return { records };
}
