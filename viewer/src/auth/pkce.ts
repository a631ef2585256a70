// PKCE (RFC 7636, S256 — the only method the hub accepts) and the random state value, from the
// browser's CSPRNG.
import { base64url } from './base64url.js';

export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function s256Challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}
