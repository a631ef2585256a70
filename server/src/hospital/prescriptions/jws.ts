// Compact JWS (RFC 7515) as a doctor's client makes it: header.payload.signature, base64url, with
// the algorithm pinned to the one of the doctor's registered key (ES256 or RS256) — a JWS never
// chooses its own algorithm or key (no `alg: none`, no embedded `jwk`, no `crit` extensions).
// Parsing and verifying are pure; which key and what the claims must say is sign.ts's business.
import { verify, type KeyObject } from 'node:crypto';
import { Invalid } from '../../fhir/errors.js';

export type SigningAlg = 'ES256' | 'RS256';
export const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'RS256'];

/** What a doctor's prescription signature states (the JWS payload). */
export interface PrescriptionClaims {
  /** The signer, Practitioner/{id}: the prescription's requester. */
  sub: string;
  /** What was signed: MedicationRequest/{id}/_history/{versionId} of the draft. */
  target: string;
  /** SHA-256 (hex) of that version's content (server/src/fhir/content-hash.ts). */
  sha256: string;
  /** When it was signed (seconds since the epoch). */
  iat: number;
  /** IH-07, for a child: the doctor confirms the guardian and a relevant doctor are present. */
  guardianConfirmed?: boolean;
  exp?: number;
}

export interface ParsedJws {
  header: { alg?: unknown; kid?: unknown; [name: string]: unknown };
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Splits and decodes a compact JWS; Invalid (400) says what is malformed. */
export function parseJws(jws: string): ParsedJws {
  const parts = jws.trim().split('.');
  if (parts.length !== 3 || parts.some((p) => !B64URL.test(p)) || !parts[0] || !parts[1] || !parts[2]) {
    throw new Invalid('signature must be a compact JWS: three base64url parts header.payload.signature', ['signature']);
  }
  const json = (part: string, what: string): Record<string, unknown> => {
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    } catch {
      throw new Invalid(`The JWS ${what} is not base64url-encoded JSON`, ['signature']);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Invalid(`The JWS ${what} must be a JSON object`, ['signature']);
    return value as Record<string, unknown>;
  };
  return { header: json(parts[0], 'header'), claims: json(parts[1], 'payload'), signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

/** Whether the JWS is signed by `key` with `alg` (the header must name that algorithm and nothing unsupported). */
export function verifyJws(jws: ParsedJws, key: KeyObject, alg: SigningAlg): boolean {
  if (jws.header.alg !== alg) return false;
  if (jws.header.crit !== undefined || jws.header.jwk !== undefined || jws.header.jku !== undefined || jws.header.x5u !== undefined || jws.header.b64 !== undefined) return false;
  const input = Buffer.from(jws.signingInput, 'ascii');
  try {
    return alg === 'ES256' ? verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, jws.signature) : verify('sha256', input, key, jws.signature);
  } catch {
    return false;
  }
}

/** The claims in their expected shape, or Invalid naming the claim. */
export function prescriptionClaims(claims: Record<string, unknown>): PrescriptionClaims {
  const text = (name: string) => {
    const value = claims[name];
    if (typeof value !== 'string' || !value) throw new Invalid(`The JWS payload needs "${name}" (text): sub = your Practitioner reference, target = MedicationRequest/{id}/_history/{versionId}, sha256 = the draft's content hash`, ['signature']);
    return value;
  };
  const sub = text('sub');
  const target = text('target');
  const sha256 = text('sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Invalid('The JWS payload "sha256" must be 64 lowercase hex digits (SHA-256 of the draft\'s content)', ['signature']);
  const iat = claims.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new Invalid('The JWS payload needs "iat" (seconds since the epoch)', ['signature']);
  const exp = claims.exp;
  if (exp !== undefined && (typeof exp !== 'number' || !Number.isFinite(exp))) throw new Invalid('The JWS payload "exp" must be a number', ['signature']);
  const guardianConfirmed = claims.guardianConfirmed;
  if (guardianConfirmed !== undefined && typeof guardianConfirmed !== 'boolean') throw new Invalid('The JWS payload "guardianConfirmed" must be true or false', ['signature']);
  return { sub, target, sha256, iat, ...(exp !== undefined ? { exp: exp as number } : {}), ...(guardianConfirmed !== undefined ? { guardianConfirmed } : {}) };
}
