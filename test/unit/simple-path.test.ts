// Plain-path search parameters are indexed by direct JSON walks (index/simple-path.ts) instead of
// FHIRPath. The index rows must be exactly those FHIRPath gives: compared here over every R4
// example resource and all the Synthea data, for every search parameter of each type.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { loadR4Definitions } from '../../server/src/fhir/definitions.js';
import { PatientCompartment } from '../../server/src/fhir/access/compartment.js';
import { extractIndexRows } from '../../server/src/fhir/index/extract.js';
import { SearchParameterRegistry } from '../../server/src/fhir/search/parameters.js';
import { everyEntryIsItsOwnExample, R4_EXAMPLES_DIR as EXAMPLES_DIR } from '../helpers/r4-examples.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SYNTHEA_DIR = resolve(ROOT, '../shared/testdata/fhir/synthea');

let fast: SearchParameterRegistry;
let fhirpath: SearchParameterRegistry;

beforeAll(() => {
  const definitions = loadR4Definitions();
  fast = new SearchParameterRegistry(definitions.resourceTypes, definitions.searchParameters);
  fhirpath = new SearchParameterRegistry(definitions.resourceTypes, definitions.searchParameters, false);
});

function* resources(): Generator<[string, Resource]> {
  for (const file of readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json') && f !== 'package.json')) {
    const resource = JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as Resource;
    if (!resource.resourceType) continue;
    yield [file, resource];
    // A definition pack's entries are each met as their own file.
    if (resource.resourceType === 'Bundle' && !everyEntryIsItsOwnExample(resource)) for (const e of (resource as Bundle).entry ?? []) if (e.resource) yield [`${file} entry`, e.resource];
  }
  for (const folder of readdirSync(SYNTHEA_DIR)) {
    for (const file of readdirSync(join(SYNTHEA_DIR, folder)).filter((f) => f.endsWith('.json'))) {
      for (const e of (JSON.parse(readFileSync(join(SYNTHEA_DIR, folder, file), 'utf8')) as Bundle).entry ?? []) if (e.resource) yield [file, e.resource];
    }
  }
}

describe('direct path walks for search parameters', () => {
  it('cover most parameters', () => {
    const all = fast.resourceTypes.flatMap((t) => fast.indexedForType(t));
    const walked = all.filter((p) => p.walk).length;
    expect(walked / all.length).toBeGreaterThan(0.6);
    expect(fast.get('AuditEvent', 'patient')?.walk).toBeDefined(); // union with where(resolve() is Patient)
    expect(fast.get('Observation', 'value-quantity')?.walk).toBeUndefined(); // a choice element: FHIRPath
  });

  it('give the same index rows as FHIRPath on every R4 example and every Synthea resource', () => {
    let checked = 0;
    const differences: string[] = [];
    for (const [file, resource] of resources()) {
      const a = extractIndexRows(resource, fast);
      const b = extractIndexRows(resource, fhirpath);
      if (JSON.stringify(a) !== JSON.stringify(b)) differences.push(`${file} ${resource.resourceType}/${resource.id}: ${diff(a, b)}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(10_000);
    expect(differences.slice(0, 10)).toEqual([]);
  });

  it("find the same patients for a resource's compartment (its audit record) as FHIRPath", () => {
    const walked = new PatientCompartment(fast);
    const evaluated = new PatientCompartment(fhirpath);
    let inCompartments = 0;
    const differences: string[] = [];
    for (const [file, resource] of resources()) {
      const a = walked.patientsOf(resource).sort();
      const b = evaluated.patientsOf(resource).sort();
      if (a.length) inCompartments++;
      if (a.join() !== b.join()) differences.push(`${file} ${resource.resourceType}/${resource.id}: walk ${a.join()} vs FHIRPath ${b.join()}`);
    }
    // Synthea's references are urn:uuid (bundle-internal), so the patients come from the R4 examples.
    expect(inCompartments).toBeGreaterThan(500);
    expect(differences.slice(0, 10)).toEqual([]);
  });
});

function diff(a: object, b: object): string {
  for (const key of Object.keys(a) as (keyof typeof a)[]) {
    const x = JSON.stringify(a[key]);
    const y = JSON.stringify(b[key]);
    if (x !== y) return `${String(key)}: walk ${x.slice(0, 300)} vs FHIRPath ${y.slice(0, 300)}`;
  }
  return '';
}
