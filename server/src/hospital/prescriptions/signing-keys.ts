// Doctors' registered public keys (IH-05; migration 010). A doctor's device makes the key pair and
// keeps the private half; the hub stores only the public JWK — a JWK with private members is
// refused, so a private key never reaches the hub even by mistake. kid is the RFC 7638
// thumbprint, so the same key cannot be registered by two doctors (nobody signs in another's
// name, IH-08). Registering a key retires the doctor's earlier keys for signing; retired keys
// still verify what they signed.
import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { SqlExecutor } from '../../db/database.js';
import { Conflict, Invalid } from '../../fhir/errors.js';
import type { SigningAlg } from './jws.js';

export interface SigningKey {
  kid: string;
  practitioner: string;
  alg: SigningAlg;
  publicKey: KeyObject;
  createdAt: string;
  retiredAt?: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** Smallest RSA modulus accepted, in bits (NIST SP 800-57: 2048 until 2030). */
const MIN_RSA_BITS = 2048;

interface KeyRow {
  kid: string;
  practitioner: string;
  alg: SigningAlg;
  public_jwk: JsonWebKey;
  created_at: Date | string;
  retired_at: Date | string | null;
}

/** The public key, its algorithm and thumbprint; Invalid says what is wrong with the JWK. */
export function checkPublicJwk(input: unknown): { jwk: JsonWebKey; alg: SigningAlg; kid: string; publicKey: KeyObject } {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new Invalid('key must be a public JWK (a JSON object)', ['key']);
  const jwk = input as Record<string, unknown>;
  const present = PRIVATE_MEMBERS.filter((m) => jwk[m] !== undefined);
  if (present.length) throw new Invalid(`key holds private key material (${present.join(', ')}); register only the public key — the private key never leaves your device`, ['key']);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new Invalid('key "use" must be "sig"', ['key']);
  let alg: SigningAlg;
  let members: JsonWebKey;
  if (jwk.kty === 'EC') {
    if (jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw new Invalid('An EC key must be P-256 with x and y (ES256)', ['key']);
    alg = 'ES256';
    members = { crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y };
  } else if (jwk.kty === 'RSA') {
    if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') throw new Invalid('An RSA key needs n and e (RS256)', ['key']);
    alg = 'RS256';
    members = { e: jwk.e, kty: 'RSA', n: jwk.n };
  } else {
    throw new Invalid('key must be an EC P-256 (ES256) or RSA (RS256) public JWK', ['key']);
  }
  if (jwk.alg !== undefined && jwk.alg !== alg) throw new Invalid(`key "alg" is ${String(jwk.alg)}, but a ${String(jwk.kty)} key signs with ${alg} here`, ['key']);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: members, format: 'jwk' });
  } catch (err) {
    throw new Invalid(`key is not a usable public key: ${(err as Error).message}`, ['key']);
  }
  if (alg === 'RS256' && (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) throw new Invalid(`An RSA key must have at least ${MIN_RSA_BITS} bits`, ['key']);
  const kid = createHash('sha256').update(JSON.stringify(members)).digest('base64url');
  return { jwk: { ...members, alg, use: 'sig', kid }, alg, kid, publicKey };
}

/** Stores the doctor's key (again: nothing changes) and retires their other keys. */
export async function registerKey(sql: SqlExecutor, practitioner: string, key: ReturnType<typeof checkPublicJwk>): Promise<{ kid: string; alg: SigningAlg; retired: number }> {
  // One statement claims the kid, so two doctors racing for one key cannot both get it.
  await sql.query('insert into practitioner_signing_key (kid, practitioner, alg, public_jwk) values ($1, $2, $3, $4) on conflict (kid) do nothing', [key.kid, practitioner, key.alg, JSON.stringify(key.jwk)]);
  const [owner] = await sql.query<{ practitioner: string }>('select practitioner from practitioner_signing_key where kid = $1', [key.kid]);
  if (owner?.practitioner !== practitioner) throw new Conflict('This key is registered to another practitioner; every doctor signs with a key of their own');
  await sql.query('update practitioner_signing_key set retired_at = null where kid = $1', [key.kid]);
  const retired = await sql.query('update practitioner_signing_key set retired_at = now() where practitioner = $1 and kid <> $2 and retired_at is null returning kid', [practitioner, key.kid]);
  return { kid: key.kid, alg: key.alg, retired: retired.length };
}

/** The doctor's keys that may sign now. */
export async function activeKeys(sql: SqlExecutor, practitioner: string): Promise<SigningKey[]> {
  return (await sql.query<KeyRow>('select * from practitioner_signing_key where practitioner = $1 and retired_at is null order by created_at desc', [practitioner])).map(toKey);
}

/** A key by kid, retired or not (to verify what it signed). */
export async function keyById(sql: SqlExecutor, kid: string): Promise<SigningKey | undefined> {
  const [row] = await sql.query<KeyRow>('select * from practitioner_signing_key where kid = $1', [kid]);
  return row ? toKey(row) : undefined;
}

function toKey(row: KeyRow): SigningKey {
  const jwk = typeof row.public_jwk === 'string' ? (JSON.parse(row.public_jwk) as JsonWebKey) : row.public_jwk;
  const { alg: _alg, use: _use, kid: _kid, ...members } = jwk as JsonWebKey & { use?: string; kid?: string };
  return {
    kid: row.kid,
    practitioner: row.practitioner,
    alg: row.alg,
    publicKey: createPublicKey({ key: members, format: 'jwk' }),
    createdAt: new Date(row.created_at).toISOString(),
    ...(row.retired_at ? { retiredAt: new Date(row.retired_at).toISOString() } : {}),
  };
}

/** Every key the practitioner ever registered, newest first (to verify old signatures). */
export async function allKeys(sql: SqlExecutor, practitioner: string): Promise<SigningKey[]> {
  return (await sql.query<KeyRow>('select * from practitioner_signing_key where practitioner = $1 order by created_at desc', [practitioner])).map(toKey);
}
