// Helmet-style response headers for every route, written out here rather than pulled in as a
// dependency: the set is small and a reviewer (MLPS assessment) can read all of it in one place.
import type { Request, RequestHandler } from 'express';

/** The policy directives; pages that need more (a style hash, a form target) extend a copy. */
export const CSP_DIRECTIVES: Readonly<Record<string, string>> = Object.freeze({
  'default-src': "'self'",
  'frame-ancestors': "'none'",
  'base-uri': "'none'",
  'form-action': "'self'",
  'object-src': "'none'",
});

export function serializeCsp(directives: Record<string, string>): string {
  return Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');
}

/** `default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'` */
export const CONTENT_SECURITY_POLICY = serializeCsp(CSP_DIRECTIVES);

/** One year; no includeSubDomains because this service does not own its parent domain's other hosts. */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

export interface SecurityHeaderOptions {
  /** Which responses get `Cache-Control: no-store`; default: paths under /oauth2 (codes, tokens, login). */
  noStore?: (req: Request) => boolean;
}

export function isOAuthPath(req: Request): boolean {
  // originalUrl, not path: the middleware may be mounted below the root.
  const path = (req.originalUrl ?? req.url).split('?')[0];
  return path === '/oauth2' || path.startsWith('/oauth2/');
}

export function securityHeaders(options: SecurityHeaderOptions = {}): RequestHandler {
  const noStore = options.noStore ?? isOAuthPath;
  return (req, res, next) => {
    // Express sets X-Powered-By before any middleware runs; app.disable('x-powered-by') works too.
    res.removeHeader('X-Powered-By');
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    // Browsers ignore HSTS over plain HTTP; sending it only on TLS (req.secure honours 'trust proxy')
    // keeps local HTTP development from pinning localhost.
    if (req.secure) res.setHeader('Strict-Transport-Security', STRICT_TRANSPORT_SECURITY);
    if (noStore(req)) {
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Pragma', 'no-cache'); // HTTP/1.0 caches, as RFC 6749 §5.1 asks for token responses
    }
    next();
  };
}
