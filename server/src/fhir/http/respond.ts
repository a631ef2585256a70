// Writes FHIR responses: content type, ETag, Last-Modified, Location, and Prefer: return=...
import type { Request, Response } from 'express';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { NotAcceptable, operationOutcome } from '../errors.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** 406 for anything but JSON, via `_format` or Accept. */
export function checkAcceptable(req: Request): void {
  const format = typeof req.query._format === 'string' ? req.query._format.toLowerCase() : undefined;
  if (format && !['json', 'application/json', 'application/fhir+json'].includes(format)) {
    throw new NotAcceptable(`_format=${format} is not supported; this server speaks application/fhir+json`);
  }
  const accept = (req.headers.accept ?? '').toLowerCase();
  if (!format && accept && !/json|\*\/\*|application\/\*/.test(accept)) {
    throw new NotAcceptable(`Accept '${accept}' is not supported; this server speaks application/fhir+json`);
  }
}

export function baseUrl(req: Request, configured?: string): string {
  if (configured) return configured.replace(/\/$/, '');
  return `${req.protocol}://${req.get('host')}/fhir`;
}

export function setVersionHeaders(res: Response, resource: Resource): void {
  if (resource.meta?.versionId) res.setHeader('ETag', `W/"${resource.meta.versionId}"`);
  if (resource.meta?.lastUpdated) res.setHeader('Last-Modified', new Date(resource.meta.lastUpdated).toUTCString());
}

export function sendJson(res: Response, status: number, body: unknown, pretty = false): void {
  res.status(status).type(FHIR_JSON).send(pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body));
}

type PreferReturn = 'minimal' | 'representation' | 'OperationOutcome';

export function preferReturn(req: Request): PreferReturn {
  const match = /return=(minimal|representation|OperationOutcome)/i.exec(String(req.headers.prefer ?? ''));
  if (!match) return 'representation';
  const value = match[1].toLowerCase();
  return value === 'minimal' ? 'minimal' : value === 'operationoutcome' ? 'OperationOutcome' : 'representation';
}

/** The answer to a create/update/patch, shaped by the client's Prefer header. */
export function sendWriteResult(req: Request, res: Response, status: number, resource: Resource, location?: string): void {
  setVersionHeaders(res, resource);
  if (location) res.setHeader('Location', location);
  const prefer = preferReturn(req);
  if (prefer === 'minimal') {
    res.status(status).end();
    return;
  }
  const outcome: OperationOutcome = operationOutcome('information', 'informational', `${status === 201 ? 'Created' : 'Updated'} ${resource.resourceType}/${resource.id} version ${resource.meta?.versionId}`);
  sendJson(res, status, prefer === 'OperationOutcome' ? outcome : resource, wantsPretty(req));
}

export function wantsPretty(req: Request): boolean {
  return req.query._pretty === 'true';
}

/** `W/"3"` or `"3"` → `3`. */
export function parseETag(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^(?:W\/)?"?([^"]*)"?$/.exec(value.trim());
  return m ? m[1] : undefined;
}
