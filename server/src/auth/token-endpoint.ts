// POST /oauth2/token: authorization_code (with PKCE), refresh_token (rotating) and
// client_credentials (client secret, or SMART Backend Services' private_key_jwt). Errors follow
// RFC 6749 §5.2; every token issued and every failure is audited.
import type { Request, Response } from 'express';
import { ClientAuthError, type Client } from './clients.js';
import { formatScopes, narrowScopes, parseScopes, type ParsedScopes } from './scopes.js';
import { pkceMatches, type AuthService, type HubUrls } from './service.js';
import type { NewAccessClaims } from './tokens.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

export function sendOAuthError(res: Response, err: OAuthError): void {
  if (err.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="suhe"');
  res.status(err.status).json({ error: err.error, error_description: err.message });
}

/** The form fields of a urlencoded POST (the OAuth endpoints take nothing else). */
export function formOf(req: Request): URLSearchParams {
  const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OAuthError(400, 'invalid_request', 'Send the request as application/x-www-form-urlencoded');
  }
  return new URLSearchParams(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
}

/** RFC 6749 §2.3.1 client_secret_basic: form-encoded id and secret, base64 in the header. */
export function basicCredentials(req: Request): { id: string; secret: string } | undefined {
  const header = req.get('authorization');
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** Who is calling: Basic credentials, a client assertion, or (public clients) a bare client_id. */
export async function authenticateClient(auth: AuthService, req: Request, form: URLSearchParams, urls: HubUrls): Promise<{ client: Client; method: string }> {
  const header = req.get('authorization');
  try {
    if (header?.startsWith('Basic ')) {
      const credentials = basicCredentials(req);
      if (!credentials) throw new ClientAuthError('malformed Basic credentials');
      return { client: await auth.clients.authenticateSecret(credentials.id, credentials.secret), method: 'client_secret_basic' };
    }
    const assertionType = form.get('client_assertion_type');
    if (assertionType !== null) {
      if (assertionType !== JWT_BEARER) throw new OAuthError(400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER}`);
      return { client: await auth.clients.authenticateAssertion(form.get('client_assertion') ?? '', urls.tokenUrl), method: 'private_key_jwt' };
    }
    const clientId = form.get('client_id');
    if (clientId && form.get('client_secret') !== null) {
      return { client: await auth.clients.authenticateSecret(clientId, form.get('client_secret')!), method: 'client_secret_post' };
    }
    const client = clientId ? await auth.clients.get(clientId) : undefined;
    if (!client || client.kind !== 'public') throw new ClientAuthError('client authentication is required');
    if (client.status !== 'active') throw new ClientAuthError(`client ${client.clientId} is suspended`);
    return { client, method: 'none' };
  } catch (err) {
    if (err instanceof ClientAuthError) throw new OAuthError(header ? 401 : 400, 'invalid_client', err.message);
    throw err;
  }
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
  patient?: string;
}

export async function handleTokenRequest(auth: AuthService, req: Request, urls: HubUrls): Promise<TokenResponse> {
  const form = formOf(req);
  const grant = form.get('grant_type');
  if (!grant) throw new OAuthError(400, 'invalid_request', 'grant_type is required');
  const { client } = grant === 'refresh_token' && !hasClientCredentials(req, form)
    ? await publicClientOfRefreshToken(auth, form)
    : await authenticateClient(auth, req, form, urls);
  switch (grant) {
    case 'client_credentials':
      return clientCredentials(auth, client, form, urls);
    case 'authorization_code':
      return authorizationCode(auth, client, form, urls);
    case 'refresh_token':
      return refresh(auth, client, form, urls);
    default:
      throw new OAuthError(400, 'unsupported_grant_type', `grant_type '${grant}' is not supported (authorization_code, refresh_token, client_credentials)`);
  }
}

function hasClientCredentials(req: Request, form: URLSearchParams): boolean {
  return Boolean(req.get('authorization') || form.get('client_assertion') || form.get('client_id'));
}

/**
 * A public client may refresh without naming itself (SMART's JavaScript client does not send
 * client_id then): the refresh token is bound to its client, which must be a public one.
 */
async function publicClientOfRefreshToken(auth: AuthService, form: URLSearchParams): Promise<{ client: Client }> {
  const row = await auth.findRefreshToken(form.get('refresh_token') ?? '');
  const client = row ? await auth.clients.get(row.client_id) : undefined;
  if (!client || client.kind !== 'public') throw new OAuthError(400, 'invalid_client', 'client authentication is required');
  if (client.status !== 'active') throw new OAuthError(400, 'invalid_client', `client ${client.clientId} is suspended`);
  return { client };
}

function clientCredentials(auth: AuthService, client: Client, form: URLSearchParams, urls: HubUrls): TokenResponse {
  if (client.kind === 'public') throw new OAuthError(400, 'unauthorized_client', 'a public client cannot use client_credentials');
  const scopes = grantable(form.get('scope') ?? client.scope, client.scope);
  if (!scopes.resources.some((s) => s.context === 'system')) throw new OAuthError(400, 'invalid_scope', `client_credentials grants system/ scopes; this client may have: ${client.scope}`);
  const claims: NewAccessClaims = { sub: client.clientId, client_id: client.clientId, scope: formatScopes(scopes), role: client.role, organization: client.organization };
  return issue(auth, claims, urls, auth.settings.backendTokenSeconds);
}

async function authorizationCode(auth: AuthService, client: Client, form: URLSearchParams, urls: HubUrls): Promise<TokenResponse> {
  const code = form.get('code');
  const verifier = form.get('code_verifier');
  if (!code || !verifier) throw new OAuthError(400, 'invalid_request', 'code and code_verifier are required');
  const row = await auth.redeemCode(code);
  if (!row) throw new OAuthError(400, 'invalid_grant', 'the code is unknown, expired or already used');
  if (row.client_id !== client.clientId) throw new OAuthError(400, 'invalid_grant', 'the code was issued to another client');
  if (row.redirect_uri !== form.get('redirect_uri')) throw new OAuthError(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
  if (!pkceMatches(verifier, row.code_challenge)) throw new OAuthError(400, 'invalid_grant', 'code_verifier does not match the code_challenge');
  const user = await auth.users.get(row.user_id);
  if (!user) throw new OAuthError(400, 'invalid_grant', 'the account no longer exists');
  const claims: NewAccessClaims = { sub: user.id, client_id: client.clientId, scope: row.scope, role: user.role, fhirUser: user.fhirUser, patient: row.patient ?? undefined };
  const response = issue(auth, claims, urls, auth.settings.accessTokenSeconds);
  const scopes = parseScopes(row.scope);
  if (scopes.other.has('openid') && (scopes.other.has('fhirUser') || scopes.other.has('profile'))) {
    response.id_token = auth.tokens.issueIdToken({ sub: user.id, fhirUser: `${urls.fhirBase}/${user.fhirUser}`, nonce: row.nonce ?? undefined }, urls.issuer, client.clientId, auth.settings.accessTokenSeconds);
  }
  if (scopes.other.has('offline_access') || scopes.other.has('online_access')) {
    response.refresh_token = await auth.createRefreshToken({ clientId: client.clientId, userId: user.id, scope: row.scope, patient: row.patient ?? undefined });
  }
  return response;
}

async function refresh(auth: AuthService, client: Client, form: URLSearchParams, urls: HubUrls): Promise<TokenResponse> {
  const token = form.get('refresh_token');
  if (!token) throw new OAuthError(400, 'invalid_request', 'refresh_token is required');
  const { row, problem } = await auth.useRefreshToken(token);
  if (!row) throw new OAuthError(400, 'invalid_grant', problem ?? 'invalid refresh token');
  if (row.client_id !== client.clientId) throw new OAuthError(400, 'invalid_grant', 'the refresh token was issued to another client');
  const scope = form.get('scope') ? formatScopes(grantable(form.get('scope')!, row.scope)) : row.scope;
  const user = row.user_id ? await auth.users.get(row.user_id) : undefined;
  if (!user) throw new OAuthError(400, 'invalid_grant', 'the account no longer exists');
  const claims: NewAccessClaims = { sub: user.id, client_id: client.clientId, scope, role: user.role, fhirUser: user.fhirUser, patient: row.patient ?? undefined };
  const response = issue(auth, claims, urls, auth.settings.accessTokenSeconds);
  response.refresh_token = await auth.createRefreshToken({ family: row.family, clientId: client.clientId, userId: user.id, scope, patient: row.patient ?? undefined });
  return response;
}

/** The requested scopes narrowed to those allowed; an empty result is invalid_scope. */
export function grantable(requested: string, allowed: string): ParsedScopes {
  const scopes = narrowScopes(parseScopes(requested), parseScopes(allowed));
  if (!scopes.resources.length && !scopes.other.size) throw new OAuthError(400, 'invalid_scope', `none of the requested scopes (${requested}) is allowed; allowed: ${allowed}`);
  return scopes;
}

function issue(auth: AuthService, claims: NewAccessClaims, urls: HubUrls, seconds: number): TokenResponse {
  const { token, claims: full } = auth.tokens.issueAccessToken(claims, urls.issuer, urls.fhirBase, seconds);
  auth.audit({
    action: 'token',
    outcome: 'success',
    client: { id: claims.client_id },
    user: claims.fhirUser ? { reference: claims.fhirUser, role: claims.role } : undefined,
    tokenId: full.jti,
    patients: claims.patient ? [claims.patient] : [],
  });
  const response: TokenResponse = { access_token: token, token_type: 'Bearer', expires_in: seconds, scope: claims.scope };
  if (claims.patient) response.patient = claims.patient;
  return response;
}
