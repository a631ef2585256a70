// The compiled base validator against the reference it replaced: @medplum/core's validator.
// Both run over every example resource the R4 specification publishes and the Synthea data; the
// verdicts (valid or not) must agree except where the specification sides with us, and those
// exceptions are listed by file so a new disagreement fails the test. Then hand-made broken
// resources check that each kind of fault is caught, at the right path.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { loadR4Definitions } from '../../server/src/fhir/definitions.js';
import { validateBase } from '../../server/src/fhir/validator/base-validator.js';
import { everyEntryIsItsOwnExample, R4_EXAMPLES_DIR as EXAMPLES_DIR } from '../helpers/r4-examples.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SYNTHEA_DIR = resolve(ROOT, '../shared/testdata/fhir/synthea');

// Where the verdicts differ, and why the specification is on our side.
const WE_ACCEPT_MEDPLUM_REJECTS: Record<string, string> = {
  // base64Binary may contain whitespace between quads (R4 datatypes: the regex allows \s).
  'Binary-example.json': 'base64 with line breaks',
  'DiagnosticReport-gingival-mass.json': 'base64 with line breaks',
  'Media-example.json': 'base64 with line breaks',
  // ras-2 evaluates to empty when a prediction has no probability: the invariant does not apply
  // (only a false result breaks an invariant).
  'RiskAssessment-breastcancer-risk.json': 'ras-2 empty, not false',
  'RiskAssessment-prognosis.json': 'ras-2 empty, not false',
};
// Empty, also since we check required bindings of `code` elements (@medplum/core 4.5 does not):
// every example and Synthea resource uses codes from its bound ValueSet.
const WE_REJECT_MEDPLUM_ACCEPTS: Record<string, string> = {};

beforeAll(() => {
  loadR4Definitions();
});

function medplumErrors(resource: Resource): string[] {
  try {
    return validateResource(resource)
      .filter((i) => i.severity === 'error')
      .map((i) => `${i.expression?.[0]}: ${i.details?.text}`);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return (err.outcome.issue ?? []).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.details?.text}`);
    }
    return [`threw: ${(err as Error).message}`];
  }
}

const ourErrors = (resource: unknown): string[] => validateBase(resource).map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

describe('agreement with @medplum/core over published data', () => {
  it('gives the same verdict on every R4 specification example, except the listed spec-backed cases', () => {
    const files = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json') && f !== 'package.json');
    expect(files.length).toBeGreaterThan(5000);
    const weAccept: string[] = [];
    const weReject: string[] = [];
    let invalidBoth = 0;
    let packsSkipped = 0;
    for (const file of files) {
      const resource = JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as Resource;
      if (!resource.resourceType) continue;
      if (everyEntryIsItsOwnExample(resource)) {
        packsSkipped++;
        continue;
      }
      const theirs = medplumErrors(resource).length > 0;
      const ours = ourErrors(resource).length > 0;
      if (theirs && !ours) weAccept.push(file);
      if (ours && !theirs) weReject.push(`${file}: ${ourErrors(resource).join('; ')}`);
      if (ours && theirs) invalidBoth++;
    }
    expect(weAccept.sort()).toEqual(Object.keys(WE_ACCEPT_MEDPLUM_REJECTS).sort());
    expect(weReject).toEqual(Object.keys(WE_REJECT_MEDPLUM_ACCEPTS));
    // The published examples include some that break their own rules (missing required
    // elements, failed invariants); both validators must find those.
    expect(invalidBoth).toBeGreaterThan(10);
    // Bundle-resources, -extensions, -valuesets and the like: about a third of the time.
    expect(packsSkipped).toBeGreaterThanOrEqual(8);
  });

  it('accepts every resource of the Synthea test data and agrees on the bundles', () => {
    let checked = 0;
    for (const folder of readdirSync(SYNTHEA_DIR)) {
      for (const file of readdirSync(join(SYNTHEA_DIR, folder)).filter((f) => f.endsWith('.json'))) {
        const bundle = JSON.parse(readFileSync(join(SYNTHEA_DIR, folder, file), 'utf8')) as Bundle;
        // A Bundle is validated with its entries, and an entry's errors name it
        // (Bundle.entry[3].resource...): a clean Bundle is every resource in it accepted.
        expect({ file, ours: ourErrors(bundle), medplum: medplumErrors(bundle) }).toEqual({ file, ours: [], medplum: [] });
        checked += bundle.entry?.length ?? 0;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});

describe('faults the base validator catches', () => {
  const observation = { resourceType: 'Observation', status: 'final', code: { text: 'Blood pressure' } };

  // [what, resource, path of the expected error, does @medplum/core reject it too?]
  const cases: [string, unknown, string, boolean][] = [
    ['unknown property', { resourceType: 'Patient', nickname: 'Xiao Li' }, 'Patient.nickname', true],
    ['unknown choice type', { ...observation, valueFoo: 1 }, 'Observation.valueFoo', true],
    ['missing required element', { resourceType: 'Observation', code: { text: 'x' } }, 'Observation.status', true],
    ['required element inside a backbone element', { resourceType: 'Patient', link: [{ type: 'seealso' }] }, 'Patient.link[0].other', true],
    ['single value given as an array', { resourceType: 'Patient', gender: ['male'] }, 'Patient.gender', true],
    ['array given as a single value', { resourceType: 'Patient', name: { family: '李' } }, 'Patient.name', true],
    ['boolean given as a string', { resourceType: 'Patient', active: 'true' }, 'Patient.active', true],
    ['number given as a string inside a datatype', { ...observation, valueQuantity: { value: '120' } }, 'Observation.valueQuantity.value', true],
    ['impossible month', { resourceType: 'Patient', birthDate: '1990-13-01' }, 'Patient.birthDate', true],
    ['null value', { resourceType: 'Patient', gender: null }, 'Patient.gender', true],
    ['empty object', { resourceType: 'Patient', name: [{}] }, 'Patient.name[0]', true],
    ['whitespace-only string', { resourceType: 'Patient', name: [{ given: [' '] }] }, 'Patient.name[0].given[0]', true],
    ['extension with neither value nor extensions (ext-1)', { resourceType: 'Patient', extension: [{ url: 'http://x' }] }, 'Patient.extension[0]', true],
    [
      'extension with both value and extensions (ext-1)',
      { resourceType: 'Patient', extension: [{ url: 'http://x', valueString: 'a', extension: [{ url: 'y', valueString: 'b' }] }] },
      'Patient.extension[0]',
      true,
    ],
    ['contained resource missing its required elements', { resourceType: 'Patient', contained: [{ resourceType: 'Observation', id: 'o1' }] }, 'Patient.contained[0].status', true],
    ['unknown resource type inside a Bundle', { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Nope' } }] }, 'Bundle.entry[0].resource.resourceType', true],
    ['unknown property in a primitive extension', { resourceType: 'Patient', _gender: { colour: 'red' } }, 'Patient._gender.colour', true],
    ['integer with a fraction', { resourceType: 'Patient', multipleBirthInteger: 1.5 }, 'Patient.multipleBirthInteger', true],
    // Stricter than @medplum/core 4.5, as the specification requires (R4 json.html):
    ['empty array', { resourceType: 'Patient', name: [] }, 'Patient.name', false],
    ['empty string', { resourceType: 'Patient', gender: '' }, 'Patient.gender', false],
    ['two values for one choice element', { resourceType: 'Patient', deceasedBoolean: true, deceasedDateTime: '2020' }, 'Patient.deceasedDateTime', false],
    ['element with only an id (ele-1)', { resourceType: 'Patient', name: [{ id: 'n1' }] }, 'Patient.name[0]', false],
    // @medplum/core checks a datatype's invariants only where the element definition repeats them:
    ['datatype invariant (Period start after end, per-1)', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, period: { start: '2024-02-01', end: '2024-01-01' } }, 'Encounter.period', false],
    ['local reference to a missing contained resource (ref-1)', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, performer: [{ reference: '#nobody' }] }, 'Observation.performer[0]', false],
    ['dateTime with a time but no time zone', { resourceType: 'Patient', deceasedDateTime: '2020-01-01T10:00:00' }, 'Patient.deceasedDateTime', false],
    ['code outside its required ValueSet (test/unit/required-bindings.test.ts has more)', { resourceType: 'Patient', gender: 'M' }, 'Patient.gender', false],
  ];

  it.each(cases)('%s', (_what, resource, path, medplumRejects) => {
    const issues = validateBase(resource);
    expect(issues.map((i) => i.expression?.[0])).toContain(path);
    for (const issue of issues) expect(issue.diagnostics).toEqual(expect.any(String));
    expect(medplumErrors(resource as Resource).length > 0).toBe(medplumRejects);
  });

  it('accepts primitive arrays whose values live partly in the matching _ array', () => {
    const patient = { resourceType: 'Patient', name: [{ given: ['Li', null], _given: [null, { extension: [{ url: 'http://x', valueString: 'y' }] }] }] };
    expect(ourErrors(patient)).toEqual([]);
  });

  it('resolves local references against the containing resource, also inside Bundle entries (ref-1)', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      contained: [{ resourceType: 'Practitioner', id: 'p1' }],
      performer: [{ reference: '#p1' }],
    };
    expect(ourErrors(observation)).toEqual([]);
    expect(ourErrors({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: observation }] })).toEqual([]);
  });

  it('says what is wrong with input that is not a resource at all', () => {
    expect(ourErrors([1, 2])).toEqual(['Resource: expected a resource (a JSON object), got an array']);
    expect(ourErrors({ id: 'x' })).toEqual(['Resource: the resource has no resourceType']);
    expect(ourErrors({ resourceType: 'HumanName' })).toEqual(['resourceType: "HumanName" is not an R4 resource type']);
  });
});
