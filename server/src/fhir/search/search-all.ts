// Every resource an in-process search matches, page by page (keyset paging, so nothing repeats or
// is skipped while others write). For modules and policies that need the whole answer: a panel's
// contracts, a pharmacy's open prescriptions, the Consents naming an actor.
import type { FhirRepository } from '../repository.js';
import { parseSearchRequest } from './parse.js';

const PAGE = 500;
const LIMITS = { defaultCount: PAGE, maxCount: PAGE, defaultTotal: 'none' as const };

export async function searchAll<T>(repo: FhirRepository, type: string, query: [string, string][]): Promise<T[]> {
  const found: T[] = [];
  let cursor: string | undefined;
  do {
    const request = parseSearchRequest(type, query, repo.registry, LIMITS);
    request.cursor = cursor;
    const page = await repo.search(request);
    found.push(...(page.resources as T[]));
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}
