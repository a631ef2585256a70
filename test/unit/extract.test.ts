// Index extraction: what each search parameter writes to the typed index tables.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadR4Definitions } from '../../server/src/fhir/definitions.js';
import { extractIndexRows, parseReference } from '../../server/src/fhir/index/extract.js';
import { normalizeString } from '../../server/src/fhir/index/normalize.js';
import { SearchParameterRegistry } from '../../server/src/fhir/search/parameters.js';

let registry: SearchParameterRegistry;
beforeAll(() => {
  const defs = loadR4Definitions();
  registry = new SearchParameterRegistry(defs.resourceTypes, defs.searchParameters);
});

describe('extractIndexRows', () => {
  it('indexes a Patient: names by part, identifiers with system, dates as ranges, references', () => {
    const rows = extractIndexRows(
      {
        resourceType: 'Patient',
        id: 'p1',
        name: [{ text: '王芳', family: '王', given: ['芳'] }],
        identifier: [{ system: 'urn:oid:2.16.840.1.113883.2.23.1.19.1', value: '11010519491231002X' }],
        birthDate: '1949-12',
        gender: 'female',
        generalPractitioner: [{ reference: 'Practitioner/dr-1' }],
        meta: { profile: ['http://suhe.example.cn/fhir/StructureDefinition/cn-patient'] },
      },
      registry,
    );
    expect(rows.string.filter(([p]) => p === 'name').map(([, v]) => v).sort()).toEqual(['王', '王芳', '芳'].sort());
    // A Patient is no other patient's resource: its token rows carry no patient.
    expect(rows.token).toContainEqual(['identifier', 'urn:oid:2.16.840.1.113883.2.23.1.19.1', '11010519491231002X', null, null]);
    expect(rows.token).toContainEqual(['gender', null, 'female', null, null]);
    expect(rows.date).toContainEqual(['birthdate', '1949-12-01T00:00:00.000Z', '1949-12-31T23:59:59.999Z']);
    expect(rows.reference).toContainEqual(['general-practitioner', 'Practitioner', 'dr-1', 'Practitioner/dr-1']);
    expect(rows.uri).toContainEqual(['_profile', 'http://suhe.example.cn/fhir/StructureDefinition/cn-patient']);
  });

  it('indexes an Observation: CodeableConcept codings with display, Quantity, Period, subject', () => {
    const rows = extractIndexRows(
      {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '14771-0', display: 'Fasting glucose' }], text: '空腹血糖' },
        subject: { reference: 'Patient/p1' },
        effectivePeriod: { start: '2024-01-01', end: '2024-01-02' },
        valueQuantity: { value: 5.4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
      },
      registry,
    );
    // Displays are stored normalised (case and accents folded) for :text; token rows carry the patient.
    expect(rows.token).toContainEqual(['code', 'http://loinc.org', '14771-0', 'fasting glucose', 'p1']);
    expect(rows.token).toContainEqual(['code', null, null, '空腹血糖', 'p1']);
    expect(rows.quantity).toContainEqual(['value-quantity', 'http://unitsofmeasure.org', 'mmol/L', 'mmol/L', '5.4']);
    expect(rows.date).toContainEqual(['date', '2024-01-01T00:00:00.000Z', '2024-01-02T23:59:59.999Z']);
    expect(rows.reference).toContainEqual(['subject', 'Patient', 'p1', 'Patient/p1']);
    expect(rows.reference).toContainEqual(['patient', 'Patient', 'p1', 'Patient/p1']);
  });

  it("keys token rows by the resource's patient: the patient parameter's, else the subject's; once per patient", () => {
    const tokens = (resource: Record<string, unknown>) =>
      extractIndexRows(resource as never, registry).token.filter(([param]) => param === 'status').map(([, , code, , patient]) => [code, patient]);
    // Encounter: patient is subject.where(resolve() is Patient); a Group subject is no patient.
    expect(tokens({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } })).toEqual([['finished', 'p1']]);
    expect(tokens({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Group/g1' } })).toEqual([['finished', null]]);
    // An Appointment of two patients has its token rows once for each.
    const appointment = {
      resourceType: 'Appointment',
      status: 'booked',
      participant: [
        { actor: { reference: 'Patient/p1' }, status: 'accepted' },
        { actor: { reference: 'Patient/p2' }, status: 'accepted' },
        { actor: { reference: 'Practitioner/dr-1' }, status: 'accepted' },
      ],
    };
    expect(tokens(appointment)).toEqual([['booked', 'p1'], ['booked', 'p2']]);
    // A type without a patient parameter takes its subject's Patient.
    expect(extractIndexRows({ resourceType: 'AdverseEvent', actuality: 'actual', subject: { reference: 'Patient/p3' } } as never, registry).token
      .filter(([param]) => param === 'actuality').map(([, , , , patient]) => patient)).toEqual(['p3']);
  });

  it('writes one row per distinct value', () => {
    const rows = extractIndexRows({ resourceType: 'Patient', name: [{ family: 'Li' }, { family: 'Li' }] }, registry);
    expect(rows.string.filter(([p]) => p === 'family')).toHaveLength(1);
  });
});

describe('helpers', () => {
  it('normalises case, accents and spaces; leaves Chinese alone', () => {
    expect(normalizeString('  Chén  JÌNG ')).toBe('chen jing');
    expect(normalizeString('苏河区')).toBe('苏河区');
  });
  it('parses relative and absolute references', () => {
    expect(parseReference('Patient/1')).toEqual({ type: 'Patient', id: '1' });
    expect(parseReference('http://hub/fhir/Patient/1/_history/3')).toEqual({ type: 'Patient', id: '1' });
    expect(parseReference('urn:uuid:1234')).toBeUndefined();
  });
});
