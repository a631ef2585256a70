// Builds searchset and history Bundles with self/first/next links that carry the keyset cursor.
import type { Bundle, BundleEntry, BundleLink, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { subset } from './subset.js';
import type { HistoryResult, SearchResult } from '../repository.js';
import type { SearchRequest } from './model.js';

export function searchsetBundle(base: string, path: string, request: SearchRequest, result: SearchResult): Bundle {
  const kept = request.query.filter(([name]) => !request.ignored.includes(name));
  const link: BundleLink[] = [
    { relation: 'self', url: linkUrl(base, path, kept, request.cursor) },
    { relation: 'first', url: linkUrl(base, path, kept) },
  ];
  if (result.nextCursor) link.push({ relation: 'next', url: linkUrl(base, path, kept, result.nextCursor) });
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset' };
  if (result.total !== undefined) bundle.total = result.total;
  bundle.link = link;
  const cut = (resource: Resource) => subset(resource, request.summary, request.elements);
  const entry: BundleEntry[] = [
    ...result.resources.map((resource) => ({ fullUrl: fullUrl(base, resource), resource: cut(resource), search: { mode: 'match' as const } })),
    ...(result.included ?? []).map((resource) => ({ fullUrl: fullUrl(base, resource), resource: cut(resource), search: { mode: 'include' as const } })),
  ];
  const notes = searchNotes(request, result);
  if (notes.length) entry.push({ resource: { resourceType: 'OperationOutcome', issue: notes }, search: { mode: 'outcome' } });
  // FHIR JSON has no empty arrays: an empty page has no `entry` at all.
  if (entry.length) bundle.entry = entry;
  return bundle;
}

/** What the client should know about how the search was answered (lenient handling, include bound). */
function searchNotes(request: SearchRequest, result: SearchResult): OperationOutcomeIssue[] {
  const notes: OperationOutcomeIssue[] = [];
  if (request.ignored.length) {
    notes.push({
      severity: 'warning',
      code: 'not-supported',
      diagnostics: `Ignored under Prefer: handling=lenient (unknown or unsupported): ${request.ignored.join(', ')}. The self link lists the parameters that were applied.`,
      expression: request.ignored,
    });
  }
  if (result.includesTruncated) {
    notes.push({
      severity: 'warning',
      code: 'too-costly',
      diagnostics: 'The _include/_revinclude bound of this server was reached: some included resources are missing. Use a smaller _count or a narrower search.',
    });
  }
  return notes;
}

export function historyBundle(base: string, path: string, query: [string, string][], result: HistoryResult, cursor?: string): Bundle {
  const kept = query.filter(([name]) => name !== '_cursor');
  const link: BundleLink[] = [
    { relation: 'self', url: linkUrl(base, path, kept, cursor) },
    { relation: 'first', url: linkUrl(base, path, kept) },
  ];
  if (result.nextCursor) link.push({ relation: 'next', url: linkUrl(base, path, kept, result.nextCursor) });
  const entry: BundleEntry[] = result.entries.map(({ resource, method, deleted }) => {
    const url = `${resource.resourceType}/${resource.id}`;
    const version = resource.meta?.versionId;
    return {
      fullUrl: fullUrl(base, resource),
      ...(deleted ? {} : { resource }),
      request: { method: deleted ? 'DELETE' : method === 'POST' ? 'POST' : method === 'PATCH' ? 'PATCH' : 'PUT', url: method === 'POST' ? resource.resourceType : url },
      response: {
        status: deleted ? '204 No Content' : method === 'POST' ? '201 Created' : '200 OK',
        etag: `W/"${version}"`,
        lastModified: resource.meta?.lastUpdated,
      },
    };
  });
  return { resourceType: 'Bundle', type: 'history', total: result.total, link, ...(entry.length ? { entry } : {}) };
}

export function fullUrl(base: string, resource: Resource): string {
  return `${base}/${resource.resourceType}/${resource.id}`;
}

function linkUrl(base: string, path: string, query: [string, string][], cursor?: string): string {
  const params = new URLSearchParams(query);
  if (cursor) params.set('_cursor', cursor);
  const qs = params.toString();
  return `${base}${path ? '/' + path : ''}${qs ? '?' + qs : ''}`;
}
