// Every FHIR request needs a valid access token (RFC 6750 Bearer), except the discovery
// documents. The guard verifies it and leaves the caller on res.locals for the routes, which build
// the request's AccessControl from it (policy.ts). Failures are 401 with a reason and are audited.
import type { Request, RequestHandler } from 'express';
import { Unauthorized } from '../fhir/errors.js';
import type { AccessClaims, TokenService } from './tokens.js';

export interface Caller {
  claims: AccessClaims;
  address?: string;
}

const OPEN_PATHS = new Set(['/metadata', '/.well-known/smart-configuration']);

export interface GuardOptions {
  tokens: TokenService;
  /** The issuer and audience this request's token must carry. */
  urls: (req: Request) => { issuer: string; fhirBase: string };
  onRejected?: (req: Request, reason: string) => void;
}

export function bearerGuard(options: GuardOptions): RequestHandler {
  return async (req, res, next) => {
    if (req.method === 'GET' && OPEN_PATHS.has(req.path)) return next();
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    if (!match) {
      options.onRejected?.(req, header ? 'malformed Authorization header' : 'no access token');
      throw new Unauthorized(header ? 'The Authorization header must be "Bearer <access token>"' : 'An access token is required (Authorization: Bearer ...); get one from /oauth2/token');
    }
    const { issuer, fhirBase } = options.urls(req);
    const { claims, problem } = await options.tokens.verify(match[1], issuer, fhirBase);
    if (!claims) {
      options.onRejected?.(req, problem ?? 'invalid token');
      throw new Unauthorized(`The access token is not valid: ${problem}`);
    }
    const caller: Caller = { claims, address: req.ip };
    res.locals.caller = caller;
    next();
  };
}

export function callerOf(req: Request): Caller | undefined {
  return req.res?.locals.caller as Caller | undefined;
}
