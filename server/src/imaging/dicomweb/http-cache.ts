// Conditional requests and byte ranges for stored objects. Stored content never changes under a
// key (it is content-addressed), so the ETag is strong; patient data is cached only privately and
// revalidated each time (no-cache), which a 304 makes cheap.
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';

export function etagOf(parts: readonly string[], variant = ''): string {
  return `"${createHash('sha256').update(parts.join('\n')).update(`\n${variant}`).digest('base64url').slice(0, 32)}"`;
}

/** Sets the caching headers; true when the client's copy is current (a 304 has been sent). */
export function notModified(req: Request, res: Response, etag: string): boolean {
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', 'private, no-cache');
  res.setHeader('Vary', 'Accept, Authorization');
  const match = req.get('if-none-match');
  if (match && match.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    res.status(304).end();
    return true;
  }
  return false;
}

/**
 * The single byte range asked for (RFC 9110 §14), undefined for the whole object, or 'unsatisfiable'.
 * Several ranges in one request are answered with the whole object (allowed; rarely asked).
 */
export function byteRange(req: Request, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const header = req.get('range');
  if (!header) return undefined;
  const ifRange = req.get('if-range');
  if (ifRange && ifRange !== req.res?.getHeader('ETag')) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (!m[1] && !m[2])) return undefined;
  let start: number;
  let end: number;
  if (!m[1]) {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
