// Access tokens and the authorization server over real HTTP on 127.0.0.1, on PGlite and on
// PostgreSQL (SEC-04: every FHIR request is authenticated, and callers get the least privilege
// they asked for and were allowed): SMART discovery, the bearer guard, forged tokens,
// client_credentials with a secret and with a signed client assertion (SMART Backend Services),
// institution clients, introspection, revocation, signing-key rotation and the token endpoint's
// per-IP rate limit.
//
// The token endpoint, introspection and revocation share a per-IP rate limit, and every request
// here comes from 127.0.0.1: the suites start their hubs with a roomy limit.
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { makeUscc, USCC_SYSTEM, LICENCE_SYSTEM } from '../../server/src/auth/institution.js';
import { availableBackends } from '../helpers/parts.js';
import type { TestHub } from '../helpers/hub.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('security tokens');

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];
// A generous limit for the suites (the last suite checks the limit itself).
const ROOMY_LIMIT = { auth: { rateLimit: { capacity: 1000, perSecond: 100 } } };

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const jwtPart = (token: string, index: 0 | 1): Record<string, any> => JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8'));
const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const now = (): number => Math.floor(Date.now() / 1000);

/** POST an application/x-www-form-urlencoded body to an /oauth2 endpoint. */
async function postForm(t: TestHub, path: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
  return answer(
    await fetch(`${t.url}/oauth2/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params).toString(),
    }),
  );
}

/** A FHIR request with the given bearer token (or none, or a raw Authorization header). */
async function fhir(t: TestHub, method: string, path: string, auth: { token?: string; header?: string } = {}, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (auth.token !== undefined) headers.authorization = `Bearer ${auth.token}`;
  if (auth.header !== undefined) headers.authorization = auth.header;
  if (body !== undefined) headers['content-type'] = 'application/fhir+json';
  return answer(await fetch(`${t.base}/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
}

/** POST JSON to an /oauth2 admin endpoint with the admin token. */
async function adminPost(t: TestHub, path: string, body?: unknown): Promise<Answer> {
  return answer(
    await fetch(`${t.url}/oauth2/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

async function hubJwks(t: TestHub): Promise<{ keys: Record<string, any>[] }> {
  const res = await fetch(`${t.url}/oauth2/jwks`);
  expect(res.status).toBe(200);
  return (await res.json()) as { keys: Record<string, any>[] };
}

function expectBearer401(res: Answer): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate') ?? '').toMatch(/^Bearer/);
  expect(res.body?.resourceType).toBe('OperationOutcome');
}

// ---------------------------------------------------------------------------------------------
// 1-3: discovery, the bearer guard and forged tokens
// ---------------------------------------------------------------------------------------------

describe.each(backends)('SMART discovery and the bearer guard on %s (SEC-04)', (backend) => {
  const t = useTestHub(backend, ROOMY_LIMIT);

  it('publishes the SMART configuration at the root and under the FHIR base without a token', async () => {
    for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
      const res = await answer(await fetch(`${t.url}${path}`));
      expect(res.status).toBe(200);
      const config = res.body;
      expect(config.issuer).toBe(`${t.url}/oauth2`);
      expect(config.token_endpoint).toBe(`${t.url}/oauth2/token`);
      expect(config.authorization_endpoint).toBe(`${t.url}/oauth2/authorize`);
      expect(config.jwks_uri).toBe(`${t.url}/oauth2/jwks`);
      expect(config.grant_types_supported).toEqual(expect.arrayContaining(['client_credentials', 'authorization_code']));
      expect(config.code_challenge_methods_supported).toEqual(['S256']);
      expect(config.capabilities).toEqual(expect.arrayContaining(['permission-v2', 'client-confidential-asymmetric']));
      expect(config.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    }
  });

  it('publishes OpenID Connect discovery under the issuer', async () => {
    const res = await answer(await fetch(`${t.url}/oauth2/.well-known/openid-configuration`));
    expect(res.status).toBe(200);
    expect(res.body.issuer).toBe(`${t.url}/oauth2`);
    expect(res.body.jwks_uri).toBe(`${t.url}/oauth2/jwks`);
    expect(res.body.token_endpoint).toBe(`${t.url}/oauth2/token`);
  });

  it('the JWKS holds public RSA keys only, one of which signed the admin token', async () => {
    const { keys } = await hubJwks(t);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) {
      expect(key.kty).toBe('RSA');
      expect(typeof key.kid).toBe('string');
      expect(key.kid.length).toBeGreaterThan(0);
      expect(typeof key.n).toBe('string');
      expect(typeof key.e).toBe('string');
      for (const member of PRIVATE_JWK_MEMBERS) expect(key).not.toHaveProperty(member);
    }
    const header = jwtPart(t.token, 0);
    expect(header.alg).toBe('RS256');
    expect(keys.map((k) => k.kid)).toContain(header.kid);
    // The published key really verifies the hub's tokens.
    const signer = keys.find((k) => k.kid === header.kid)!;
    expect(() => jwt.verify(t.token, createPublicKey({ key: signer as JsonWebKey, format: 'jwk' }), { algorithms: ['RS256'] })).not.toThrow();
  });

  it('/fhir/metadata needs no token and names SMART-on-FHIR as the security service', async () => {
    const res = await fhir(t, 'GET', 'metadata');
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('CapabilityStatement');
    const codes = (res.body.rest[0].security.service as any[]).flatMap((s) => s.coding.map((c: any) => c.code));
    expect(codes).toContain('SMART-on-FHIR');
  });

  it('no token or a malformed Authorization header → 401 with a Bearer challenge and an OperationOutcome', async () => {
    expectBearer401(await fhir(t, 'GET', 'Patient'));
    expectBearer401(await fhir(t, 'GET', 'Patient/anything'));
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', `Token ${t.token}`, 'Bearer not-a-jwt', `Bearer ${t.token}x.y`]) {
      expectBearer401(await fhir(t, 'GET', 'Patient', { header }));
    }
    // A write without a token is refused and stores nothing.
    const name = `NoToken-${randomBytes(4).toString('hex')}`;
    expectBearer401(await fhir(t, 'POST', 'Patient', {}, { resourceType: 'Patient', name: [{ family: name }] }));
    const search = await fhir(t, 'GET', `Patient?family=${name}&_total=accurate`, { token: t.token });
    expect(search.status).toBe(200);
    expect(search.body.total).toBe(0);
    // Liveness stays open.
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it('forged, expired and misdirected tokens are all refused with 401', async () => {
    const issuer = `${t.url}/oauth2`;
    const real = jwtPart(t.token, 1);
    const claims = { sub: real.sub, client_id: real.client_id, scope: 'system/*.cruds', role: 'admin' };
    const { keys } = await hubJwks(t);
    const hubKid = jwtPart(t.token, 0).kid as string;
    const hubJwk = keys.find((k) => k.kid === hubKid)!;
    const validPayload = () => ({ ...real, jti: randomUUID(), iat: now(), exp: now() + 120 });

    // Control: a token the hub issued itself with the right issuer and audience works.
    const good = t.hub.auth.tokens.issueAccessToken(claims, issuer, t.base, 60).token;
    expect((await fhir(t, 'GET', 'Patient', { token: good })).status).toBe(200);
    expect((await fhir(t, 'GET', 'Patient', { token: t.token })).status).toBe(200);

    // (a) a real token with its payload changed, the signature kept.
    const [h, , s] = t.token.split('.');
    const tampered = `${h}.${b64url({ ...real, role: 'admin', scope: 'system/*.cruds user/*.cruds', sub: 'attacker' })}.${s}`;
    expectBearer401(await fhir(t, 'GET', 'Patient', { token: tampered }));
    const goodParts = good.split('.');
    const widened = `${goodParts[0]}.${b64url({ ...jwtPart(good, 1), exp: now() + 86_400 })}.${goodParts[2]}`;
    expectBearer401(await fhir(t, 'GET', 'Patient', { token: widened }));

    // (b) signed with another RSA key, carrying the hub's kid.
    const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ownKey = jwt.sign(validPayload(), otherKey, { algorithm: 'RS256', keyid: hubKid });
    expectBearer401(await fhir(t, 'GET', 'Patient', { token: ownKey }));

    // (c) alg none, no signature.
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT', kid: hubKid })}.${b64url(validPayload())}.`;
    expectBearer401(await fhir(t, 'GET', 'Patient', { token: unsigned }));

    // (d) HS256 with the hub's public key (PEM) as the HMAC secret: the classic key-confusion attack.
    const pem = createPublicKey({ key: hubJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const confused = jwt.sign(validPayload(), pem, { algorithm: 'HS256', keyid: hubKid });
    expectBearer401(await fhir(t, 'GET', 'Patient', { token: confused }));

    // (e) expired ten seconds ago.
    const expired = t.hub.auth.tokens.issueAccessToken(claims, issuer, t.base, -10).token;
    expectBearer401(await fhir(t, 'GET', 'Patient', { token: expired }));

    // (f) issued for another FHIR server.
    const elsewhere = t.hub.auth.tokens.issueAccessToken(claims, issuer, 'http://127.0.0.1:1/fhir', 60).token;
    expectBearer401(await fhir(t, 'GET', 'Patient', { token: elsewhere }));

    // (g) another issuer.
    const foreign = t.hub.auth.tokens.issueAccessToken(claims, 'http://127.0.0.1:1/oauth2', t.base, 60).token;
    expectBearer401(await fhir(t, 'GET', 'Patient', { token: foreign }));

    // (h) the hub's own key but an algorithm other than the pinned RS256.
    const rs512 = jwt.sign(validPayload(), t.hub.auth.keys.current().privateKey, { algorithm: 'RS512', keyid: hubKid });
    expectBearer401(await fhir(t, 'GET', 'Patient', { token: rs512 }));

    // Forged tokens do not open the admin API either.
    const admin = await answer(await fetch(`${t.url}/oauth2/clients`, { headers: { authorization: `Bearer ${confused}` } }));
    expect(admin.status).toBe(401);
  });
});

// ---------------------------------------------------------------------------------------------
// 4, 6, 7: client_credentials with a secret, introspection, revocation, key rotation
// ---------------------------------------------------------------------------------------------

describe.each(backends)('client_credentials, introspection, revocation and key rotation on %s (SEC-04)', (backend) => {
  const t = useTestHub(backend, ROOMY_LIMIT);
  const adminAuth = () => ({ authorization: basic(t.admin.clientId, t.admin.secret) });
  const tokenFor = async (scope = 'system/*.cruds'): Promise<string> => {
    const res = await postForm(t, 'token', { grant_type: 'client_credentials', scope }, adminAuth());
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };

  it('the bootstrap client gets a short-lived Bearer token with client_secret_basic', async () => {
    const res = await postForm(t, 'token', { grant_type: 'client_credentials', scope: 'system/*.cruds' }, adminAuth());
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/no-store/); // RFC 6749 §5.1
    expect(res.body.token_type).toBe('Bearer');
    expect(res.body.expires_in).toBeGreaterThan(0);
    expect(res.body.expires_in).toBeLessThanOrEqual(300);
    expect(res.body.scope).toBe('system/*.cruds');
    const payload = jwtPart(res.body.access_token, 1);
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(300);
    expect(payload.client_id).toBe(t.admin.clientId);
    expect(payload.iss).toBe(`${t.url}/oauth2`);
    expect(payload.aud).toBe(t.base);
    expect((await fhir(t, 'GET', 'Patient', { token: res.body.access_token })).status).toBe(200);
  });

  it('a narrower scope request gets a narrower token (least privilege)', async () => {
    const res = await postForm(t, 'token', { grant_type: 'client_credentials', scope: 'system/Patient.rs' }, adminAuth());
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('system/Patient.rs');
    const token = res.body.access_token as string;
    expect((await fhir(t, 'GET', 'Patient', { token })).status).toBe(200);
    expect((await fhir(t, 'GET', 'Observation', { token })).status).toBe(403);
    expect((await fhir(t, 'POST', 'Patient', { token }, { resourceType: 'Patient' })).status).toBe(403);
  });

  it('a wrong secret or unknown client → 401 invalid_client with a Basic challenge', async () => {
    for (const auth of [basic(t.admin.clientId, `${t.admin.secret}x`), basic('no-such-client', t.admin.secret)]) {
      const res = await postForm(t, 'token', { grant_type: 'client_credentials' }, { authorization: auth });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect(res.body.access_token).toBeUndefined();
      expect(res.headers.get('www-authenticate') ?? '').toMatch(/^Basic/);
    }
  });

  it('an unknown grant type → 400 unsupported_grant_type; a JSON body → 400 invalid_request', async () => {
    const unknown = await postForm(t, 'token', { grant_type: 'password', username: 'x', password: 'y' }, adminAuth());
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('unsupported_grant_type');

    const json = await answer(
      await fetch(`${t.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...adminAuth() },
        body: JSON.stringify({ grant_type: 'client_credentials', scope: 'system/*.cruds' }),
      }),
    );
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
    expect(json.body.access_token).toBeUndefined();
  });

  it('a NUL character in any OAuth parameter, credential or account field → 400 invalid_request, never a 500', async () => {
    const refused = [
      await postForm(t, 'token', { grant_type: 'client_credentials', client_id: 'a\u0000b', client_secret: 'x' }),
      await postForm(t, 'token', { grant_type: 'client_credentials' }, { authorization: basic('a\u0000b', 'x') }),
      await postForm(t, 'login', { username: '\u0000', password: 'x', client_id: 'x' }),
      await answer(await fetch(`${t.url}/oauth2/authorize?client_id=%00&response_type=code&redirect_uri=http://127.0.0.1/cb`)),
      await adminPost(t, 'users', { username: 'nul\u0000', password: 'a-long-enough-passphrase', role: 'doctor' }),
    ];
    expect(refused.map((r) => [r.status, r.body?.error])).toEqual(Array(refused.length).fill([400, 'invalid_request']));
  });

  it('introspection needs client authentication and reports active tokens, and nothing about unknown ones', async () => {
    const token = await tokenFor('system/*.rs');
    const payload = jwtPart(token, 1);
    const active = await postForm(t, 'introspect', { token }, adminAuth());
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ active: true, scope: 'system/*.rs', client_id: t.admin.clientId, exp: payload.exp });

    const unknown = await postForm(t, 'introspect', { token: 'not-a-token-at-all' }, adminAuth());
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ active: false });

    const anonymous = await postForm(t, 'introspect', { token });
    expect([400, 401]).toContain(anonymous.status);
    expect(anonymous.body.error).toBe('invalid_client');
    expect(anonymous.body.active).toBeUndefined();

    const wrongSecret = await postForm(t, 'introspect', { token }, { authorization: basic(t.admin.clientId, 'wrong-secret-wrong-secret') });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.active).toBeUndefined();
  });

  it('a revoked token stops working at once and introspects inactive; revoking garbage is 200', async () => {
    const token = await tokenFor();
    expect((await fhir(t, 'GET', 'Patient', { token })).status).toBe(200);
    const revoked = await postForm(t, 'revoke', { token }, adminAuth());
    expect(revoked.status).toBe(200);
    expectBearer401(await fhir(t, 'GET', 'Patient', { token }));
    const after = await postForm(t, 'introspect', { token }, adminAuth());
    expect(after.body).toEqual({ active: false });
    const rows = await t.hub.db.query<{ jti: string }>('select jti from auth_revoked_token where jti = $1', [jwtPart(token, 1).jti]);
    expect(rows).toHaveLength(1);

    const garbage = await postForm(t, 'revoke', { token: 'garbage.garbage.garbage' }, adminAuth());
    expect(garbage.status).toBe(200);
    // The admin's own token is untouched by all this.
    expect((await fhir(t, 'GET', 'Patient', { token: t.token })).status).toBe(200);
  });

  it("a client cannot revoke another client's token", async () => {
    const registered = await adminPost(t, 'clients', { client_id: `app-${randomBytes(4).toString('hex')}`, name: 'Reporting script', kind: 'confidential', role: 'app', scope: 'system/*.rs' });
    expect(registered.status).toBe(201);
    expect(typeof registered.body.client_secret).toBe('string');
    const victim = await tokenFor('system/*.rs');
    const attempt = await postForm(t, 'revoke', { token: victim }, { authorization: basic(registered.body.client_id, registered.body.client_secret) });
    expect(attempt.status).toBe(200); // RFC 7009: no oracle, but nothing happens
    expect((await fhir(t, 'GET', 'Patient', { token: victim })).status).toBe(200);
  });

  it('after key rotation the JWKS lists both keys, old tokens keep working and new ones use the new kid', async () => {
    const t1 = await tokenFor();
    const kid1 = jwtPart(t1, 0).kid as string;
    expect((await hubJwks(t)).keys).toHaveLength(1);
    const newKid = await t.hub.auth.keys.rotate();
    const { keys } = await hubJwks(t);
    expect(keys).toHaveLength(2);
    expect(keys.map((k) => k.kid).sort()).toEqual([kid1, newKid].sort());
    for (const key of keys) for (const member of PRIVATE_JWK_MEMBERS) expect(key).not.toHaveProperty(member);
    expect((await fhir(t, 'GET', 'Patient', { token: t1 })).status).toBe(200);
    expect((await fhir(t, 'GET', 'Patient', { token: t.token })).status).toBe(200);

    const t2 = await tokenFor();
    const kid2 = jwtPart(t2, 0).kid as string;
    expect(kid2).toBe(newKid);
    expect(kid2).not.toBe(kid1);
    expect((await fhir(t, 'GET', 'Patient', { token: t2 })).status).toBe(200);
    // The new token verifies with the newly published key.
    const signer = keys.find((k) => k.kid === kid2)!;
    expect(() => jwt.verify(t2, createPublicKey({ key: signer as JsonWebKey, format: 'jwk' }), { algorithms: ['RS256'] })).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// 5: SMART Backend Services (private_key_jwt) and institution clients
// ---------------------------------------------------------------------------------------------

/** A backend client as an institution would write it: a key pair, jsonwebtoken and fetch. */
interface BackendClient {
  clientId: string;
  kid: string;
  privateKey: KeyObject;
  publicJwk: JsonWebKey;
}

function newBackendClient(prefix: string): BackendClient {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const kid = `${prefix}-key-${randomBytes(4).toString('hex')}`;
  return { clientId: `${prefix}-${randomBytes(4).toString('hex')}`, kid, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES384', use: 'sig' } };
}

interface AssertionOptions {
  aud?: string;
  exp?: number;
  iss?: string;
  jti?: string;
  key?: KeyObject;
  alg?: jwt.Algorithm;
  kid?: string;
}

function clientAssertion(t: TestHub, client: BackendClient, options: AssertionOptions = {}): string {
  const payload = {
    iss: options.iss ?? client.clientId,
    sub: client.clientId,
    aud: options.aud ?? `${t.url}/oauth2/token`,
    jti: options.jti ?? randomUUID(),
    exp: options.exp ?? now() + 120,
  };
  return jwt.sign(payload, options.key ?? client.privateKey, { algorithm: options.alg ?? 'ES384', keyid: options.kid ?? client.kid });
}

async function backendToken(t: TestHub, assertion: string, scope: string): Promise<Answer> {
  return postForm(t, 'token', { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion, scope });
}

describe.each(backends)('SMART Backend Services and institution clients on %s (SEC-04)', (backend) => {
  const t = useTestHub(backend, ROOMY_LIMIT);
  const a = newBackendClient('inst-a');
  const b = newBackendClient('inst-b');
  const creditA = makeUscc('12310115MB2F3456X');
  const creditB = makeUscc('12310115MB2F3457Y');
  let registeredA: Answer;
  let registeredB: Answer;

  const register = (client: BackendClient, organization: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    adminPost(t, 'clients', {
      client_id: client.clientId,
      name: `System of ${organization.name as string}`,
      kind: 'backend',
      role: 'institution',
      scope: 'system/*.cruds',
      jwks: { keys: [client.publicJwk] },
      organization,
      ...extra,
    });

  beforeAll(async () => {
    registeredA = await register(a, { name: '某某社区卫生服务中心', licenceNumber: 'PDY12345-031011-1', creditCode: creditA });
    registeredB = await register(b, { name: '另一社区卫生服务中心', licenceNumber: 'PDY12346-031011-1', creditCode: creditB });
  });

  it('registers an institution client (201) and its Organization with licence and credit code', async () => {
    expect(registeredA.status).toBe(201);
    expect(registeredA.body).toMatchObject({ client_id: a.clientId, kind: 'backend', role: 'institution', status: 'active', scope: 'system/*.cruds' });
    expect(registeredA.body.client_secret).toBeUndefined();
    expect(JSON.stringify(registeredA.body)).not.toContain('"d"');
    expect(registeredA.body.organization).toMatch(/^Organization\/[^/]+$/);
    expect(registeredB.status).toBe(201);

    const org = await fhir(t, 'GET', registeredA.body.organization, { token: t.token });
    expect(org.status).toBe(200);
    expect(org.body.name).toBe('某某社区卫生服务中心');
    expect(org.body.identifier).toEqual(
      expect.arrayContaining([
        { system: LICENCE_SYSTEM, value: 'PDY12345-031011-1' },
        { system: USCC_SYSTEM, value: creditA },
      ]),
    );

    // Registering needs an admin token.
    const anonymous = await answer(await fetch(`${t.url}/oauth2/clients`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    expect(anonymous.status).toBe(401);
  });

  it('a signed client assertion gets a token for the requested scope; the assertion cannot be replayed', async () => {
    const assertion = clientAssertion(t, a);
    const res = await backendToken(t, assertion, 'system/*.rs');
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
    expect(res.body.scope).toBe('system/*.rs');
    expect(res.body.expires_in).toBeLessThanOrEqual(300);
    const token = res.body.access_token as string;
    const claims = jwtPart(token, 1);
    expect(claims).toMatchObject({ client_id: a.clientId, role: 'institution', organization: registeredA.body.organization });

    const read = await fhir(t, 'GET', 'Patient', { token });
    expect(read.status).toBe(200);
    expect(read.body.resourceType).toBe('Bundle');
    // Read-only scopes: no writes (least privilege).
    expect((await fhir(t, 'POST', 'Patient', { token }, { resourceType: 'Patient' })).status).toBe(403);

    const replay = await backendToken(t, assertion, 'system/*.rs');
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_client');
    expect(replay.body.error_description).toMatch(/replay/i);
    expect(replay.body.access_token).toBeUndefined();
  });

  it('rejects assertions that live too long, are for another audience, use another algorithm or key', async () => {
    const refused = async (assertion: string, why: RegExp) => {
      const res = await backendToken(t, assertion, 'system/*.rs');
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_client');
      expect(res.body.error_description).toMatch(why);
      expect(res.body.access_token).toBeUndefined();
    };
    await refused(clientAssertion(t, a, { exp: now() + 600 }), /5 minutes/);
    await refused(clientAssertion(t, a, { aud: 'http://127.0.0.1:1/oauth2/token' }), /aud/i);
    const { privateKey: rsaKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await refused(clientAssertion(t, a, { key: rsaKey, alg: 'RS256' }), /RS256/);
    const { privateKey: strangerKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    await refused(clientAssertion(t, a, { key: strangerKey }), /signature/i);
    await refused(clientAssertion(t, a, { iss: b.clientId }), /iss = sub/);
  });

  it('institution writes carry its source; another institution may not change or delete them', async () => {
    const tokenOf = async (client: BackendClient): Promise<string> => {
      const res = await backendToken(t, clientAssertion(t, client), 'system/*.cruds');
      expect(res.status).toBe(200);
      return res.body.access_token as string;
    };
    const tokenA = await tokenOf(a);
    const tokenB = await tokenOf(b);

    const created = await fhir(t, 'POST', 'Patient', { token: tokenA }, { resourceType: 'Patient', name: [{ family: '张', given: ['三'] }] });
    expect(created.status).toBe(201);
    expect(created.body.meta.source).toBe(`urn:suhe:client:${a.clientId}`);
    const id = created.body.id as string;
    const stored = await fhir(t, 'GET', `Patient/${id}`, { token: t.token });
    expect(stored.body.meta.source).toBe(`urn:suhe:client:${a.clientId}`);

    // A client-supplied meta.source is overwritten with the institution's own.
    const spoofed = await fhir(t, 'POST', 'Patient', { token: tokenB }, { resourceType: 'Patient', meta: { source: `urn:suhe:client:${a.clientId}` } });
    expect(spoofed.status).toBe(201);
    expect(spoofed.body.meta.source).toBe(`urn:suhe:client:${b.clientId}`);

    const update = await fhir(t, 'PUT', `Patient/${id}`, { token: tokenB }, { ...stored.body, gender: 'male' });
    expect(update.status).toBe(403);
    expect(update.body.resourceType).toBe('OperationOutcome');
    expect((await fhir(t, 'DELETE', `Patient/${id}`, { token: tokenB })).status).toBe(403);
    const unchanged = await fhir(t, 'GET', `Patient/${id}`, { token: t.token });
    expect(unchanged.status).toBe(200);
    expect(unchanged.body.meta.versionId).toBe('1');
    expect(unchanged.body.gender).toBeUndefined();

    // The source itself may update its record.
    const own = await fhir(t, 'PUT', `Patient/${id}`, { token: tokenA }, { ...stored.body, gender: 'male' });
    expect(own.status).toBe(200);
    expect(own.body.meta.versionId).toBe('2');
  });

  it('a suspended institution gets no tokens until it is activated again', async () => {
    const suspended = await adminPost(t, `clients/${a.clientId}/$suspend`);
    expect(suspended.status).toBe(200);
    expect(suspended.body.status).toBe('suspended');
    const refused = await backendToken(t, clientAssertion(t, a), 'system/*.rs');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_client');
    expect(refused.body.error_description).toMatch(/suspended/);
    expect(refused.body.access_token).toBeUndefined();

    const activated = await adminPost(t, `clients/${a.clientId}/$activate`);
    expect(activated.status).toBe(200);
    expect(activated.body.status).toBe('active');
    const again = await backendToken(t, clientAssertion(t, a), 'system/*.rs');
    expect(again.status).toBe(200);
    expect((await fhir(t, 'GET', 'Patient', { token: again.body.access_token })).status).toBe(200);
  });

  it('refuses an institution whose unified social credit code has a wrong check character', async () => {
    const valid = makeUscc('91310115MA1K4LXB2');
    const wrongCheck = valid.slice(0, 17) + (valid[17] === '0' ? '1' : '0');
    const c = newBackendClient('inst-bad');
    const res = await register(c, { name: '错误代码医院', licenceNumber: 'PDY99999-031011-1', creditCode: wrongCheck });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toContain('check character');
    expect(res.body.error_description).toContain(`should be ${valid[17]}`);
    // Nothing was registered.
    const token = await backendToken(t, clientAssertion(t, c), 'system/*.rs');
    expect(token.status).toBe(400);
    const orgs = await fhir(t, 'GET', `Organization?identifier=${encodeURIComponent(`${USCC_SYSTEM}|${wrongCheck}`)}&_total=accurate`, { token: t.token });
    expect(orgs.status).toBe(200);
    expect(orgs.body.total).toBe(0);
  });

  // Regression: the Organization used to be created before the rest of the registration was checked.
  it('a refused registration leaves no Organization behind', async () => {
    const c = newBackendClient('inst-priv');
    const credit = makeUscc('12310115MB2F3458W');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const leaked = { ...privateKey.export({ format: 'jwk' }), kid: c.kid, alg: 'ES384', use: 'sig' };
    const res = await register(c, { name: '私钥泄露医院', licenceNumber: 'PDY77777-031011-1', creditCode: credit }, { jwks: { keys: [leaked] } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_client_metadata');
    expect(res.body.error_description).toMatch(/public keys only/);
    const orgs = await fhir(t, 'GET', `Organization?identifier=${encodeURIComponent(`${USCC_SYSTEM}|${credit}`)}&_total=accurate`, { token: t.token });
    expect(orgs.status).toBe(200);
    expect(orgs.body.total).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// The token endpoint's per-IP rate limit
// ---------------------------------------------------------------------------------------------

describe('per-IP rate limit of the token endpoint (pglite)', () => {
  // Starting the hub spends one request of the bucket (the admin token), so with capacity 3 the
  // third request of this test is the fourth from 127.0.0.1.
  const t = useTestHub('pglite', { auth: { rateLimit: { capacity: 3, perSecond: 0.01 } } });
  const badRequest = () => postForm(t, 'token', { grant_type: 'client_credentials' }, { authorization: basic(t.admin.clientId, 'not-the-secret-at-all') });

  // Regression: the limiter once ignored the configured limit.
  it('the request over the configured capacity gets 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let limited: Answer | undefined;
    for (let i = 0; i < 3; i++) {
      const res = await badRequest();
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses).toEqual([401, 401, 429]);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('a burst of token requests from one IP is eventually refused with 429, Retry-After and slow_down', async () => {
    let limited: Answer | undefined;
    for (let i = 0; i < 80 && !limited; i++) {
      const res = await badRequest();
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(401);
    }
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited!.body.error).toBe('slow_down');
    // The FHIR API is not behind this limiter.
    expect((await fhir(t, 'GET', 'Patient', { token: t.token })).status).toBe(200);
  });
});
