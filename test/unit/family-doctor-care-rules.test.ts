// The family-doctor care rules: FD-01/04 priority groups and the FD-07/08/09 worklist items —
// intervals, anchors, what counts (face-to-face, finished, final), the 14-day referral follow-up,
// clinic-time (+08:00) dates, the window — first case by case, then over a generated panel whose
// expected items are known from how it was built.
import { describe, expect, it } from '@jest/globals';
import type { Condition, Encounter, Observation, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { icd10InRange } from '../../server/src/modules/family-doctor/care-codes.js';
import { clinicDate } from '../../server/src/modules/family-doctor/clinic-dates.js';
import { dueItems, type PanelRecord } from '../../server/src/modules/family-doctor/due-items.js';
import { priorityGroups } from '../../server/src/modules/family-doctor/priority-groups.js';
import { generatePanel } from '../helpers/family-doctor-panel.js';

const FD = 'https://suhe.example.cn/fhir/CodeSystem/family-doctor';
const ICD = 'http://hl7.org/fhir/sid/icd-10';
const AS_OF = new Date('2026-06-15T02:00:00Z'); // 10:00 on 2026-06-15 in the clinic
const subject = { reference: 'Patient/p1' };
let seq = 0;

function record(birthDate: string | undefined, parts: Partial<PanelRecord> = {}, patient: Partial<Patient> = {}): PanelRecord {
  return {
    patient: { resourceType: 'Patient', id: 'p1', ...(birthDate ? { birthDate } : {}), ...patient },
    conditions: [], encounters: [], observations: [], referrals: [], contractStart: '2020-01-01', ...parts,
  };
}
function cond(code: string, opts: { clinical?: string; verification?: string; system?: string; recorded?: string; onset?: string } = {}): Condition {
  return {
    resourceType: 'Condition', id: `c${++seq}`, subject, code: { coding: [{ system: opts.system ?? ICD, code }] },
    ...(opts.clinical !== undefined ? { clinicalStatus: { coding: [{ code: opts.clinical }] } } : {}),
    ...(opts.verification ? { verificationStatus: { coding: [{ code: opts.verification }] } } : {}),
    ...(opts.recorded ? { recordedDate: opts.recorded } : {}), ...(opts.onset ? { onsetDateTime: opts.onset } : {}),
  };
}
function enc(type: string, start: string, classCode = 'AMB', status: Encounter['status'] = 'finished', id = `e${++seq}`): Encounter {
  return { resourceType: 'Encounter', id, status, subject, class: { code: classCode }, type: [{ coding: [{ system: FD, code: type }] }], period: { start } };
}
function glucose(when: Partial<Observation>, status: Observation['status'] = 'final', code = '1558-6', id = `o${++seq}`): Observation {
  return { resourceType: 'Observation', id, status, subject, code: { coding: [{ system: 'http://loinc.org', code }] }, ...when };
}
function referral(authoredOn: string, priority: ServiceRequest['priority'] = 'urgent', status: ServiceRequest['status'] = 'active', id = 'sr1'): ServiceRequest {
  return { resourceType: 'ServiceRequest', id, status, intent: 'order', priority, subject, authoredOn };
}
const htn = (extra: Partial<PanelRecord> = {}, birth = '1970-01-01') => record(birth, { conditions: [cond('I10', { recorded: '2018-01-01' })], ...extra });
const brief = (items: ReturnType<typeof dueItems>) => items.map((i) => `${i.rule} ${i.kind} ${i.dueDate} ${i.status}`);

describe('codes and clinic dates', () => {
  it('FD-01/04: icd10InRange compares the ICD-10 category', () => {
    expect(icd10InRange('I10.x00', 'I10', 'I15')).toBe(true);
    expect(icd10InRange('i15.1', 'I10', 'I15')).toBe(true);
    expect(icd10InRange('I16', 'I10', 'I15')).toBe(false);
    expect(icd10InRange('I09.9', 'I10', 'I15')).toBe(false);
    expect(icd10InRange('O9A.1', 'O00', 'O9A')).toBe(true);
    expect(icd10InRange('O99.8', 'O00', 'O9A')).toBe(true);
    expect(icd10InRange('P00', 'O00', 'O9A')).toBe(false);
    expect(icd10InRange('10', 'I10', 'I15')).toBe(false);
    expect(icd10InRange(undefined, 'I10', 'I15')).toBe(false);
  });

  it('FD-07: instants are dated in clinic time (+08:00)', () => {
    expect(clinicDate('2026-03-31T17:00:00Z')).toBe('2026-04-01');
    expect(clinicDate('2026-03-31T15:59:59.999Z')).toBe('2026-03-31');
    expect(clinicDate('2026-04-01T00:30:00+08:00')).toBe('2026-04-01');
    expect(clinicDate('2026-03-31T20:00:00-05:00')).toBe('2026-04-01');
    expect(clinicDate('2026-04-01')).toBe('2026-04-01');
    expect(clinicDate('2026-04')).toBe('2026-04-01');
    expect(clinicDate('2026-02-30')).toBeUndefined();
    expect(clinicDate('yesterday')).toBeUndefined();
  });
});

describe('FD-01/04 priority groups', () => {
  const groups = (r: PanelRecord) => priorityGroups(r, AS_OF);

  it('FD-01: 65+ counts a partial birth date from its earliest day', () => {
    expect(groups(record('1961-06-15'))).toEqual(['elderly-65']); // 65 today
    expect(groups(record('1961-06-16'))).toEqual([]);
    expect(groups(record('1961'))).toEqual(['elderly-65']); // may have turned 65 on 2026-01-01
    expect(groups(record('1961-06'))).toEqual(['elderly-65']);
    expect(groups(record('1961-07'))).toEqual([]);
    expect(groups(record(undefined))).toEqual([]);
  });

  it('FD-01: children are 0–6, a partial birth date read as its latest day', () => {
    expect(groups(record('2019-06-16'))).toEqual(['child']); // 7 tomorrow
    expect(groups(record('2019-06-15'))).toEqual([]);
    expect(groups(record('2019'))).toEqual(['child']); // may be born 2019-12-31
    expect(groups(record('2019-06'))).toEqual(['child']);
    expect(groups(record('2019-05'))).toEqual([]);
    expect(groups(record('2026-06-15'))).toEqual(['child']);
    expect(groups(record('2026-06-16'))).toEqual([]); // a birth date after asOf is an error
  });

  it('FD-04: each condition group by its ICD-10 codes, in the fixed order', () => {
    const r = record('1950-02-01', {
      conditions: ['F06.2', 'A16.2', 'E10.9', 'I12.0', 'O24.4'].map((c) => cond(c)),
    }, { extension: [{ url: 'https://suhe.example.cn/fhir/StructureDefinition/disability', valueBoolean: true }] });
    expect(groups(r)).toEqual(['elderly-65', 'pregnant', 'disabled', 'hypertension', 'diabetes', 'tuberculosis', 'severe-mental-disorder']);
    for (const code of ['Z33', 'Z34.0', 'Z35.9', 'O00', 'O9A.2']) expect(groups(record(undefined, { conditions: [cond(code)] }))).toEqual(['pregnant']);
    for (const code of ['F20.0', 'F22', 'F25.1', 'F31.2', 'F06.0', 'F70', 'F79.9']) expect(groups(record(undefined, { conditions: [cond(code)] }))).toEqual(['severe-mental-disorder']);
    for (const code of ['F21', 'F32.1', 'F80', 'A14', 'A20', 'E15', 'E09', 'I16', 'Z36', 'P00']) expect(groups(record(undefined, { conditions: [cond(code)] }))).toEqual([]);
    for (const code of ['E10', 'E11.9', 'E12', 'E13', 'E14']) expect(groups(record(undefined, { conditions: [cond(code)] }))).toEqual(['diabetes']);
    for (const code of ['A15', 'A19.9']) expect(groups(record(undefined, { conditions: [cond(code)] }))).toEqual(['tuberculosis']);
  });

  it('FD-04: disability by extension (true only) or by an active disability condition', () => {
    const ext = (valueBoolean: boolean) => ({ extension: [{ url: 'https://suhe.example.cn/fhir/StructureDefinition/disability', valueBoolean }] });
    expect(groups(record(undefined, {}, ext(true)))).toEqual(['disabled']);
    expect(groups(record(undefined, {}, ext(false)))).toEqual([]);
    expect(groups(record(undefined, { conditions: [cond('disability', { system: FD })] }))).toEqual(['disabled']);
    expect(groups(record(undefined, { conditions: [cond('disability', { system: FD, clinical: 'resolved' })] }))).toEqual([]);
  });

  it('FD-04: only active/recurrence/relapse (or no status), not refuted or entered in error, and only ICD-10', () => {
    const one = (opts: Parameters<typeof cond>[1]) => groups(record(undefined, { conditions: [cond('I10', opts)] }));
    for (const clinical of ['active', 'recurrence', 'relapse', undefined]) expect(one({ clinical })).toEqual(['hypertension']);
    for (const clinical of ['inactive', 'remission', 'resolved']) expect(one({ clinical })).toEqual([]);
    for (const verification of ['confirmed', 'provisional', 'unconfirmed', 'differential']) expect(one({ verification })).toEqual(['hypertension']);
    for (const verification of ['refuted', 'entered-in-error']) expect(one({ verification })).toEqual([]);
    expect(one({ system: 'http://snomed.info/sct' })).toEqual([]);
  });
});

describe('FD-07/08/09 due items', () => {
  it('FD-07: without a follow-up, due 91 days after the latest anchor (contract, first recorded, 35th birthday)', () => {
    // The condition's date is the latest: recorded 2026-04-01 → due 2026-07-01, within 30 days.
    const items = dueItems(record('1970-01-01', { contractStart: '2024-03-01', conditions: [cond('I10', { recorded: '2026-04-01' }), cond('I11.9', { onset: '2026-05-20', clinical: 'resolved' })] }), AS_OF);
    expect(items).toEqual([{ rule: 'FD-07', kind: 'hypertension-follow-up', dueDate: '2026-07-01', status: 'due', doneLastYear: 0, requiredPerYear: 4 }]);
    // The first-recorded of two active conditions counts (onsetDateTime when no recordedDate); the contract is later.
    expect(brief(dueItems(record('1970-01-01', { contractStart: '2025-01-10', conditions: [cond('I10', { onset: '2025-12-01' }), cond('I15', { recorded: '2019-01-01' })] }), AS_OF)))
      .toEqual(['FD-07 hypertension-follow-up 2025-04-11 overdue']);
    // The contract start is an instant: 2026-03-31T17:00Z is 2026-04-01 in the clinic.
    expect(brief(dueItems(htn({ contractStart: '2026-03-31T17:00:00Z' }), AS_OF))).toEqual(['FD-07 hypertension-follow-up 2026-07-01 due']);
    // Turned 35 on 2026-05-01: due 2026-07-31, beyond the default window but inside 60 days.
    expect(dueItems(htn({}, '1991-05-01'), AS_OF)).toEqual([]);
    expect(brief(dueItems(htn({}, '1991-05-01'), AS_OF, { windowDays: 60 }))).toEqual(['FD-07 hypertension-follow-up 2026-07-31 due']);
  });

  it('FD-07/08: nothing under 35 or without a birth date; from the 35th birthday (a partial date from its first day)', () => {
    const r = (birth: string | undefined) => record(birth, { conditions: [cond('I10'), cond('E11')], contractStart: '2019-01-01' });
    expect(dueItems(r('1991-06-16'), AS_OF)).toEqual([]); // 35 tomorrow
    expect(dueItems(r(undefined), AS_OF)).toEqual([]);
    expect(dueItems(r('1991-06-15'), AS_OF)).toEqual([]); // 35 today: first items 91 days on
    expect(brief(dueItems(r('1991-06-15'), AS_OF, { windowDays: 91 }))).toEqual(['FD-08 diabetes-follow-up 2026-09-14 due', 'FD-08 fasting-glucose 2026-09-14 due', 'FD-07 hypertension-follow-up 2026-09-14 due']);
    expect(brief(dueItems(r('1991'), AS_OF))).toEqual(['FD-08 diabetes-follow-up 2026-04-02 overdue', 'FD-08 fasting-glucose 2026-04-02 overdue', 'FD-07 hypertension-follow-up 2026-04-02 overdue']);
  });

  it('FD-07: the last face-to-face follow-up + 91 days; counts the year before asOf; VR, cancelled and other types do not count', () => {
    const history = [enc('hypertension-follow-up', '2025-06-15'), enc('hypertension-follow-up', '2025-06-16T09:00:00+08:00', 'HH'),
      enc('hypertension-follow-up', '2025-12-01'), enc('hypertension-follow-up', '2026-03-01T10:00:00+08:00', 'AMB', 'finished', 'last')];
    const traps = [enc('hypertension-follow-up', '2026-05-01', 'VR'), enc('hypertension-follow-up', '2026-05-02', 'AMB', 'cancelled'),
      enc('diabetes-follow-up', '2026-05-03'), enc('health-check', '2026-05-04'), enc('hypertension-follow-up', '2026-07-01')];
    expect(dueItems(htn({ encounters: [...history, ...traps] }), AS_OF)).toEqual([
      { rule: 'FD-07', kind: 'hypertension-follow-up', dueDate: '2026-05-31', status: 'overdue', doneLastYear: 3, requiredPerYear: 4, basis: 'Encounter/last' },
    ]);
    // A home visit counts as face to face: 2026-05-01 + 91 = 2026-07-31, outside the window.
    expect(dueItems(htn({ encounters: [...history, enc('hypertension-follow-up', '2026-05-01', 'HH')] }), AS_OF)).toEqual([]);
  });

  it('FD-07: the follow-up\'s date is its +08:00 date (2026-03-31T17:00:00Z is 2026-04-01)', () => {
    const at = (start: string) => brief(dueItems(htn({ encounters: [enc('hypertension-follow-up', start)] }), AS_OF));
    expect(at('2026-03-31T17:00:00Z')).toEqual(['FD-07 hypertension-follow-up 2026-07-01 due']);
    expect(at('2026-03-31T15:00:00Z')).toEqual(['FD-07 hypertension-follow-up 2026-06-30 due']);
    // asOf itself is a clinic date: 2026-06-30T16:30Z is 2026-07-01 at the clinic, so an item due 07-01 is not yet overdue.
    expect(brief(dueItems(htn({ encounters: [enc('hypertension-follow-up', '2026-04-01')] }), new Date('2026-06-30T16:30:00Z')))).toEqual(['FD-07 hypertension-follow-up 2026-07-01 due']);
    expect(brief(dueItems(htn({ encounters: [enc('hypertension-follow-up', '2026-04-01')] }), new Date('2026-07-01T16:30:00Z')))).toEqual(['FD-07 hypertension-follow-up 2026-07-01 overdue']);
  });

  it('FD-07: overdue before asOf\'s date, due from it to asOf + windowDays inclusive, absent after', () => {
    const at = (last: string, windowDays?: number) => brief(dueItems(htn({ encounters: [enc('hypertension-follow-up', last)] }), AS_OF, { windowDays }));
    expect(at('2026-03-15')).toEqual(['FD-07 hypertension-follow-up 2026-06-14 overdue']);
    expect(at('2026-03-16')).toEqual(['FD-07 hypertension-follow-up 2026-06-15 due']);
    expect(at('2026-04-15')).toEqual(['FD-07 hypertension-follow-up 2026-07-15 due']);
    expect(at('2026-04-16')).toEqual([]);
    expect(at('2026-03-16', 0)).toEqual(['FD-07 hypertension-follow-up 2026-06-15 due']);
    expect(at('2026-03-17', 0)).toEqual([]);
  });

  it('FD-08: type 2 diabetes only; follow-ups face to face; fasting glucose final results by either LOINC code and any date field', () => {
    const base = { contractStart: '2019-01-01', conditions: [cond('E11.9', { recorded: '2019-01-01' })] };
    const r = record('1970-01-01', {
      ...base,
      encounters: [enc('diabetes-follow-up', '2026-03-10', 'HH', 'finished', 'dm'), enc('diabetes-follow-up', '2026-05-01', 'VR'), enc('hypertension-follow-up', '2026-05-02')],
      observations: [glucose({ effectiveDateTime: '2025-12-01' }), glucose({ effectivePeriod: { start: '2026-02-01T08:00:00+08:00' } }, 'amended', '14771-0'),
        glucose({ issued: '2026-03-20T01:00:00Z' }, 'corrected', '1558-6', 'g'),
        glucose({ effectiveDateTime: '2026-05-01' }, 'preliminary'), glucose({ effectiveDateTime: '2026-05-02' }, 'final', '4548-4')],
    });
    expect(dueItems(r, AS_OF)).toEqual([
      { rule: 'FD-08', kind: 'diabetes-follow-up', dueDate: '2026-06-09', status: 'overdue', doneLastYear: 1, requiredPerYear: 4, basis: 'Encounter/dm' },
      { rule: 'FD-08', kind: 'fasting-glucose', dueDate: '2026-06-19', status: 'due', doneLastYear: 3, requiredPerYear: 4, basis: 'Observation/g' },
    ]);
    expect(brief(dueItems(record('1970-01-01', base), AS_OF))).toEqual(['FD-08 diabetes-follow-up 2019-04-02 overdue', 'FD-08 fasting-glucose 2019-04-02 overdue']);
    expect(dueItems(record('1970-01-01', { ...base, conditions: [cond('E10'), cond('E14')] }), AS_OF)).toEqual([]);
    expect(dueItems(record('1970-01-01', { ...base, conditions: [cond('E11', { verification: 'refuted' })] }), AS_OF)).toEqual([]);
  });

  it('FD-09: a yearly health check from 65, any class but VR', () => {
    const check = (birth: string, encounters: Encounter[], contractStart = '2019-01-01') => brief(dueItems(record(birth, { encounters, contractStart }), AS_OF));
    expect(check('1950-01-01', [enc('health-check', '2025-07-01', 'IMP'), enc('health-check', '2026-01-05', 'VR'), enc('health-check', '2026-01-06', 'AMB', 'planned')]))
      .toEqual(['FD-09 health-check 2026-07-01 due']);
    expect(check('1950-01-01', [enc('health-check', '2025-06-10', 'EMER')])).toEqual(['FD-09 health-check 2026-06-10 overdue']);
    expect(check('1950-01-01', [], '2025-06-01')).toEqual(['FD-09 health-check 2026-06-01 overdue']); // contract + 365
    expect(check('1960-07-10', [], '2019-01-01')).toEqual(['FD-09 health-check 2026-07-10 due']); // 65th birthday + 365
    expect(check('1961-06-16', [enc('health-check', '2020-01-01')])).toEqual([]); // 64
    const done = dueItems(record('1950-01-01', { encounters: [enc('health-check', '2025-06-16', 'AMB', 'finished', 'hc')] }), AS_OF);
    expect(done).toEqual([{ rule: 'FD-09', kind: 'health-check', dueDate: '2026-06-16', status: 'due', doneLastYear: 1, requiredPerYear: 1, basis: 'Encounter/hc' }]);
  });

  it('FD-07: an urgent referral is due 14 days after it was authored and disappears once followed up', () => {
    const base = { encounters: [enc('hypertension-follow-up', '2026-05-01')] }; // next follow-up 07-31, outside the window
    const ref = referral('2026-06-09T17:30:00Z'); // 2026-06-10 in the clinic
    expect(dueItems(htn({ ...base, referrals: [ref] }), AS_OF)).toEqual([
      { rule: 'FD-07', kind: 'referral-follow-up', dueDate: '2026-06-24', status: 'due', doneLastYear: 0, requiredPerYear: 1, basis: 'ServiceRequest/sr1' },
    ]);
    const withVisit = (e: Encounter) => brief(dueItems(htn({ encounters: [...base.encounters, e], referrals: [ref] }), AS_OF));
    expect(withVisit(enc('referral-follow-up', '2026-06-12', 'VR'))).toEqual([]);
    expect(withVisit(enc('referral-follow-up', '2026-06-10'))).toEqual([]); // the same day counts
    expect(withVisit(enc('referral-follow-up', '2026-06-09'))).toEqual(['FD-07 referral-follow-up 2026-06-24 due']); // before it does not
    expect(withVisit(enc('referral-follow-up', '2026-06-12', 'AMB', 'in-progress'))).toEqual(['FD-07 referral-follow-up 2026-06-24 due']);
    expect(withVisit(enc('hypertension-follow-up', '2026-06-11', 'VR'))).toEqual([]); // any hypertension follow-up closes it
  });

  it('FD-07: which referrals make an item: urgent/asap/stat, active/completed, in the last 365 days, patients in FD-07', () => {
    // (No follow-up visits at all here, so nothing closes the referral; only referral items are looked at.)
    const refs = (r: ServiceRequest, birth = '1970-01-01') => brief(dueItems(htn({ referrals: [r] }, birth), AS_OF).filter((i) => i.kind === 'referral-follow-up'));
    expect(refs(referral('2026-06-01', 'asap', 'completed'))).toEqual(['FD-07 referral-follow-up 2026-06-15 due']);
    expect(refs(referral('2026-06-01', 'stat'))).toEqual(['FD-07 referral-follow-up 2026-06-15 due']);
    expect(refs(referral('2026-06-01', 'routine'))).toEqual([]);
    expect(refs({ ...referral('2026-06-01'), priority: undefined })).toEqual([]);
    expect(refs(referral('2026-06-01', 'urgent', 'revoked'))).toEqual([]);
    expect(refs(referral('2026-06-01', 'urgent', 'draft'))).toEqual([]);
    expect(refs(referral('2025-06-16'))).toEqual(['FD-07 referral-follow-up 2025-06-30 overdue']);
    expect(refs(referral('2025-06-15'))).toEqual([]);
    expect(refs(referral('2026-06-01'), '1995-01-01')).toEqual([]); // under 35: not in FD-07
    expect(brief(dueItems(record('1970-01-01', { referrals: [referral('2026-06-01')] }), AS_OF))).toEqual([]); // no hypertension
  });

  it('FD-07/08/09: items sort by due date, then kind, then basis', () => {
    const r = record('1950-01-01', {
      contractStart: '2019-01-01',
      conditions: [cond('I10', { recorded: '2019-01-01' }), cond('E11', { recorded: '2019-01-01' })],
      encounters: [enc('hypertension-follow-up', '2026-03-01', 'AMB', 'finished', 'h'), enc('diabetes-follow-up', '2026-03-01', 'AMB', 'finished', 'd'),
        enc('health-check', '2025-06-01', 'AMB', 'finished', 'c')],
      observations: [glucose({ effectiveDateTime: '2026-03-20' }, 'final', '1558-6', 'g')],
      referrals: [referral('2026-06-01', 'urgent', 'active', 'sr2'), referral('2026-06-01', 'stat', 'active', 'sr10')],
    });
    expect(dueItems(r, AS_OF).map((i) => `${i.dueDate} ${i.kind} ${i.basis}`)).toEqual([
      '2026-05-31 diabetes-follow-up Encounter/d',
      '2026-05-31 hypertension-follow-up Encounter/h',
      '2026-06-01 health-check Encounter/c',
      '2026-06-15 referral-follow-up ServiceRequest/sr10',
      '2026-06-15 referral-follow-up ServiceRequest/sr2',
      '2026-06-19 fasting-glucose Observation/g',
    ]);
  });
});

describe('FD-01/04, FD-07/08/09 over a generated panel', () => {
  const asOf = new Date('2026-06-14T20:00:00Z'); // 04:00 on 2026-06-15 in the clinic, still 06-14 in UTC

  for (const [seed, windowDays] of [[1, 30], [20261130, 10]] as const) {
    it(`FD-07/08/09: dueItems returns exactly the planted items for 600 patients (seed ${seed}, window ${windowDays})`, () => {
      const panel = generatePanel(600, asOf, seed, windowDays);
      expect(panel.records).toHaveLength(600);
      const wrong: string[] = [];
      for (const r of panel.records) {
        const got = dueItems(r, asOf, { windowDays });
        const want = panel.expected.get(r.patient.id!);
        if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${r.patient.id}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
      }
      expect(wrong.slice(0, 3)).toEqual([]);
      // The panel exercises every kind, both statuses, items with and without history, and patients with none.
      const all = [...panel.expected.values()].flat();
      for (const kind of ['hypertension-follow-up', 'diabetes-follow-up', 'fasting-glucose', 'health-check', 'referral-follow-up']) {
        expect(all.filter((i) => i.kind === kind && i.status === 'overdue').length).toBeGreaterThan(5);
        expect(all.filter((i) => i.kind === kind && i.status === 'due').length).toBeGreaterThan(1);
      }
      expect(all.filter((i) => i.kind !== 'referral-follow-up' && !i.basis).length).toBeGreaterThan(20);
      expect(all.filter((i) => i.basis?.startsWith('Encounter/')).length).toBeGreaterThan(20);
      expect([...panel.expected.values()].filter((items) => items.length === 0).length).toBeGreaterThan(100);
    });
  }

  it('FD-01/04: priorityGroups returns exactly the planted groups for 600 patients', () => {
    const panel = generatePanel(600, asOf, 3);
    const wrong = panel.records.filter((r) => JSON.stringify(priorityGroups(r, asOf)) !== JSON.stringify(panel.groups.get(r.patient.id!)))
      .map((r) => `${r.patient.id} ${r.patient.birthDate}: got ${priorityGroups(r, asOf).join(',')} want ${panel.groups.get(r.patient.id!)!.join(',')}`);
    expect(wrong.slice(0, 3)).toEqual([]);
    const counts = new Map<string, number>();
    for (const g of [...panel.groups.values()].flat()) counts.set(g, (counts.get(g) ?? 0) + 1);
    for (const g of ['elderly-65', 'pregnant', 'child', 'disabled', 'hypertension', 'diabetes', 'tuberculosis', 'severe-mental-disorder']) expect(counts.get(g) ?? 0).toBeGreaterThan(10);
  });

  it('the panel is deterministic and its resources are postable (ids, subjects)', () => {
    const a = generatePanel(50, asOf, 9), b = generatePanel(50, asOf, 9);
    expect(JSON.stringify(a.records)).toBe(JSON.stringify(b.records));
    expect(a.records[0].patient.id).toBe('fd-0001');
    for (const r of a.records) {
      for (const res of [...r.conditions, ...r.encounters, ...r.observations, ...r.referrals]) {
        expect(res.id).toMatch(new RegExp(`^${r.patient.id}-`));
        expect(res.subject).toEqual({ reference: `Patient/${r.patient.id}` });
      }
    }
  });
});
