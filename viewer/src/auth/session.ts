// Signing in to the hub as its built-in public client `suhe-viewer`: OAuth 2.0 authorization
// code with PKCE (S256) and a state value, the redirect URI being this viewer's own address
// (the only one the hub accepts for this client). Tokens are refreshed shortly before they
// expire, one refresh at a time, and kept only in this tab (token-store.ts).
import type { HubLocation } from '../hub-location.js';
import { randomToken, s256Challenge } from './pkce.js';
import { tokenStore, type StoredTokens } from './token-store.js';

export const CLIENT_ID = 'suhe-viewer';
// What the hub's client registration allows (server/src/auth/built-in-clients.ts VIEWER_SCOPE).
export const SCOPE = 'openid fhirUser online_access user/*.rs user/DiagnosticReport.cu user/ImagingStudy.u user/Observation.cu user/Appointment.cu user/Encounter.cu user/Communication.c user/Task.cu user/MedicationRequest.cud user/Provenance.c user/Contract.c user/ServiceRequest.cu user/Procedure.c user/Flag.cu';
// Refresh this long before expiry, so a request never leaves with a token about to lapse.
const REFRESH_MARGIN_MS = 60_000;
const TOKEN_REQUEST_TIMEOUT_MS = 30_000;

/** Sign-in could not be completed; `reason` is shown to the user. */
export class SignInError extends Error {}
/** No valid token and none can be had without signing in again. */
export class SessionExpired extends Error {}

interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  id_token?: string;
}

export class Session {
  private refreshing: Promise<StoredTokens> | undefined;

  constructor(private readonly hub: HubLocation) {}

  isSignedIn(): boolean {
    return tokenStore.tokens() !== undefined;
  }

  fhirUser(): string | undefined {
    return tokenStore.tokens()?.fhirUser;
  }

  /** The account's role (resident, doctor, pharmacist, …) from the access token, for choosing pages only. */
  accountRole(): string | undefined {
    const token = tokenStore.tokens()?.accessToken;
    if (!token) return undefined;
    try {
      const role = (JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { role?: unknown }).role;
      return typeof role === 'string' ? role : undefined;
    } catch {
      return undefined;
    }
  }

  /** Leaves for the hub's sign-in page; comes back to `returnTo` (a #/ route) afterwards. */
  async signIn(returnTo: string): Promise<void> {
    const state = randomToken(16);
    const verifier = randomToken(48);
    tokenStore.savePending({ state, verifier, returnTo });
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: this.hub.viewerUrl,
      scope: SCOPE,
      state,
      aud: this.hub.fhirBase,
      code_challenge: await s256Challenge(verifier),
      code_challenge_method: 'S256',
    });
    location.assign(`${this.hub.authorizeUrl}?${params}`);
  }

  /**
   * When this page load is the return from the sign-in page: checks the state against the one
   * this tab sent (anything else is refused: a forged or replayed response), redeems the code,
   * and cleans the address bar. Undefined when the address carries no sign-in response.
   */
  async completeSignIn(href: string): Promise<{ returnTo: string } | undefined> {
    const url = new URL(href);
    const code = url.searchParams.get('code');
    const error = url.searchParams.get('error');
    if (!code && !error) return undefined;
    const pending = tokenStore.pending();
    tokenStore.clearPending();
    const returnTo = pending?.returnTo ?? '#/';
    // The code must not linger in the address bar or the history.
    history.replaceState(null, '', `${this.hub.viewerUrl}${returnTo}`);
    if (!pending || url.searchParams.get('state') !== pending.state) throw new SignInError('state');
    if (error) throw new SignInError(url.searchParams.get('error_description') ?? error);
    const response = await this.tokenRequest({
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: this.hub.viewerUrl,
      code_verifier: pending.verifier,
      client_id: CLIENT_ID,
    });
    this.store(response);
    return { returnTo };
  }

  /** A current access token, refreshed when close to expiry. */
  async accessToken(): Promise<string> {
    const tokens = tokenStore.tokens();
    if (!tokens) throw new SessionExpired('not signed in');
    if (tokens.expiresAt - Date.now() > REFRESH_MARGIN_MS) return tokens.accessToken;
    return (await this.refresh()).accessToken;
  }

  /** After a 401: the token was revoked or the hub restarted with new keys; try one refresh. */
  async renewAfterRejection(): Promise<string> {
    return (await this.refresh()).accessToken;
  }

  /** Revokes the refresh token (best effort) and forgets everything this tab held. */
  async signOut(): Promise<void> {
    const tokens = tokenStore.tokens();
    tokenStore.clearTokens();
    if (tokens?.refreshToken) {
      await fetch(this.hub.revokeUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.refreshToken, client_id: CLIENT_ID }),
      }).catch(() => undefined);
    }
  }

  private refresh(): Promise<StoredTokens> {
    this.refreshing ??= (async () => {
      try {
        const refreshToken = tokenStore.tokens()?.refreshToken;
        if (!refreshToken) throw new SessionExpired('no refresh token');
        const response = await this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID }).catch((err: Error) => {
          throw new SessionExpired(err.message);
        });
        return this.store(response);
      } catch (err) {
        tokenStore.clearTokens();
        throw err;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async tokenRequest(form: Record<string, string>): Promise<TokenResponse> {
    const res = await fetch(this.hub.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
    });
    const body = (await res.json().catch(() => ({}))) as Partial<TokenResponse> & { error?: string; error_description?: string };
    if (!res.ok || !body.access_token) throw new SignInError(body.error_description ?? body.error ?? `HTTP ${res.status}`);
    return body as TokenResponse;
  }

  private store(response: TokenResponse): StoredTokens {
    const tokens: StoredTokens = {
      accessToken: response.access_token,
      expiresAt: Date.now() + response.expires_in * 1000,
      refreshToken: response.refresh_token ?? tokenStore.tokens()?.refreshToken,
      fhirUser: fhirUserOf(response.id_token) ?? tokenStore.tokens()?.fhirUser,
    };
    tokenStore.saveTokens(tokens);
    return tokens;
  }
}

/**
 * The fhirUser claim of the ID token as a relative reference (Practitioner/123), for display
 * only: the hub checks every request itself. The claim is an absolute URL under the FHIR base.
 */
function fhirUserOf(idToken: string | undefined): string | undefined {
  if (!idToken) return undefined;
  try {
    const payload = JSON.parse(atob(idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { fhirUser?: unknown };
    if (typeof payload.fhirUser !== 'string') return undefined;
    return /(?:^|\/)([A-Z][A-Za-z]+\/[A-Za-z0-9.-]{1,64})$/.exec(payload.fhirUser)?.[1];
  } catch {
    return undefined;
  }
}
