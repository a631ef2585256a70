// People and apps for security tests, set up through the hub's own admin API, and sign-in through
// the real authorization-code flow with PKCE, driven with fetch as a browser would.
import { createHash, randomBytes } from 'node:crypto';

export interface HubHandle {
  url: string;
  base: string;
  token: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
  patient?: string;
}

async function admin(hub: HubHandle, path: string, body: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${hub.url}/oauth2/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.token}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, any>;
  if (res.status !== 201) throw new Error(`POST /oauth2/${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A strong random password that passes the account policy. */
export function newPassword(): string {
  return `Pw-${randomBytes(12).toString('base64url')}9a`;
}

export async function createAccount(
  hub: HubHandle,
  account: { username: string; password: string; role: string; fhirUser: string; identity?: { system: string; value: string } },
): Promise<Record<string, any>> {
  return admin(hub, 'users', account);
}

export const APP_REDIRECT = 'http://127.0.0.1:9/callback'; // never contacted: the test reads the Location header

/** A public SMART app (PKCE, no secret) allowed the given scopes. */
export async function registerPublicApp(hub: HubHandle, clientId: string, scope = 'openid fhirUser launch/patient offline_access patient/*.cruds user/*.cruds'): Promise<void> {
  await admin(hub, 'clients', { client_id: clientId, name: `Test app ${clientId}`, kind: 'public', role: 'app', scope, redirect_uris: [APP_REDIRECT] });
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The authorize → sign-in → code → token flow; throws with what the hub said at the step that failed. */
export async function signIn(hub: HubHandle, input: { clientId: string; username: string; password: string; scope: string }): Promise<TokenResponse> {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(16).toString('hex');
  const params = new URLSearchParams({
    response_type: 'code', client_id: input.clientId, redirect_uri: APP_REDIRECT, scope: input.scope, state, aud: hub.base,
    code_challenge: challenge, code_challenge_method: 'S256',
  });
  const page = await fetch(`${hub.url}/oauth2/authorize?${params}`);
  if (page.status !== 200) throw new Error(`authorize → ${page.status}: ${await page.text()}`);
  const login = await fetch(`${hub.url}/oauth2/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...Object.fromEntries(params), username: input.username, password: input.password }).toString(),
  });
  const location = login.headers.get('location');
  if (login.status !== 302 || !location) throw new Error(`login → ${login.status}: ${(await login.text()).slice(0, 300)}`);
  const back = new URL(location);
  if (back.searchParams.get('state') !== state) throw new Error(`state mismatch in ${location}`);
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code: ${location}`);
  const token = await fetch(`${hub.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, code_verifier: verifier, client_id: input.clientId }).toString(),
  });
  const body = (await token.json()) as TokenResponse;
  if (token.status !== 200) throw new Error(`token → ${token.status}: ${JSON.stringify(body)}`);
  return body;
}
