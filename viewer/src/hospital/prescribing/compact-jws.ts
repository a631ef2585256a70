// A compact JWS (RFC 7515) signed ES256 with a WebCrypto key. WebCrypto's ECDSA signature is the
// raw r‖s pair, which is exactly JWS's ES256 signature format (RFC 7518 §3.4), so no DER step.
import { base64url } from '../../auth/base64url.js';

const encoder = new TextEncoder();

const part = (value: object) => base64url(encoder.encode(JSON.stringify(value)));

export async function signCompactJws(privateKey: CryptoKey, kid: string, payload: object): Promise<string> {
  const signingInput = `${part({ alg: 'ES256', kid })}.${part(payload)}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, encoder.encode(signingInput));
  return `${signingInput}.${base64url(new Uint8Array(signature))}`;
}

/** Lowercase hex SHA-256 of a text's UTF-8 bytes. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
