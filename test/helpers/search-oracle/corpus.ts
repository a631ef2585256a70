// Generates the search corpus from the loaded data (the "file store": Synthea subset + supplement,
// with local ids) with a seeded PRNG, so it is the same on every run and on every backend.
//
// Resource ids are written as `{{localId}}` placeholders and `{{base}}` stands for the server's FHIR
// base URL (double braces: UCUM units such as `{score}` use single ones); the test substitutes the server's ids before sending a query and before asking the
// oracle. Values are written unencoded (the test encodes them); `,` `|` `$` `\` inside a literal
// are escaped the FHIR way.
import type { TypedValue } from '@medplum/core';
import type { Period, Quantity, Resource } from '@medplum/fhirtypes';
import { ParamRegistry, ValueCache } from './definitions.js';
import { referencesOf, splitPrefix, stringsOf, tokensOf, type Token } from './matchers.js';
import { Prng } from './prng.js';
import { parseReference, type ResourceStore } from './store.js';
import { CVX, LOINC, NOTE_SYSTEM, ORACLE_TAG, RISK_SYSTEM, RESTRICTED, RISK_PROFILE, SNOMED, SYNTHEA_ID, UCUM, VS_BASE } from './supplement.js';
import { dateRange, escapeValue, normalizeString, splitUnescaped } from './values.js';

export interface CorpusQuery {
  /** '' for a system search (`GET [base]?...`). */
  resourceType: string;
  params: [string, string][];
  /** Page size; unset means 1000 (one page for every search of this corpus). */
  count?: number;
  /** Feature classes the query exercises (for the summary). */
  features: string[];
}

/** The query as people read it (values unencoded): also the test's name. */
export function queryText(q: { resourceType: string; params: [string, string][]; count?: number }): string {
  return `${q.resourceType}?${q.params.map(([k, v]) => `${k}=${v}`).join('&')}${q.count ? `&_count=${q.count}` : ''}`;
}

const SSN = 'http://hl7.org/fhir/sid/us-ssn';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const SYNTHEA_TAG = 'https://smarthealthit.org/tags';

/** A placeholder for a resource's server id. */
const ph = (r: Resource | string) => (typeof r === 'string' ? `{{${r}}}` : `{{${r.id}}}`);
/** `Type/{id}`. */
const ref = (r: Resource) => `${r.resourceType}/${ph(r)}`;

/** ISO text of an instant in UTC, cut to a precision: 'year' → 2015, 'month' → 2015-06, 'day' → 2015-06-01, 'minute' → 2015-06-01T10:20Z. */
function cut(instant: number, precision: 'year' | 'month' | 'day' | 'minute'): string {
  const iso = new Date(instant).toISOString();
  switch (precision) {
    case 'year':
      return iso.slice(0, 4);
    case 'month':
      return iso.slice(0, 7);
    case 'day':
      return iso.slice(0, 10);
    case 'minute':
      return iso.slice(0, 16) + 'Z';
  }
}

/** The same instant written in another offset, to second precision: `2015-06-01T05:20:00-05:00`. */
function inOffset(instant: number, offsetMinutes: number): string {
  const local = new Date(instant + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** A string prefix the way a person would type it: lower-cased, accents dropped, no trailing space (R4 leaves spaces unsaid). */
const typed = (s: string, n: number) => normalizeString(s).slice(0, n).trimEnd();

export function generateCorpus(store: ResourceStore, registry: ParamRegistry, seed = 20240601): CorpusQuery[] {
  const rng = new Prng(seed);
  const cache = new ValueCache();
  const out: { resourceType: string; params: [string, string][]; count?: number }[] = [];
  const add = (resourceType: string, ...params: [string, string][]) => out.push({ resourceType, params });
  /** A search answered over several pages (`next` links followed; matches and includes gathered from all pages). */
  const paged = (count: number, resourceType: string, ...params: [string, string][]) => out.push({ resourceType, params, count });

  // --- what the data holds ---------------------------------------------------------------------
  const all = (type: string) => store.ofType(type);
  const vals = (type: string, code: string, r?: Resource): TypedValue[] => {
    const param = registry.get(type, code);
    if (!param) throw new Error(`corpus: ${type} has no parameter ${code}`);
    return (r ? [r] : all(type)).flatMap((x) => cache.values(x, param));
  };
  /** Distinct tokens with a code, most frequent first (ties by text, for determinism). */
  const tokens = (type: string, code: string, system?: string): Token[] => {
    const counts = new Map<string, { t: Token; n: number }>();
    for (const t of tokensOf(vals(type, code))) {
      if (!t.code || (system && t.system !== system)) continue;
      const k = `${t.system ?? ''}|${t.code}`;
      const e = counts.get(k) ?? { t, n: 0 };
      e.n++;
      counts.set(k, e);
    }
    return [...counts.entries()].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0])).map(([, e]) => e.t);
  };
  const codes = (type: string, code: string, system?: string) => tokens(type, code, system).map((t) => t.code!);
  const strings = (type: string, code: string) => [...new Set(stringsOf(vals(type, code)))].sort();
  /** The instants (range starts) of a date parameter's values. */
  const instants = (type: string, code: string): number[] =>
    vals(type, code)
      .map((v) => (typeof v.value === 'string' ? dateRange(v.value)?.lo : v.type === 'Period' && (v.value as Period).start ? dateRange((v.value as Period).start!)?.lo : undefined))
      .filter((x): x is number => x !== undefined)
      .sort((a, b) => a - b);
  const rawDates = (type: string, code: string): string[] => vals(type, code).flatMap((v) => (typeof v.value === 'string' ? [v.value] : []));
  const quantities = (type: string, code: string): Quantity[] => vals(type, code).filter((v) => v.type === 'Quantity').map((v) => v.value as Quantity);
  const withRef = (type: string, code: string, target: Resource) => all(type).filter((r) => referencesOf(vals(type, code, r)).some((x) => parseReference(x, undefined).key === `${target.resourceType}/${target.id}`));
  /** Resources of `type` that some `source` resource references through `code`. */
  const referenced = (source: string, code: string, type: string): Resource[] => {
    const keys = new Set(referencesOf(vals(source, code)).map((x) => parseReference(x, undefined).key));
    return all(type).filter((r) => keys.has(`${type}/${r.id}`));
  };
  const round = (x: number, digits: number) => Number(x.toFixed(digits)).toString();

  const patients = all('Patient');
  const practitioners = all('Practitioner');
  const organizations = all('Organization');
  const encounters = all('Encounter');
  const conditions = all('Condition');
  const observations = all('Observation');
  const families = strings('Patient', 'family');
  const givens = strings('Patient', 'given');
  const accented = [...families, ...givens].filter((s) => normalizeString(s) !== s.toLowerCase());
  const loinc = codes('Observation', 'code', LOINC);
  const vitalCodes = tokensOf(observations.filter((o) => tokensOf(vals('Observation', 'category', o)).some((t) => t.code === 'vital-signs')).flatMap((o) => vals('Observation', 'code', o)))
    .map((t) => t.code!)
    .filter((c, i, a) => a.indexOf(c) === i);
  const conditionCodes = codes('Condition', 'code', SNOMED);
  const cvx = codes('Immunization', 'vaccine-code', CVX);
  const encounterTypes = codes('Encounter', 'type', SNOMED);
  const classes = codes('Encounter', 'class');
  const procedureCodes = codes('Procedure', 'code', SNOMED);
  const reportCodes = codes('DiagnosticReport', 'code', LOINC);
  const cities = strings('Patient', 'address-city');
  const orgNames = strings('Organization', 'name');
  const practitionerFamilies = strings('Practitioner', 'family');
  const ssn = (p: Resource) => tokensOf(vals('Patient', 'identifier', p)).find((t) => t.system === SSN)!.code!;
  const typedIds = (p: Resource, typeCode: string) => ((p as any).identifier ?? []).find((i: any) => i.type?.coding?.some((c: any) => c.code === typeCode));
  const syntheaId = (p: Resource) => tokensOf(vals('Patient', 'identifier', p)).find((t) => t.system === SYNTHEA_ID)!.code!;
  const quantityObs = observations.filter((o) => (o as any).valueQuantity);
  const conceptObs = observations.filter((o) => (o as any).valueCodeableConcept?.coding?.[0]);
  /** A few letters from inside a word (never at a word's edge, never with spaces: how R4 treats spaces is unsaid). */
  const middle = (s: string) => {
    const word = normalizeString(s)
      .split(/\s+/)
      .find((w) => w.length >= 4);
    return word ? word.slice(1, Math.min(4, word.length - 1)) : normalizeString(s).trim().slice(1, 3);
  };

  // --- string ----------------------------------------------------------------------------------
  for (const f of rng.sample(families, 4)) add('Patient', ['family', typed(f, 3 + rng.int(3))]);
  for (const s of accented.slice(0, 3)) add('Patient', ['name', normalizeString(s)]); // accent folding: "mejia" finds "Mejía"
  if (accented[0]) add('Patient', ['name', accented[0].toUpperCase()]);
  for (const g of rng.sample(givens, 3)) add('Patient', ['given', typed(g, 2 + rng.int(3))]);
  for (const n of rng.sample([...families, ...givens], 3)) add('Patient', ['name', typed(n, 4)]);
  for (const f of rng.sample(families, 2)) add('Patient', ['family:exact', f]);
  add('Patient', ['family:exact', families[0].toLowerCase()]);
  if (accented[0]) add('Patient', ['family:exact', normalizeString(accented[0]).replace(/^./, (c) => c.toUpperCase())]);
  for (const f of rng.sample(families, 2)) add('Patient', ['name:contains', middle(f)]);
  add('Patient', ['address:contains', middle(strings('Patient', 'address').find((s) => /\d+ \w+/.test(s)) ?? 'a')]);
  add('Patient', ['address-city', typed(rng.pick(cities), 4)]);
  add('Patient', ['address-state', 'mass']);
  add('Patient', ['address-postalcode', strings('Patient', 'address-postalcode')[0].slice(0, 3)]);
  add('Patient', ['address-country', 'US']);
  add('Patient', ['address', typed(rng.pick(strings('Patient', 'address').filter((s) => /^\d/.test(s))), 6)]);
  add('Organization', ['address-city', escapeValue(rng.pick(strings('Organization', 'address-city')))]);
  for (const n of rng.sample(orgNames, 2)) add('Organization', ['name', escapeValue(typed(n, 8))]);
  const commaName = orgNames.find((n) => n.includes(','));
  if (commaName) add('Organization', ['name', escapeValue(normalizeString(commaName).slice(0, commaName.indexOf(',') + 4))]); // an escaped comma inside the value
  add('Organization', ['name:contains', 'hospital']);
  add('Practitioner', ['name', typed(rng.pick(practitionerFamilies), 4)]);
  add('Practitioner', ['family', typed(rng.pick(practitionerFamilies), 3)]);
  add('Practitioner', ['given:exact', rng.pick(strings('Practitioner', 'given'))]);
  add('Observation', ['value-string', 'patient reports']);
  add('Observation', ['value-string:contains', 'sao paulo']);
  add('Observation', ['value-string:exact', escapeValue('Occasional headaches | resolved')]);
  add('Observation', ['value-string', escapeValue('occasional headaches | res')]);
  add('Patient', ['family', `${typed(families[0], 3)},${typed(families[families.length - 1], 3)}`]);
  {
    const p = rng.pick(patients) as any;
    add('Patient', ['given', typed(p.name[0].given[0], 3)], ['family', typed(p.name[0].family, 3)]);
    add('Patient', ['name', typed(p.name[0].given[0], 3)], ['name', typed(p.name[0].family, 3)]);
    const other = patients.find((x: any) => x.name[0].family[0] !== p.name[0].family[0] && x.name[0].given[0][0] !== p.name[0].given[0][0]) as any;
    add('Patient', ['family', typed(p.name[0].family, 3)], ['given', typed(other.name[0].given[0], 3)]);
  }
  add('Patient', ['family', 'zzqx']);
  add('Patient', ['given:missing', 'false']);
  add('Patient', ['address-city:missing', 'true']);
  add('Observation', ['value-string:missing', 'false']);

  // --- token -----------------------------------------------------------------------------------
  for (const c of rng.sample(loinc.slice(0, 20), 3)) add('Observation', ['code', c]);
  for (const c of rng.sample(loinc, 3)) add('Observation', ['code', `${LOINC}|${c}`]);
  add('Observation', ['code', `|${loinc[0]}`]);
  add('Observation', ['code', `${NOTE_SYSTEM}|`]);
  add('Observation', ['code', rng.sample(loinc, 3).join(',')]);
  add('Observation', ['code', `${LOINC}|${loinc[2]},${loinc[5]},${SNOMED}|${conditionCodes[0]}`]);
  add('Observation', ['category', 'vital-signs']);
  add('Observation', ['category', `${OBS_CATEGORY}|laboratory`]);
  add('Observation', ['category', 'vital-signs'], ['code', rng.pick(vitalCodes)]);
  add('Observation', ['status', 'final'], ['code', `${LOINC}|${rng.pick(loinc)}`]);
  add('Observation', ['code', `${LOINC}|00000-0`]);
  for (const c of rng.sample(conditionCodes, 2)) add('Condition', ['code', c]);
  add('Condition', ['code', `${SNOMED}|${rng.pick(conditionCodes)}`]);
  add('Condition', ['clinical-status', 'resolved']);
  add('Condition', ['clinical-status', 'active'], ['verification-status', 'confirmed']);
  for (const c of classes.slice(0, 3)) add('Encounter', ['class', c]);
  add('Encounter', ['type', `${SNOMED}|${rng.pick(encounterTypes)}`]);
  add('Encounter', ['reason-code', rng.pick(codes('Encounter', 'reason-code'))]);
  add('Encounter', ['status', 'finished']);
  for (const c of rng.sample(cvx, 2)) add('Immunization', ['vaccine-code', c]);
  add('Immunization', ['vaccine-code', `${CVX}|${cvx[0]},${CVX}|${cvx[1]}`]);
  add('MedicationRequest', ['code', rng.pick(codes('MedicationRequest', 'code'))]);
  add('MedicationRequest', ['status', rng.pick(codes('MedicationRequest', 'status'))], ['intent', 'order']);
  add('Procedure', ['code', `${SNOMED}|${rng.pick(procedureCodes)}`]);
  add('DiagnosticReport', ['code', rng.pick(reportCodes)]);
  add('DiagnosticReport', ['category', 'LAB']);
  add('CarePlan', ['category', rng.pick(codes('CarePlan', 'category'))]);
  add('CarePlan', ['activity-code', rng.pick(codes('CarePlan', 'activity-code'))]);
  add('CarePlan', ['status', rng.pick(codes('CarePlan', 'status'))]);
  add('AllergyIntolerance', ['code', rng.pick(codes('AllergyIntolerance', 'code'))]);
  add('AllergyIntolerance', ['criticality', rng.pick(codes('AllergyIntolerance', 'criticality'))]);
  add('AllergyIntolerance', ['clinical-status', 'active'], ['type', 'allergy']);
  add('Claim', ['use', 'claim'], ['status', 'active']);
  add('ExplanationOfBenefit', ['status', 'active']);
  add('Patient', ['gender', 'female']);
  add('Patient', ['gender', 'male,other']);
  {
    const p = rng.pick(patients);
    add('Patient', ['identifier', `${SSN}|${ssn(p)}`]);
    add('Patient', ['identifier', syntheaId(rng.pick(patients))]);
    add('Patient', ['identifier', `${SSN}|`]);
    add('Patient', ['telecom', tokensOf(vals('Patient', 'telecom', p))[0].code!]);
    add('Patient', ['phone', tokensOf(vals('Patient', 'phone', rng.pick(patients)))[0].code!]);
  }
  add('Patient', ['language', rng.pick(codes('Patient', 'language'))]);
  add('Patient', ['active', 'true']);
  add('Patient', ['deceased', 'false']); // R4's expression `deceased.exists() and deceased != false` gives false for every living patient
  add('Organization', ['active', 'true'], ['type', 'prov']);
  add('Practitioner', ['identifier', `http://hl7.org/fhir/sid/us-npi|${tokensOf(vals('Practitioner', 'identifier', rng.pick(practitioners)))[0].code}`]);
  add('Practitioner', ['gender', 'female']);
  add('Patient', ['_id', ph(rng.pick(patients))]);
  add('Observation', ['_id', rng.sample(observations, 3).map(ph).join(',')]);
  add('Encounter', ['_id', 'no-such-id']);
  add('Observation', ['_tag', `${SYNTHEA_TAG}|synthea-5-2019`]);
  add('Observation', ['_tag', `${ORACLE_TAG.system}|${ORACLE_TAG.code}`]);
  add('RiskAssessment', ['_tag', ORACLE_TAG.code]);
  add('RiskAssessment', ['_security', `${RESTRICTED.system}|${RESTRICTED.code}`]);
  add('Patient', ['_security', RESTRICTED.code]);
  // :not
  add('Observation', ['code:not', rng.pick(vitalCodes)], ['category', 'vital-signs']);
  add('Observation', ['code:not', rng.sample(loinc.slice(0, 10), 2).join(',')]);
  add('Patient', ['gender:not', 'male']);
  add('Condition', ['clinical-status:not', 'resolved']);
  add('Encounter', ['class:not', classes[0]]);
  add('Observation', ['category:not', 'vital-signs']);
  add('MedicationRequest', ['status:not', 'stopped']);
  add('RiskAssessment', ['_security:not', RESTRICTED.code]);
  // :text
  {
    const display = (type: string, code: string) => rng.pick([...new Set(vals(type, code).flatMap((v) => (v.value.text ? [v.value.text] : [])))].sort() as string[]);
    const obsText = display('Observation', 'code');
    add('Observation', ['code:text', typed(obsText, 5)]);
    add('Observation', ['code:text', obsText.toUpperCase()]);
    add('Observation', ['code:text', typed(obsText.split(' ').slice(-1)[0], 6)]); // a later word: not a prefix of the text
    add('Condition', ['code:text', typed(display('Condition', 'code'), 6)]);
    add('Encounter', ['type:text', typed(display('Encounter', 'type'), 8)]);
    add('Immunization', ['vaccine-code:text', escapeValue(typed(display('Immunization', 'vaccine-code'), 9))]);
    add('Patient', ['identifier:text', 'social']);
    add('Patient', ['language:text', typed(display('Patient', 'language'), 4)]);
  }
  // :of-type
  {
    const p = rng.pick(patients);
    const mr = typedIds(p, 'MR');
    add('Patient', ['identifier:of-type', `${V2_0203}|MR|${mr.value}`]);
    add('Patient', ['identifier:of-type', `${V2_0203}|SS|${ssn(p)}`]);
    add('Patient', ['identifier:of-type', `${V2_0203}|DL|${ssn(p)}`]);
    const ppn = typedIds(rng.pick(patients.filter((x) => typedIds(x, 'PPN'))), 'PPN');
    add('Patient', ['identifier:of-type', `${V2_0203}|PPN|${ppn.value}`]);
  }
  // :in / :not-in (value sets of the supplement)
  add('Observation', ['code:in', `${VS_BASE}/oracle-vitals`]);
  add('Condition', ['code:in', `${VS_BASE}/oracle-mixed`]);
  add('Immunization', ['vaccine-code:in', `${VS_BASE}/oracle-mixed`]);
  add('Condition', ['code:in', `${VS_BASE}/oracle-snomed-all`]);
  add('Encounter', ['type:in', `${VS_BASE}/oracle-snomed-all`]);
  add('Observation', ['code:in', `${VS_BASE}/oracle-labs-excl`]);
  add('Observation', ['code:not-in', `${VS_BASE}/oracle-vitals`], ['category', 'vital-signs']);
  add('Immunization', ['vaccine-code:not-in', `${VS_BASE}/oracle-mixed`]);
  add('Condition', ['code:not-in', `${VS_BASE}/oracle-mixed`]);
  add('Observation', ['code:not-in', `${VS_BASE}/oracle-labs-excl`]);
  // :below / :above on a code hierarchy (the supplement's risk levels: elevated > high > very-high > critical, elevated > moderate; low)
  add('RiskAssessment', ['risk', `${RISK_SYSTEM}|high`]);
  add('RiskAssessment', ['risk:below', `${RISK_SYSTEM}|high`]);
  add('RiskAssessment', ['risk:below', `${RISK_SYSTEM}|elevated`]);
  add('RiskAssessment', ['risk:below', `${RISK_SYSTEM}|moderate,${RISK_SYSTEM}|low`]);
  add('RiskAssessment', ['risk:above', `${RISK_SYSTEM}|critical`]);
  add('RiskAssessment', ['risk:above', `${RISK_SYSTEM}|low`]);
  add('RiskAssessment', ['risk:below', `${RISK_SYSTEM}|very-high`], ['probability', 'ge0.1']);
  add('Patient', ['_has:RiskAssessment:subject:risk:below', `${RISK_SYSTEM}|high`]);
  // :missing on tokens
  add('Encounter', ['reason-code:missing', 'false']);
  add('Encounter', ['reason-code:missing', 'true']);
  add('Observation', ['value-concept:missing', 'false']);
  add('Patient', ['telecom:missing', 'false']);
  add('Observation', ['component-code:missing', 'false']);

  // --- date ------------------------------------------------------------------------------------
  const dateParams: [string, string][] = [
    ['Patient', 'birthdate'],
    ['Observation', 'date'],
    ['Encounter', 'date'],
    ['Condition', 'onset-date'],
    ['Condition', 'abatement-date'],
    ['Condition', 'recorded-date'],
    ['Immunization', 'date'],
    ['MedicationRequest', 'authoredon'],
    ['Procedure', 'date'],
    ['DiagnosticReport', 'date'],
    ['DiagnosticReport', 'issued'],
    ['CarePlan', 'date'],
    ['Claim', 'created'],
    ['ExplanationOfBenefit', 'created'],
    ['AllergyIntolerance', 'date'],
    ['RiskAssessment', 'date'],
  ];
  const precisions = ['year', 'month', 'day', 'minute'] as const;
  const prefixes = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'];
  let k = 0;
  for (const prefix of prefixes) {
    for (let i = 0; i < 5; i++) {
      const [type, code] = dateParams[k++ % dateParams.length];
      const instant = rng.pick(instants(type, code));
      const precision = precisions[(k + i) % precisions.length];
      add(type, [code, `${prefix === 'eq' && rng.int(2) === 0 ? '' : prefix}${cut(instant, precision)}`]);
    }
  }
  for (const [type, code] of rng.sample(dateParams, 6)) add(type, [code, cut(rng.pick(instants(type, code)), rng.pick(['year', 'month'] as const))]); // partial dates
  {
    // Second precision with the data's own offset, the same instant in another offset, and in UTC.
    const raw = rng.pick(rawDates('Observation', 'date'));
    add('Observation', ['date', raw]);
    const instant = dateRange(raw)!.lo;
    add('Observation', ['date', inOffset(instant, -300)]);
    add('Observation', ['date', `ge${inOffset(instant, 480)}`]);
    add('Condition', ['onset-date', `lt${new Date(rng.pick(instants('Condition', 'onset-date'))).toISOString().slice(0, 19)}Z`]);
    add('Encounter', ['date', `le${inOffset(rng.pick(instants('Encounter', 'date')), 60)}`]);
  }
  {
    const obs = instants('Observation', 'date');
    const lo = obs[Math.floor(obs.length / 3)];
    const hi = obs[Math.floor((2 * obs.length) / 3)];
    add('Observation', ['date', `ge${cut(lo, 'day')}`], ['date', `lt${cut(hi, 'month')}`]);
    const enc = instants('Encounter', 'date');
    add('Encounter', ['date', `ge${cut(enc[Math.floor(enc.length / 2)], 'year')}`], ['date', `le${cut(enc[Math.floor(enc.length / 2)], 'year')}-06`]);
    add('Encounter', ['date', `gt${cut(enc[10], 'day')}`], ['date', `eb${cut(enc[enc.length - 10], 'day')}`]);
    const births = instants('Patient', 'birthdate');
    add('Patient', ['birthdate', `${cut(births[0], 'year')},${cut(births[births.length - 1], 'month')}`]);
    add('Patient', ['birthdate', `lt${cut(births[3], 'day')},gt${cut(births[births.length - 3], 'day')}`]);
  }
  {
    // Periods that straddle the edge of the search range. R4: ge = "gt, or the search range
    // contains the target" — a period that starts before the range and ends inside it is neither;
    // le mirrors that. Chosen on purpose so the definition is tested, not met by chance.
    const periods = (type: string) =>
      all(type)
        .map((r) => vals(type, 'date', r).find((v) => v.type === 'Period')?.value as Period | undefined)
        .filter((p): p is Period => !!p?.start && !!p.end)
        .map((p) => ({ lo: dateRange(p.start!)!.lo, hi: dateRange(p.end!)!.hi }));
    const carePlan = periods('CarePlan').find((p) => cut(p.lo, 'day') !== cut(p.hi, 'day'))!;
    add('CarePlan', ['date', `ge${cut(carePlan.hi, 'day')}`]);
    add('CarePlan', ['date', `le${cut(carePlan.lo, 'day')}`]);
    const encounter = rng.pick(periods('Encounter').filter((p) => cut(p.lo, 'minute') !== cut(p.hi, 'minute')));
    add('Encounter', ['date', `ge${cut(encounter.hi, 'minute')}`]);
    add('Encounter', ['date', `le${cut(encounter.lo, 'minute')}`]);
  }
  add('Patient', ['birthdate', 'ap1990-06-15']); // ap: the hub's documented width (10 % of the distance from now)
  add('Condition', ['onset-date', 'ap2016-01']);
  add('Observation', ['value-date', 'ge2016']);
  add('Observation', ['value-date', '2019']);
  add('Observation', ['value-date', 'lt2019-11-15']);
  add('Condition', ['abatement-date:missing', 'true']);
  add('CarePlan', ['date:missing', 'false']);
  add('Patient', ['death-date:missing', 'false']);
  add('Observation', ['_lastUpdated', 'gt2020-01-01']);
  add('Patient', ['_lastUpdated', 'lt2000-01-01']);
  add('RiskAssessment', ['_lastUpdated', 'eb2200-01-01']);

  // --- number ----------------------------------------------------------------------------------
  for (const v of ['0.25', '0.3', '0.13', '0.125', '1', '0.250', '0.015', 'gt0.25', 'lt0.25', 'ge0.25', 'le0.25', 'ne0.3', 'sa0.5', 'eb0.07', '0.25,0.5', 'ge0.9'])
    add('RiskAssessment', ['probability', v]);
  add('RiskAssessment', ['probability', 'ge0.1'], ['probability', 'lt0.5']);
  add('RiskAssessment', ['probability', 'ap0.25']); // ap: the hub's documented ±10 %
  add('RiskAssessment', ['probability', 'ap1']);
  add('RiskAssessment', ['probability:missing', 'true']);

  // --- quantity --------------------------------------------------------------------------------
  for (let i = 0; i < 3; i++) {
    const q = (rng.pick(quantityObs) as any).valueQuantity as Quantity;
    add('Observation', ['value-quantity', `${round(q.value!, 1)}|${UCUM}|${escapeValue(q.code!)}`]);
  }
  {
    const q = (rng.pick(quantityObs) as any).valueQuantity as Quantity;
    add('Observation', ['value-quantity', `${round(q.value!, 2)}||${escapeValue(q.code!)}`]);
    add('Observation', ['value-quantity', round(q.value!, 0)]);
    add('Observation', ['value-quantity', `${round(q.value!, 1)}|${SNOMED}|${escapeValue(q.code!)}`]);
  }
  const byUnit = (unit: string) =>
    quantities('Observation', 'value-quantity')
      .filter((q) => q.code === unit)
      .map((q) => q.value!)
      .sort((a, b) => a - b);
  for (const [prefix, unit] of [
    ['gt', 'cm'],
    ['lt', 'kg'],
    ['ge', 'kg/m2'],
    ['le', 'mm[Hg]'],
    ['ne', 'cm'],
    ['sa', 'kg'],
    ['eb', 'cm'],
  ]) {
    const values = byUnit(unit);
    if (values.length === 0) continue;
    add('Observation', ['value-quantity', `${prefix}${round(values[Math.floor(values.length / 2)], 1)}|${UCUM}|${escapeValue(unit)}`]);
  }
  add('Observation', ['value-quantity', 'ap70||kg']);
  add('Observation', ['value-quantity', '120.5||mmHg']);
  add('Observation', ['value-quantity', `120.5|${UCUM}|mmHg`]);
  add('Observation', ['value-quantity', `120.5|${UCUM}|mm[Hg]`]);
  add('Observation', ['value-quantity', `72|${UCUM}|/min`]);
  add('Observation', ['value-quantity', `lt10||kg,gt180|${UCUM}|cm`]);
  add('Observation', ['value-quantity', 'gt50||kg'], ['value-quantity', 'lt80||kg']);
  add('Observation', ['component-value-quantity', `gt120||mm[Hg]`]);
  add('Observation', ['component-value-quantity', `lt80|${UCUM}|mm[Hg]`]);
  add('Observation', ['combo-value-quantity', 'gt119']);
  add('Observation', ['value-quantity:missing', 'true']);
  add('Encounter', ['length:missing', 'true']);

  // --- reference -------------------------------------------------------------------------------
  {
    const p = rng.pick(patients);
    const e = rng.pick(encounters);
    add('Observation', ['subject', ref(p)]);
    add('Observation', ['patient', ref(rng.pick(patients))]);
    add('Observation', ['subject', ph(rng.pick(patients))]);
    add('Observation', ['subject:Patient', ph(p)]);
    add('Observation', ['subject:Group', ph(p)]);
    add('Observation', ['encounter', ref(e)]);
    add('Observation', ['patient', ref(p)], ['encounter', ref(rng.pick(withRef('Encounter', 'patient', p)))]);
    add('Observation', ['subject', `${ref(patients[0])},${ref(patients[1])}`]);
    add('Observation', ['subject', `{{base}}/${ref(p)}`]);
    add('Observation', ['subject', `http://elsewhere.example/fhir/${ref(p)}`]);
    add('Observation', ['subject', 'Patient/no-such-id']);
  }
  add('Encounter', ['participant', ref(rng.pick(practitioners))]);
  add('Encounter', ['practitioner', ref(rng.pick(practitioners))]);
  add('Encounter', ['service-provider', ref(rng.pick(organizations))]);
  add('Encounter', ['service-provider', rng.sample(organizations, 2).map(ref).join(',')]);
  add('DiagnosticReport', ['result', ref(rng.pick(referenced('DiagnosticReport', 'result', 'Observation')))]);
  add('Procedure', ['reason-reference', ref(rng.pick(referenced('Procedure', 'reason-reference', 'Condition')))]);
  add('MedicationRequest', ['requester', ref(rng.pick(referenced('MedicationRequest', 'requester', 'Practitioner')))]);
  add('Claim', ['provider', ref(rng.pick(referenced('Claim', 'provider', 'Organization')))]);
  add('Claim', ['patient', ref(rng.pick(patients))]);
  add('ExplanationOfBenefit', ['claim', ref(rng.pick(all('Claim')))]);
  add('ExplanationOfBenefit', ['provider:Practitioner', ph(rng.pick(referenced('ExplanationOfBenefit', 'provider', 'Practitioner')))]);
  add('CarePlan', ['condition', ref(rng.pick(referenced('CarePlan', 'condition', 'Condition')))]);
  add('Immunization', ['patient', ph(rng.pick(patients))]);
  add('AllergyIntolerance', ['patient', ref(rng.pick(referenced('AllergyIntolerance', 'patient', 'Patient')))]);
  add('Condition', ['encounter', ref(rng.pick(referenced('Condition', 'encounter', 'Encounter')))]);
  add('RiskAssessment', ['subject', ref(patients[1])]);
  add('RiskAssessment', ['performer', ref(rng.pick(referenced('RiskAssessment', 'performer', 'Practitioner')))]);
  add('RiskAssessment', ['condition:Condition', ph(rng.pick(referenced('RiskAssessment', 'condition', 'Condition')))]);
  add('RiskAssessment', ['subject:identifier', `${SYNTHEA_ID}|${syntheaId(patients[3])}`]);
  add('RiskAssessment', ['patient:identifier', `${SYNTHEA_ID}|${syntheaId(patients[0])},${SYNTHEA_ID}|${syntheaId(patients[7])}`]);
  add('Observation', ['subject:identifier', `${SYNTHEA_ID}|${syntheaId(patients[0])}`]);
  add('RiskAssessment', ['subject:missing', 'false']);
  add('RiskAssessment', ['condition:missing', 'true']);
  add('Observation', ['encounter:missing', 'true']);
  add('Encounter', ['part-of:missing', 'false']);

  // --- uri -------------------------------------------------------------------------------------
  add('ValueSet', ['url', `${VS_BASE}/oracle-vitals`]);
  add('ValueSet', ['url', VS_BASE]);
  add('ValueSet', ['url:below', VS_BASE]);
  add('ValueSet', ['url:below', 'http://suhe.test/']);
  add('ValueSet', ['url:above', `${VS_BASE}/oracle-vitals/_history/2`]);
  add('ValueSet', ['url:above', `${VS_BASE}/oracle-mixed`]);
  add('ValueSet', ['url:above', 'http://suhe.test/other/ValueSet/oracle-elsewhere/extra']);
  add('ValueSet', ['url', `${VS_BASE}/oracle-vitals,${VS_BASE}/oracle-mixed`]);
  add('ValueSet', ['url:missing', 'false']);
  add('RiskAssessment', ['_profile', RISK_PROFILE]);
  add('Observation', ['_profile', RISK_PROFILE]);
  add('RiskAssessment', ['_profile:missing', 'true']);
  add('Procedure', ['instantiates-uri:missing', 'true']);

  // --- composite -------------------------------------------------------------------------------
  for (const code of rng.sample(vitalCodes.filter((c) => byCode(c).length > 0), 3)) {
    const values = byCode(code);
    add('Observation', ['code-value-quantity', `${LOINC}|${code}$gt${round(values[Math.floor(values.length / 2)], 0)}`]);
  }
  {
    const o = rng.pick(quantityObs) as any;
    add('Observation', ['code-value-quantity', `${LOINC}|${o.code.coding[0].code}$${round(o.valueQuantity.value, 1)}`]);
    add('Observation', ['code-value-quantity', `${LOINC}|${o.code.coding[0].code}$lt${round(o.valueQuantity.value, 0)}|${UCUM}|${escapeValue(o.valueQuantity.code)}`]);
    const c = rng.pick(conceptObs) as any;
    add('Observation', ['code-value-concept', `${LOINC}|${c.code.coding[0].code}$${c.valueCodeableConcept.coding[0].system}|${c.valueCodeableConcept.coding[0].code}`]);
    add('Observation', ['code-value-concept', `${c.code.coding[0].code}$${c.valueCodeableConcept.coding[0].code}`]);
  }
  add('Observation', ['component-code-value-quantity', `${LOINC}|8480-6$gt120`]);
  add('Observation', ['component-code-value-quantity', `${LOINC}|8462-4$lt80`]);
  add('Observation', ['component-code-value-quantity', `${LOINC}|8462-4$gt110`]); // a systolic > 110 must not satisfy a diastolic condition
  add('Observation', ['component-code-value-quantity', `${LOINC}|8480-6$lt0`]);
  add('Observation', ['component-code-value-concept', `${SNOMED}|246153002$${SNOMED}|33586001`]);
  add('Observation', ['code-value-date', `${NOTE_SYSTEM}|last-visit$ge2016`]);
  add('Observation', ['code-value-date', `${NOTE_SYSTEM}|last-visit$lt2019`]);
  add('Observation', ['code-value-string', `${NOTE_SYSTEM}|note$patient reports`]);
  add('Observation', ['combo-code-value-quantity', `${LOINC}|8480-6$gt120`]);
  {
    const [a, b] = rng.sample(vitalCodes.filter((c) => byCode(c).length > 0), 2);
    add('Observation', ['code-value-quantity', `${LOINC}|${a}$gt${round(byCode(a)[0], 0)},${LOINC}|${b}$lt${round(byCode(b).at(-1)!, 0)}`]);
  }

  // --- chains ----------------------------------------------------------------------------------
  {
    const p = rng.pick(patients) as any;
    add('Observation', ['subject:Patient.name', typed(p.name[0].given[0], 4)]);
    add('Observation', ['patient.family', typed(rng.pick(families), 4)]);
    add('Observation', ['patient.gender', 'female'], ['code', rng.pick(vitalCodes)]);
    add('Observation', ['patient.birthdate', `lt${cut(rng.pick(instants('Patient', 'birthdate')), 'year')}`]);
    add('Observation', ['encounter.class', rng.pick(classes)]);
    add('Observation', ['encounter.type', `${SNOMED}|${rng.pick(encounterTypes)}`]);
    add('Observation', ['encounter.date', cut(rng.pick(instants('Encounter', 'date')), 'year')]);
    add('Encounter', ['service-provider.name', escapeValue(typed(rng.pick(orgNames), 6))]);
    add('Encounter', ['participant:Practitioner.family', typed(rng.pick(practitionerFamilies), 4)]);
    add('Encounter', ['practitioner.name', typed(rng.pick(practitionerFamilies), 3)]);
    add('Encounter', ['subject:Patient.address-city', escapeValue(rng.pick(cities))]);
    add('DiagnosticReport', ['result.code', rng.pick(codes('Observation', 'code', LOINC).filter((c) => referenced('DiagnosticReport', 'result', 'Observation').some((o) => (o as any).code.coding[0].code === c)))]);
    add('DiagnosticReport', ['result.value-quantity', 'gt100']);
    add('Condition', ['encounter.class', rng.pick(classes)]);
    add('MedicationRequest', ['requester:Practitioner.name', typed(rng.pick(practitionerFamilies), 4)]);
    add('Claim', ['patient.gender', 'male']);
    add('ExplanationOfBenefit', ['claim.use', 'claim']);
    add('Immunization', ['patient.address-state', 'massachusetts']);
    add('Procedure', ['reason-reference:Condition.code', rng.pick(codes('Condition', 'code'))]);
    add('RiskAssessment', ['subject:Patient.family', typed(families[3], 3)]);
    add('CarePlan', ['condition.code', rng.pick(codes('Condition', 'code'))]);
    add('Observation', ['subject:Patient.identifier', `${SSN}|${ssn(p)}`]);
    add('Observation', ['patient.family:exact', p.name[0].family]);
    add('Observation', ['patient.name:contains', middle(p.name[0].family)]);
    add('Observation', ['patient.name', 'zzqx']);
    add('Observation', ['patient.family', typed(p.name[0].family, 3)], ['patient.given', typed(rng.pick(givens), 2)]);
    // two levels
    add('Observation', ['encounter.service-provider.name', escapeValue(typed(rng.pick(orgNames), 5))]);
    add('Observation', ['encounter.participant:Practitioner.family', typed(rng.pick(practitionerFamilies), 4)]);
    add('DiagnosticReport', ['result.patient.gender', 'male']);
    add('Condition', ['encounter.subject:Patient.birthdate', `ge${cut(rng.pick(instants('Patient', 'birthdate')), 'year')}`]);
    add('Claim', ['encounter.service-provider.address-city', escapeValue(typed(rng.pick(strings('Organization', 'address-city')), 4))]);
    add('ExplanationOfBenefit', ['claim.patient.family', typed(rng.pick(families), 3)]);
    add('Procedure', ['encounter.practitioner.gender', 'female']);
  }

  // --- _has ------------------------------------------------------------------------------------
  add('Patient', ['_has:Observation:patient:code', rng.pick(loinc.slice(-15))]);
  add('Patient', ['_has:Condition:subject:code', rng.pick(conditionCodes)]);
  add('Patient', ['_has:Immunization:patient:vaccine-code', `${CVX}|${rng.pick(cvx)}`]);
  add('Patient', ['_has:AllergyIntolerance:patient:criticality', rng.pick(codes('AllergyIntolerance', 'criticality'))]);
  add('Practitioner', ['_has:Encounter:participant:class', rng.pick(classes)]);
  add('Practitioner', ['_has:Encounter:practitioner:date', `ge${cut(rng.pick(instants('Encounter', 'date')), 'year')}`]);
  add('Organization', ['_has:Encounter:service-provider:type', rng.pick(encounterTypes)]);
  add('Encounter', ['_has:Observation:encounter:code', rng.pick(loinc)]);
  add('Encounter', ['_has:Condition:encounter:code', rng.pick(conditionCodes)]);
  add('Condition', ['_has:Procedure:reason-reference:date', `lt${cut(rng.pick(instants('Procedure', 'date')), 'year')}`]);
  add('Observation', ['_has:DiagnosticReport:result:code', rng.pick(reportCodes)]);
  add('Patient', ['_has:RiskAssessment:subject:probability', 'gt0.3']);
  add('Patient', ['_has:Condition:patient:code:not', conditionCodes[0]]);
  add('Patient', ['_has:Observation:patient:value-quantity', 'gt100||kg']);
  add('Patient', ['_has:Observation:patient:code', `${LOINC}|${loinc.at(-1)},${LOINC}|${loinc.at(-2)}`]);
  add('Patient', ['gender', 'male'], ['_has:Condition:patient:code', rng.pick(conditionCodes)]);
  add('Patient', ['_has:Condition:patient:code', rng.pick(conditionCodes)], ['_has:Immunization:patient:vaccine-code', rng.pick(cvx)]);
  add('Patient', ['_has:Observation:patient:code', `${LOINC}|00000-0`]);
  // nested _has, and chains inside _has
  add('Patient', ['_has:Encounter:patient:_has:Observation:encounter:code', rng.pick(loinc.slice(-20))]);
  add('Organization', ['_has:Encounter:service-provider:_has:Condition:encounter:code', rng.pick(conditionCodes)]);
  add('Practitioner', ['_has:Encounter:participant:_has:Procedure:encounter:code', rng.pick(procedureCodes)]);
  add('Practitioner', ['_has:Encounter:participant:subject:Patient.gender', 'female']);
  add('Patient', ['_has:Observation:patient:encounter.class', rng.pick(classes.slice(1))]);
  add('Organization', ['_has:Encounter:service-provider:subject:Patient.address-city', escapeValue(rng.pick(cities))]);

  // --- _include / _revinclude ------------------------------------------------------------------
  {
    const c = rng.pick(loinc.slice(5, 30));
    const p = rng.pick(patients);
    add('Observation', ['code', c], ['_include', 'Observation:patient']);
    add('Observation', ['code', rng.pick(loinc.slice(5, 30))], ['_include', 'Observation:subject:Patient']);
    add('Observation', ['code', c], ['_include', 'Observation:subject:Group']);
    add('Observation', ['patient', ref(p)], ['code', rng.pick(vitalCodes)], ['_include', 'Observation:encounter']);
    add('Encounter', ['class', rng.pick(classes)], ['_include', 'Encounter:service-provider'], ['_include', 'Encounter:participant:Practitioner']);
    add('Encounter', ['date', cut(rng.pick(instants('Encounter', 'date')), 'year')], ['_include', 'Encounter:practitioner']);
    add('MedicationRequest', ['status', rng.pick(codes('MedicationRequest', 'status'))], ['_include', 'MedicationRequest:requester'], ['_include', 'MedicationRequest:patient']);
    add('DiagnosticReport', ['code', rng.pick(reportCodes)], ['_include', 'DiagnosticReport:result']);
    add('Procedure', ['code', rng.pick(procedureCodes)], ['_include', 'Procedure:reason-reference']);
    add('Claim', ['patient', ref(p)], ['_include', 'Claim:provider']);
    add('ExplanationOfBenefit', ['patient', ref(rng.pick(patients))], ['_include', 'ExplanationOfBenefit:claim']);
    add('RiskAssessment', ['probability', 'gt0.2'], ['_include', 'RiskAssessment:subject'], ['_include', 'RiskAssessment:condition']);
    add('Patient', ['_id', ph(p)], ['_revinclude', 'Condition:subject']);
    add('Patient', ['family', typed(rng.pick(families), 3)], ['_revinclude', 'Immunization:patient']);
    add('Encounter', ['_id', rng.sample(encounters, 2).map(ph).join(',')], ['_revinclude', 'Observation:encounter'], ['_revinclude', 'Procedure:encounter']);
    add('Organization', ['name', escapeValue(typed(rng.pick(orgNames), 6))], ['_revinclude', 'Encounter:service-provider']);
    add('Practitioner', ['_id', ph(rng.pick(practitioners))], ['_revinclude', 'Encounter:participant']);
    add('Condition', ['code', rng.pick(codes('Condition', 'code').filter((x) => referenced('Procedure', 'reason-reference', 'Condition').some((r) => (r as any).code.coding[0].code === x)))], ['_revinclude', 'Procedure:reason-reference']);
    add('Observation', ['code', rng.pick(codes('Observation', 'code', LOINC).filter((x) => referenced('DiagnosticReport', 'result', 'Observation').some((o) => (o as any).code.coding[0].code === x)))], ['_revinclude', 'DiagnosticReport:result']);
    add('Patient', ['gender', 'female'], ['_revinclude', 'RiskAssessment:subject']);
    add('Patient', ['_id', ph(p)], ['_revinclude', 'RiskAssessment:subject:Patient'], ['_revinclude', 'AllergyIntolerance:patient']);
    // :iterate
    add('DiagnosticReport', ['code', rng.pick(reportCodes)], ['_include', 'DiagnosticReport:result'], ['_include:iterate', 'Observation:encounter']);
    add('Observation', ['code', rng.pick(loinc.slice(10, 40))], ['_include', 'Observation:encounter'], ['_include:iterate', 'Encounter:service-provider']);
    add('MedicationRequest', ['intent', 'order'], ['_include', 'MedicationRequest:encounter'], ['_include:iterate', 'Encounter:participant']);
    add('Patient', ['_id', ph(rng.pick(patients))], ['_revinclude', 'Encounter:patient'], ['_revinclude:iterate', 'Condition:encounter']);
    add('Condition', ['code', rng.pick(conditionCodes)], ['_include', 'Condition:encounter'], ['_revinclude:iterate', 'Observation:encounter']);
    add('ExplanationOfBenefit', ['_id', ph(rng.pick(all('ExplanationOfBenefit')))], ['_include', 'ExplanationOfBenefit:claim'], ['_include:iterate', 'Claim:encounter'], ['_include:iterate', 'Encounter:service-provider']);
    // an :iterate directive that only applies to included resources, next to one that is not iterated
    add('Procedure', ['code', rng.pick(procedureCodes)], ['_include', 'Procedure:encounter'], ['_include', 'Encounter:service-provider']);
    // with chains and _has
    add('Observation', ['patient.family', typed(rng.pick(families), 3)], ['code', rng.pick(vitalCodes)], ['_include', 'Observation:patient']);
    add('Patient', ['_has:Condition:patient:code', rng.pick(conditionCodes)], ['_revinclude', 'Condition:patient']);
    add('Observation', ['code', `${LOINC}|00000-0`], ['_include', 'Observation:patient']);
  }

  // --- a few sharper ones: chains ending in _id, :missing or :not, OR through a chain, escapes ----
  add('Observation', ['subject:Patient._id', ph(rng.pick(patients))]);
  add('Encounter', ['service-provider._id', rng.sample(organizations, 2).map(ph).join(',')]);
  add('Condition', ['encounter.reason-code:missing', 'false']);
  add('Observation', ['patient.gender:not', 'male'], ['category', 'vital-signs']);
  add('Observation', ['encounter.class', classes.slice(1, 3).join(',')]);
  add('Patient', ['_has:Observation:patient:_id', ph(rng.pick(observations))]);
  if (commaName) add('Organization', ['name:exact', escapeValue(commaName)]);
  add('Observation', ['code-value-string', `${NOTE_SYSTEM}|note$${escapeValue('occasional headaches | res')}`]);
  add('RiskAssessment', ['probability', '1.0']);
  {
    // A date-only element (a whole day) against instant search values, and a millisecond instant.
    const birth = cut(rng.pick(instants('Patient', 'birthdate')), 'day');
    add('Patient', ['birthdate', `${birth}T12:00:00Z`]);
    add('Patient', ['birthdate', `sa${birth}T12:00:00Z`]);
    add('Patient', ['birthdate', `le${birth}T12:00:00Z`]);
    add('DiagnosticReport', ['issued', rng.pick(rawDates('DiagnosticReport', 'issued').filter((d) => /\.\d{3}/.test(d)))]);
  }
  add('Observation', ['category:not', `${OBS_CATEGORY}|vital-signs`]);
  add('Patient', ['_id', ph(rng.pick(patients))], ['_revinclude', 'Observation:subject:Group']);

  // --- paging: small pages, with includes, sorts and system search ------------------------------
  paged(50, 'Observation', ['category', 'vital-signs']);
  paged(5, 'Observation', ['code', rng.pick(loinc.slice(5, 30))], ['_include', 'Observation:patient']);
  paged(20, 'Encounter', ['class', classes[0]], ['_include', 'Encounter:service-provider'], ['_include', 'Encounter:participant:Practitioner']);
  paged(3, 'Patient', ['gender', 'male,female'], ['_revinclude', 'Condition:subject']);
  paged(40, 'Observation', ['patient.gender', 'female'], ['_sort', '-date']);
  paged(25, 'Claim', ['status', 'active'], ['_sort', 'created'], ['_include', 'Claim:provider']);
  paged(4, '', ['_type', 'Patient,Practitioner'], ['gender', 'female']);
  paged(2, 'Patient', ['_has:Observation:patient:code', loinc[0]]);

  // --- system search ---------------------------------------------------------------------------
  add('', ['_type', 'Patient,Practitioner'], ['gender', 'female']);
  add('', ['_type', 'Patient,Practitioner,Organization'], ['name', typed(rng.pick(practitionerFamilies), 2)]);
  add('', ['_id', [rng.pick(patients), rng.pick(encounters), rng.pick(organizations)].map(ph).join(',')]);
  add('', ['_type', 'Condition,Procedure,Observation'], ['patient', ref(rng.pick(patients))]);
  add('', ['_type', 'Observation,Condition'], ['code', rng.pick(conditionCodes)]);
  add('', ['_type', 'RiskAssessment,Observation'], ['_tag', `${ORACLE_TAG.system}|${ORACLE_TAG.code}`]);
  add('', ['_type', 'Encounter,Procedure'], ['date', cut(rng.pick(instants('Procedure', 'date')), 'month')]);
  add('', ['_type', 'ValueSet,RiskAssessment'], ['_profile', RISK_PROFILE]);

  return out.map((q) => ({ ...q, features: featuresOf(q, registry) }));

  function byCode(code: string): number[] {
    return observations
      .filter((o) => (o as any).valueQuantity && (o as any).code.coding[0].code === code)
      .map((o) => (o as any).valueQuantity.value as number)
      .sort((a, b) => a - b);
  }
}

/** The feature classes a query exercises, read off its parameters (for the summary). */
export function featuresOf(q: { resourceType: string; params: [string, string][]; count?: number }, registry: ParamRegistry): string[] {
  const features = new Set<string>();
  if (!q.resourceType) features.add('system search');
  if (q.count) features.add('paging');
  const names = q.params.map(([n]) => n);
  if (names.some((n, i) => names.indexOf(n) !== i && !n.startsWith('_include') && !n.startsWith('_revinclude'))) features.add('AND (repeated)');
  for (const [name, value] of q.params) {
    if (name === '_type' || name === '_sort') continue;
    if (name.startsWith('_include') || name.startsWith('_revinclude')) {
      features.add(name.startsWith('_include') ? '_include' : '_revinclude');
      if (name.endsWith(':iterate')) features.add(':iterate');
      continue;
    }
    if (splitUnescaped(value, ',').length > 1) features.add('OR (commas)');
    if (/\\[,|$]/.test(value)) features.add('escaping');
    const types = q.resourceType ? [q.resourceType] : (q.params.find(([n]) => n === '_type')?.[1].split(',') ?? ['Patient']);
    walk(types[0], name, value);
  }
  return [...features].sort();

  /** Walks `name` (chains, _has) down to the simple parameter at its end. */
  function walk(type: string, name: string, value: string): void {
    if (name.startsWith('_has:')) {
      const [, source, , ...rest] = name.split(':');
      const inner = rest.join(':');
      features.add(inner.startsWith('_has:') ? '_has nested' : inner.includes('.') ? '_has + chain' : '_has');
      walk(source, inner, value);
      return;
    }
    const dot = name.indexOf('.');
    if (dot >= 0) {
      const [code, typeModifier] = name.slice(0, dot).split(':');
      const rest = name.slice(dot + 1);
      const param = registry.get(type, code);
      if (!param) throw new Error(`corpus: ${type} has no parameter ${code} (in ${name})`);
      const target = typeModifier ?? param.targets.find((t) => registry.get(t, rest.split(/[.:]/)[0])) ?? param.targets[0];
      if (!features.has('chain (2 levels)')) features.add(rest.includes('.') ? 'chain (2 levels)' : 'chain');
      if (typeModifier) features.add('chain :[type]');
      walk(target, rest, value);
      return;
    }
    const [code, modifier] = name.split(':');
    const param = registry.get(type, code);
    if (!param) return;
    features.add(`type ${param.type}`);
    if (code.startsWith('_')) features.add(`param ${code}`);
    if (modifier) features.add(param.type === 'reference' && /^[A-Z]/.test(modifier) ? 'modifier :[type]' : `modifier :${modifier}`);
    if (modifier) return;
    for (const alt of splitUnescaped(value, ',')) {
      if (param.type === 'date' || param.type === 'number' || param.type === 'quantity') {
        const [prefix, text] = splitPrefix(alt);
        features.add(`prefix ${prefix}`);
        if (param.type === 'date') features.add(/^\d{4}$/.test(text) ? 'date: year' : /^\d{4}-\d{2}$/.test(text) ? 'date: month' : /^\d{4}-\d{2}-\d{2}$/.test(text) ? 'date: day' : 'date: time');
      }
      if (param.type === 'composite') {
        for (const part of splitUnescaped(alt, '$')) {
          const [prefix] = splitPrefix(part);
          if (/^(gt|lt|ge|le|ne|sa|eb)\d/.test(part)) features.add(`prefix ${prefix}`);
        }
      }
    }
  }
}
