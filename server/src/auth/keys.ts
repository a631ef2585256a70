// The hub's token-signing keys (RS256, as SMART's OpenID Connect profile requires), kept in the
// database so every hub process signs with the same key and verifies every other's tokens.
// Rotation adds a key and retires the old one from signing; a retired key stays in the JWKS and
// keeps verifying until every token it signed has expired, then it is deleted.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { SqlExecutor } from '../db/database.js';

export const SIGNING_ALG = 'RS256';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JsonWebKey;
  retiredAt?: Date;
}

interface KeyRow {
  kid: string;
  private_jwk: JsonWebKey;
  public_jwk: JsonWebKey;
  retired_at: Date | string | null;
}

export class SigningKeys {
  private keys: SigningKey[] = [];

  /** @param maxTokenSeconds the longest lifetime of a signed token: how long retired keys stay. */
  constructor(
    private readonly db: SqlExecutor,
    private readonly maxTokenSeconds: number,
  ) {}

  /** Loads the keys; creates the first one on a new database. */
  async load(): Promise<void> {
    await this.db.query(`delete from auth_signing_key where retired_at < now() - make_interval(secs => $1)`, [this.maxTokenSeconds + 60]);
    let rows = await this.rows();
    if (!rows.some((r) => !r.retired_at)) {
      await this.insert(newKey());
      rows = await this.rows();
    }
    this.keys = rows.map(toSigningKey);
  }

  /** A new signing key; the previous one only verifies from now on. Returns the new kid. */
  async rotate(): Promise<string> {
    const key = newKey();
    await this.db.query('update auth_signing_key set retired_at = now() where retired_at is null');
    await this.insert(key);
    await this.load();
    return key.kid;
  }

  /** The key new tokens are signed with (the newest active one). */
  current(): SigningKey {
    const key = this.keys.find((k) => !k.retiredAt);
    if (!key) throw new Error('no active signing key: call load() first');
    return key;
  }

  /** A key by kid, reloading once if another process may have rotated since. */
  async byKid(kid: string): Promise<SigningKey | undefined> {
    let key = this.keys.find((k) => k.kid === kid);
    if (!key) {
      await this.load();
      key = this.keys.find((k) => k.kid === kid);
    }
    return key;
  }

  /** The public JWK Set (never any private member). */
  jwks(): { keys: JsonWebKey[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: SIGNING_ALG, use: 'sig' })) };
  }

  private async rows(): Promise<KeyRow[]> {
    return this.db.query<KeyRow>('select kid, private_jwk, public_jwk, retired_at from auth_signing_key order by created_at desc');
  }

  private async insert(key: { kid: string; privateJwk: JsonWebKey; publicJwk: JsonWebKey }): Promise<void> {
    await this.db.query('insert into auth_signing_key (kid, alg, private_jwk, public_jwk) values ($1, $2, $3, $4)', [
      key.kid,
      SIGNING_ALG,
      JSON.stringify(key.privateJwk),
      JSON.stringify(key.publicJwk),
    ]);
  }
}

/** A new RSA key pair (2048 bits) as JWKs, its kid the RFC 7638 thumbprint. */
export function newKey(): { kid: string; privateJwk: JsonWebKey; publicJwk: JsonWebKey } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = publicKey.export({ format: 'jwk' });
  return { kid: jwkThumbprint(publicJwk), privateJwk: privateKey.export({ format: 'jwk' }), publicJwk };
}

export function toSigningKey(row: Pick<KeyRow, 'kid' | 'private_jwk' | 'public_jwk' | 'retired_at'>): SigningKey {
  return {
    kid: row.kid,
    privateKey: createPrivateKey({ key: row.private_jwk, format: 'jwk' }),
    publicKey: createPublicKey({ key: row.public_jwk, format: 'jwk' }),
    publicJwk: row.public_jwk,
    retiredAt: row.retired_at ? new Date(row.retired_at) : undefined,
  };
}

/** RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
