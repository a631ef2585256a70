// The one place errors become HTTP answers: typed errors keep their status, body-parser errors
// become 400/413, values the database refuses 400, anything unexpected is a 500 with no stack
// trace (logged with the request id).
import type { ErrorRequestHandler } from 'express';
import type { Logger } from '../../audit/logger.js';
import { FhirError, operationOutcome } from '../errors.js';
import { sendJson } from './respond.js';

export function fhirErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof FhirError) {
      if (err.status >= 500) logger.error('request failed', { status: err.status, message: err.message });
      // RFC 6750: tell the client to (re)authenticate, without echoing anything it sent.
      if (err.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="suhe", error="invalid_token"');
      sendJson(res, err.status, err.toOperationOutcome());
      return;
    }
    const parserError = err as { type?: string; status?: number; limit?: number };
    if (parserError.type === 'entity.too.large') {
      sendJson(res, 413, operationOutcome('error', 'too-costly', `The request body is larger than the limit of ${parserError.limit} bytes`));
      return;
    }
    if (typeof parserError.status === 'number' && parserError.status >= 400 && parserError.status < 500) {
      sendJson(res, parserError.status, operationOutcome('error', 'invalid', `The request could not be read: ${(err as Error).message}`));
      return;
    }
    if (/^22/.test(String((err as { code?: unknown }).code ?? ''))) {
      // SQLSTATE class 22 (data exception): PostgreSQL refused a value the request brought (a NUL,
      // a number or date out of range) that no check before it caught. The client's to fix; the
      // statement failed, so nothing was written by it. Logged, so the missing check gets added.
      logger.warn('a request value was refused by the database', { method: req.method, path: req.path, sqlState: (err as { code: string }).code });
      sendJson(res, 400, operationOutcome('error', 'invalid', `A value in the request cannot be stored or compared: ${(err as Error).message}`));
      return;
    }
    logger.error('unexpected error', { method: req.method, path: req.path, error: (err as Error)?.message, stack: (err as Error)?.stack });
    sendJson(res, 500, operationOutcome('error', 'exception', 'Internal server error; the request id in the logs identifies it'));
  };
}
