// A synthetic family-doctor panel with known answers, for FD-01/04 priority groups and the
// FD-07/08/09 worklist. Each patient is built from choices the generator makes (age, conditions,
// "last follow-up k days before asOf", referrals and their follow-ups, and traps that must not
// count: virtual visits, cancelled encounters, preliminary results, refuted or resolved conditions,
// instants whose UTC date differs from the clinic date); the expected items and groups are derived
// from those choices, never by calling the code under test. Seeded: same seed, same panel.
// Resources carry ids and subject references so an integration test can POST them to the hub.
import type { Condition, Encounter, Observation, Patient, ServiceRequest } from '@medplum/fhirtypes';
import type { DueItem, PanelRecord } from '../../server/src/modules/family-doctor/due-items.js';
import type { PriorityGroup } from '../../server/src/modules/family-doctor/priority-groups.js';
import { Prng } from './search-oracle/prng.js';

export type ExpectedItem = Pick<DueItem, 'rule' | 'kind' | 'dueDate' | 'status' | 'doneLastYear' | 'requiredPerYear' | 'basis'>;

export interface Panel {
  records: PanelRecord[];
  /** Patient id → the items dueItems(record, asOf, { windowDays }) must return, in its order. */
  expected: Map<string, ExpectedItem[]>;
  /** Patient id → the priority groups, in the fixed order. */
  groups: Map<string, PriorityGroup[]>;
}

const FD = 'https://suhe.example.cn/fhir/CodeSystem/family-doctor';
const ICD = 'http://hl7.org/fhir/sid/icd-10';
const ACT = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const DAY = 86_400_000;

/** A panel of `count` patients (ids fd-0001 …) as of `asOf`; expectations for the given window. */
export function generatePanel(count: number, asOf: Date, seed = 1, windowDays = 30): Panel {
  const prng = new Prng(seed);
  const rnd = () => prng.next();
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const chance = (p: number) => rnd() < p;

  // Dates as day offsets from asOf's clinic (+08:00) date.
  const clinic = new Date(asOf.getTime() + 8 * 3600_000);
  const base = Date.UTC(clinic.getUTCFullYear(), clinic.getUTCMonth(), clinic.getUTCDate());
  const day = (off: number) => new Date(base + off * DAY).toISOString().slice(0, 10);
  const offOf = (date: string) => Math.round((Date.parse(`${date}T00:00:00Z`) - base) / DAY);
  const plusYears = (date: string, n: number) => `${Number(date.slice(0, 4)) + n}${date.slice(4)}`;
  /** A dateTime on clinic day `off`: a date, a +08:00 time, or a Z instant (at clinic hours 0–7 its UTC date is the day before). */
  const when = (off: number, dateOnly = true): string => {
    const style = int(dateOnly ? 0 : 1, 2);
    if (style === 0) return day(off);
    const h = int(0, 23), m = int(0, 59);
    if (style === 1) return `${day(off)}T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00+08:00`;
    return new Date(base + off * DAY + (h - 8) * 3600_000 + m * 60_000).toISOString();
  };

  const records: PanelRecord[] = [];
  const expected = new Map<string, ExpectedItem[]>();
  const groups = new Map<string, PriorityGroup[]>();

  for (let i = 1; i <= count; i++) {
    const pid = `fd-${String(i).padStart(4, '0')}`;
    const subject = { reference: `Patient/${pid}` };
    let n = 0;
    const nextId = (p: string) => `${pid}-${p}${++n}`;

    // --- age: birth date, reach dates (earliest reading for 35/65, latest for the child check) ---
    const profile = pick(['child', 'young', 'near35', 'adult', 'near65', 'elderly', 'elderly', 'none'] as const);
    let birthDate: string | undefined;
    if (profile !== 'none') {
      const [years, reachOff] = profile === 'child' ? [0, int(-2700, 0)] : profile === 'young' ? [0, int(-12700, -2500)]
        : profile === 'near35' ? [35, int(-400, 20)] : profile === 'adult' ? [0, int(-23500, -13100)]
        : profile === 'near65' ? [65, int(-400, 20)] : [0, int(-34000, -24100)];
      let full = day(reachOff);
      if (full.endsWith('-02-29')) full = day(reachOff + 1);
      full = plusYears(full, -years);
      if (full.endsWith('-02-29')) full = full.replace('-02-29', '-02-28');
      const precision = chance(0.12) ? pick(['year', 'month'] as const) : 'day';
      birthDate = precision === 'year' ? full.slice(0, 4) : precision === 'month' ? full.slice(0, 7) : full;
    }
    const earliest = birthDate && (birthDate.length === 4 ? `${birthDate}-01-01` : birthDate.length === 7 ? `${birthDate}-01` : birthDate);
    const latest = birthDate && (birthDate.length === 4 ? `${birthDate}-12-31`
      : birthDate.length === 7 ? new Date(Date.UTC(Number(birthDate.slice(0, 4)), Number(birthDate.slice(5, 7)), 0)).toISOString().slice(0, 10) : birthDate);
    const reach35 = earliest ? offOf(plusYears(earliest, 35)) : undefined;
    const reach65 = earliest ? offOf(plusYears(earliest, 65)) : undefined;
    const isChild = !!latest && !!earliest && offOf(earliest) <= 0 && day(0) < plusYears(latest, 7);

    // --- contract ---
    const contractOff = -int(0, 1500);
    const contractStart = when(contractOff);

    // --- conditions: members get counting ones, everyone may get traps that must not count ---
    const conditions: Condition[] = [];
    const condition = (code: string, system = ICD, clinical = 'active', verification = 'confirmed', dates: Partial<Condition> = {}) => {
      conditions.push({
        resourceType: 'Condition', id: nextId('c'), subject, code: { coding: [{ system, code }] },
        // FHIR's con-5: an entered-in-error Condition carries no clinical status.
        ...(verification === 'entered-in-error' ? {} : { clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: clinical }] } }),
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: verification }] },
        ...dates,
      });
    };
    /** A counting condition; returns the offset of its first-recorded date (contract start when it has none). */
    const member = (codes: readonly string[]): number => {
      const off = -int(0, 3000);
      const mode = pick(['recorded', 'recorded', 'onset', 'none'] as const);
      const dates: Partial<Condition> = mode === 'recorded' ? { recordedDate: when(off, false) } : mode === 'onset' ? { onsetDateTime: when(off, false) } : {};
      condition(pick(codes), ICD, pick(['active', 'active', 'recurrence', 'relapse']), pick(['confirmed', 'provisional', 'unconfirmed']), dates);
      return mode === 'none' ? contractOff : off;
    };
    /** A condition that must not count: wrong status, wrong system or a code just outside the range. */
    const trap = (inRange: readonly string[], outOfRange: readonly string[]) => {
      const recordedDate = when(-int(0, 4000), false);
      const how = int(0, 3);
      if (how === 0) condition(pick(inRange), ICD, pick(['resolved', 'inactive', 'remission']), 'confirmed', { recordedDate });
      else if (how === 1) condition(pick(inRange), ICD, 'active', pick(['refuted', 'entered-in-error']), { recordedDate });
      else if (how === 2) condition(pick(inRange), 'http://snomed.info/sct', 'active', 'confirmed', { recordedDate });
      else condition(pick(outOfRange), ICD, 'active', 'confirmed', { recordedDate });
    };
    const HTN = ['I10', 'I10.x00', 'I11.9', 'I12', 'I13.0', 'I15.1'], HTN_OUT = ['I09', 'I16', 'I20.0'];
    const T2D = ['E11', 'E11.9', 'E11.65'], OTHER_DM = ['E10.9', 'E12', 'E13', 'E14.9'], DM_OUT = ['E09', 'E15', 'E16.2'];
    const TB = ['A15.0', 'A16', 'A19.9'], TB_OUT = ['A14', 'A20'];
    const SMD = ['F20.0', 'F22', 'F25.1', 'F31.2', 'F06.2', 'F70', 'F79.1'], SMD_OUT = ['F21', 'F23', 'F30', 'F32.1', 'F05', 'F80'];
    const PREG = ['Z33', 'Z34.0', 'Z35.1', 'O00', 'O24.4', 'O99.8', 'O9A.1'], PREG_OUT = ['Z32', 'Z36', 'P00', 'N99'];

    const flags = { htn: chance(0.45), t2d: chance(0.35), otherDm: chance(0.06), tb: chance(0.05), smd: chance(0.06), preg: chance(0.05), disabled: chance(0.07) };
    const htnDates = flags.htn ? Array.from({ length: int(1, 2) }, () => member(HTN)) : [];
    const t2dDates = flags.t2d ? Array.from({ length: int(1, 2) }, () => member(T2D)) : [];
    if (flags.otherDm) member(OTHER_DM);
    if (flags.tb) member(TB);
    if (flags.smd) member(SMD);
    if (flags.preg) member(PREG);
    if (chance(0.3)) trap(HTN, HTN_OUT);
    if (chance(0.3)) trap([...T2D, ...OTHER_DM], DM_OUT);
    if (chance(0.1)) trap(TB, TB_OUT);
    if (chance(0.1)) trap(SMD, SMD_OUT);
    if (chance(0.1)) trap(PREG, PREG_OUT);
    const disabledBy = flags.disabled ? pick(['extension', 'condition'] as const) : undefined;
    if (disabledBy === 'condition') condition('disability', FD);
    else if (!flags.disabled && chance(0.1)) condition('disability', FD, 'resolved');
    const patient: Patient = {
      resourceType: 'Patient', id: pid, ...(birthDate ? { birthDate } : {}),
      ...(disabledBy === 'extension' ? { extension: [{ url: 'https://suhe.example.cn/fhir/StructureDefinition/disability', valueBoolean: true }] }
        : !flags.disabled && chance(0.1) ? { extension: [{ url: 'https://suhe.example.cn/fhir/StructureDefinition/disability', valueBoolean: false }] } : {}),
    };

    // --- histories: a series of counting events, last one k days before asOf, plus traps after it ---
    const encounters: Encounter[] = [];
    const observations: Observation[] = [];
    /** Offsets of finished hypertension/referral follow-up encounters of any class (they close referrals). */
    const closers: number[] = [];
    const encounter = (type: string, off: number, classCode: string | undefined, status: Encounter['status'] = 'finished'): string => {
      const id = nextId('e');
      encounters.push({
        resourceType: 'Encounter', id, status, subject,
        class: { system: ACT, code: classCode ?? 'AMB' }, type: [{ coding: [{ system: FD, code: type }] }], period: { start: when(off, false) },
      });
      if (status === 'finished' && (type === 'hypertension-follow-up' || type === 'referral-follow-up')) closers.push(off);
      return `Encounter/${id}`;
    };
    const glucose = (off: number, status: Observation['status'], code: string, system = 'http://loinc.org'): string => {
      const id = nextId('o');
      const mmol = code === '14771-0';
      observations.push({
        resourceType: 'Observation', id, status, subject, code: { coding: [{ system, code }] }, effectiveDateTime: when(off, false),
        valueQuantity: { value: mmol ? 6.1 : 110, unit: mmol ? 'mmol/L' : 'mg/dL', system: 'http://unitsofmeasure.org', code: mmol ? 'mmol/L' : 'mg/dL' },
      });
      return `Observation/${id}`;
    };
    interface Series { last?: { off: number; ref: string }; doneLastYear: number }
    const series = (interval: number, plant: (off: number) => string, trapAt: (off: number) => void): Series => {
      if (chance(0.3)) {
        if (chance(0.3)) trapAt(-int(0, 200));
        return { doneLastYear: 0 };
      }
      const k = chance(0.35) ? Math.max(0, interval + pick([0, 1, -1, -windowDays, -windowDays - 1, -windowDays + 1])) : int(0, interval + 150);
      const offs = [-k];
      for (let c = int(0, 5); c > 0; c--) offs.push(offs[offs.length - 1] - int(20, 130));
      // The edge of "the last 365 days": an event 364 days back counts in doneLastYear, 365 does not.
      const edge = pick([-365, -364]);
      if (chance(0.3) && edge < -k && !offs.includes(edge)) offs.push(edge);
      const refs = offs.map((off) => plant(off));
      if (chance(0.5)) trapAt(-int(0, k));
      return { last: { off: -k, ref: refs[0] }, doneLastYear: offs.filter((o) => o > -365).length };
    };
    const visitTrap = (type: string) => (off: number) =>
      chance(0.5) ? encounter(type, off, 'VR') : encounter(type, off, pick(['AMB', 'HH']), pick(['cancelled', 'in-progress', 'planned'] as const));
    const htnSeries = series(91, (off) => encounter('hypertension-follow-up', off, pick(['AMB', 'HH'])), visitTrap('hypertension-follow-up'));
    const dmSeries = series(91, (off) => encounter('diabetes-follow-up', off, pick(['AMB', 'HH'])), visitTrap('diabetes-follow-up'));
    const glucoseSeries = series(91, (off) => glucose(off, pick(['final', 'amended', 'corrected']), pick(['1558-6', '14771-0'])), (off) => {
      const how = int(0, 2);
      if (how === 0) glucose(off, pick(['preliminary', 'registered', 'cancelled', 'entered-in-error']), '1558-6');
      else if (how === 1) glucose(off, 'final', pick(['4548-4', '2345-7']));
      else glucose(off, 'final', '14771-0', 'http://snomed.info/sct');
    });
    const checkSeries = series(365, (off) => encounter('health-check', off, pick(['AMB', 'HH', 'IMP', 'EMER'])),
      (off) => (chance(0.5) ? encounter('health-check', off, 'VR') : encounter('health-check', off, 'AMB', 'cancelled')));

    // --- urgent referrals, followed up (after), not followed up, or with a visit before the referral ---
    const referrals: ServiceRequest[] = [];
    const plannedReferrals: { id: string; off: number; counts: boolean }[] = [];
    for (let r = chance(0.3) ? int(1, 2) : 0; r > 0; r--) {
      const a = chance(0.3) ? pick([0, 14, 15, 364, 365]) : int(0, 420);
      const priority = pick(['urgent', 'asap', 'stat', 'urgent', 'routine'] as const);
      const status = pick(['active', 'completed', 'active', 'revoked', 'draft'] as const);
      const id = nextId('sr');
      referrals.push({
        resourceType: 'ServiceRequest', id, status, intent: 'order', priority, subject, authoredOn: when(-a, false),
        code: { coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] },
      });
      const follow = pick(['none', 'after', 'before'] as const);
      if (follow === 'after') encounter('referral-follow-up', -int(0, a), pick(['AMB', 'HH', 'VR']));
      if (follow === 'before') encounter('referral-follow-up', -a - int(1, 30), 'AMB');
      plannedReferrals.push({ id, off: -a, counts: priority !== 'routine' && (status === 'active' || status === 'completed') && a <= 364 });
    }

    records.push({ patient, conditions, encounters, observations, referrals, contractStart });

    // --- expectations, from the choices above ---
    const items: ExpectedItem[] = [];
    const add = (rule: ExpectedItem['rule'], kind: ExpectedItem['kind'], dueOff: number, done: number, required: number, basis?: string) => {
      if (dueOff > windowDays) return;
      items.push({ rule, kind, dueDate: day(dueOff), status: dueOff < 0 ? 'overdue' : 'due', doneLastYear: done, requiredPerYear: required, ...(basis ? { basis } : {}) });
    };
    const fromSeries = (rule: ExpectedItem['rule'], kind: ExpectedItem['kind'], s: Series, interval: number, required: number, anchors: number[]) =>
      add(rule, kind, (s.last ? s.last.off : Math.max(...anchors)) + interval, s.doneLastYear, required, s.last?.ref);
    const chronicAge = reach35 !== undefined && reach35 <= 0;
    if (flags.htn && chronicAge) {
      fromSeries('FD-07', 'hypertension-follow-up', htnSeries, 91, 4, [contractOff, Math.min(...htnDates), reach35]);
      for (const ref of plannedReferrals) {
        if (ref.counts && !closers.some((c) => c >= ref.off)) add('FD-07', 'referral-follow-up', ref.off + 14, 0, 1, `ServiceRequest/${ref.id}`);
      }
    }
    if (flags.t2d && chronicAge) {
      const anchors = [contractOff, Math.min(...t2dDates), reach35];
      fromSeries('FD-08', 'diabetes-follow-up', dmSeries, 91, 4, anchors);
      fromSeries('FD-08', 'fasting-glucose', glucoseSeries, 91, 4, anchors);
    }
    if (reach65 !== undefined && reach65 <= 0) fromSeries('FD-09', 'health-check', checkSeries, 365, 1, [contractOff, reach65]);
    const key = (x: ExpectedItem) => `${x.dueDate}|${x.kind}|${x.basis ?? ''}`;
    expected.set(pid, items.sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0)));

    const g: PriorityGroup[] = [];
    if (reach65 !== undefined && reach65 <= 0) g.push('elderly-65');
    if (flags.preg) g.push('pregnant');
    if (isChild) g.push('child');
    if (flags.disabled) g.push('disabled');
    if (flags.htn) g.push('hypertension');
    if (flags.t2d || flags.otherDm) g.push('diabetes');
    if (flags.tb) g.push('tuberculosis');
    if (flags.smd) g.push('severe-mental-disorder');
    groups.set(pid, g);
  }
  return { records, expected, groups };
}
