// The authorization server's parts in one place, so routes and the CLI share them: signing keys,
// tokens, clients, user accounts, the one-time codes and rotating refresh tokens, and the audit
// of every sign-in and token.
import { createHash, randomBytes } from 'node:crypto';
import type { Request } from 'express';
import type { AuthEvent } from '../audit/trail.js';
import type { Database } from '../db/database.js';
import { VIEWER_CLIENT } from './built-in-clients.js';
import { ClientRegistry } from './clients.js';
import type { ScryptParams } from './passwords.js';
import { SigningKeys } from './keys.js';
import { TokenService } from './tokens.js';
import { UserAccounts } from './users.js';

export interface AuthSettings {
  /** Access tokens for people and apps. */
  accessTokenSeconds: number;
  /** Access tokens from client_credentials (SMART Backend Services: ≤ 5 minutes recommended). */
  backendTokenSeconds: number;
  refreshTokenDays: number;
  codeSeconds: number;
  publicBaseUrl?: string;
  /** scrypt cost of new hashes; older, cheaper hashes are upgraded at the next good sign-in. */
  passwordHashing?: ScryptParams;
}

export const DEFAULT_AUTH_SETTINGS: AuthSettings = { accessTokenSeconds: 900, backendTokenSeconds: 300, refreshTokenDays: 30, codeSeconds: 60 };

export interface HubUrls {
  origin: string;
  fhirBase: string;
  issuer: string;
  tokenUrl: string;
}

export class AuthService {
  readonly keys: SigningKeys;
  readonly tokens: TokenService;
  readonly clients: ClientRegistry;
  readonly users: UserAccounts;

  constructor(
    readonly db: Database,
    readonly settings: AuthSettings,
    readonly audit: (event: AuthEvent) => void,
  ) {
    this.keys = new SigningKeys(db, Math.max(settings.accessTokenSeconds, settings.backendTokenSeconds));
    this.tokens = new TokenService(db, this.keys);
    this.clients = new ClientRegistry(db, settings.passwordHashing);
    this.users = new UserAccounts(db, settings.passwordHashing);
  }

  async start(bootstrap?: { clientId: string; secret: string }): Promise<void> {
    await this.keys.load();
    // The hub's own viewer, refreshed at every start (its status is kept: an admin may suspend it).
    await this.clients.register(VIEWER_CLIENT);
    if (bootstrap) {
      await this.clients.register({
        clientId: bootstrap.clientId,
        name: 'Bootstrap administrator',
        kind: 'confidential',
        role: 'admin',
        redirectUris: [],
        scope: 'system/*.cruds',
        secret: bootstrap.secret,
      });
    }
  }

  /** The hub's URLs as this request sees them (or as configured behind a proxy). */
  urls(req: Request): HubUrls {
    const fhirBase = (this.settings.publicBaseUrl ?? `${req.protocol}://${req.get('host')}/fhir`).replace(/\/$/, '');
    const origin = fhirBase.replace(/\/fhir$/, '');
    return { origin, fhirBase, issuer: `${origin}/oauth2`, tokenUrl: `${origin}/oauth2/token` };
  }

  /** A one-time authorization code; only its hash is stored. */
  async createCode(input: { clientId: string; userId: string; scope: string; redirectUri: string; codeChallenge: string; patient?: string; nonce?: string }): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    await this.db.query(
      `insert into auth_code (code_hash, client_id, user_id, scope, redirect_uri, code_challenge, patient, nonce, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
      [sha256(code), input.clientId, input.userId, input.scope, input.redirectUri, input.codeChallenge, input.patient ?? null, input.nonce ?? null, this.settings.codeSeconds],
    );
    return code;
  }

  /** Marks the code used and returns it, once; undefined when unknown, expired or used. */
  async redeemCode(code: string): Promise<CodeRow | undefined> {
    const [row] = await this.db.query<CodeRow>(
      `update auth_code set used_at = now() where code_hash = $1 and used_at is null and expires_at > now()
       returning client_id, user_id, scope, redirect_uri, code_challenge, patient, nonce`,
      [sha256(code)],
    );
    return row;
  }

  /** A new refresh token in `family` (a new family when omitted). */
  async createRefreshToken(input: { family?: string; clientId: string; userId?: string; scope: string; patient?: string }): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.db.query(
      `insert into auth_refresh_token (token_hash, family, client_id, user_id, scope, patient, expires_at)
       values ($1, $2, $3, $4, $5, $6, now() + make_interval(days => $7))`,
      [sha256(token), input.family ?? randomBytes(16).toString('hex'), input.clientId, input.userId ?? null, input.scope, input.patient ?? null, this.settings.refreshTokenDays],
    );
    return token;
  }

  /**
   * Uses a refresh token once. A token used a second time means it leaked (or the client is
   * confused): the whole family is revoked, as OAuth 2.0 Security BCP advises for rotation.
   */
  async useRefreshToken(token: string): Promise<{ row?: RefreshRow; problem?: string }> {
    const hash = sha256(token);
    const [row] = await this.db.query<RefreshRow & { used_at: unknown; revoked_at: unknown; expired: boolean }>(
      'select *, expires_at < now() as expired from auth_refresh_token where token_hash = $1',
      [hash],
    );
    if (!row) return { problem: 'unknown refresh token' };
    if (row.revoked_at) return { problem: 'the refresh token was revoked' };
    if (row.expired) return { problem: 'the refresh token has expired' };
    if (row.used_at) {
      await this.revokeRefreshFamily(row.family);
      return { problem: 'the refresh token was already used; every token of this grant is now revoked' };
    }
    const used = await this.db.query('update auth_refresh_token set used_at = now() where token_hash = $1 and used_at is null returning token_hash', [hash]);
    if (!used.length) return { problem: 'the refresh token was already used' };
    return { row };
  }

  async findRefreshToken(token: string): Promise<(RefreshRow & { active: boolean; expires: number }) | undefined> {
    const [row] = await this.db.query<RefreshRow & { active: boolean; expires: number }>(
      `select *, (used_at is null and revoked_at is null and expires_at > now()) as active, extract(epoch from expires_at)::int as expires
         from auth_refresh_token where token_hash = $1`,
      [sha256(token)],
    );
    return row;
  }

  async revokeRefreshFamily(family: string): Promise<void> {
    await this.db.query('update auth_refresh_token set revoked_at = now() where family = $1 and revoked_at is null', [family]);
  }
}

export interface CodeRow {
  client_id: string;
  user_id: string;
  scope: string;
  redirect_uri: string;
  code_challenge: string;
  patient: string | null;
  nonce: string | null;
}

export interface RefreshRow {
  family: string;
  client_id: string;
  user_id: string | null;
  scope: string;
  patient: string | null;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** RFC 7636 S256: BASE64URL(SHA256(verifier)) equals the challenge. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false;
  return createHash('sha256').update(verifier).digest('base64url') === challenge;
}
