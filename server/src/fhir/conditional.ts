// Conditional interactions (If-None-Exist, conditional update/delete, conditional references):
// each turns a search query into "which existing resources match".
import type { Resource } from '@medplum/fhirtypes';
import { Invalid, PreconditionFailed } from './errors.js';
import type { FhirRepository } from './repository.js';
import type { SearchRequest } from './search/model.js';
import { parseSearchRequest } from './search/parse.js';

/** Narrows a match search to what the caller may see (access control); absent = everything. */
export type Restrict = (request: SearchRequest) => Promise<void>;

/** Up to `limit` resources of `type` matching `query` (a query string, with or without `?`). */
export async function findMatches(repo: FhirRepository, type: string, query: string, restrict?: Restrict, limit = 2): Promise<Resource[]> {
  const entries = [...new URLSearchParams(query.replace(/^\?/, '')).entries()];
  if (entries.length === 0) throw new Invalid(`A conditional ${type} operation needs search criteria`);
  const request = parseSearchRequest(type, entries, repo.registry, { defaultCount: limit, maxCount: limit, defaultTotal: 'none' });
  await restrict?.(request);
  return (await repo.search(request)).resources;
}

/** The single match, none, or 412 when the criteria are not selective enough. */
export async function findSingleMatch(repo: FhirRepository, type: string, query: string, restrict?: Restrict): Promise<Resource | undefined> {
  const matches = await findMatches(repo, type, query, restrict);
  if (matches.length > 1) throw new PreconditionFailed(`${type}?${query.replace(/^\?/, '')} matches more than one resource`);
  return matches[0];
}

/**
 * Creates unless a resource matches `condition` (If-None-Exist). Serialised per condition with a
 * transaction-scoped advisory lock, so two concurrent identical requests create one resource.
 */
export async function conditionalCreate<T extends Resource>(
  repo: FhirRepository,
  resource: T,
  condition: string,
  restrict?: Restrict,
): Promise<{ resource: T; created: boolean }> {
  return repo.transaction(async (tx) => {
    await tx.lock(`${resource.resourceType}?${condition}`);
    const existing = await findSingleMatch(tx, resource.resourceType, condition, restrict);
    if (existing) return { resource: existing as T, created: false };
    return { resource: await tx.create(resource), created: true };
  });
}

/** Splits `Patient?identifier=x` into type and query; undefined for a plain reference. */
export function parseConditionalUrl(url: string): { type: string; query: string } | undefined {
  const m = /^([A-Z][A-Za-z]+)\?(.*)$/.exec(url);
  return m ? { type: m[1], query: m[2] } : undefined;
}
