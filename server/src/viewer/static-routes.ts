// Serves the built viewer (viewer/dist, made by scripts/build-viewer.ts) at /viewer/. Asset names
// carry a content hash, so they are cached for a year as immutable; index.html names the current
// assets and is revalidated on every load (no-cache), so a new build reaches browsers at once.
// The viewer holds no patient data of its own: everything it shows comes from DICOMweb with the
// user's bearer token.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type RequestHandler } from 'express';
import { CSP_DIRECTIVES, serializeCsp } from '../http/security-headers.js';

export const DEFAULT_VIEWER_DIST = resolve(new URL('../../../viewer/dist', import.meta.url).pathname);

/**
 * The site policy, plus what the viewer needs: thumbnails fetched with a token are shown from
 * blob: URLs, and its decoder runs in a same-origin worker. Still no inline script or style.
 */
export const VIEWER_CSP = serializeCsp({
  ...CSP_DIRECTIVES,
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self' blob: data:",
  'worker-src': "'self'",
  'connect-src': "'self'",
});

/**
 * VIEWER_CSP for one request: connect-src also names the hub's own ws:/wss: origin, for the
 * internet hospital's live visit channel (/hospital/visits/live) — older browsers do not count a
 * WebSocket to the page's host as 'self'. A Host header that is not a plain host[:port] adds nothing.
 */
export function viewerCsp(host: string | undefined): string {
  if (!host || !/^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/.test(host)) return VIEWER_CSP;
  return serializeCsp({ ...CSP_DIRECTIVES, 'script-src': "'self'", 'style-src': "'self'", 'img-src': "'self' blob: data:", 'worker-src': "'self'", 'connect-src': `'self' ws://${host} wss://${host}` });
}

const YEAR_SECONDS = 365 * 24 * 3600;

export function viewerStaticRoutes(distDir = DEFAULT_VIEWER_DIST): RequestHandler {
  const assets = express.static(join(distDir, 'assets'), {
    index: false,
    redirect: false,
    fallthrough: true,
    cacheControl: false,
    setHeaders: (res) => res.setHeader('Cache-Control', `public, max-age=${YEAR_SECONDS}, immutable`),
  });
  const indexFile = join(distDir, 'index.html');
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const path = req.path;
    if (path === '/viewer') {
      // The relative asset URLs in index.html need the trailing slash.
      const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
      return res.redirect(301, `/viewer/${query}`);
    }
    if (!path.startsWith('/viewer/')) return next();
    if (path === '/viewer/' || path === '/viewer/index.html') {
      // Checked per request, so building the viewer after the hub started needs no restart.
      if (!existsSync(indexFile)) {
        res.status(503).type('text/plain').send('The viewer has not been built. Run `npm run build:viewer` (npm start does it for you).\n');
        return;
      }
      res.setHeader('Content-Security-Policy', viewerCsp(req.headers.host));
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(indexFile, { etag: true, lastModified: true, cacheControl: false });
      return;
    }
    if (path.startsWith('/viewer/assets/')) {
      const original = req.url;
      req.url = req.url.slice('/viewer/assets'.length);
      return assets(req, res, (err?: unknown) => {
        req.url = original;
        next(err);
      });
    }
    next();
  };
}
