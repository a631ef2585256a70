// The DICOMweb client side of the imaging benchmark, on node:http with a keep-alive agent (the
// load generator shares two cores with the servers, so it does as little as it can): STOW-RS
// bodies are built from buffers already in memory and written as they are, and retrieved bodies
// are counted and dropped, never joined.
import { randomBytes } from 'node:crypto';
import { Agent, request, type IncomingMessage } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export interface Reply {
  status: number;
  contentType: string;
  /** Bytes of the body. */
  bytes: number;
  /** The body as text, when asked for (`keepBody`). */
  text?: string;
}

/**
 * One request; `body` is sent as a list of buffers with a Content-Length. Rejects on a network
 * error or a status not in `expected` (with the start of the body in the message).
 */
export function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer[]; keepBody?: boolean },
  expected: number[] = [200],
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body) headers['content-length'] = init.body.reduce((n, b) => n + b.length, 0);
    const req = request(url, { method: init.method ?? 'GET', headers, agent }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const keep = init.keepBody || !expected.includes(status);
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (keep) chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        const text = keep ? Buffer.concat(chunks).toString('utf8') : undefined;
        if (!expected.includes(status)) {
          reject(new Error(`${init.method ?? 'GET'} ${url.replace(/\?.*/, '?…')} → ${status}: ${(text ?? '').slice(0, 300)}`));
          return;
        }
        resolve({ status, contentType: String(res.headers['content-type'] ?? ''), bytes, text });
      });
    });
    req.on('error', reject);
    for (const chunk of init.body ?? []) req.write(chunk);
    req.end();
  });
}

/** A STOW-RS body: one application/dicom part per object. */
export function stowBody(objects: Buffer[]): { body: Buffer[]; contentType: string } {
  const boundary = `bench-${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1');
  const between = Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1');
  const body: Buffer[] = [];
  objects.forEach((object, i) => body.push(i === 0 ? head : between, object));
  body.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'));
  return { body, contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

/** How many instances a STOW-RS response (DICOM JSON) lists as stored and as failed. */
export function stowOutcome(text: string | undefined): { stored: number; failed: number; firstFailure?: string } {
  let json: Record<string, { Value?: Record<string, { Value?: unknown[] }>[] }>;
  try {
    json = JSON.parse(text || '{}') as typeof json;
  } catch {
    return { stored: 0, failed: 0 };
  }
  const failed = json['00081198']?.Value ?? [];
  const first = failed[0];
  return {
    stored: json['00081199']?.Value?.length ?? 0,
    failed: failed.length,
    firstFailure: first ? `reason ${String(first['00081197']?.Value?.[0])}${first['0040A160'] ? `: ${String(first['0040A160'].Value?.[0])}` : ''}` : undefined,
  };
}
