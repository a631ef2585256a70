import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express, { type Express } from 'express';
import { CONTENT_SECURITY_POLICY, securityHeaders } from '../../server/src/http/security-headers.js';
import { corsAllowList, normalizeOrigin } from '../../server/src/http/cors.js';
import { RateLimiter, rateLimit } from '../../server/src/http/rate-limit.js';
import { PGlite } from '@electric-sql/pglite';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../server/src/audit/logger.js';
import { fhirErrorHandler } from '../../server/src/fhir/http/error-handler.js';

const servers: Server[] = [];

/** Serves app on an ephemeral loopback port; returns its base URL. */
async function serve(app: Express): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('securityHeaders', () => {
  let url: string;
  beforeAll(async () => {
    const app = express();
    app.use(securityHeaders());
    app.get('/fhir/metadata', (_req, res) => void res.json({ ok: true }));
    app.get('/oauth2/authorize', (_req, res) => void res.send('page'));
    const secure = express();
    secure.set('trust proxy', 'loopback'); // req.secure from X-Forwarded-Proto, as behind a TLS proxy
    secure.use(securityHeaders({ noStore: () => true }));
    secure.get('/', (_req, res) => void res.send('ok'));
    app.use('/behind-proxy', secure);
    url = await serve(app);
  });

  it('sets the headers on every response and drops X-Powered-By', async () => {
    for (const path of ['/fhir/metadata', '/does-not-exist']) {
      const res = await fetch(url + path);
      // Express's own 404 (finalhandler) replaces the policy with the stricter default-src 'none'.
      expect(res.headers.get('content-security-policy')).toBe(path === '/fhir/metadata' ? CONTENT_SECURITY_POLICY : "default-src 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('strict-transport-security')).toBeNull(); // plain HTTP
    }
    expect(CONTENT_SECURITY_POLICY).toBe("default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'");
  });

  it('forbids caching only under /oauth2 by default', async () => {
    expect((await fetch(`${url}/oauth2/authorize?client_id=x`)).headers.get('cache-control')).toBe('no-store');
    expect((await fetch(`${url}/fhir/metadata`)).headers.get('cache-control')).toBeNull();
  });

  it('sends HSTS only when the request is secure, and honours the noStore predicate', async () => {
    const res = await fetch(`${url}/behind-proxy/`, { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const plain = await fetch(`${url}/behind-proxy/`);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('corsAllowList', () => {
  const allowed = 'https://viewer.example.org';
  let url: string;
  beforeAll(async () => {
    const app = express();
    app.use(corsAllowList(['HTTPS://Viewer.Example.org/', 'http://localhost:5173']));
    app.all('/fhir/Patient', (_req, res) => void res.json({ resourceType: 'Bundle' }));
    url = await serve(app);
  });

  it('echoes a listed origin and exposes the FHIR headers', async () => {
    const res = await fetch(`${url}/fhir/Patient`, { headers: { Origin: allowed } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(res.headers.get('access-control-expose-headers')).toBe('Location, ETag, Last-Modified, Content-Location');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/Origin/);
    const local = await fetch(`${url}/fhir/Patient`, { headers: { Origin: 'http://localhost:5173' } });
    expect(local.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });

  it('gives other origins no CORS headers but still answers', async () => {
    for (const origin of ['https://evil.example', 'https://viewer.example.org.evil.example', 'null', 'http://viewer.example.org']) {
      const res = await fetch(`${url}/fhir/Patient`, { headers: { Origin: origin } });
      expect(res.status).toBe(200);
      const names: string[] = [];
      res.headers.forEach((_value, name) => names.push(name));
      expect(names.filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
    const none = await fetch(`${url}/fhir/Patient`);
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
    expect(none.headers.get('vary')).toMatch(/Origin/);
  });

  it('answers a preflight from a listed origin with 204', async () => {
    const res = await fetch(`${url}/fhir/Patient`, {
      method: 'OPTIONS',
      headers: { Origin: allowed, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'authorization, if-match' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, PATCH, DELETE, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'Authorization, Content-Type, If-Match, If-None-Exist, If-None-Match, Prefer, X-Request-Id',
    );
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('refuses a preflight from another origin with 403 and an OperationOutcome', async () => {
    const res = await fetch(`${url}/fhir/Patient`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'DELETE' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const body = (await res.json()) as { resourceType: string; issue: Array<{ code: string; diagnostics: string }> };
    expect(body.resourceType).toBe('OperationOutcome');
    expect(body.issue[0]).toMatchObject({ severity: 'error', code: 'forbidden' });
    expect(body.issue[0].diagnostics).toMatch(/Origin https:\/\/evil\.example is not allowed/);
  });

  it('rejects a wildcard or malformed allow-list at construction', () => {
    expect(() => corsAllowList(['*'])).toThrow(/'\*'/);
    expect(() => corsAllowList(['https://ok.example', ' * '])).toThrow();
    expect(() => corsAllowList(['null'])).toThrow(/not an http\(s\) origin/);
    expect(() => corsAllowList(['https://app.example/path'])).toThrow();
    expect(normalizeOrigin('HTTPS://App.Example:443/')).toBe('https://app.example');
    expect(normalizeOrigin('http://app.example:8080')).toBe('http://app.example:8080');
  });
});

describe('RateLimiter', () => {
  function clock() {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => void (t += ms) };
  }

  it('allows a burst of capacity, then refills at the set rate', () => {
    const c = clock();
    const limiter = new RateLimiter({ capacity: 3, refillPerSecond: 0.5, now: c.now });
    for (let i = 0; i < 3; i++) expect(limiter.take('ip')).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(limiter.take('ip')).toEqual({ allowed: false, retryAfterSeconds: 2 });
    expect(limiter.take('other')).toMatchObject({ allowed: true }); // buckets are per key
    c.advance(1000);
    expect(limiter.take('ip')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    c.advance(1000);
    expect(limiter.take('ip')).toMatchObject({ allowed: true });
    c.advance(60_000); // never beyond capacity
    for (let i = 0; i < 3; i++) expect(limiter.take('ip').allowed).toBe(true);
    expect(limiter.take('ip').allowed).toBe(false);
  });

  it('keeps at most maxKeys buckets, forgetting the least recently used', () => {
    const c = clock();
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 0.001, now: c.now, maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) limiter.take(k);
    expect(limiter.take('a').allowed).toBe(false); // 'a' is now the most recent
    limiter.take('d'); // evicts 'b'
    expect(limiter.size).toBe(3);
    for (let i = 0; i < 1000; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBe(3);
    const fresh = new RateLimiter({ capacity: 1, refillPerSecond: 0.001, now: c.now, maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) fresh.take(k);
    fresh.take('a');
    fresh.take('d');
    expect(fresh.take('b').allowed).toBe(true); // forgotten, so full again
    expect(fresh.take('a').allowed).toBe(false); // kept because recently used
  });

  it('validates its options', () => {
    expect(() => new RateLimiter({ capacity: 0, refillPerSecond: 1 })).toThrow(/capacity/);
    expect(() => new RateLimiter({ capacity: 1, refillPerSecond: 0 })).toThrow(/refill/);
    expect(() => new RateLimiter({ capacity: 1, refillPerSecond: 1, maxKeys: 0 })).toThrow(/maxKeys/);
  });
});

describe('rateLimit middleware', () => {
  const c = { t: 0 };
  const limiter = new RateLimiter({ capacity: 2, refillPerSecond: 0.1, now: () => c.t });
  const oauthLimiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, now: () => c.t });
  const limited: string[] = [];
  let url: string;
  beforeAll(async () => {
    const app = express();
    app.use('/fhir', rateLimit(limiter, (req) => req.get('x-client'), (req) => void limited.push(req.path)));
    app.use('/oauth2', rateLimit(oauthLimiter, () => 'all', { body: (s) => ({ error: 'slow_down', error_description: `retry in ${s}s` }) }));
    app.get('/fhir/Patient', (_req, res) => void res.json({ ok: true }));
    app.post('/oauth2/token', (_req, res) => void res.json({ ok: true }));
    url = await serve(app);
  });

  it('answers 429 with Retry-After and an OperationOutcome once the bucket is empty, then recovers', async () => {
    const get = () => fetch(`${url}/fhir/Patient`, { headers: { 'X-Client': 'c1' } });
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    const res = await get();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('10');
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(await res.json()).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'throttled', diagnostics: 'Too many requests; retry after 10 seconds' }],
    });
    expect(limited).toEqual(['/Patient']);
    expect((await fetch(`${url}/fhir/Patient`)).status).toBe(200); // no key, not limited
    c.t += 10_000;
    expect((await get()).status).toBe(200);
  });

  it('uses a custom body when given one', async () => {
    const post = () => fetch(`${url}/oauth2/token`, { method: 'POST' });
    expect((await post()).status).toBe(200);
    const res = await post();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ error: 'slow_down', error_description: 'retry in 1s' });
  });
});

describe('fhirErrorHandler', () => {
  it('a value the database refuses (SQLSTATE class 22) is a 400 OperationOutcome, logged as a warning without the value; other errors stay 500s', async () => {
    const db = new PGlite();
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    const app = express();
    app.get('/nul', async () => void (await db.query('select $1::text', ['secret\u0000value'])));
    app.get('/overflow', async () => void (await db.query('select $1::bigint', ['99999999999999999999'])));
    app.get('/bug', async () => void (await db.query('select * from no_such_table')));
    app.use(fhirErrorHandler(createLogger('info', false, stream)));
    const url = await serve(app);
    for (const path of ['/nul', '/overflow']) {
      const res = await fetch(`${url}${path}`);
      const body = (await res.json()) as { resourceType: string; issue: { code: string }[] };
      expect({ path, status: res.status, type: body.resourceType, code: body.issue[0].code }).toEqual({ path, status: 400, type: 'OperationOutcome', code: 'invalid' });
    }
    expect((await fetch(`${url}/bug`)).status).toBe(500);
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.join('\n')).not.toContain('secret');
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['warn', 'warn', 'error']);
    await db.close();
  });
});
