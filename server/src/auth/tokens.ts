// Access tokens and id_tokens: JWTs signed RS256 with the hub's current key (keys.ts), verified
// with the algorithm pinned (no `none`, no HS256-with-the-public-key), the issuer and the
// audience checked, and revocation honoured. Revocation is a table read by every hub process;
// each keeps the revoked ids in memory and refreshes them at most every second, so a revoked
// token stops working everywhere within a second, and at once in the process that revoked it.
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { SqlExecutor } from '../db/database.js';
import { SIGNING_ALG, type SigningKeys } from './keys.js';

/** What an access token carries; see docs/SECURITY.md. */
export interface AccessClaims {
  iss: string;
  aud: string;
  sub: string;
  client_id: string;
  scope: string;
  jti: string;
  exp: number;
  iat: number;
  /** user account role (resident, doctor, ...) or the client's role (institution, admin, app) */
  role: string;
  fhirUser?: string;
  patient?: string;
  organization?: string;
}

export type NewAccessClaims = Omit<AccessClaims, 'jti' | 'exp' | 'iat' | 'iss' | 'aud'>;

const REVOCATION_REFRESH_MS = 1000;
const VERIFIED_CACHE_SIZE = 10_000;

export class TokenService {
  private revoked = new Set<string>();
  private readonly verified = new Map<string, AccessClaims>();
  private revokedLoadedAt = 0;
  private revokedSince = new Date(0);

  constructor(
    private readonly db: SqlExecutor,
    private readonly keys: SigningKeys,
  ) {}

  issueAccessToken(claims: NewAccessClaims, issuer: string, audience: string, lifetimeSeconds: number): { token: string; claims: AccessClaims } {
    const now = Math.floor(Date.now() / 1000);
    const full: AccessClaims = { ...claims, iss: issuer, aud: audience, jti: randomUUID(), iat: now, exp: now + lifetimeSeconds };
    const key = this.keys.current();
    return { token: jwt.sign(full, key.privateKey, { algorithm: SIGNING_ALG, keyid: key.kid }), claims: full };
  }

  /** An OpenID Connect id_token for a signed-in user (audience: the client). */
  issueIdToken(claims: { sub: string; fhirUser: string; nonce?: string }, issuer: string, clientId: string, lifetimeSeconds: number): string {
    const key = this.keys.current();
    const { nonce, ...rest } = claims;
    const body = nonce ? { ...rest, nonce } : rest;
    return jwt.sign(body, key.privateKey, { algorithm: SIGNING_ALG, keyid: key.kid, issuer, audience: clientId, expiresIn: lifetimeSeconds });
  }

  /** The claims of a valid, unrevoked token; undefined otherwise, with the reason. */
  async verify(token: string, issuer: string, audience: string): Promise<{ claims?: AccessClaims; problem?: string }> {
    // A token verified before is not verified again until it expires (the signature cannot have
    // changed); revocation is still checked on every use.
    const cacheKey = `${issuer} ${audience} ${token}`;
    const cached = this.verified.get(cacheKey);
    if (cached) {
      if (cached.exp * 1000 <= Date.now()) this.verified.delete(cacheKey);
      else return (await this.isRevoked(cached.jti)) ? { problem: 'the token has been revoked' } : { claims: cached };
    }
    const result = await this.verifySignature(token, issuer, audience);
    if (result.claims) {
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(cacheKey, result.claims);
    }
    return result;
  }

  private async verifySignature(token: string, issuer: string, audience: string): Promise<{ claims?: AccessClaims; problem?: string }> {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') return { problem: 'the token is not a JWT' };
    if (decoded.header.alg !== SIGNING_ALG) return { problem: `tokens are signed ${SIGNING_ALG}; got ${decoded.header.alg}` };
    const key = decoded.header.kid ? await this.keys.byKid(decoded.header.kid) : undefined;
    if (!key) return { problem: 'the token was not signed by this hub' };
    let claims: AccessClaims;
    try {
      claims = jwt.verify(token, key.publicKey, { algorithms: [SIGNING_ALG], issuer, audience }) as AccessClaims;
    } catch (err) {
      return { problem: (err as Error).message };
    }
    if (!claims.jti || !claims.scope || !claims.client_id) return { problem: 'the token lacks required claims' };
    if (await this.isRevoked(claims.jti)) return { problem: 'the token has been revoked' };
    return { claims };
  }

  async revoke(jti: string, expiresAt: number): Promise<void> {
    await this.db.query('insert into auth_revoked_token (jti, expires_at) values ($1, to_timestamp($2)) on conflict do nothing', [jti, expiresAt]);
    this.revoked.add(jti);
  }

  async isRevoked(jti: string): Promise<boolean> {
    if (Date.now() - this.revokedLoadedAt > REVOCATION_REFRESH_MS) await this.refreshRevoked();
    return this.revoked.has(jti);
  }

  private async refreshRevoked(): Promise<void> {
    this.revokedLoadedAt = Date.now();
    const rows = await this.db.query<{ jti: string; revoked_at: Date | string }>(
      'select jti, revoked_at from auth_revoked_token where revoked_at >= $1 and expires_at > now()',
      [this.revokedSince],
      { name: 'suhe_revoked_since' },
    );
    for (const row of rows) {
      this.revoked.add(row.jti);
      const at = new Date(row.revoked_at);
      if (at > this.revokedSince) this.revokedSince = new Date(at.getTime() - 2000); // overlap: clocks and commit order
    }
  }
}
