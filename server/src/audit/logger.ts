// Structured JSON logs (winston). Every line written while a request is handled carries its
// request id, taken from AsyncLocalStorage so no function has to pass it along.
// Patient data never goes above debug level: log ids and counts, not resource content.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Writable } from 'node:stream';
import winston from 'winston';

export interface RequestContext {
  requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

const addRequestId = winston.format((info) => {
  const context = requestContext.getStore();
  if (context) info.requestId = context.requestId;
  return info;
});

export type Logger = winston.Logger;

/** Logs to the console, or to `stream` when given (tests read what was logged). */
export function createLogger(level: string, silent = false, stream?: Writable): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(addRequestId(), winston.format.timestamp(), winston.format.json()),
    transports: [stream ? new winston.transports.Stream({ stream }) : new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}
