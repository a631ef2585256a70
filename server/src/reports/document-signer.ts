// Signs documents (reading reports) as compact JWS (RS256) with the hub's document key, on a
// signer's authenticated action. The JWS names the signer, what was signed (Type/id/_history/v)
// and the SHA-256 of its content, so any later change to the signed version is detectable; the
// public key is in the JWS header (and its kid is its thumbprint), so it verifies anywhere.
// Document keys are never deleted (see migration 009).
import type { JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { SqlExecutor } from '../db/database.js';
import { newKey, SIGNING_ALG, toSigningKey, type SigningKey } from '../auth/keys.js';

export interface DocumentSignature {
  /** Who signed, e.g. Practitioner/12. */
  sub: string;
  /** What was signed: Type/id/_history/version. */
  target: string;
  /** SHA-256 (hex) of the signed version's content (server/src/fhir/content-hash.ts). */
  sha256: string;
  /** Who issued the signature (the hub's public URL). */
  iss: string;
  iat?: number;
}

export class DocumentSigner {
  private constructor(private keys: SigningKey[]) {}

  static async open(db: SqlExecutor): Promise<DocumentSigner> {
    const load = () => db.query<{ kid: string; private_jwk: JsonWebKey; public_jwk: JsonWebKey; retired_at: Date | null }>(
      'select kid, private_jwk, public_jwk, retired_at from document_signing_key order by created_at desc',
    );
    let rows = await load();
    if (!rows.some((r) => !r.retired_at)) {
      const key = newKey();
      // Two hubs starting at once may both create one; either verifies, the newest signs.
      await db.query('insert into document_signing_key (kid, private_jwk, public_jwk) values ($1, $2, $3) on conflict do nothing', [key.kid, JSON.stringify(key.privateJwk), JSON.stringify(key.publicJwk)]);
      rows = await load();
    }
    return new DocumentSigner(rows.map(toSigningKey));
  }

  sign(signature: Omit<DocumentSignature, 'iat'>): string {
    const key = this.keys.find((k) => !k.retiredAt)!;
    return jwt.sign({ ...signature }, key.privateKey, { algorithm: SIGNING_ALG, keyid: key.kid, header: { alg: SIGNING_ALG, kid: key.kid, jwk: { ...key.publicJwk, kid: key.kid } } as jwt.JwtHeader });
  }

  /** The signature's claims when it verifies with one of the hub's document keys; else an Error. */
  verify(jws: string): DocumentSignature {
    const header = jwt.decode(jws, { complete: true })?.header;
    const key = this.keys.find((k) => k.kid === header?.kid);
    if (!key) throw new Error('the signature was not made with a document key of this hub');
    return jwt.verify(jws, key.publicKey, { algorithms: [SIGNING_ALG] }) as DocumentSignature;
  }
}
