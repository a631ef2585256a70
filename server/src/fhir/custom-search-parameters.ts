// SearchParameters defined at runtime (created through the API, or shipped in fhir-profiles/):
// checked before they are stored, added to the registry as soon as they are written (new writes
// index them at once), loaded again at start. Existing resources get their rows from $reindex.
import { parseFhirPath } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { Invalid } from './errors.js';
import type { FhirRepository } from './repository.js';
import type { SearchParameterRegistry } from './search/parameters.js';

const SEARCHABLE_TYPES = new Set(['number', 'date', 'string', 'token', 'reference', 'quantity', 'uri']);

/** Throws Invalid (saying what to fix) unless the registry can index and search with `sp`. */
export function checkSearchParameter(sp: SearchParameter, registry: SearchParameterRegistry): void {
  const where = (field: string) => [`SearchParameter.${field}`];
  if (sp.status === 'retired') return;
  if (!sp.code || !/^[a-z][a-z0-9-]*$/.test(sp.code)) throw new Invalid('SearchParameter.code must be lower-case letters, digits and hyphens', where('code'));
  if (!SEARCHABLE_TYPES.has(sp.type)) throw new Invalid(`SearchParameter.type '${sp.type}' cannot be defined at runtime (use ${[...SEARCHABLE_TYPES].join(', ')})`, where('type'));
  if (!sp.expression) throw new Invalid('SearchParameter.expression is required: the FHIRPath the hub indexes', where('expression'));
  try {
    parseFhirPath(sp.expression);
  } catch (err) {
    throw new Invalid(`SearchParameter.expression is not valid FHIRPath: ${(err as Error).message}`, where('expression'));
  }
  for (const base of sp.base ?? []) {
    if (!registry.isResourceType(base)) throw new Invalid(`SearchParameter.base: unknown resource type '${base}'`, where('base'));
    const existing = registry.get(base, sp.code);
    if (existing && existing.url !== sp.url) {
      throw new Invalid(`${base} already has a search parameter '${sp.code}' (${existing.url ?? 'built in'}); choose another code`, where('code'));
    }
  }
}

/** Makes a stored (or about to be stored) SearchParameter usable for indexing and search. */
export function registerSearchParameter(sp: SearchParameter, registry: SearchParameterRegistry): void {
  if (sp.status === 'retired') return;
  checkSearchParameter(sp, registry);
  registry.add(sp);
}

/** At start: every stored active SearchParameter. */
export async function loadStoredSearchParameters(repo: FhirRepository): Promise<number> {
  let loaded = 0;
  for (const sp of await repo.allOfType<SearchParameter>('SearchParameter')) {
    try {
      registerSearchParameter(sp, repo.registry);
      loaded++;
    } catch {
      // A definition that no longer fits (e.g. its code became built in) is skipped, not fatal.
    }
  }
  return loaded;
}
