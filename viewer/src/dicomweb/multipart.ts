// Splitting a multipart/related body (RFC 2387), as WADO-RS answers frame requests, into its
// parts. Pure and bounded: it only searches the bytes it was given.
export interface BodyPart {
  headers: Record<string, string>;
  body: Uint8Array;
}

export function boundaryOf(contentType: string): string | undefined {
  return /boundary="?([^";,]+)"?/i.exec(contentType)?.[1];
}

/** The parts of a multipart body; throws when the delimiters are missing. */
export function splitMultipart(bytes: Uint8Array, boundary: string): BodyPart[] {
  const delimiter = ascii(`--${boundary}`);
  const parts: BodyPart[] = [];
  let at = indexOf(bytes, delimiter, 0);
  if (at < 0) throw new Error('the multipart body has no boundary delimiter');
  for (;;) {
    let cursor = at + delimiter.length;
    if (bytes[cursor] === 0x2d && bytes[cursor + 1] === 0x2d) break; // "--": the closing delimiter
    cursor = skipLineEnd(bytes, cursor);
    const headerEnd = indexOf(bytes, ascii('\r\n\r\n'), cursor);
    if (headerEnd < 0) throw new Error('a multipart part has no end of headers');
    const headers: Record<string, string> = {};
    for (const line of new TextDecoder().decode(bytes.subarray(cursor, headerEnd)).split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headerEnd + 4;
    const next = indexOf(bytes, ascii(`\r\n--${boundary}`), bodyStart);
    if (next < 0) throw new Error('a multipart part is not closed (truncated body?)');
    parts.push({ headers, body: bytes.subarray(bodyStart, next) });
    at = next + 2;
  }
  return parts;
}

/** The value of a parameter in a header like `application/octet-stream; transfer-syntax=1.2.840...`. */
export function headerParameter(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const match = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*"?([^";]+)"?`, 'i').exec(header);
  return match?.[1].trim();
}

function skipLineEnd(bytes: Uint8Array, at: number): number {
  // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
  while (bytes[at] === 0x20 || bytes[at] === 0x09) at++;
  if (bytes[at] === 0x0d && bytes[at + 1] === 0x0a) return at + 2;
  return at;
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  const last = haystack.length - needle.length;
  outer: for (let i = haystack.indexOf(first, from); i >= 0 && i <= last; i = haystack.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
