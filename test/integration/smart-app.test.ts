// A SMART on FHIR app against the running hub: the real `fhirclient` library does a standalone
// launch with PKCE (authorize → our sign-in page → code → token → FHIR calls), then the flow's
// negative cases, refresh-token rotation with reuse detection, and the sign-in page's defences,
// all over real HTTP on 127.0.0.1, on PGlite and on PostgreSQL.
import { createPublicKey, randomBytes, type JsonWebKey } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it, beforeAll } from '@jest/globals';
import type { Bundle, Observation, Patient, Practitioner } from '@medplum/fhirtypes';
import smart from 'fhirclient';
import jwt from 'jsonwebtoken';
import { LOCKOUT } from '../../server/src/auth/users.js';
import { availableBackends } from '../helpers/parts.js';
import { APP_REDIRECT, createAccount, newPassword, pkcePair, registerPublicApp, type TokenResponse } from '../helpers/people.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('SMART app launch');

const WS_T500 = 'urn:oid:2.16.156.10011.1.3';
const RESIDENT_ID = '11010519491231002X'; // valid check character; born 1949-12-31, female
const APP = 'fc-app';
const APP_SCOPE = 'launch/patient patient/*.rs openid fhirUser offline_access';
const FHIR_JSON = { 'content-type': 'application/fhir+json' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Undoes escapeHtml (numeric character references) and the named entities a page might use. */
function unescapeHtml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The sign-in form: where it posts and its hidden fields, read from the HTML as a browser would. */
function loginForm(html: string): { method: string; action: string; hidden: Record<string, string> } {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no <form> in the page:\n${html.slice(0, 500)}`);
  const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)?.[1];
  const hidden: Record<string, string> = {};
  for (const [input] of form[2].matchAll(/<input\b[^>]*>/gi)) {
    if (attr(input, 'type')?.toLowerCase() !== 'hidden') continue;
    hidden[unescapeHtml(attr(input, 'name') ?? '')] = unescapeHtml(attr(input, 'value') ?? '');
  }
  return { method: (attr(form[1], 'method') ?? 'get').toLowerCase(), action: unescapeHtml(attr(form[1], 'action') ?? ''), hidden };
}

/**
 * fetch for the rate-limited /oauth2 endpoints: on 429 it waits Retry-After and tries again, so a
 * limit lower than the one configured (the last test checks that) fails one test, not every later one.
 */
async function oauthFetch(input: string | URL, init?: RequestInit): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(input, init);
    if (res.status !== 429 || attempt >= 20) return res;
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? '1') * 1000));
  }
}

/** The text of the page's alert box (the sign-in error), or undefined. */
function alertText(html: string): string | undefined {
  const m = /<div class="error" role="alert">([\s\S]*?)<\/div>/.exec(html);
  return m ? unescapeHtml(m[1]) : undefined;
}

describe.each(backends)('SMART App Launch on %s', (backend) => {
  const t = useTestHub(backend, { auth: { rateLimit: { capacity: 1000, perSecond: 100 } } });
  let patientId: string;
  let otherPatientId: string;
  let practitionerId: string;
  const resident = { username: `resident-${randomBytes(3).toString('hex')}`, password: newPassword() };

  const create = async <T extends { id?: string }>(resource: T & { resourceType: string }): Promise<T> => {
    const res = await t.fetch(`${t.base}/${resource.resourceType}`, { method: 'POST', headers: FHIR_JSON, body: JSON.stringify(resource) });
    const body = (await res.json()) as T;
    if (res.status !== 201) throw new Error(`POST ${resource.resourceType} → ${res.status} ${JSON.stringify(body)}`);
    return body;
  };

  /** Authorization request parameters as a browser would send them (a valid request unless overridden). */
  const authorizeParams = (overrides: Record<string, string | undefined> = {}, clientId = APP) => {
    const { challenge, verifier } = pkcePair();
    const all: Record<string, string | undefined> = {
      response_type: 'code', client_id: clientId, redirect_uri: APP_REDIRECT, scope: APP_SCOPE, state: randomBytes(12).toString('hex'),
      aud: t.base, code_challenge: challenge, code_challenge_method: 'S256', ...overrides,
    };
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(all)) if (v !== undefined) params.set(k, v);
    return { params, verifier, state: all.state };
  };

  /** GET /oauth2/authorize, then POST the page's own form with the credentials. */
  const submitLogin = async (params: URLSearchParams, username: string, password: string) => {
    const page = await oauthFetch(`${t.url}/oauth2/authorize?${params}`, { redirect: 'manual' });
    const html = await page.text();
    if (page.status !== 200) throw new Error(`authorize → ${page.status}: ${html.slice(0, 300)}`);
    const form = loginForm(html);
    return oauthFetch(new URL(form.action, t.url), {
      method: 'POST',
      redirect: 'manual',
      headers: FORM,
      body: new URLSearchParams({ ...form.hidden, username, password }).toString(),
    });
  };

  /** A fresh authorization code for the resident (and the verifier that goes with it). */
  const codeFor = async (username = resident.username, password = resident.password, scope = APP_SCOPE) => {
    const { params, verifier, state } = authorizeParams({ scope });
    const res = await submitLogin(params, username, password);
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe(state);
    return { code: back.searchParams.get('code')!, verifier };
  };

  const tokenRequest = async (form: Record<string, string>) => {
    const res = await oauthFetch(`${t.url}/oauth2/token`, { method: 'POST', headers: FORM, body: new URLSearchParams(form).toString() });
    return { status: res.status, body: (await res.json()) as TokenResponse & { error?: string; error_description?: string } };
  };

  const exchange = (code: string, verifier: string) =>
    tokenRequest({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: APP_REDIRECT, client_id: APP });

  /** authorize → sign in → code → token (what people.ts signIn does, but through the page's own form and oauthFetch). */
  const signIn = async (username: string, password: string, scope = APP_SCOPE): Promise<TokenResponse> => {
    const { code, verifier } = await codeFor(username, password, scope);
    const token = await exchange(code, verifier);
    if (token.status !== 200) throw new Error(`token → ${token.status}: ${JSON.stringify(token.body)}`);
    return token.body;
  };

  const refresh = (refreshToken: string) => tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: APP });

  beforeAll(async () => {
    const patient = await create<Patient>({
      resourceType: 'Patient',
      identifier: [{ system: WS_T500, value: RESIDENT_ID }],
      name: [{ family: '王', given: ['秀英'], text: '王秀英' }],
      gender: 'female',
      birthDate: '1949-12-31',
    });
    patientId = patient.id!;
    otherPatientId = (await create<Patient>({ resourceType: 'Patient', name: [{ family: '李', given: ['雷'] }], gender: 'male', identifier: [{ system: 'urn:suhe:passport', value: 'E12345678' }] })).id!;
    const observation = (subject: string, value: number): Observation & { resourceType: 'Observation' } => ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
      subject: { reference: `Patient/${subject}` },
      valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
    await create(observation(patientId, 72));
    await create(observation(otherPatientId, 99));
    practitionerId = (await create<Practitioner>({ resourceType: 'Practitioner', name: [{ family: '张', given: ['医生'] }] })).id!;

    await createAccount(t, { ...resident, role: 'resident', fhirUser: `Patient/${patientId}`, identity: { system: WS_T500, value: RESIDENT_ID } });
    await registerPublicApp(t, APP);
  });

  it('a fhirclient app completes a standalone launch with PKCE, gets patient context and a verifiable id_token', async () => {
    const session: Record<string, unknown> = {};
    const req = (url: string) => ({ url, headers: { host: new URL(APP_REDIRECT).host }, socket: {}, session }) as unknown as IncomingMessage;
    const res = {} as ServerResponse; // never written to: noRedirect returns the URL instead

    const authUrl = (await smart(req('/launch'), res).authorize({
      iss: t.base, clientId: APP, scope: APP_SCOPE, redirectUri: APP_REDIRECT, pkceMode: 'required', noRedirect: true,
    })) as string;
    expect(typeof authUrl).toBe('string');
    const sent = new URL(authUrl);
    expect(`${sent.origin}${sent.pathname}`).toBe(`${t.url}/oauth2/authorize`);
    expect(sent.searchParams.get('code_challenge_method')).toBe('S256');
    expect(sent.searchParams.get('aud')).toBe(t.base);

    const page = await fetch(authUrl, { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const form = loginForm(await page.text());
    expect(form.method).toBe('post');
    expect(new URL(form.action, t.url).toString()).toBe(`${t.url}/oauth2/login`);
    // The pending request rides in hidden fields, exactly as fhirclient sent it.
    expect(form.hidden).toMatchObject({
      client_id: APP, redirect_uri: APP_REDIRECT, state: sent.searchParams.get('state'), code_challenge: sent.searchParams.get('code_challenge'),
      code_challenge_method: 'S256', scope: APP_SCOPE, aud: t.base, response_type: 'code',
    });

    const login = await oauthFetch(`${t.url}/oauth2/login`, {
      method: 'POST', redirect: 'manual', headers: FORM,
      body: new URLSearchParams({ ...form.hidden, username: resident.username, password: resident.password }).toString(),
    });
    expect(login.status).toBe(302);
    const cb = new URL(login.headers.get('location')!);
    expect(`${cb.origin}${cb.pathname}`).toBe(APP_REDIRECT);
    expect(cb.searchParams.get('code')).toBeTruthy();
    expect(cb.searchParams.get('state')).toBe(sent.searchParams.get('state'));

    const client = await smart(req(cb.pathname + cb.search), res).ready();
    expect(client.patient.id).toBe(patientId);
    const token = client.state.tokenResponse!;
    expect(token.token_type).toBe('Bearer');
    expect(token.scope!.split(' ')).toEqual(expect.arrayContaining(['launch/patient', 'patient/*.rs', 'openid', 'fhirUser', 'offline_access']));
    expect(token.refresh_token).toBeTruthy();

    const patient = (await client.patient.read()) as Patient;
    expect(patient.resourceType).toBe('Patient');
    expect(patient.id).toBe(patientId);
    expect(patient.identifier?.[0].value).toBe(RESIDENT_ID);

    const observations = (await client.request('Observation')) as Bundle<Observation>;
    expect(observations.resourceType).toBe('Bundle');
    const subjects = (observations.entry ?? []).map((e) => e.resource?.subject?.reference);
    expect(subjects).toContain(`Patient/${patientId}`);
    expect(subjects).not.toContain(`Patient/${otherPatientId}`); // only the resident's own compartment

    // fhirclient only decodes the id_token: check its signature against the hub's published keys.
    const idToken = token.id_token as string;
    expect(idToken).toBeTruthy();
    const jwks = (await (await fetch(`${t.url}/oauth2/jwks`)).json()) as { keys: (JsonWebKey & { kid: string })[] };
    const header = jwt.decode(idToken, { complete: true })!.header;
    expect(header.alg).toBe('RS256');
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    expect(jwk).toBeDefined();
    const claims = jwt.verify(idToken, createPublicKey({ key: jwk!, format: 'jwk' }), {
      algorithms: ['RS256'], issuer: `${t.url}/oauth2`, audience: APP,
    }) as jwt.JwtPayload & { fhirUser: string };
    expect(claims.fhirUser).toMatch(new RegExp(`(^|/)Patient/${patientId}$`));
    expect(claims.sub).toBeTruthy();
    // A token signed by anyone else is refused by the same check.
    const forged = jwt.sign({ fhirUser: claims.fhirUser }, 'not-the-hub-key', { algorithm: 'HS256', issuer: `${t.url}/oauth2`, audience: APP });
    expect(() => jwt.verify(forged, createPublicKey({ key: jwk!, format: 'jwk' }), { algorithms: ['RS256'] })).toThrow();
  });

  it('refuses a wrong code_verifier and a code used twice with invalid_grant', async () => {
    const first = await codeFor();
    const wrong = await exchange(first.code, pkcePair().verifier);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    expect(wrong.body.access_token).toBeUndefined();

    const second = await codeFor();
    const ok = await exchange(second.code, second.verifier);
    expect(ok.status).toBe(200);
    expect(ok.body.access_token).toBeTruthy();
    expect(ok.body.patient).toBe(patientId);
    const again = await exchange(second.code, second.verifier);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
    expect(again.body.access_token).toBeUndefined();
  });

  it('never redirects to an unregistered redirect_uri: 400 HTML error page', async () => {
    const { params } = authorizeParams({ redirect_uri: 'https://attacker.example/cb' });
    for (const res of [
      await oauthFetch(`${t.url}/oauth2/authorize?${params}`, { redirect: 'manual' }),
      await oauthFetch(`${t.url}/oauth2/login`, { method: 'POST', redirect: 'manual', headers: FORM, body: new URLSearchParams({ ...Object.fromEntries(params), username: resident.username, password: resident.password }).toString() }),
    ]) {
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toMatch(/redirect_uri/);
      expect(html).not.toContain('attacker.example');
      expect(html).not.toMatch(/<form/);
    }
  });

  it.each([
    ['aud is another server', { aud: 'https://other-hub.example/fhir' }, /aud/],
    ['code_challenge_method is plain', { code_challenge_method: 'plain' }, /S256/],
    ['code_challenge is missing', { code_challenge: undefined, code_challenge_method: undefined }, /PKCE/],
  ])('redirects back with error=invalid_request when %s', async (_name, overrides, description) => {
    const { params, state } = authorizeParams(overrides);
    const res = await oauthFetch(`${t.url}/oauth2/authorize?${params}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(APP_REDIRECT);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(description);
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.get('code')).toBeNull();
  });

  it('redirects back with an error, and no code, when state is missing', async () => {
    const { params } = authorizeParams({ state: undefined });
    const res = await oauthFetch(`${t.url}/oauth2/authorize?${params}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(APP_REDIRECT);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/state/);
    expect(back.searchParams.get('code')).toBeNull();
    // The sign-in POST is checked the same way: no code without state either.
    const login = await oauthFetch(`${t.url}/oauth2/login`, {
      method: 'POST', redirect: 'manual', headers: FORM,
      body: new URLSearchParams({ ...Object.fromEntries(params), username: resident.username, password: resident.password }).toString(),
    });
    expect(login.status).toBe(302);
    expect(new URL(login.headers.get('location')!).searchParams.get('code')).toBeNull();
  });

  it('rotates refresh tokens, and a reused one revokes the whole family', async () => {
    const first = await signIn(resident.username, resident.password);
    expect(first.refresh_token).toBeTruthy();

    const rotated = await refresh(first.refresh_token!);
    expect(rotated.status).toBe(200);
    expect(rotated.body.access_token).toBeTruthy();
    expect(rotated.body.access_token).not.toBe(first.access_token);
    expect(rotated.body.refresh_token).toBeTruthy();
    expect(rotated.body.refresh_token).not.toBe(first.refresh_token);
    expect(rotated.body.patient).toBe(patientId);
    const read = await fetch(`${t.base}/Patient/${patientId}`, { headers: { authorization: `Bearer ${rotated.body.access_token}` } });
    expect(read.status).toBe(200);

    const replay = await refresh(first.refresh_token!);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect(replay.body.access_token).toBeUndefined();

    // Reuse detection: the token handed out by the rotation is dead too.
    const successor = await refresh(rotated.body.refresh_token!);
    expect(successor.status).toBe(400);
    expect(successor.body.error).toBe('invalid_grant');
    const introspect = await oauthFetch(`${t.url}/oauth2/introspect`, {
      method: 'POST', headers: FORM, body: new URLSearchParams({ token: rotated.body.refresh_token!, client_id: APP }).toString(),
    });
    expect(introspect.status).toBe(200);
    expect(await introspect.json()).toEqual({ active: false });
  });

  it('answers a wrong password and an unknown username alike: 401, one generic message', async () => {
    const { params } = authorizeParams();
    const wrong = await submitLogin(params, resident.username, `${resident.password}-wrong`);
    const unknown = await submitLogin(params, `nobody-${randomBytes(4).toString('hex')}`, resident.password);
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(wrong.status);
    expect(wrong.headers.get('location')).toBeNull();
    expect(unknown.headers.get('location')).toBeNull();
    const [wrongHtml, unknownHtml] = [await wrong.text(), await unknown.text()];
    const message = alertText(wrongHtml);
    expect(message).toMatch(/Wrong username or password/);
    expect(alertText(unknownHtml)).toBe(message);
    // The page is the sign-in form again (the password never refilled).
    expect(loginForm(wrongHtml).hidden.state).toBe(params.get('state'));
    expect(wrongHtml).not.toContain(resident.password);
    // The wrong attempt must not lock the resident out of the remaining tests: a correct sign-in resets the count.
    await codeFor();
  });

  it(`locks an account after ${LOCKOUT.attempts} wrong passwords: then the right password is refused too`, async () => {
    const victim = { username: `locked-${randomBytes(3).toString('hex')}`, password: newPassword() };
    await createAccount(t, { ...victim, role: 'resident', fhirUser: `Patient/${otherPatientId}`, identity: { system: 'urn:suhe:passport', value: 'E12345678' } });
    const { params } = authorizeParams();
    let genericMessage: string | undefined;
    for (let i = 0; i < LOCKOUT.attempts; i++) {
      const res = await submitLogin(params, victim.username, `${victim.password}-${i}`);
      expect(res.status).toBe(401);
      genericMessage = alertText(await res.text());
    }
    const locked = await submitLogin(params, victim.username, victim.password);
    expect(locked.status).toBe(401);
    expect(locked.headers.get('location')).toBeNull();
    expect(alertText(await locked.text())).toBe(genericMessage); // locked looks like any failure
  });

  it('sends the sign-in page with a Content-Security-Policy and X-Frame-Options DENY, never cached', async () => {
    const { params } = authorizeParams();
    const page = await oauthFetch(`${t.url}/oauth2/authorize?${params}`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).toMatch(/form-action 'self'/);
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).not.toMatch(/<script/i);
  });

  it('escapes what it shows: a client name and a state carrying <script>', async () => {
    const evilName = 'Evil <script>alert(1)</script> "app"';
    const res = await fetch(`${t.url}/oauth2/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token}` },
      body: JSON.stringify({ client_id: 'evil-app', name: evilName, kind: 'public', role: 'app', scope: APP_SCOPE, redirect_uris: [APP_REDIRECT] }),
    });
    expect(res.status).toBe(201);
    const evilState = '"><script>alert(2)</script>';
    const { params } = authorizeParams({ state: evilState }, 'evil-app');
    const page = await oauthFetch(`${t.url}/oauth2/authorize?${params}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('Evil &#60;script&#62;alert(1)&#60;/script&#62; &#34;app&#34;');
    expect(loginForm(html).hidden.state).toBe(evilState); // carried intact, as data
  });

  it('a practitioner gets no patient context and no patient/ scopes, only user/ ones', async () => {
    const doctor = { username: `doctor-${randomBytes(3).toString('hex')}`, password: newPassword() };
    await createAccount(t, { ...doctor, role: 'doctor', fhirUser: `Practitioner/${practitionerId}` });
    const token = await signIn(doctor.username, doctor.password, `${APP_SCOPE} user/*.rs`);
    expect(token.patient).toBeUndefined();
    const scopes = token.scope.split(' ');
    expect(scopes.filter((s) => s.startsWith('patient/'))).toEqual([]);
    expect(scopes).not.toContain('launch/patient');
    expect(scopes).toContain('user/*.rs');
    const claims = jwt.decode(token.access_token) as jwt.JwtPayload;
    expect(claims.patient).toBeUndefined();
    expect(claims.role).toBe('doctor');
    expect(claims.fhirUser).toBe(`Practitioner/${practitionerId}`);
    expect((jwt.decode(token.id_token!) as jwt.JwtPayload).fhirUser).toMatch(new RegExp(`(^|/)Practitioner/${practitionerId}$`));
    // Without a care relationship the practitioner sees no one's records.
    const read = await fetch(`${t.base}/Patient/${patientId}`, { headers: { authorization: `Bearer ${token.access_token}` } });
    expect([403, 404]).toContain(read.status);
  });

  // Last in the suite: if the limit is not the configured one, this drains the bucket.
  it('uses the configured auth.rateLimit for sign-in and token requests', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${t.url}/oauth2/token`, {
        method: 'POST', headers: FORM, body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', code_verifier: 'y', client_id: APP }).toString(),
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    // Regression: oauthRoutes() once hard-coded RateLimiter({capacity: 30, refillPerSecond: 1}) and ignored
    // config.auth.rateLimit, so the 31st request of a burst got 429 although this hub allows 1000.
    expect(statuses.filter((s) => s === 429).length).toBe(0);
    expect(statuses.every((s) => s === 400)).toBe(true); // invalid_grant for the made-up code, each time
  });
});
