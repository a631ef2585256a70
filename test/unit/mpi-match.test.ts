// MPI matching core: normalisation of source Patients into PersonRecords, pairwise comparison and
// blocking keys. Rule IDs refer to ../shared/DOMAIN.md "Identity and codes".
import { describe, expect, it } from '@jest/globals';
import type { Patient } from '@medplum/fhirtypes';
import {
  blockingKeys,
  CERTAINLY_NOT_SCORE,
  compareRecords,
  MATCH_THRESHOLDS,
  type MatchResult,
} from '../../server/src/federation/mpi/match.js';
import { jaroWinkler, osaDistance } from '../../server/src/federation/mpi/similarity.js';
import {
  HKMO_PERMIT_SYSTEM,
  normalisePhone,
  personFromPatient,
  type PersonRecord,
} from '../../server/src/federation/mpi/person.js';
import { makeResidentId, RESIDENT_ID_SYSTEMS, SOCIAL_SECURITY_CARD_SYSTEM } from '../../server/src/fhir/identity/resident-id.js';

const [WS_T500_SYSTEM, HL7_CN_SYSTEM] = RESIDENT_ID_SYSTEMS;
const EXAMPLE_ID = '11010519491231002X';

/** A Patient of 张伟 (male, born 1980-05-17) with whatever the test overrides. */
function patient(overrides: Partial<Patient> = {}): Patient {
  return {
    resourceType: 'Patient',
    name: [{ use: 'official', family: '张', given: ['伟'] }],
    gender: 'male',
    birthDate: '1980-05-17',
    ...overrides,
  };
}

function residentId(value: string, system: string = HL7_CN_SYSTEM): Patient['identifier'] {
  return [{ system, value }];
}

function compare(a: Patient, b: Patient): MatchResult {
  return compareRecords(personFromPatient(a), personFromPatient(b));
}

const linked = (r: MatchResult): boolean => r.grade === 'certain' || r.grade === 'probable';

describe('personFromPatient: resident ID', () => {
  it('ID-01: a valid number is kept, normalised to upper-case X', () => {
    const p = personFromPatient(patient({ identifier: residentId(' 11010519491231002x ') }));
    expect(p.residentId).toBe(EXAMPLE_ID);
    expect(p.residentIdProblem).toBeUndefined();
    expect(p.residentIdBirthDate).toBe('1949-12-31');
  });

  it('ID-01: a wrong check character makes the number invalid, with the reason recorded', () => {
    const p = personFromPatient(patient({ identifier: residentId('110105194912310021') }));
    expect(p.residentId).toBeUndefined();
    expect(p.residentIdProblem).toMatch(/check character/);
    expect(p.residentIdRaw).toBe('110105194912310021');
  });

  it('ID-01: a legacy 15-digit number is up-converted to the 18-char form', () => {
    const p = personFromPatient(patient({ identifier: residentId('110105491231002') }));
    expect(p.residentId).toBe(EXAMPLE_ID);
  });

  it('ID-01: sex and birth date fall back to the ID number when the record lacks them', () => {
    const p = personFromPatient({ resourceType: 'Patient', identifier: residentId(EXAMPLE_ID), name: [{ text: '王芳' }] });
    expect(p.birthDate).toBe('1949-12-31');
    expect(p.sex).toBe('female');
  });

  it('ID-01: an ID whose birth date is years from the record’s own is flagged as not this person’s', () => {
    // A newborn registered under the mother's number.
    const p = personFromPatient(patient({ birthDate: '2024-03-02', identifier: residentId(EXAMPLE_ID) }));
    expect(p.residentId).toBe(EXAMPLE_ID);
    expect(p.residentIdConflict).toMatch(/years/);
  });

  it('ID-02: the number is read under either OID, and both OIDs on one record are one identifier', () => {
    const ws = personFromPatient(patient({ identifier: residentId(EXAMPLE_ID, WS_T500_SYSTEM) }));
    expect(ws.residentId).toBe(EXAMPLE_ID);
    const both = personFromPatient(
      patient({ identifier: [{ system: WS_T500_SYSTEM, value: EXAMPLE_ID }, { system: HL7_CN_SYSTEM, value: EXAMPLE_ID.toLowerCase() }] }),
    );
    expect(both.residentId).toBe(EXAMPLE_ID);
    expect(both.identifiers).toEqual([]);
  });

  it('ID-02/ID-03: the social-security card is another identifier, upper-cased; an MRN is kept as written', () => {
    const p = personFromPatient(
      patient({
        identifier: [
          { system: SOCIAL_SECURITY_CARD_SYSTEM, value: ' a1234 5678 ' },
          { system: 'urn:suhe:mrn:hospital', value: 'mr-00017' },
        ],
      }),
    );
    expect(p.residentId).toBeUndefined();
    expect(p.identifiers).toEqual([
      { system: SOCIAL_SECURITY_CARD_SYSTEM, value: 'A12345678', kind: 'document' },
      { system: 'urn:suhe:mrn:hospital', value: 'mr-00017', kind: 'local' },
    ]);
  });
});

describe('personFromPatient: names', () => {
  it('reads a structured Han name into hanzi, pinyin and swapped pinyin', () => {
    const p = personFromPatient(patient());
    expect(p).toMatchObject({ hanzi: '张伟', family: 'zhang', given: 'wei', pinyin: 'zhangwei', pinyinGivenFirst: 'weizhang' });
  });

  it('splits a Han name given only as text, including compound surnames', () => {
    expect(personFromPatient(patient({ name: [{ text: '李 娜' }] }))).toMatchObject({ hanzi: '李娜', family: 'li', given: 'na' });
    expect(personFromPatient(patient({ name: [{ text: '欧阳娜娜' }] }))).toMatchObject({ family: 'ouyang', given: 'nana' });
  });

  it('reads surnames in surname mode (单 is shan, 曾 is zeng)', () => {
    expect(personFromPatient(patient({ name: [{ text: '单伟' }] })).family).toBe('shan');
    expect(personFromPatient(patient({ name: [{ family: '曾', given: ['红'] }] })).family).toBe('zeng');
  });

  it('prefers the official name, and a Han name over a romanised one', () => {
    const p = personFromPatient(
      patient({ name: [{ use: 'usual', text: 'Zhang Wei' }, { use: 'official', family: '张', given: ['薇'] }] }),
    );
    expect(p.hanzi).toBe('张薇');
  });

  it('reads romanised names: passport capitals, commas, tone marks and ü spellings', () => {
    expect(personFromPatient(patient({ name: [{ text: 'Wei ZHANG' }] }))).toMatchObject({ family: 'zhang', given: 'wei' });
    expect(personFromPatient(patient({ name: [{ text: 'Zhang, Xiao Ming' }] }))).toMatchObject({ family: 'zhang', given: 'xiaoming' });
    expect(personFromPatient(patient({ name: [{ text: 'Zhāng Wěi' }] })).pinyin).toBe('zhangwei');
    expect(personFromPatient(patient({ name: [{ family: 'LYU', given: ['Bu'] }] })).pinyin).toBe('lvbu');
    expect(personFromPatient(patient({ name: [{ text: '吕布' }] })).pinyin).toBe('lvbu');
    expect(personFromPatient(patient({ name: [{ text: 'Ming Xiao' }] })).hanzi).toBeUndefined();
  });
});

describe('personFromPatient: phone and address', () => {
  it('normalises mainland phone numbers', () => {
    expect(normalisePhone('+86 138 0013 8000')).toBe('13800138000');
    expect(normalisePhone('0086-13800138000')).toBe('13800138000');
    expect(normalisePhone('8613800138000')).toBe('13800138000');
    expect(normalisePhone('138-0013-8000')).toBe('13800138000');
    expect(normalisePhone('021-6234 5678')).toBe('02162345678');
    expect(normalisePhone('+86 21 6234 5678')).toBe('02162345678');
    expect(normalisePhone('8021')).toBeUndefined();
  });

  it('reads phones from telecom only (not e-mail) and the home address from its parts', () => {
    const p = personFromPatient(
      patient({
        telecom: [
          { system: 'email', value: 'a@b.cn' },
          { system: 'phone', value: '+86 138 0013 8000' },
          { system: 'phone', value: '13800138000' },
        ],
        address: [{ use: 'home', state: '上海市', city: '上海市', district: '苏河区', line: ['江宁路 １２３弄 4号-501室'], postalCode: '200040' }],
      }),
    );
    expect(p.phones).toEqual(['13800138000']);
    expect(p.address).toBe('上海市苏河区江宁路123弄4号501室');
    expect(p.postalCode).toBe('200040');
  });
});

describe('compareRecords: resident ID', () => {
  it('ID-01/ID-02: the same valid number under the two OIDs, one a legacy 15-digit form, is a certain match', () => {
    const wangFang = { gender: 'female' as const, birthDate: '1949-12-31' };
    const r = compare(
      patient({ ...wangFang, identifier: residentId(EXAMPLE_ID, WS_T500_SYSTEM), name: [{ text: 'Wang Fang' }] }),
      patient({ ...wangFang, identifier: residentId('110105491231002', HL7_CN_SYSTEM), name: [{ text: '王芳' }] }),
    );
    expect(r).toMatchObject({ grade: 'certain', deterministic: true });
    expect(r.reasons[0]).toBe('resident ID number equal');
    expect(r.score).toBeGreaterThanOrEqual(MATCH_THRESHOLDS.autoLink);
  });

  it('ID-01: two different valid numbers are two people, even with identical demographics (twins)', () => {
    const twinA = makeResidentId('310104', '1980-05-17', 11);
    const twinB = makeResidentId('310104', '1980-05-17', 13);
    const r = compare(patient({ identifier: residentId(twinA) }), patient({ identifier: residentId(twinB) }));
    // A veto, not a link: `deterministic` is reserved for links so that `deterministic || score ≥ autoLink` means "link".
    expect(r).toMatchObject({ grade: 'certainly-not', deterministic: false, score: CERTAINLY_NOT_SCORE });
    expect(r.reasons[0]).toMatch(/resident ID numbers differ/);
  });

  it('ID-01: an invalid number is never a deterministic key, even when both records carry it', () => {
    const invalid = '110105194912310021';
    const a = personFromPatient(patient({ identifier: residentId(invalid), name: [{ text: '陈志强' }], birthDate: '1990-01-02' }));
    const b = personFromPatient(patient({ identifier: residentId(invalid), name: [{ text: '刘秀英' }], gender: 'female', birthDate: '1950-08-09' }));
    const r = compareRecords(a, b);
    expect(r.deterministic).toBe(false);
    expect(r.grade).not.toBe('certain');
    expect(linked(r)).toBe(false);
    expect(blockingKeys(a).some((k) => k.startsWith('rid:'))).toBe(false);
  });

  it('ID-01: an invalid number one keystroke from a valid one is evidence, not a decision', () => {
    const valid = makeResidentId('310104', '1980-05-17', 11);
    const mistyped = valid.slice(0, 3) + ((Number(valid[3]) + 1) % 10) + valid.slice(4);
    const a = personFromPatient(patient({ identifier: residentId(valid) }));
    const b = personFromPatient(patient({ identifier: residentId(mistyped) }));
    expect(b.residentIdProblem).toBeDefined();
    const r = compareRecords(a, b);
    expect(r.deterministic).toBe(false);
    expect(r.reasons.join('\n')).toMatch(/one keystroke apart/);
  });

  it('ID-01: a number that contradicts its record’s birth date (newborn under a parent’s ID) decides nothing', () => {
    const mother = patient({ identifier: residentId(EXAMPLE_ID), name: [{ text: '王芳' }], gender: 'female', birthDate: '1949-12-31' });
    const baby = patient({ identifier: residentId(EXAMPLE_ID), name: [{ text: '王小宝' }], birthDate: '2024-03-02' });
    const r = compare(mother, baby);
    expect(r.deterministic).toBe(false);
    expect(linked(r)).toBe(false);
  });

  it('ID-03: a passport/permit-only resident is matched by demographics, and the permit number helps', () => {
    const permit = (value: string): Patient['identifier'] => [{ system: HKMO_PERMIT_SYSTEM, value }];
    const common = { birthDate: '1975-09-30', gender: 'female' as const, telecom: [{ system: 'phone' as const, value: '13912345678' }] };
    const byDemographics = compare(
      patient({ ...common, name: [{ text: '黄嘉欣' }] }),
      patient({ ...common, name: [{ family: 'HUANG', given: ['Jiaxin'] }] }),
    );
    expect(byDemographics.grade).toBe('probable');
    expect(byDemographics.deterministic).toBe(false);

    const byPermit = compare(
      patient({ birthDate: '1975-09-30', gender: 'female', name: [{ text: '黄嘉欣' }], identifier: permit('H12345678') }),
      patient({ birthDate: '1975-09-30', gender: 'female', name: [{ text: 'Jiaxin Huang' }], identifier: permit(' h12345678') }),
    );
    expect(byPermit.grade).toBe('probable');
    expect(byPermit.reasons.join('\n')).toMatch(/same urn:suhe:id:hkmo-permit number \(H12345678\)/);
  });
});

describe('compareRecords: demographics', () => {
  const rare = { name: [{ family: '欧阳', given: ['嘉欣'] }], gender: 'female' as const, birthDate: '1986-04-09' };

  it('links a rare name with an equal birth date, but not a very common one without more evidence', () => {
    expect(compare(patient(rare), patient(rare)).grade).toBe('probable');
    const zhangWei = compare(patient(), patient());
    expect(zhangWei.grade).toBe('possible');
    expect(zhangWei.score).toBeLessThan(compare(patient(rare), patient(rare)).score);
    const withPhone = { telecom: [{ system: 'phone' as const, value: '13800138000' }] };
    expect(compare(patient(withPhone), patient(withPhone)).grade).toBe('probable');
  });

  it('recognises swapped romanised names (Zhang Wei / Wei Zhang) and one-keystroke typos', () => {
    const swapped = compare(patient({ name: [{ text: '张伟' }] }), patient({ name: [{ text: 'Wei Zhang' }] }));
    expect(swapped.reasons.join('\n')).toMatch(/name equal|swapped/);
    const text = (t: string): Patient => patient({ ...rare, name: [{ text: t }] });
    const typo = compare(text('欧阳嘉欣'), text('Ouyang Jiaixn'));
    expect(typo.reasons.join('\n')).toMatch(/one keystroke apart/);
    expect(typo.grade).toBe('possible');
  });

  it('treats a Han homophone as weaker evidence than the same characters', () => {
    const same = compare(patient({ name: [{ text: '李静怡' }] }), patient({ name: [{ text: '李静怡' }] }));
    const homophone = compare(patient({ name: [{ text: '李静怡' }] }), patient({ name: [{ text: '李晶怡' }] }));
    expect(homophone.reasons.join('\n')).toMatch(/homophones/);
    expect(homophone.score).toBeLessThan(same.score);
    expect(homophone.score).toBeGreaterThan(compare(patient({ name: [{ text: '李静怡' }] }), patient({ name: [{ text: '李国强' }] })).score);
  });

  it('names birth-date slips: day/month swap and one day off score above a wholly different date', () => {
    const on = (birthDate: string): Patient => patient({ ...rare, birthDate });
    const swap = compare(on('1986-04-09'), on('1986-09-04'));
    const offByOne = compare(on('1986-04-09'), on('1986-04-10'));
    const different = compare(on('1986-04-09'), on('1971-11-23'));
    expect(swap.reasons.join('\n')).toMatch(/birth date differs by a day\/month swap/);
    expect(offByOne.reasons.join('\n')).toMatch(/birth date differs by one day/);
    expect(swap.score).toBeGreaterThan(different.score);
    expect(offByOne.score).toBeGreaterThan(different.score);
    expect(linked(different)).toBe(false);
  });

  it('matches addresses written with or without the city and with full-width digits', () => {
    const at = (text: string): Patient => patient({ address: [{ text }] });
    const r = compare(at('上海市苏河区江宁路123弄4号501室'), at('苏河区江宁路１２３弄４号５０１室'));
    expect(r.reasons.join('\n')).toMatch(/address equal/);
    expect(compare(at('上海市苏河区江宁路123弄4号501室'), at('上海市苏河区昌平路7弄1号101室')).reasons.join('\n')).toMatch(/addresses differ/);
  });

  it('a twin without an ID number on one record never auto-links to the other twin', () => {
    const family = {
      gender: 'male' as const,
      birthDate: '2016-07-01',
      telecom: [{ system: 'phone' as const, value: '13800138000' }],
      address: [{ text: '上海市苏河区江宁路123弄4号501室' }],
    };
    const first = patient({ ...family, name: [{ text: '刘子涵' }], identifier: residentId(makeResidentId('310104', '2016-07-01', 11)) });
    const second = patient({ ...family, name: [{ text: '刘子轩' }] });
    // 子涵 / 子航 romanised: zihan / zihang is one keystroke, exactly what a typo looks like.
    const secondRomanised = patient({ ...family, name: [{ text: 'Liu Zihang' }] });
    const r = compare(first, second);
    expect(linked(r)).toBe(false);
    expect(r.reasons.join('\n')).toMatch(/twins/);
    expect(linked(compare(first, secondRomanised))).toBe(false);
    // …while the same person, with the same evidence and the same name, links.
    expect(linked(compare(first, patient({ ...family, name: [{ text: '刘子涵' }] })))).toBe(true);
  });

  it('same MRN in the same system is strong evidence; in different systems it means nothing', () => {
    const mrn = (system: string): Patient['identifier'] => [{ system, value: '000123' }];
    const other = { name: [{ text: '王秀英' }], gender: 'female' as const, birthDate: '1946-01-01' };
    const sameSystem = compare(patient({ ...other, identifier: mrn('urn:suhe:mrn:clinic') }), patient({ ...other, identifier: mrn('urn:suhe:mrn:clinic') }));
    const otherSystem = compare(patient({ ...other, identifier: mrn('urn:suhe:mrn:clinic') }), patient({ ...other, identifier: mrn('urn:suhe:mrn:hospital') }));
    expect(sameSystem.reasons.join('\n')).toMatch(/same record number/);
    expect(sameSystem.score).toBeGreaterThan(otherSystem.score);
    expect(otherSystem.reasons.join('\n')).not.toMatch(/record number/);
  });

  it('classifies identifiers of hand-built records (no kind) by their system', () => {
    const card = (value: string): PersonRecord => ({ identifiers: [{ system: SOCIAL_SECURITY_CARD_SYSTEM, value }], phones: [] });
    expect(compareRecords(card('A1'), card('A1')).reasons.join('\n')).toMatch(/same urn:oid:2\.16\.840\.1\.113883\.2\.23\.1\.19\.2 number/);
    expect(compareRecords(card('A1'), card('A2')).score).toBeLessThan(0);
  });

  it('is deterministic and symmetric', () => {
    const a = personFromPatient(patient({ name: [{ text: 'Zhang Wie' }], telecom: [{ system: 'phone', value: '13800138000' }] }));
    const b = personFromPatient(patient({ birthDate: '1980-05-18', address: [{ text: '江宁路1弄1号' }] }));
    expect(compareRecords(a, b)).toEqual(compareRecords(a, b));
    expect(compareRecords(a, b).score).toBe(compareRecords(b, a).score);
    expect(compareRecords(a, b).grade).toBe(compareRecords(b, a).grade);
  });
});

describe('blockingKeys', () => {
  const keys = (p: Patient): string[] => blockingKeys(personFromPatient(p));

  it('gives a small set of selective keys', () => {
    const k = keys(
      patient({
        identifier: [...residentId(makeResidentId('310104', '1980-05-17', 11))!, { system: SOCIAL_SECURITY_CARD_SYSTEM, value: 'A1' }],
        telecom: [{ system: 'phone', value: '13800138000' }, { system: 'phone', value: '021-62345678' }, { system: 'phone', value: '13900139000' }],
      }),
    );
    expect(k.length).toBeLessThanOrEqual(8);
    expect(k).toEqual(
      expect.arrayContaining([`rid:${makeResidentId('310104', '1980-05-17', 11)}`, 'bd:1980-05-17', 'ph:13800138000', 'ph:02162345678', 'pn:wei|zhang', 'pyb:wz|1980']),
    );
    expect(k).not.toContain('ph:13900139000');
  });

  it('lets a day/month swap, swapped names and the ID’s own birth date meet in a block', () => {
    const share = (a: Patient, b: Patient): string[] => keys(a).filter((k) => keys(b).includes(k));
    expect(share(patient({ birthDate: '1980-05-07', name: [{ text: '欧阳娜' }] }), patient({ birthDate: '1980-07-05', name: [{ text: '刘洋' }] }))).toEqual(['bds:1980|5|7']);
    expect(share(patient({ birthDate: '1981-01-01' }), patient({ birthDate: '1990-01-01', name: [{ text: 'Wei Zhang' }] }))).toContain('pn:wei|zhang');
    const id = makeResidentId('310104', '1980-05-17', 11);
    const mistypedDate = patient({ birthDate: '1980-05-16', identifier: residentId(id) });
    expect(keys(mistypedDate)).toEqual(expect.arrayContaining(['bd:1980-05-16', 'bd:1980-05-17']));
  });
});

describe('string similarity', () => {
  it('osaDistance counts an adjacent transposition as one edit', () => {
    expect(osaDistance('zhang', 'zhnag')).toBe(1);
    expect(osaDistance('zhang', 'zhan')).toBe(1);
    expect(osaDistance('kitten', 'sitting')).toBe(3);
    expect(osaDistance('ca', 'abc')).toBe(3); // OSA, not unrestricted Damerau–Levenshtein (2)
    expect(osaDistance('abcdef', 'uvwxyz', 1)).toBe(2); // stops early past the limit
  });

  it('jaroWinkler reproduces the textbook values', () => {
    expect(jaroWinkler('MARTHA', 'MARHTA')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('DWAYNE', 'DUANE')).toBeCloseTo(0.84, 3);
    expect(jaroWinkler('DIXON', 'DICKSONX')).toBeCloseTo(0.813, 3);
    expect(jaroWinkler('abc', '')).toBe(0);
    expect(jaroWinkler('same', 'same')).toBe(1);
  });
});
