// A small supplement to the Synthea data, built deterministically from it, for parameter types and
// modifiers the Synthea patients give nothing to search: numbers (RiskAssessment.probability),
// uris (ValueSet.url, meta.profile), value sets for :in/:not-in, logical references for
// :identifier, a code hierarchy for token :above/:below (risk levels), Observation.valueString/valueDateTime, a
// quantity whose unit differs from its code, a component with a CodeableConcept value, and
// _tag/_security labels other than Synthea's.
// Every reference points at a Synthea resource by its local id (`Type/localId`), rewritten to
// the server's id when posted.
import type { CodeSystem, Condition, Encounter, Observation, Patient, Resource, RiskAssessment, ValueSet } from '@medplum/fhirtypes';
import type { Prng } from './prng.js';
import type { ResourceStore } from './store.js';

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';
export const CVX = 'http://hl7.org/fhir/sid/cvx';
export const SYNTHEA_ID = 'https://github.com/synthetichealth/synthea';
export const ORACLE_TAG = { system: 'http://suhe.test/fhir/tags', code: 'oracle' };
export const RESTRICTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' };
export const RISK_PROFILE = 'http://suhe.test/fhir/StructureDefinition/oracle-risk';
export const NOTE_SYSTEM = 'http://suhe.test/fhir/CodeSystem/oracle-notes';
export const VS_BASE = 'http://suhe.test/fhir/ValueSet';
export const RISK_SYSTEM = 'http://suhe.test/fhir/CodeSystem/oracle-risk-level';

const refOf = (r: Resource) => `${r.resourceType}/${r.id}`;

/** Codes of a CodeableConcept-valued element across a type, most frequent first (ties by code). */
function frequentCodes(resources: Resource[], get: (r: any) => { system?: string; code?: string }[] | undefined, system: string): string[] {
  const counts = new Map<string, number>();
  for (const r of resources) for (const c of get(r) ?? []) if (c.system === system && c.code) counts.set(c.code, (counts.get(c.code) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([code]) => code);
}

export function buildSupplement(store: ResourceStore, rng: Prng): Resource[] {
  const out: Resource[] = [];
  const patients = store.ofType('Patient') as Patient[];
  const encounters = store.ofType('Encounter') as Encounter[];
  const conditions = store.ofType('Condition') as Condition[];

  // A small is-a hierarchy of risk levels (RiskAssessment.prediction.qualitativeRisk, the R4 `risk`
  // parameter): nested concepts, and one link written as a `parent` property (both R4 ways to say it).
  //   elevated > high > very-high > critical (by property);  elevated > moderate;  low
  const levels: CodeSystem = {
    resourceType: 'CodeSystem',
    id: 'sup-cs-risk',
    url: RISK_SYSTEM,
    status: 'active',
    content: 'complete',
    hierarchyMeaning: 'is-a',
    property: [{ code: 'parent', uri: 'http://hl7.org/fhir/concept-properties#parent', type: 'code' }],
    concept: [
      {
        code: 'elevated',
        display: 'Elevated risk',
        concept: [
          { code: 'high', display: 'High risk', concept: [{ code: 'very-high', display: 'Very high risk' }] },
          { code: 'moderate', display: 'Moderate risk' },
        ],
      },
      { code: 'low', display: 'Low risk' },
      { code: 'critical', display: 'Critical risk', property: [{ code: 'parent', valueCode: 'very-high' }] },
    ],
  };
  out.push(levels);
  const levelCodes = ['high', 'very-high', 'low', 'moderate', 'critical', 'elevated'];
  const level = (code: string) => ({ coding: [{ system: RISK_SYSTEM, code }], text: code });

  // RiskAssessments: one per patient. Probabilities of different written precision, around the
  // edges of each other's precision ranges (0.25 vs 0.245/0.255, 0.3, 0.125 ...).
  const probabilities = [0.25, 0.3, 0.125, 0.07, 0.5, 0.333, 0.02, 0.9, 0.255, 0.245, 0.75, 1];
  patients.forEach((patient, i) => {
    const own = encounters.filter((e) => e.subject?.reference === refOf(patient));
    const encounter = rng.pick(own);
    const condition = conditions.filter((c) => c.subject?.reference === refOf(patient))[0];
    const syntheaId = patient.identifier?.find((x) => x.system === SYNTHEA_ID)?.value;
    // Three subjects are logical only (identifier, no reference); four carry both.
    const subject =
      i % 4 === 3 ? { identifier: { system: SYNTHEA_ID, value: syntheaId } } : i % 3 === 0 ? { reference: refOf(patient), identifier: { system: SYNTHEA_ID, value: syntheaId } } : { reference: refOf(patient) };
    const risk: RiskAssessment = {
      resourceType: 'RiskAssessment',
      id: `sup-risk-${String(i + 1).padStart(2, '0')}`,
      meta: {
        ...(i % 2 === 0 ? { profile: [RISK_PROFILE] } : {}),
        tag: [ORACLE_TAG],
        ...(i % 5 === 0 ? { security: [RESTRICTED] } : {}),
      },
      status: 'final',
      subject,
      encounter: { reference: refOf(encounter) },
      occurrenceDateTime: encounter.period!.start,
      ...(condition ? { condition: { reference: refOf(condition) } } : {}),
      ...(encounter.participant?.[0]?.individual ? { performer: { reference: encounter.participant[0].individual.reference } } : {}),
      code: { coding: [{ system: SNOMED, code: '225338004', display: 'Risk assessment' }], text: 'Risk assessment' },
      // One without prediction (for :missing), one with two predictions (several values).
      ...(i === 7
        ? {}
        : {
            prediction: [
              { outcome: { text: 'Hospital admission' }, probabilityDecimal: probabilities[i % probabilities.length], qualitativeRisk: level(levelCodes[i % levelCodes.length]) },
              ...(i === 4 ? [{ outcome: { text: 'Death' }, probabilityDecimal: 0.015, qualitativeRisk: level('moderate') }] : []),
            ],
          }),
    };
    out.push(risk);
  });

  // Value sets for :in / :not-in, and urls nested under one another for uri :above / :below.
  const observations = store.ofType('Observation') as Observation[];
  const loinc = frequentCodes(observations, (o) => o.code?.coding, LOINC);
  const cvx = frequentCodes(store.ofType('Immunization'), (r) => r.vaccineCode?.coding, CVX);
  const conditionCodes = frequentCodes(conditions, (c) => c.code?.coding, SNOMED);
  const vs = (id: string, url: string, compose?: ValueSet['compose']): ValueSet => ({ resourceType: 'ValueSet', id, url, status: 'active', name: id.replace(/-/g, '_'), ...(compose ? { compose } : {}) });
  out.push(
    vs('sup-vs-vitals', `${VS_BASE}/oracle-vitals`, { include: [{ system: LOINC, concept: rng.sample(loinc.slice(0, 12), 4).map((code) => ({ code })) }] }),
    vs('sup-vs-mixed', `${VS_BASE}/oracle-mixed`, {
      include: [
        { system: CVX, concept: rng.sample(cvx, 3).map((code) => ({ code })) },
        { system: SNOMED, concept: rng.sample(conditionCodes, 3).map((code) => ({ code })) },
      ],
    }),
    vs('sup-vs-snomed', `${VS_BASE}/oracle-snomed-all`, { include: [{ system: SNOMED }] }),
    vs('sup-vs-labs', `${VS_BASE}/oracle-labs-excl`, { include: [{ system: LOINC, concept: loinc.slice(0, 6).map((code) => ({ code })) }], exclude: [{ system: LOINC, concept: [{ code: loinc[1] }] }] }),
    vs('sup-vs-parent', VS_BASE),
    vs('sup-vs-other', 'http://suhe.test/other/ValueSet/oracle-elsewhere'),
  );

  // Observations with what Synthea lacks.
  const subjectOf = (n: number) => ({ reference: refOf(patients[n % patients.length]) });
  const note = (id: string, n: number, text: string): Observation => ({
    resourceType: 'Observation',
    id,
    meta: { tag: [ORACLE_TAG] },
    status: 'final',
    code: { coding: [{ system: NOTE_SYSTEM, code: 'note', display: 'Free-text note' }], text: 'Free-text note' },
    subject: subjectOf(n),
    effectiveDateTime: '2018-05-02T14:00:00+02:00',
    valueString: text,
  });
  out.push(
    note('sup-obs-note-1', 1, 'Patient reports feeling well after the São Paulo trip, no complaints'),
    note('sup-obs-note-2', 2, 'Occasional headaches | resolved'),
    {
      resourceType: 'Observation',
      id: 'sup-obs-bp-unit',
      meta: { tag: [ORACLE_TAG] },
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] },
      subject: subjectOf(3),
      effectiveDateTime: '2019-07-01T08:15:00Z',
      // The unit text differs from the UCUM code: `||mmHg` matches it, `|UCUM|mmHg` does not.
      valueQuantity: { value: 120.5, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' },
    },
    {
      resourceType: 'Observation',
      id: 'sup-obs-hr-unit',
      meta: { tag: [ORACLE_TAG] },
      status: 'final',
      code: { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }] },
      subject: subjectOf(4),
      effectiveDateTime: '2019-07-01T08:16:00Z',
      valueQuantity: { value: 72, unit: 'beats/min', system: UCUM, code: '/min' },
    },
    {
      resourceType: 'Observation',
      id: 'sup-obs-date-1',
      meta: { tag: [ORACLE_TAG] },
      status: 'final',
      code: { coding: [{ system: NOTE_SYSTEM, code: 'last-visit', display: 'Date of last visit abroad' }] },
      subject: subjectOf(5),
      effectiveDateTime: '2020-01-10T10:00:00Z',
      valueDateTime: '2016-03-14T09:30:00+01:00',
    },
    {
      resourceType: 'Observation',
      id: 'sup-obs-date-2',
      meta: { tag: [ORACLE_TAG] },
      status: 'final',
      code: { coding: [{ system: NOTE_SYSTEM, code: 'last-visit', display: 'Date of last visit abroad' }] },
      subject: subjectOf(6),
      effectiveDateTime: '2020-01-11T10:00:00Z',
      valueDateTime: '2019-11',
    },
    {
      resourceType: 'Observation',
      id: 'sup-obs-position',
      meta: { tag: [ORACLE_TAG] },
      status: 'final',
      code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }] },
      subject: subjectOf(7),
      effectiveDateTime: '2019-07-02T08:15:00Z',
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: { value: 118, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } },
        { code: { coding: [{ system: SNOMED, code: '246153002', display: 'Position' }] }, valueCodeableConcept: { coding: [{ system: SNOMED, code: '33586001', display: 'Sitting position' }] } },
      ],
    },
  );
  return out;
}
