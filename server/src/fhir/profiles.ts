// Loads the project's conformance resources from fhir-profiles/ at start: StructureDefinitions
// (validated against when a resource claims them in meta.profile) and SearchParameters.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

export interface ProjectProfiles {
  structureDefinitions: StructureDefinition[];
  searchParameters: SearchParameter[];
}

export function loadProjectProfiles(dir: string): ProjectProfiles {
  const result: ProjectProfiles = { structureDefinitions: [], searchParameters: [] };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    let resource: Resource;
    try {
      resource = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Resource;
    } catch (err) {
      throw new Error(`fhir-profiles/${file} is not valid JSON: ${(err as Error).message}`);
    }
    if (resource.resourceType === 'StructureDefinition') result.structureDefinitions.push(resource);
    else if (resource.resourceType === 'SearchParameter') result.searchParameters.push(resource);
  }
  return result;
}
