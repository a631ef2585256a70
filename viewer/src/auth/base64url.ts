// base64url without padding (RFC 4648 §5), as OAuth (PKCE) and JOSE (JWS) write bytes.
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
