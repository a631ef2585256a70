// Serving the built viewer: /viewer → /viewer/, index.html revalidated on every load with the
// viewer's Content-Security-Policy, hashed assets cached for a year, nothing served from outside
// the build, and a plain 503 before the viewer has been built.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { securityHeaders } from '../../server/src/http/security-headers.js';
import { viewerStaticRoutes } from '../../server/src/viewer/static-routes.js';

describe('viewer static routes', () => {
  let dist: string;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), 'suhe-viewer-dist-'));
    const app = express();
    app.use(securityHeaders());
    app.use(viewerStaticRoutes(join(dist, 'dist')));
    app.use((_req, res) => void res.status(404).send('not found'));
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dist, { recursive: true, force: true });
  });

  it('answers 503 with what to do before the viewer is built', async () => {
    const res = await fetch(`${url}/viewer/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/npm run build:viewer/);
  });

  it('serves a build: index.html revalidated, with the viewer CSP; hashed assets immutable', async () => {
    await mkdir(join(dist, 'dist', 'assets'), { recursive: true });
    await writeFile(join(dist, 'dist', 'index.html'), '<!DOCTYPE html><title>viewer</title>');
    await writeFile(join(dist, 'dist', 'assets', 'main-ABCD1234.js'), 'console.log(1)');

    const redirect = await fetch(`${url}/viewer?x=1`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/viewer/?x=1');

    // The OAuth redirect comes back to /viewer/?code=…&state=…: the same page.
    const index = await fetch(`${url}/viewer/?code=abc&state=def`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("img-src 'self' blob: data:");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    // The internet hospital's live visit channel: the hub's own ws: origin, nothing else.
    const host = new URL(url).host;
    expect(csp).toContain(`connect-src 'self' ws://${host} wss://${host}`);
    expect(index.headers.get('x-frame-options')).toBe('DENY');

    const asset = await fetch(`${url}/viewer/assets/main-ABCD1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it.each([
    ['an unknown asset', '/viewer/assets/nothing-here.js'],
    ['a path outside the assets', '/viewer/build-info.json'],
    ['a path escaping the build', '/viewer/assets/..%2f..%2f..%2fetc%2fpasswd'],
    ['another path that starts alike', '/viewerx/'],
  ])('does not serve %s', async (_name, path) => {
    const res = await fetch(`${url}${path}`);
    expect(res.status).not.toBe(200);
  });
});
