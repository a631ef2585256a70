// GET|POST /oauth2/authorize and POST /oauth2/login: the SMART App Launch authorization-code flow
// with PKCE (S256 only). A bad client_id or redirect_uri gets an error page (never a redirect to
// an unverified URI); other errors go back to the client's redirect_uri as RFC 6749 §4.1.2.1
// says. The person signs in on our own page; on success the client gets a one-time code.
import type { Request, Response } from 'express';
import { allowedRedirectUris } from './built-in-clients.js';
import type { Client } from './clients.js';
import { pageCsp, renderErrorPage, renderLoginPage } from './login-page.js';
import { formatScopes, narrowScopes, parseScopes } from './scopes.js';
import type { AuthService, HubUrls } from './service.js';
import type { UserAccount } from './users.js';

const CARRIED = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'aud', 'code_challenge', 'code_challenge_method', 'nonce'] as const;
const LOGIN_FAILED = '用户名或密码错误，或账户已被暂时锁定。Wrong username or password, or the account is temporarily locked.';

interface AuthorizeRequest {
  client: Client;
  redirectUri: string;
  params: Record<string, string>;
}

/** Shows the sign-in page for a valid request; answers an invalid one as the spec requires. */
export async function showAuthorize(auth: AuthService, req: Request, res: Response, params: URLSearchParams, urls: HubUrls): Promise<void> {
  const checked = await checkRequest(auth, res, params, urls);
  if (!checked) return;
  sendLoginPage(res, checked);
}

/** The sign-in form's POST: authenticates, then redirects back with a code (or shows the form again). */
export async function handleLogin(auth: AuthService, req: Request, res: Response, form: URLSearchParams, urls: HubUrls): Promise<void> {
  const checked = await checkRequest(auth, res, form, urls);
  if (!checked) return;
  const username = form.get('username') ?? '';
  const { user, reason } = await auth.users.authenticate(username, form.get('password') ?? '');
  const address = req.ip;
  if (!user) {
    auth.audit({ action: 'login', outcome: 'minor-failure', outcomeDescription: reason, client: { id: checked.client.clientId, address }, user: { display: username } });
    res.status(401);
    sendLoginPage(res, checked, LOGIN_FAILED, username);
    return;
  }
  auth.audit({ action: 'login', outcome: 'success', client: { id: checked.client.clientId, address }, user: { reference: user.fhirUser, role: user.role } });
  const { scope, patient } = scopesFor(user, checked.params.scope ?? '', checked.client.scope);
  const code = await auth.createCode({
    clientId: checked.client.clientId, userId: user.id, scope, redirectUri: checked.redirectUri,
    codeChallenge: checked.params.code_challenge, patient, nonce: checked.params.nonce,
  });
  redirectBack(res, checked.redirectUri, { code, state: checked.params.state });
}

async function checkRequest(auth: AuthService, res: Response, params: URLSearchParams, urls: HubUrls): Promise<AuthorizeRequest | undefined> {
  const clientId = params.get('client_id') ?? '';
  const client = clientId ? await auth.clients.get(clientId) : undefined;
  const redirectUri = params.get('redirect_uri') ?? '';
  if (!client || client.status !== 'active' || !allowedRedirectUris(client, urls).includes(redirectUri)) {
    res.status(400).type('html').send(renderErrorPage('无法登录 Cannot sign in', 'The application is unknown, suspended, or sent a redirect_uri it has not registered. Contact the application vendor.'));
    return undefined;
  }
  const state = params.get('state') ?? undefined;
  const fail = (error: string, description: string) => {
    redirectBack(res, redirectUri, { error, error_description: description, state });
    return undefined;
  };
  if (params.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be code');
  if (!params.get('code_challenge') || params.get('code_challenge_method') !== 'S256') {
    return fail('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256');
  }
  if ((params.get('aud') ?? '').replace(/\/$/, '') !== urls.fhirBase) return fail('invalid_request', `aud must be this FHIR server's base URL, ${urls.fhirBase}`);
  if (!state) return fail('invalid_request', 'state is required');
  const carried: Record<string, string> = {};
  for (const name of CARRIED) {
    const value = params.get(name);
    if (value !== null) carried[name] = value;
  }
  return { client, redirectUri, params: carried };
}

function sendLoginPage(res: Response, request: AuthorizeRequest, error?: string, username?: string): void {
  res.setHeader('Content-Security-Policy', pageCsp(request.redirectUri));
  res.type('html').send(
    renderLoginPage({
      action: '/oauth2/login',
      hidden: request.params,
      clientName: request.client.name,
      scopes: (request.params.scope ?? '').split(/\s+/).filter(Boolean),
      error,
      username,
    }),
  );
}

/**
 * What the person gets: the requested scopes narrowed to the client's registration; patient/
 * scopes and launch/patient only for a resident, whose context is their own Patient (a
 * clinician's patient picker is not built yet, so clinicians work with user/ scopes).
 */
function scopesFor(user: UserAccount, requested: string, allowed: string): { scope: string; patient?: string } {
  const scopes = narrowScopes(parseScopes(requested), parseScopes(allowed));
  const ownPatient = user.role === 'resident' && user.fhirUser.startsWith('Patient/') ? user.fhirUser.slice('Patient/'.length) : undefined;
  if (!ownPatient) {
    scopes.resources = scopes.resources.filter((s) => s.context !== 'patient');
    scopes.other.delete('launch/patient');
  }
  // A resident's token always carries their own Patient: it is the only compartment they may see.
  return { scope: formatScopes(scopes), patient: ownPatient };
}

function redirectBack(res: Response, redirectUri: string, params: Record<string, string | undefined>): void {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  res.redirect(302, url.toString());
}
