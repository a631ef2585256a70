// The authorization server's HTTP surface: /oauth2/* and the discovery documents. Sign-in and
// token endpoints are rate limited per IP, the token endpoints per client and sign-in per
// username too, so guessing passwords or client secrets is slow on top of the account lock-out.
import { Router, type Request, type RequestHandler, type Response } from 'express';
import jwt from 'jsonwebtoken';
import type { InteractionContext } from '../fhir/interactions.js';
import { rawBody } from '../fhir/http/body.js';
import { RateLimiter, rateLimit } from '../http/rate-limit.js';
import { createAccount, jsonOf, publicView, registerClient } from './admin-endpoints.js';
import { handleLogin, showAuthorize } from './authorize-endpoint.js';
import type { AuthService, HubUrls } from './service.js';
import { authenticateClient, basicCredentials, formOf, handleTokenRequest, OAuthError, sendOAuthError } from './token-endpoint.js';

export const SMART_CAPABILITIES = [
  'launch-standalone', 'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric',
  'context-standalone-patient', 'permission-v2', 'permission-v1', 'permission-patient', 'permission-user',
  'permission-offline', 'sso-openid-connect', 'authorize-post',
];

export function smartConfiguration(urls: HubUrls): Record<string, unknown> {
  return {
    issuer: urls.issuer,
    jwks_uri: `${urls.issuer}/jwks`,
    authorization_endpoint: `${urls.issuer}/authorize`,
    token_endpoint: urls.tokenUrl,
    introspection_endpoint: `${urls.issuer}/introspect`,
    revocation_endpoint: `${urls.issuer}/revoke`,
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    scopes_supported: ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'online_access', 'patient/*.rs', 'user/*.cruds', 'system/*.cruds'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    capabilities: SMART_CAPABILITIES,
  };
}

export function openIdConfiguration(urls: HubUrls): Record<string, unknown> {
  return {
    issuer: urls.issuer,
    authorization_endpoint: `${urls.issuer}/authorize`,
    token_endpoint: urls.tokenUrl,
    jwks_uri: `${urls.issuer}/jwks`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'fhirUser', 'profile'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'fhirUser', 'nonce'],
  };
}

export interface OAuthRouteOptions {
  auth: AuthService;
  /** Sign-in and token requests per IP (burst, sustained per second); sign-in per username is a sixth of it. */
  rateLimit: { capacity: number; perSecond: number };
  /** FHIR context with full access, for admin actions that write resources (Organization). */
  adminFhir: (req: Request) => InteractionContext;
}

export function oauthRoutes({ auth, adminFhir, rateLimit: limits }: OAuthRouteOptions): Router {
  const router = Router();
  const perIp = new RateLimiter({ capacity: limits.capacity, refillPerSecond: limits.perSecond });
  const perUser = new RateLimiter({ capacity: Math.max(1, Math.ceil(limits.capacity / 6)), refillPerSecond: limits.perSecond / 6 });
  const oauthBody = (retry: number) => ({ error: 'slow_down', error_description: `Too many requests; retry in ${retry} s` });
  const perClient = new RateLimiter({ capacity: limits.capacity, refillPerSecond: limits.perSecond });
  const limitIp = rateLimit(perIp, (req) => req.ip, { body: oauthBody });
  // Per client too, so one institution's misbehaving system cannot starve others behind the same NAT.
  const limitClient = rateLimit(perClient, (req) => clientIdHint(req), { body: oauthBody });
  const limitUser: RequestHandler = rateLimit(perUser, (req) => (Buffer.isBuffer(req.body) ? new URLSearchParams(req.body.toString('utf8')).get('username') ?? undefined : undefined), { body: oauthBody });
  const oauth = (handler: (req: Request, res: Response) => Promise<unknown>): RequestHandler => async (req, res) => {
    try {
      await handler(req, res);
    } catch (err) {
      if (err instanceof OAuthError) return sendOAuthError(res, err);
      throw err;
    }
  };

  router.use(rawBody(64 * 1024));
  // PostgreSQL's text cannot hold a NUL, and no OAuth parameter, credential or account field does:
  // refused before any lookup (a client_id of 'a%00b' was a 500).
  router.use((req, res, next) => {
    const body = Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.alloc(0);
    const basic = /^Basic\s+(\S+)/i.exec(req.get('authorization') ?? '')?.[1];
    const texts = [req.originalUrl, body.toString('latin1'), basic ? Buffer.from(basic, 'base64').toString('latin1') : ''];
    if (body.includes(0) || texts.some((text) => /%00|\\u0000|\u0000/i.test(text))) {
      return sendOAuthError(res, new OAuthError(400, 'invalid_request', 'The request holds a NUL character, which no OAuth parameter may contain'));
    }
    next();
  });
  router.get('/jwks', (_req, res) => void res.json(auth.keys.jwks()));
  router.get('/.well-known/openid-configuration', (req, res) => void res.json(openIdConfiguration(auth.urls(req))));
  router.get('/authorize', limitIp, oauth((req, res) => showAuthorize(auth, req, res, new URLSearchParams(req.originalUrl.split('?')[1] ?? ''), auth.urls(req))));
  router.post('/authorize', limitIp, oauth((req, res) => showAuthorize(auth, req, res, formOf(req), auth.urls(req))));
  router.post('/login', limitIp, limitUser, oauth((req, res) => handleLogin(auth, req, res, formOf(req), auth.urls(req))));
  router.post('/token', limitIp, limitClient, oauth(async (req, res) => {
    try {
      res.json(await handleTokenRequest(auth, req, auth.urls(req)));
    } catch (err) {
      if (err instanceof OAuthError) auth.audit({ action: 'token', outcome: 'minor-failure', outcomeDescription: `${err.error}: ${err.message}`, client: { id: clientIdHint(req), address: req.ip } });
      throw err;
    }
  }));
  router.post('/introspect', limitIp, limitClient, oauth(async (req, res) => {
    const form = formOf(req);
    const urls = auth.urls(req);
    await authenticateClient(auth, req, form, urls); // the endpoint must not be an open token oracle
    res.json(await introspect(auth, form.get('token') ?? '', urls));
  }));
  router.post('/revoke', limitIp, limitClient, oauth(async (req, res) => {
    const form = formOf(req);
    const urls = auth.urls(req);
    const { client } = await authenticateClient(auth, req, form, urls);
    await revoke(auth, form.get('token') ?? '', client.clientId, urls);
    res.status(200).end();
  }));

  // Administration: admin tokens only.
  const admin = adminOnly(auth);
  router.get('/clients', admin, oauth(async (_req, res) => void res.json((await auth.clients.list()).map(publicView))));
  router.post('/clients', admin, oauth(async (req, res) => void res.status(201).json(await registerClient(auth, adminFhir(req), jsonOf(req)))));
  router.post('/clients/:id/:action', admin, oauth(async (req, res) => {
    const action = String(req.params.action);
    if (action !== '$suspend' && action !== '$activate') throw new OAuthError(404, 'invalid_request', 'use $suspend or $activate');
    const found = await auth.clients.setStatus(String(req.params.id), action === '$suspend' ? 'suspended' : 'active');
    if (!found) throw new OAuthError(404, 'invalid_request', `no client ${req.params.id}`);
    res.json(publicView((await auth.clients.get(String(req.params.id)))!));
  }));
  router.post('/users', admin, oauth(async (req, res) => void res.status(201).json(await createAccount(auth, adminFhir(req), jsonOf(req)))));
  return router;
}

/** Discovery documents at the server root and under the FHIR base (where SMART clients look). */
export function discoveryRoutes(auth: AuthService): Router {
  const router = Router();
  router.get(['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration'], (req, res) => void res.json(smartConfiguration(auth.urls(req))));
  router.get('/.well-known/openid-configuration', (req, res) => void res.json(openIdConfiguration(auth.urls(req))));
  return router;
}

function adminOnly(auth: AuthService): RequestHandler {
  return async (req, res, next) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const urls = auth.urls(req);
    const { claims } = token ? await auth.tokens.verify(token, urls.issuer, urls.fhirBase) : { claims: undefined };
    if (!claims) return sendOAuthError(res, new OAuthError(401, 'invalid_token', 'an administrator access token is required'));
    if (claims.role !== 'admin') return sendOAuthError(res, new OAuthError(403, 'insufficient_scope', 'only administrators may do this'));
    next();
  };
}

async function introspect(auth: AuthService, token: string, urls: HubUrls): Promise<Record<string, unknown>> {
  if (!token) throw new OAuthError(400, 'invalid_request', 'token is required');
  const { claims } = await auth.tokens.verify(token, urls.issuer, urls.fhirBase);
  if (claims) {
    const { iss, aud, sub, client_id, scope, exp, iat, jti, patient, fhirUser } = claims;
    return { active: true, token_type: 'Bearer', iss, aud, sub, client_id, scope, exp, iat, jti, patient, fhirUser };
  }
  const refresh = await auth.findRefreshToken(token);
  if (refresh?.active) return { active: true, token_type: 'refresh_token', client_id: refresh.client_id, scope: refresh.scope, exp: refresh.expires, patient: refresh.patient ?? undefined };
  return { active: false };
}

/** RFC 7009: always 200; a token of another client, or an unknown one, is left alone silently. */
async function revoke(auth: AuthService, token: string, clientId: string, urls: HubUrls): Promise<void> {
  if (!token) throw new OAuthError(400, 'invalid_request', 'token is required');
  const { claims } = await auth.tokens.verify(token, urls.issuer, urls.fhirBase);
  if (claims) {
    if (claims.client_id === clientId) await auth.tokens.revoke(claims.jti, claims.exp);
    return;
  }
  const refresh = await auth.findRefreshToken(token);
  if (refresh && refresh.client_id === clientId) await auth.revokeRefreshFamily(refresh.family);
}

/** The client a token request claims to come from (unverified: for rate limits and audit only). */
function clientIdHint(req: Request): string {
  const form = Buffer.isBuffer(req.body) ? new URLSearchParams(req.body.toString('utf8')) : new URLSearchParams();
  const basic = basicCredentials(req)?.id;
  const assertion = form.get('client_assertion');
  const issuer = assertion ? (jwt.decode(assertion) as { iss?: unknown } | null)?.iss : undefined;
  return String(basic ?? form.get('client_id') ?? (typeof issuer === 'string' ? issuer : 'unknown')).slice(0, 64);
}
