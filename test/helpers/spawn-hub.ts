// Runs the real `suhe` CLI as a child process, as an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { clientCredentialsToken, fetchWithToken, newBootstrapClient, type BootstrapClient } from './auth.js';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);

export interface SpawnedHub {
  child: ChildProcess;
  base: string;
  /** The bootstrap admin client this process was started with (same id and secret on a restart with the same `admin`). */
  admin: BootstrapClient;
  /** fetch with an admin token (fetched lazily, refreshed when the hub is restarted). */
  fetch: typeof fetch;
  /** Everything the process printed on stdout and stderr. */
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  startMs: number;
}

/** Starts `suhe serve` as a child process and resolves once it prints the FHIR API line. */
export function spawnHub(
  dataDir: string,
  databaseUrl: string | undefined,
  children: ChildProcess[],
  extraArgs: string[] = [],
  admin: BootstrapClient = newBootstrapClient(),
): Promise<SpawnedHub> {
  const args = ['bin/suhe.js', 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, ...extraArgs];
  if (databaseUrl) args.push('--database', databaseUrl);
  const env: NodeJS.ProcessEnv = { ...process.env, SUHE_LOG_LEVEL: 'warn', SUHE_BOOTSTRAP_CLIENT_ID: admin.clientId, SUHE_BOOTSTRAP_CLIENT_SECRET: admin.secret };
  delete env.SUHE_DATABASE_URL; // the CLI flags alone choose the backend
  delete env.SUHE_PUBLIC_BASE_URL;
  delete env.SUHE_PORT;
  const started = Date.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  return new Promise((resolveReady, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`hub did not get ready within 60 s:\n${output.join('')}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      buffered += chunk.toString();
      const match = /FHIR API\s+(http:\/\/127\.0\.0\.1:\d+\/fhir)/.exec(buffered);
      if (match) {
        clearTimeout(timer);
        buffered = '';
        const base = match[1];
        let token: Promise<string> | undefined;
        const authed = fetchWithToken(() => (token ??= clientCredentialsToken(base.replace(/\/fhir$/, ''), admin)));
        resolveReady({ child, base, admin, fetch: authed, output, exited, startMs: Date.now() - started });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`hub exited (code ${code}, signal ${signal}) before it was ready:\n${output.join('')}`));
    });
  });
}

