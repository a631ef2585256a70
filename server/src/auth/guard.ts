// The seam where authentication and authorisation switch on for every FHIR route at once.
// Until the security work lands, requests pass through as anonymous; app.ts mounts this guard in
// front of /fhir so replacing it is one change.
import type { RequestHandler } from 'express';

export function openAccessGuard(): RequestHandler {
  return (_req, _res, next) => next();
}
