// Password storage and policy. scrypt (memory-hard, in node:crypto, no native add-on) with the
// parameters stored in every hash, so the cost can be raised later without breaking old hashes.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/** Production cost: ~32 MiB and tens of milliseconds per hash. Tests may pass cheaper params. */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
// Bounds on what verifyPassword will accept from a stored string: a corrupted or hostile row must
// not make one login allocate gigabytes or spin for minutes.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

function scrypt(password: string, salt: Buffer, keylen: number, { N, r, p }: ScryptParams): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is exactly what N=2^15,r=8 needs and scrypt refuses at the
  // limit, so allow twice the 128*N*r*p working set.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r * p };
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFC'), salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function validParams({ N, r, p }: ScryptParams): boolean {
  const int = (n: number, max: number) => Number.isSafeInteger(n) && n >= 1 && n <= max;
  return int(N, MAX_N) && N > 1 && (N & (N - 1)) === 0 && int(r, MAX_R) && int(p, MAX_P);
}

/** `scrypt$N$r$p$salt$hash`, salt and hash base64url. Passwords are NFC-normalised first. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  if (!validParams(params)) throw new Error(`Invalid scrypt parameters ${JSON.stringify(params)}`);
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, KEY_BYTES, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** The parameters of an encoded hash, or undefined when it is not one of ours (for rehash-on-login). */
export function parseHash(encoded: string): (ScryptParams & { salt: Buffer; hash: Buffer }) | undefined {
  if (typeof encoded !== 'string') return undefined;
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map((s) => (/^[1-9][0-9]{0,9}$/.test(s) ? Number(s) : NaN));
  const b64url = /^[A-Za-z0-9_-]+$/;
  if (!validParams({ N, r, p }) || !b64url.test(parts[4]) || !b64url.test(parts[5])) return undefined;
  const salt = Buffer.from(parts[4], 'base64url');
  const hash = Buffer.from(parts[5], 'base64url');
  if (salt.length < 8 || salt.length > 64 || hash.length < 16 || hash.length > 64) return undefined;
  return { N, r, p, salt, hash };
}

/** True when the password matches; false for a mismatch or any malformed encoding (never throws). */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed || typeof password !== 'string') return false;
  try {
    const key = await scrypt(password, parsed.salt, parsed.hash.length, parsed);
    return timingSafeEqual(key, parsed.hash);
  } catch {
    return false;
  }
}

/** True when a stored hash is cheaper than today's default, so the caller can rehash after a good login. */
export function needsRehash(encoded: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parseHash(encoded);
  return !parsed || parsed.N < params.N || parsed.r < params.r || parsed.p < params.p;
}

/**
 * A well-formed hash at the default cost that no password matches (its "hash" is not the scrypt
 * of anything we know). Checking a password against it costs what checking a real user costs.
 */
export const DUMMY_HASH = `scrypt$${DEFAULT_SCRYPT.N}$${DEFAULT_SCRYPT.r}$${DEFAULT_SCRYPT.p}$c3VoZS1kdW1teS1zYWx0IQ$${Buffer.alloc(KEY_BYTES, 0x5a).toString('base64url')}`;

/**
 * Call for an unknown username so the response takes as long as for a known one (no user
 * enumeration by timing). Always false.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  await verifyPassword(password, DUMMY_HASH);
  return false;
}

export const MIN_PASSWORD_LENGTH = 10;

/**
 * The password policy (GB/T 22239 level 3 asks for complexity and length): at least 10 characters,
 * at least three of lower case, upper case, digits and symbols, not one character repeated.
 * Returns what to fix as a sentence, or undefined when the password is acceptable.
 */
export function passwordProblem(password: string): string | undefined {
  const chars = [...(password ?? '')]; // code points, so one emoji or hanzi counts once
  if (chars.length < MIN_PASSWORD_LENGTH) {
    return `Use at least ${MIN_PASSWORD_LENGTH} characters (this password has ${chars.length}).`;
  }
  if (chars.every((c) => c === chars[0])) return 'Do not use a single character repeated; mix different characters.';
  const classes = [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{L}\p{N}]/u];
  const names = ['lower-case letters', 'upper-case letters', 'digits', 'symbols'];
  const missing = names.filter((_, i) => !classes[i].test(password));
  if (missing.length > 1) {
    return `Use at least three of: lower-case letters, upper-case letters, digits, symbols (add ${missing.join(' or ')}).`;
  }
  return undefined;
}

/** Compares secrets of any length without leaking where they differ or how long they are. */
export function constantTimeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}
