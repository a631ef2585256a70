// The example resources the R4 specification publishes (npm package hl7.fhir.r4.examples), which
// unit tests use as a corpus of real-world shapes.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';

export const R4_EXAMPLES_DIR = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

/**
 * True for the specification's definition packs (Bundle-resources.json, 35 MB, Bundle-valuesets
 * and the like): Bundles whose every entry is also published as its own example file, where a
 * test already meets it. Going through a pack's entries again checks nothing new and took about a
 * third of the time of the tests that walk the whole corpus.
 */
export function everyEntryIsItsOwnExample(resource: Resource): boolean {
  if (resource.resourceType !== 'Bundle' || !resource.entry?.length) return false;
  return resource.entry.every((entry) => entry.resource && existsSync(join(R4_EXAMPLES_DIR, `${entry.resource.resourceType}-${entry.resource.id}.json`)));
}
