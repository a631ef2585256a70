// Test-side DICOM helpers, independent of the server's code: the shared test files, multipart
// bodies built and split by hand, hashes.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DICOM_DATA = resolve(new URL('../../../shared/testdata/dicom', import.meta.url).pathname);

/** Every file under a folder of the DICOM test data (recursively), sorted. */
export function dicomFiles(folder = ''): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!/\.(sh|md|txt)$/.test(name)) out.push(path);
    }
  };
  walk(join(DICOM_DATA, folder));
  return out;
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A multipart/related body of application/dicom parts. */
export function stowBody(files: (string | Uint8Array)[]): { body: Buffer; contentType: string } {
  const boundary = `test-${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const file of files) {
    const bytes = typeof file === 'string' ? readFileSync(file) : Buffer.from(file);
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), bytes, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

/** Splits a multipart/related response into its parts (headers lower-cased, body bytes). */
export function splitMultipart(body: Buffer, contentType: string): { headers: Record<string, string>; body: Buffer }[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const padded = Buffer.concat([Buffer.from('\r\n'), body]);
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  let at = padded.indexOf(delimiter);
  while (at >= 0) {
    const afterDelimiter = at + delimiter.length;
    if (padded.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break;
    const headerEnd = padded.indexOf('\r\n\r\n', afterDelimiter);
    const headers: Record<string, string> = {};
    for (const line of padded.subarray(afterDelimiter + 2, headerEnd).toString().split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const next = padded.indexOf(delimiter, headerEnd + 4);
    parts.push({ headers, body: padded.subarray(headerEnd + 4, next) });
    at = next;
  }
  return parts;
}
