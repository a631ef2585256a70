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
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new Invalid(`The body is not valid JSON: ${(err as Error).message}`);
  }
}

export function mediaTypeOf(req: express.Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}
