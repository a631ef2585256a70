// Starts scripts/bench/server.ts (the real hub, or a trivial 'ok' server) in a child process and
// waits for its ready message, so the load generator and the server never share an event loop.
// Shared by the benchmarks; each registers the returned stop() with its own cleanups.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BootstrapClient } from '../../test/helpers/auth.js';
import type { ServerMessage } from './server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER_SCRIPT = fileURLToPath(new URL('./server.ts', import.meta.url));

export interface RunningServer {
  url: string;
  database?: string;
  /** The hub's DIMSE listener, when server.ts was asked for one (SUHE_BENCH_DIMSE_PEER). */
  dimse?: { port: number; aeTitle: string };
  pid: number;
  /** CPU time (user + system) the server process has used so far, in ms. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Forks server.ts with `serverArgs` (`['ok']` or `['hub', databaseUrl|'memory'|'dir:PATH', logLevel]`); the
 * hub is started with `client` as its bootstrap admin client. `onStart` receives stop() before
 * the server is ready, so a failed start is still cleaned up.
 */
export async function startServer(
  serverArgs: string[],
  options: { client: BootstrapClient; execArgv?: string[]; onStart: (stop: () => Promise<void>) => void; say: (line: string) => void },
): Promise<RunningServer> {
  const child: ChildProcess = fork(SERVER_SCRIPT, serverArgs, {
    cwd: ROOT,
    env: { ...process.env, SUHE_BOOTSTRAP_CLIENT_ID: options.client.clientId, SUHE_BOOTSTRAP_CLIENT_SECRET: options.client.secret },
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    // The hub logs one JSON line per request to stdout (as in production); it goes to /dev/null.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  child.on('error', (err) => options.say(`server ${serverArgs[0]}: ${err.message}`));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'close' }, () => undefined);
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  options.onStart(stop);
  const ready = await new Promise<ServerMessage>((done, fail) => {
    // A hub on a reused database may first apply migrations that rewrite index tables (minutes).
    const limitS = serverArgs[0] === 'hub' ? 1800 : 120;
    const timer = setTimeout(() => fail(new Error(`server ${serverArgs[0]} did not start within ${limitS} s`)), limitS * 1000);
    child.once('message', (m) => {
      clearTimeout(timer);
      done(m as ServerMessage);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`server ${serverArgs[0]} exited with code ${code} before it was ready`));
    });
  });
  if (ready.type === 'failed') throw new Error(`server ${serverArgs[0]} failed to start: ${ready.message}`);
  if (ready.type !== 'ready') throw new Error(`server ${serverArgs[0]} sent ${ready.type} before it was ready`);
  const cpuMs = () =>
    new Promise<number>((done) => {
      if (!child.connected) return done(Number.NaN);
      const on = (m: ServerMessage) => {
        if (m.type !== 'cpu') return;
        child.off('message', on);
        done(m.ms);
      };
      child.on('message', on);
      child.send({ type: 'cpu' }, (err) => {
        if (!err) return;
        child.off('message', on);
        done(Number.NaN);
      });
    });
  return { url: ready.url, database: ready.database, dimse: ready.dimse, pid: child.pid!, cpuMs, stop };
}
