// Tokens for tests, obtained the way any script would: client_credentials with the bootstrap
// admin client that the test hub is started with (SUHE_BOOTSTRAP_CLIENT_ID / _SECRET).
import { randomBytes } from 'node:crypto';

export interface BootstrapClient {
  clientId: string;
  secret: string;
}

export function newBootstrapClient(): BootstrapClient {
  return { clientId: `test-admin-${randomBytes(4).toString('hex')}`, secret: randomBytes(24).toString('base64url') };
}

/** An access token from client_credentials (client_secret_basic). */
export async function clientCredentialsToken(origin: string, client: BootstrapClient, scope = 'system/*.cruds'): Promise<string> {
  const res = await fetch(`${origin}/oauth2/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** fetch with `Authorization: Bearer <token>` unless the caller set an Authorization header. */
export function fetchWithToken(token: () => string | Promise<string>): typeof fetch {
  return async (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${await token()}`);
    return fetch(input, { ...init, headers });
  };
}
