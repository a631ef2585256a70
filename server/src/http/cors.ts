// CORS with a strict allow-list: browser apps (SMART launches, the imaging viewer) on listed origins
// may read responses; everything else gets no CORS headers at all. Credentials are never allowed:
// the API authenticates with bearer tokens, not cookies.
import type { RequestHandler } from 'express';

export const CORS_ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
export const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, If-Match, If-None-Exist, If-None-Match, Prefer, X-Request-Id';
export const CORS_EXPOSE_HEADERS = 'Location, ETag, Last-Modified, Content-Location';
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * The ASCII serialisation browsers send in Origin (lower-case scheme and host, no default port,
 * no trailing slash), or undefined for anything that is not an http(s) origin ('null', paths, '*').
 */
export function normalizeOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.search || url.hash || url.pathname !== '/') return undefined;
  return url.origin;
}

export function corsAllowList(origins: string[]): RequestHandler {
  const allowed = new Set<string>();
  for (const origin of origins) {
    // A wildcard (or 'null', which sandboxed iframes and file: pages share) would let any page read
    // patient data with a stolen token; refuse the configuration instead of degrading silently.
    if (origin.trim() === '*') throw new Error("CORS allow-list may not contain '*'; list each origin");
    const normal = normalizeOrigin(origin);
    if (!normal) throw new Error(`CORS allow-list entry '${origin}' is not an http(s) origin like https://app.example.org`);
    allowed.add(normal);
  }

  return (req, res, next) => {
    // The answer differs by Origin even when it carries no CORS headers, so shared caches must key on it.
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    const normal = normalizeOrigin(origin);
    if (!normal || !allowed.has(normal)) {
      if (!preflight) return next(); // the browser withholds the response; the route still runs as usual
      const diagnostics = `Origin ${origin.slice(0, 200)} is not allowed to call this server from a browser`;
      res
        .status(403)
        .type('application/fhir+json; charset=utf-8')
        .send(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden', diagnostics }] }));
      return;
    }
    // Browsers send the serialised origin, so this equals what they sent; it never reflects raw input.
    res.setHeader('Access-Control-Allow-Origin', normal);
    if (!preflight) {
      res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
      return next();
    }
    res.setHeader('Access-Control-Allow-Methods', CORS_ALLOW_METHODS);
    res.setHeader('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
    res.setHeader('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS));
    res.status(204).end();
  };
}
