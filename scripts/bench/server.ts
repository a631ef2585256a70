// The server side of the benchmark, run as a child process (fork) so that the load generator and
// the server do not share one event loop:
//   server.ts hub <databaseUrl|memory|dir:PATH> <logLevel>   the real hub (createHub) on 127.0.0.1:0;
//                                                  dir:PATH puts PGlite and the blobs in PATH
//   server.ts ok                                   a trivial node:http server answering 'ok'
// It reports {ready, url} over IPC and stops on a {close} message (or when the parent goes away).
// With SUHE_BENCH_DIMSE_PEER=<AE title> in its environment the hub also listens for DIMSE on an
// ephemeral port (127.0.0.1), accepting associations from that AE; ready then carries the port.
// Exiting normally lets `--cpu-prof` (passed by the parent) write its profile.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHub } from '../../server/src/app.js';
import { createLogger } from '../../server/src/audit/logger.js';
import { loadConfig } from '../../server/src/config/config.js';

export type ServerMessage =
  | { type: 'ready'; url: string; database?: string; dimse?: { port: number; aeTitle: string } }
  | { type: 'failed'; message: string }
  | { type: 'cpu'; ms: number };

const [mode, target = 'memory', logLevel = 'info'] = process.argv.slice(2);

async function start(): Promise<{ url: string; database?: string; dimse?: { port: number; aeTitle: string }; close(): Promise<void> }> {
  if (mode === 'ok') {
    const server: Server = createServer((req, res) => {
      req.resume(); // read (and discard) any body, as a real server has to
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    };
  }
  if (mode === 'hub') {
    const dir = target.startsWith('dir:') ? target.slice(4) : undefined;
    const databaseUrl = target === 'memory' || dir ? undefined : target;
    const bootstrapClient = { clientId: process.env.SUHE_BOOTSTRAP_CLIENT_ID ?? '', secret: process.env.SUHE_BOOTSTRAP_CLIENT_SECRET ?? '' };
    const dimsePeer = process.env.SUHE_BENCH_DIMSE_PEER;
    const dimse = dimsePeer ? { port: 0, peers: [{ aeTitle: dimsePeer, host: '127.0.0.1', port: 0 }] } : undefined;
    const config = loadConfig({ port: 0, host: '127.0.0.1', databaseUrl, logLevel, dataDir: dir ?? 'memory://', bootstrapClient, dimse }, {});
    // loadConfig resolves dataDir to an absolute path; 'memory://' is the in-memory PGlite marker.
    const hub = await createHub(dir ? config : { ...config, dataDir: 'memory://' }, { logger: createLogger(logLevel) });
    const { url, dimsePort } = await hub.listen();
    const [{ version }] = await hub.db.query<{ version: string }>('select version()');
    return {
      url,
      database: version,
      dimse: dimsePort ? { port: dimsePort, aeTitle: config.dimse.aeTitle } : undefined,
      close: () => hub.close(),
    };
  }
  throw new Error(`unknown mode '${mode}' (expected hub or ok)`);
}

const send = (message: ServerMessage) => process.send?.(message);

try {
  const server = await start();
  let closing = false;
  const stop = async (code: number) => {
    if (closing) return;
    closing = true;
    await server.close().catch((err) => process.stderr.write(`close failed: ${(err as Error).message}\n`));
    process.exit(code);
  };
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'close') void stop(0);
    // CPU time of this process (user + system, ms), for the parent's per-phase CPU accounting.
    if (message?.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', ms: (user + system) / 1000 });
    }
  });
  process.on('disconnect', () => void stop(0));
  // Ctrl-C reaches the whole process group: let the parent decide when to stop (it sends close).
  process.on('SIGINT', () => undefined);
  send({ type: 'ready', url: server.url, database: server.database, dimse: server.dimse });
} catch (err) {
  send({ type: 'failed', message: (err as Error).stack ?? String(err) });
  process.exit(1);
}
