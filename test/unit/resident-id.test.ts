import { describe, expect, it } from '@jest/globals';
import type { Patient } from '@medplum/fhirtypes';
import {
  RESIDENT_ID_SYSTEMS,
  RESIDENT_ID_WEIGHTS,
  SOCIAL_SECURITY_CARD_SYSTEM,
  checkResidentIdAgainstPatient,
  isResidentIdSystem,
  makeResidentId,
  parseResidentId,
  residentIdCheckChar,
} from '../../server/src/fhir/identity/resident-id.js';

const EXAMPLE = '11010519491231002X';
const [WS_T500_SYSTEM, HL7_CN_SYSTEM] = RESIDENT_ID_SYSTEMS;

/** Independent reference computation of the check char, straight from ISO 7064 MOD 11-2. */
function mod11_2(first17: string): string {
  // ISO 7064 MOD 11-2 recursive form: p = ((p + digit) * 2) mod 11, check = (12 - p) mod 11.
  let p = 0;
  for (const ch of first17) p = ((p + Number(ch)) * 2) % 11;
  const c = (12 - p) % 11;
  return c === 10 ? 'X' : String(c);
}

describe('resident ID number (GB 11643)', () => {
  it('ID-01: weights are 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2', () => {
    expect(RESIDENT_ID_WEIGHTS).toEqual([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]);
  });

  it('ID-01: check char of the example 11010519491231002X is X', () => {
    expect(residentIdCheckChar(EXAMPLE.slice(0, 17))).toBe('X');
  });

  it('ID-01: check char agrees with the recursive ISO 7064 MOD 11-2 form for many numbers', () => {
    let seed = 12345;
    const seen = new Set<string>();
    for (let n = 0; n < 2000; n++) {
      let s = '';
      for (let i = 0; i < 17; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        s += String(Math.floor((seed / 2147483648) * 10));
      }
      const c = residentIdCheckChar(s);
      expect(c).toBe(mod11_2(s));
      seen.add(c);
    }
    // every one of the 11 check chars is reachable
    expect([...seen].sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X']);
  });

  it('ID-01: residentIdCheckChar rejects input that is not 17 digits', () => {
    expect(() => residentIdCheckChar('1101051949123100')).toThrow();
    expect(() => residentIdCheckChar('1101051949123100A')).toThrow();
  });

  it('ID-01: the example number is valid, female, born 1949-12-31, area 110105', () => {
    expect(parseResidentId(EXAMPLE)).toEqual({
      ok: true,
      normalized: EXAMPLE,
      birthDate: '1949-12-31',
      sex: 'female',
      areaCode: '110105',
    });
  });

  it('ID-01: trims whitespace and normalises a lowercase x to X', () => {
    const r = parseResidentId('  11010519491231002x \n');
    expect(r).toMatchObject({ ok: true, normalized: EXAMPLE });
  });

  it('ID-01: odd sequence digit means male', () => {
    const id = makeResidentId('310104', '1980-02-29', 123);
    expect(parseResidentId(id)).toMatchObject({ ok: true, sex: 'male', birthDate: '1980-02-29', areaCode: '310104' });
    const id2 = makeResidentId('310104', '1980-02-29', 124);
    expect(parseResidentId(id2)).toMatchObject({ ok: true, sex: 'female' });
  });

  it('ID-01: rejects a wrong check char and names the expected one', () => {
    const r = parseResidentId('110105194912310021');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/expected X/);
  });

  it.each([
    ['', /empty/],
    ['1101051949123100', /18 characters/], // 16 chars
    ['11010519491231002', /18 characters/], // 17 chars
    ['11010519491231002XX', /18 characters/], // 19 chars
    ['1101051949123100AX', /17 digits/],
    ['X10105194912310020', /17 digits/],
    ['110105194913310020', /not a valid date/], // month 13
    ['110105194902300020', /not a valid date/], // 30 February
    ['110105190002290020', /not a valid date/], // 1900 is not a leap year
    ['11010519491231002Y', /17 digits/],
  ])('ID-01: rejects %j', (value, reason) => {
    const r = parseResidentId(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('ID-01: accepts 29 February in a leap year (2000)', () => {
    expect(parseResidentId(makeResidentId('310106', '2000-02-29', 8))).toMatchObject({ ok: true, birthDate: '2000-02-29' });
  });

  it('ID-01: up-converts a legacy 15-digit number (inserts 19, computes the check char)', () => {
    expect(parseResidentId('110105491231002')).toEqual({
      ok: true,
      normalized: EXAMPLE,
      birthDate: '1949-12-31',
      sex: 'female',
      areaCode: '110105',
    });
    expect(parseResidentId('310104800229123')).toMatchObject({ ok: true, sex: 'male', birthDate: '1980-02-29' });
  });

  it('ID-01: rejects a legacy number with a non-digit or an impossible date', () => {
    expect(parseResidentId('11010549123100X').ok).toBe(false);
    expect(parseResidentId('110105490230002').ok).toBe(false);
  });

  it('ID-01: makeResidentId round-trips through parseResidentId', () => {
    for (const [area, date, seq] of [
      ['310104', '1949-12-31', 0],
      ['310101', '2015-07-01', 999],
      ['320102', '1966-10-15', 57],
    ] as const) {
      const id = makeResidentId(area, date, seq);
      expect(id).toMatch(/^[0-9]{17}[0-9X]$/);
      expect(id.slice(14, 17)).toBe(String(seq).padStart(3, '0'));
      expect(parseResidentId(id)).toEqual({
        ok: true,
        normalized: id,
        birthDate: date,
        sex: seq % 2 === 1 ? 'male' : 'female',
        areaCode: area,
      });
    }
    expect(makeResidentId('110105', '1949-12-31', 2)).toBe(EXAMPLE);
  });

  it('ID-01: makeResidentId rejects bad parts', () => {
    expect(() => makeResidentId('31010', '1980-01-01', 1)).toThrow(/area code/);
    expect(() => makeResidentId('310104', '1980-02-30', 1)).toThrow(/birth date/);
    expect(() => makeResidentId('310104', '19800101', 1)).toThrow(/birth date/);
    expect(() => makeResidentId('310104', '1980-01-01', 1000)).toThrow(/sequence/);
    expect(() => makeResidentId('310104', '1980-01-01', -1)).toThrow(/sequence/);
    expect(() => makeResidentId('310104', '1980-01-01', 1.5)).toThrow(/sequence/);
  });

  it('ID-02: both OIDs are resident-ID systems; the social-security card is not', () => {
    expect(RESIDENT_ID_SYSTEMS).toEqual(['urn:oid:2.16.156.10011.1.3', 'urn:oid:2.16.840.1.113883.2.23.1.19.1']);
    expect(isResidentIdSystem('urn:oid:2.16.156.10011.1.3')).toBe(true);
    expect(isResidentIdSystem('urn:oid:2.16.840.1.113883.2.23.1.19.1')).toBe(true);
    expect(SOCIAL_SECURITY_CARD_SYSTEM).toBe('urn:oid:2.16.840.1.113883.2.23.1.19.2');
    expect(isResidentIdSystem(SOCIAL_SECURITY_CARD_SYSTEM)).toBe(false);
    expect(isResidentIdSystem(undefined)).toBe(false);
    expect(isResidentIdSystem('')).toBe(false);
  });
});

describe('checkResidentIdAgainstPatient', () => {
  const patient = (over: Partial<Patient>): Patient => ({
    resourceType: 'Patient',
    gender: 'female',
    birthDate: '1949-12-31',
    identifier: [{ system: HL7_CN_SYSTEM, value: EXAMPLE }],
    ...over,
  });

  it('ID-01: a consistent patient has no problems', () => {
    expect(checkResidentIdAgainstPatient(patient({}))).toEqual([]);
  });

  it('ID-02: the number is checked under either OID, and the same number under both is fine', () => {
    expect(
      checkResidentIdAgainstPatient(
        patient({
          identifier: [
            { system: WS_T500_SYSTEM, value: EXAMPLE },
            { system: HL7_CN_SYSTEM, value: '110105491231002' }, // legacy form of the same number
          ],
        }),
      ),
    ).toEqual([]);
    const problems = checkResidentIdAgainstPatient(
      patient({ identifier: [{ system: WS_T500_SYSTEM, value: '110105194912310021' }] }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/urn:oid:2\.16\.156\.10011\.1\.3.*check character/);
  });

  it('ID-02: two different numbers under the two OIDs are reported', () => {
    const other = makeResidentId('110105', '1949-12-31', 4);
    const problems = checkResidentIdAgainstPatient(
      patient({
        identifier: [
          { system: WS_T500_SYSTEM, value: EXAMPLE },
          { system: HL7_CN_SYSTEM, value: other },
        ],
      }),
    );
    expect(problems).toEqual([expect.stringMatching(/2 different resident ID numbers/)]);
  });

  it('ID-01: reports a bad check char', () => {
    const problems = checkResidentIdAgainstPatient(
      patient({ identifier: [{ system: HL7_CN_SYSTEM, value: '110105194912310021' }] }),
    );
    expect(problems).toEqual([expect.stringMatching(/check character is 1, expected X/)]);
  });

  it('ID-01: reports a birth date that disagrees with the number', () => {
    const problems = checkResidentIdAgainstPatient(patient({ birthDate: '1949-12-30' }));
    expect(problems).toEqual([expect.stringMatching(/birth date .*1949-12-31.*1949-12-30/)]);
  });

  it('ID-01: a partial birthDate is compared by prefix', () => {
    expect(checkResidentIdAgainstPatient(patient({ birthDate: '1949' }))).toEqual([]);
    expect(checkResidentIdAgainstPatient(patient({ birthDate: '1949-12' }))).toEqual([]);
    expect(checkResidentIdAgainstPatient(patient({ birthDate: '1950' }))).toHaveLength(1);
  });

  it('ID-01: reports a gender that disagrees with the sequence parity', () => {
    const problems = checkResidentIdAgainstPatient(patient({ gender: 'male' }));
    expect(problems).toEqual([expect.stringMatching(/sex .*female.*Patient\.gender \(male\)/)]);
  });

  it('ID-01: reports birth date and gender together when both disagree', () => {
    expect(checkResidentIdAgainstPatient(patient({ gender: 'male', birthDate: '1950-01-01' }))).toHaveLength(2);
  });

  it('ID-01: unknown/other gender and missing demographics are not contradictions', () => {
    expect(checkResidentIdAgainstPatient(patient({ gender: 'unknown' }))).toEqual([]);
    expect(checkResidentIdAgainstPatient(patient({ gender: undefined, birthDate: undefined }))).toEqual([]);
  });

  it('ID-02: identifiers with other systems are ignored; an ID identifier without a value is reported', () => {
    expect(
      checkResidentIdAgainstPatient(
        patient({
          identifier: [
            { system: SOCIAL_SECURITY_CARD_SYSTEM, value: 'not-an-id-number' },
            { system: 'http://suhe.example.cn/fhir/sid/mrn', value: '12345' },
            { value: 'no-system' },
          ],
        }),
      ),
    ).toEqual([]);
    expect(checkResidentIdAgainstPatient(patient({ identifier: [{ system: HL7_CN_SYSTEM }] }))).toEqual([
      expect.stringMatching(/no value/),
    ]);
    expect(checkResidentIdAgainstPatient(patient({ identifier: undefined }))).toEqual([]);
  });
});
