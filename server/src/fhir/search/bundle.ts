// Builds searchset and history Bundles with self/first/next links that carry the keyset cursor.
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
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
  // FHIR JSON has no empty arrays: an empty page has no `entry` at all.
  if (result.resources.length) bundle.entry = result.resources.map((resource) => ({ fullUrl: fullUrl(base, resource), resource, search: { mode: 'match' } }));
  return bundle;
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
