// Requests Node's HTTP parser refuses before express sees them (a request line or headers over the
// limit, broken HTTP) get the same OperationOutcome body as every other 4xx; Node's own answer
// has no body, which leaves a client guessing.
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { operationOutcome } from '../fhir/errors.js';

/** Largest request line plus headers the hub reads. */
export const MAX_HEADER_BYTES = 64 * 1024;

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const status = tooLarge ? '431 Request Header Fields Too Large' : timedOut ? '408 Request Timeout' : '400 Bad Request';
    const diagnostics = tooLarge
      ? `The request line and headers exceed ${MAX_HEADER_BYTES / 1024} KiB: send a long search as a form to POST [type]/_search`
      : timedOut
        ? 'The request did not arrive in time'
        : 'The request is not valid HTTP/1.1';
    const body = JSON.stringify(operationOutcome('error', tooLarge ? 'too-long' : timedOut ? 'timeout' : 'structure', diagnostics));
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/fhir+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}
