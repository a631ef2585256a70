// Every FHIR request needs a valid access token (RFC 6750 Bearer), except the discovery
// documents. The guard verifies it and leaves the caller on res.locals for the routes, which build
// the request's AccessControl from it (policy.ts). Failures are 401 with a reason and are audited.
import type { Request, RequestHandler } from 'express';
import { Forbidden, Invalid, Unauthorized } from '../fhir/errors.js';
import type { AccessClaims, TokenService } from './tokens.js';

export interface Caller {
  claims: AccessClaims;
  address?: string;
  /** A declared purpose other than treatment: break-the-glass with its reason. */
  purpose?: { code: string; reason?: string };
}

/** Headers by which a clinician declares an emergency (break the glass) and says why. */
export const PURPOSE_HEADER = 'x-suhe-purpose-of-use';
export const REASON_HEADER = 'x-suhe-break-glass-reason';
const BREAK_GLASS_ROLES = new Set(['doctor', 'nurse']);

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
    const caller: Caller = { claims, address: req.ip, purpose: declaredPurpose(req, claims) };
    res.locals.caller = caller;
    next();
  };
}

/** Break-the-glass: only doctors and nurses, only with a reason (it is audited and reviewed). */
function declaredPurpose(req: Request, claims: AccessClaims): Caller['purpose'] {
  const purpose = req.get(PURPOSE_HEADER);
  if (!purpose) return undefined;
  if (purpose !== 'BTG') throw new Invalid(`${PURPOSE_HEADER} accepts only BTG (break the glass)`);
  if (!BREAK_GLASS_ROLES.has(claims.role)) throw new Forbidden('Only doctors and nurses may break the glass');
  const reason = req.get(REASON_HEADER)?.trim() ?? '';
  if (reason.length < 10) throw new Invalid(`Breaking the glass needs a reason of at least 10 characters in ${REASON_HEADER}`);
  let text = reason;
  try {
    text = decodeURIComponent(reason); // header values are Latin-1: other scripts come percent-encoded
  } catch {
    // not percent-encoded: keep as sent
  }
  return { code: 'BTG', reason: text.slice(0, 500) };
}

export function callerOf(req: Request): Caller | undefined {
  return req.res?.locals.caller as Caller | undefined;
}
