// Accept header negotiation for WADO-RS (PS3.18 §8.7): media ranges with their `type` and
// `transfer-syntax` parameters, best quality first.
import { NotAcceptable } from '../../fhir/errors.js';

export interface MediaRange {
  type: string;
  /** For multipart/related: the part type asked for ('' when not named). */
  partType: string;
  transferSyntax?: string;
  q: number;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header?.trim()) return [{ type: '*/*', partType: '', q: 1 }];
  const ranges: MediaRange[] = [];
  for (const item of splitOutsideQuotes(header, ',')) {
    const [media, ...params] = splitOutsideQuotes(item, ';').map((p) => p.trim());
    if (!media) continue;
    const range: MediaRange = { type: media.toLowerCase(), partType: '', q: 1 };
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      const name = param.slice(0, eq).trim().toLowerCase();
      const value = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (name === 'type') range.partType = value.toLowerCase();
      else if (name === 'transfer-syntax') range.transferSyntax = value;
      else if (name === 'q') range.q = Number(value) || 0;
    }
    if (range.q > 0) ranges.push(range);
  }
  return ranges.sort((a, b) => b.q - a.q);
}

/** The first range accepted by `acceptable`, or 406 naming what this resource can be sent as. */
export function negotiate<T>(header: string | undefined, acceptable: (range: MediaRange) => T | undefined, offers: string): T {
  for (const range of parseAccept(header)) {
    const chosen = acceptable(range);
    if (chosen !== undefined) return chosen;
  }
  throw new NotAcceptable(`None of the media types in Accept (${header}) can be produced; this resource is available as ${offers}`);
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}
