// A free TCP port on 127.0.0.1 for a peer a test or benchmark starts itself (storescp, Orthanc).
import { createServer } from 'node:net';

/** A port nobody listens on now (bind to 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = address && typeof address === 'object' ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
