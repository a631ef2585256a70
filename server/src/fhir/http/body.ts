// Reads request bodies: raw bytes under the configured limit (413 past it), then JSON parsed by
// content type. Wrong content types answer 415, malformed JSON 400 — always OperationOutcome.
import express, { type RequestHandler } from 'express';
import { Invalid, UnsupportedMediaType } from '../errors.js';

const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json'];

export function rawBody(limitBytes: number): RequestHandler {
  return express.raw({ type: () => true, limit: limitBytes });
}

/** The parsed JSON body; `allowed` narrows the media types an interaction accepts. */
export function jsonBody(req: express.Request, allowed: string[] = JSON_TYPES): unknown {
  const body = req.body as Buffer | undefined;
  if (!body || !Buffer.isBuffer(body) || body.length === 0) throw new Invalid('The request has no body; send a FHIR resource as JSON');
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType.endsWith('xml')) throw new UnsupportedMediaType('XML is not supported; send application/fhir+json');
  if (!allowed.includes(mediaType)) {
    throw new UnsupportedMediaType(`Content-Type '${mediaType || '(none)'}' is not accepted here; use ${allowed.join(' or ')}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new Invalid(`The body is not valid JSON: ${(err as Error).message}`);
  }
  const depth = nestingDepth(parsed, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) throw new Invalid(`The body nests objects and arrays more than ${MAX_JSON_DEPTH} deep`);
  return parsed;
}

/**
 * Deepest nesting a body may have. Real resources stay far below it (a Bundle of Questionnaire
 * responses with nested items: about 30); 5,000 nested contained resources overflowed the
 * validator's stack.
 */
const MAX_JSON_DEPTH = 100;

/** How deep `value` nests objects and arrays, walked without recursion; stops counting past `limit`. */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(node) ? node : Object.values(node)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return deepest;
}

export function mediaTypeOf(req: express.Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}
