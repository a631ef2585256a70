// The built-in viewer client `suhe-viewer` and its one redirect rule, over real HTTP on
// 127.0.0.1, on PGlite and on PostgreSQL. The viewer is served by the hub, so its redirect URI is
// the hub's own origin + /viewer/ — computed per request (or from SUHE_PUBLIC_BASE_URL), compared
// exactly. A foreign origin, another port or host name of the same machine, another path, a
// query: all refused with the error page and never redirected to. The client cannot be
// re-registered through the admin API, and an administrator can suspend it.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { availableBackends } from '../helpers/parts.js';
import type { TestHub } from '../helpers/hub.js';
import { createAccount, newPassword, pkcePair } from '../helpers/people.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('viewer sign-in');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const ROOMY_LIMIT = { auth: { rateLimit: { capacity: 1000, perSecond: 100 } } };
const VIEWER = 'suhe-viewer';
const SCOPE = 'openid fhirUser online_access user/*.rs user/DiagnosticReport.cu user/ImagingStudy.u user/Observation.cu user/Appointment.cu user/Encounter.cu user/Communication.c user/Task.cu user/MedicationRequest.cud user/Provenance.c user/Contract.c user/ServiceRequest.cu user/Procedure.c user/Flag.cu';

function authorizeParams(t: TestHub, overrides: Record<string, string | undefined> = {}) {
  const { challenge, verifier } = pkcePair();
  const state = randomBytes(12).toString('hex');
  const all: Record<string, string | undefined> = {
    response_type: 'code', client_id: VIEWER, redirect_uri: `${t.url}/viewer/`, scope: SCOPE, state, aud: t.base,
    code_challenge: challenge, code_challenge_method: 'S256', ...overrides,
  };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(all)) if (v !== undefined) params.set(k, v);
  return { params, verifier, state };
}

/** The authorize page and the sign-in POST for these parameters: both must refuse alike. */
async function bothSteps(t: TestHub, params: URLSearchParams, credentials: { username: string; password: string }): Promise<Response[]> {
  return [
    await fetch(`${t.url}/oauth2/authorize?${params}`, { redirect: 'manual' }),
    await fetch(`${t.url}/oauth2/login`, { method: 'POST', redirect: 'manual', headers: FORM, body: new URLSearchParams({ ...Object.fromEntries(params), ...credentials }).toString() }),
  ];
}

async function expectRefusedWithoutRedirect(res: Response): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  const html = await res.text();
  expect(html).toMatch(/redirect_uri/);
  expect(html).not.toMatch(/<form/);
}

describe.each(backends)('the viewer client on %s', (backend) => {
  const t = useTestHub(backend, ROOMY_LIMIT);
  const doctor = { username: `viewer-dr-${randomBytes(3).toString('hex')}`, password: newPassword() };

  beforeAll(async () => {
    const res = await t.fetch(`${t.base}/Practitioner`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Practitioner', name: [{ family: '阅片' }] }) });
    const { id } = (await res.json()) as { id: string };
    await createAccount(t, { ...doctor, role: 'doctor', fhirUser: `Practitioner/${id}` });
  });

  it('is registered by the hub itself: public, read-only scopes, no stored redirect URI', async () => {
    const clients = (await (await t.fetch(`${t.url}/oauth2/clients`)).json()) as Record<string, unknown>[];
    const viewer = clients.find((c) => c.client_id === VIEWER);
    expect(viewer).toMatchObject({ kind: 'public', role: 'app', scope: SCOPE, status: 'active' });
    expect(viewer?.redirect_uris ?? []).toEqual([]);
  });

  it("signs in with the hub's own /viewer/ as redirect URI, PKCE and state, and gets read-only tokens", async () => {
    const { params, verifier, state } = authorizeParams(t);
    const page = await fetch(`${t.url}/oauth2/authorize?${params}`, { redirect: 'manual' });
    expect(page.status).toBe(200);
    // The page may post only to the hub, and the redirect that follows goes to the hub's origin.
    expect(page.headers.get('content-security-policy')).toMatch(new RegExp(`form-action 'self' ${t.url.replace(/[.]/g, '\\.')}(;|$)`));
    const login = await fetch(`${t.url}/oauth2/login`, { method: 'POST', redirect: 'manual', headers: FORM, body: new URLSearchParams({ ...Object.fromEntries(params), ...doctor }).toString() });
    expect(login.status).toBe(302);
    const back = new URL(login.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(`${t.url}/viewer/`);
    expect(back.searchParams.get('state')).toBe(state);
    const code = back.searchParams.get('code')!;
    const token = await fetch(`${t.url}/oauth2/token`, {
      method: 'POST', headers: FORM,
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: `${t.url}/viewer/`, client_id: VIEWER }).toString(),
    });
    const body = (await token.json()) as { access_token?: string; scope?: string; refresh_token?: string };
    expect(token.status).toBe(200);
    expect(body.scope?.split(' ').sort()).toEqual(SCOPE.split(' ').sort());
    expect(body.refresh_token).toBeDefined();
    expect((await fetch(`${t.url}/dicomweb/studies`, { headers: { authorization: `Bearer ${body.access_token}` } })).status).toBe(200);
    // Read-only: no writes, whatever the doctor's role would allow otherwise.
    const write = await fetch(`${t.base}/Observation`, {
      method: 'POST', headers: { authorization: `Bearer ${body.access_token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'x' } }),
    });
    expect(write.status).toBe(403);
  });

  it.each([
    ['a foreign origin', 'https://attacker.example/viewer/'],
    ['a foreign origin over plain HTTP', 'http://attacker.example/viewer/'],
    ['another port of the same host', 'http://127.0.0.1:1/viewer/'],
    ['another name for the same machine', 'LOCALHOST'],
    ['another path on the hub', 'PATH:/viewer/callback'],
    ['the viewer path without its slash', 'PATH:/viewer'],
    ['the viewer with a query', 'PATH:/viewer/?next=https://attacker.example'],
    ['the viewer with a fragment', 'PATH:/viewer/#x'],
    ['a path that only starts like the viewer', 'PATH:/viewer/../oauth2/jwks'],
  ])('refuses %s as redirect URI, on the page and on the sign-in POST, and never redirects there', async (_name, given) => {
    const redirect = given === 'LOCALHOST' ? `${t.url.replace('127.0.0.1', 'localhost')}/viewer/` : given.startsWith('PATH:') ? `${t.url}${given.slice(5)}` : given;
    const { params } = authorizeParams(t, { redirect_uri: redirect });
    for (const res of await bothSteps(t, params, doctor)) await expectRefusedWithoutRedirect(res);
  });

  it('refuses a token request whose redirect URI differs from the one the code was issued for', async () => {
    const { params, verifier } = authorizeParams(t);
    const login = await fetch(`${t.url}/oauth2/login`, { method: 'POST', redirect: 'manual', headers: FORM, body: new URLSearchParams({ ...Object.fromEntries(params), ...doctor }).toString() });
    const code = new URL(login.headers.get('location')!).searchParams.get('code')!;
    const token = await fetch(`${t.url}/oauth2/token`, {
      method: 'POST', headers: FORM,
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://attacker.example/viewer/', client_id: VIEWER }).toString(),
    });
    expect(token.status).toBe(400);
    expect(((await token.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('still demands PKCE S256 and state: errors go back to the viewer only, without a code', async () => {
    for (const overrides of [{ code_challenge: undefined, code_challenge_method: undefined }, { code_challenge_method: 'plain' }, { state: undefined }]) {
      const { params } = authorizeParams(t, overrides);
      const res = await fetch(`${t.url}/oauth2/authorize?${params}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location')!);
      expect(`${back.origin}${back.pathname}`).toBe(`${t.url}/viewer/`);
      expect(back.searchParams.get('error')).toBe('invalid_request');
      expect(back.searchParams.get('code')).toBeNull();
    }
  });

  it('cannot be registered or overwritten through the admin API', async () => {
    const res = await t.fetch(`${t.url}/oauth2/clients`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: VIEWER, name: 'Impostor', kind: 'public', role: 'app', scope: 'user/*.cruds', redirect_uris: ['https://attacker.example/viewer/'] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(/built into the hub/);
    const { params } = authorizeParams(t, { redirect_uri: 'https://attacker.example/viewer/' });
    await expectRefusedWithoutRedirect(await fetch(`${t.url}/oauth2/authorize?${params}`, { redirect: 'manual' }));
  });

  it('can be suspended by an administrator, which stops every sign-in through it', async () => {
    expect((await t.fetch(`${t.url}/oauth2/clients/${VIEWER}/$suspend`, { method: 'POST' })).status).toBe(200);
    const { params } = authorizeParams(t);
    await expectRefusedWithoutRedirect(await fetch(`${t.url}/oauth2/authorize?${params}`, { redirect: 'manual' }));
    expect((await t.fetch(`${t.url}/oauth2/clients/${VIEWER}/$activate`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${t.url}/oauth2/authorize?${authorizeParams(t).params}`, { redirect: 'manual' })).status).toBe(200);
  });
});

describe.each(backends)('the viewer client behind a public base URL on %s', (backend) => {
  const PUBLIC = 'https://pacs.example.cn';
  const t = useTestHub(backend, { ...ROOMY_LIMIT, publicBaseUrl: `${PUBLIC}/fhir` });

  it('accepts only the configured origin + /viewer/, whatever address the request came in on', async () => {
    const ok = authorizeParams(t, { redirect_uri: `${PUBLIC}/viewer/`, aud: `${PUBLIC}/fhir` });
    expect((await fetch(`${t.url}/oauth2/authorize?${ok.params}`, { redirect: 'manual' })).status).toBe(200);
    for (const redirect of [`${t.url}/viewer/`, 'http://pacs.example.cn/viewer/', 'https://pacs.example.cn.attacker.example/viewer/']) {
      const { params } = authorizeParams(t, { redirect_uri: redirect, aud: `${PUBLIC}/fhir` });
      await expectRefusedWithoutRedirect(await fetch(`${t.url}/oauth2/authorize?${params}`, { redirect: 'manual' }));
    }
  });
});
