// The pure parts of insurance for online visits: credential checks per type (MI-02), masking and
// digests (an e-voucher token never kept in clear), the insured-area code and the settlement route
// it gives (MI-03, with the rule parameters' defaults and a changed configuration), chronic-disease
// codes, and the simulated settlement adapter's decisions (MI-01).
import { describe, expect, it } from '@jest/globals';
import type { Claim, Coverage } from '@medplum/fhirtypes';
import { FIRST_VISIT_SERVICE, FOLLOW_UP_SERVICE } from '../../server/src/hospital/insurance/codes.js';
import { areaCodeProblem, checkCredential, credentialDigest, isChronic, maskCredential, settlementRoute } from '../../server/src/hospital/insurance/credentials.js';
import { newClaim, newCoverage } from '../../server/src/hospital/insurance/resources.js';
import { SimulatedSettlementAdapter } from '../../server/src/hospital/insurance/settlement.js';
import { DEFAULT_RULES, loadRules } from '../../server/src/hospital/rules.js';

describe('insurance credentials (MI-02)', () => {
  it('MI-02: checks each credential type and normalises it', () => {
    expect(checkCredential('01', ' EV1A2B3C4D5E6F7G8H ')).toEqual({ ok: true, value: 'EV1A2B3C4D5E6F7G8H' });
    expect(checkCredential('01', 'too short').ok).toBe(false);
    expect(checkCredential('02', '11010519491231002x')).toEqual({ ok: true, value: '11010519491231002X' });
    expect(checkCredential('02', '110105194912310021').ok).toBe(false);
    expect(checkCredential('03', 'sh1234567')).toEqual({ ok: true, value: 'SH1234567' });
    expect(checkCredential('03', 'SH-12').ok).toBe(false);
  });

  it('MI-02: masks all but the last four characters and digests with the type', () => {
    expect(maskCredential('EV1A2B3C4D5E6F7G8H')).toBe('**************7G8H');
    expect(maskCredential('ABCDEFGH')).toBe('******GH');
    expect(maskCredential('AB')).toBe('****AB');
    expect(credentialDigest('01', 'X')).toMatch(/^[0-9a-f]{64}$/);
    expect(credentialDigest('01', 'X')).not.toBe(credentialDigest('03', 'X'));
  });
});

describe('insured area (MI-03)', () => {
  it('MI-03: the insured area is a 6-digit administrative division code of a province', () => {
    expect(areaCodeProblem('310104')).toBeUndefined();
    expect(areaCodeProblem('31010')).toMatch(/6-digit/);
    expect(areaCodeProblem('990101')).toMatch(/province/);
  });

  it('MI-03: in the hub\'s province → in area; other Yangtze River Delta provinces → direct; elsewhere → at the institution (defaults)', () => {
    expect(DEFAULT_RULES.directSettlementProvinces).toEqual(['31', '32', '33', '34']);
    expect(settlementRoute('310104', DEFAULT_RULES)).toBe('in-area');
    for (const area of ['320505', '330106', '340104']) expect(settlementRoute(area, DEFAULT_RULES)).toBe('direct');
    for (const area of ['440305', '110105', '510107']) expect(settlementRoute(area, DEFAULT_RULES)).toBe('at-institution');
  });

  it('MI-03: the provinces are rule parameters: a Jiangsu hub, or a wider direct-settlement list', () => {
    const jiangsu = loadRules(undefined, { insuranceHomeProvince: '32' });
    expect(settlementRoute('320505', jiangsu)).toBe('in-area');
    expect(settlementRoute('310104', jiangsu)).toBe('direct');
    expect(settlementRoute('440305', loadRules(undefined, { directSettlementProvinces: ['31', '44'] }))).toBe('direct');
    expect(() => loadRules(undefined, { insuranceHomeProvince: '3' })).toThrow(/insuranceHomeProvince/);
    expect(() => loadRules(undefined, { directSettlementProvinces: ['Shanghai'] })).toThrow(/directSettlementProvinces/);
    expect(() => loadRules(undefined, { insuranceReimbursementRatio: 1.5 })).toThrow(/insuranceReimbursementRatio/);
    expect(() => loadRules(undefined, { onlineConsultationFee: -1 })).toThrow(/onlineConsultationFee/);
  });

  it('MI-01: a chronic-disease code matches a listed code or category', () => {
    expect(isChronic('E11.9', DEFAULT_RULES.chronicDiseaseCodes)).toBe(true);
    expect(isChronic('i10', DEFAULT_RULES.chronicDiseaseCodes)).toBe(true);
    expect(isChronic('J06.9', DEFAULT_RULES.chronicDiseaseCodes)).toBe(false);
    expect(isChronic(undefined, DEFAULT_RULES.chronicDiseaseCodes)).toBe(false);
  });
});

describe('the simulated settlement adapter (MI-01)', () => {
  const adapter = new SimulatedSettlementAdapter(DEFAULT_RULES);
  const coverage = (value: string, area: string): Coverage => ({ ...newCoverage('p1', '03', value, maskCredential(value), credentialDigest('03', value), area), id: 'c1' });
  const claim = (diagnosis: string, followUp = true): Claim => ({
    ...newClaim({
      encounter: { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'VR' } }, patient: 'p1', provider: 'Organization/o1', doctor: 'Practitioner/d1',
      coverage: { resourceType: 'Coverage', id: 'c1', status: 'active', beneficiary: {}, payor: [] }, service: followUp ? FOLLOW_UP_SERVICE : FIRST_VISIT_SERVICE,
      diagnoses: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: diagnosis }] }], fee: 30, now: new Date('2026-12-01T08:00:00Z'),
    }),
    id: 'cl1',
  });

  it('MI-01: approves a chronic-disease follow-up with the configured ratio, deterministically', async () => {
    const result = await adapter.settle(claim('E11.9'), coverage('SH1234567', '310104'));
    expect(result).toMatchObject({ outcome: 'complete', code: 'settled', route: 'in-area', insurerPays: 21, patientPays: 9 });
    expect(await adapter.settle(claim('E11.9'), coverage('SH1234567', '310104'))).toEqual(result);
    const half = await new SimulatedSettlementAdapter({ ...DEFAULT_RULES, insuranceReimbursementRatio: 0.55 }).settle(claim('I10'), coverage('SH1234567', '320505'));
    expect(half).toMatchObject({ outcome: 'complete', route: 'direct', insurerPays: 16.5, patientPays: 13.5 });
  });

  it('MI-01/MI-03: refuses unknown credentials, sends out-of-area non-delta residents to the institution, and does not cover other visits', async () => {
    expect(await adapter.settle(claim('E11.9'), coverage('SH1230000', '310104'))).toMatchObject({ outcome: 'error', code: 'unknown-credential', insurerPays: 0, patientPays: 30 });
    expect(await adapter.settle(claim('E11.9'), coverage('GD1234567', '440305'))).toMatchObject({ outcome: 'error', code: 'settle-at-institution', route: 'at-institution', patientPays: 30 });
    expect(await adapter.settle(claim('J06.9'), coverage('SH1234567', '310104'))).toMatchObject({ outcome: 'error', code: 'not-covered', patientPays: 30 });
    expect(await adapter.settle(claim('E11.9', false), coverage('SH1234567', '310104'))).toMatchObject({ outcome: 'error', code: 'not-covered' });
  });
});
