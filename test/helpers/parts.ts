// Which system parts (PostgreSQL server, ...) this machine has. A test that needs a missing part
// is skipped with a plain message — unless SUHE_TEST_REQUIRE_ALL=1 (set by .ci/run), where a
// missing part fails the run.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import pg from 'pg';
import { ORTHANC_BINARY, ORTHANC_DICOMWEB_PLUGIN } from '../peers/orthanc.js';

export const REQUIRE_ALL = process.env.SUHE_TEST_REQUIRE_ALL === '1';
export const POSTGRES_ADMIN_URL = process.env.SUHE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let postgresCheck: Promise<string | undefined> | undefined;

/** Undefined when PostgreSQL answers; otherwise why not. */
export function postgresUnavailable(): Promise<string | undefined> {
  postgresCheck ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (err) {
      return `PostgreSQL not reachable at ${POSTGRES_ADMIN_URL}: ${(err as Error).message}`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return postgresCheck;
}

export type Backend = 'pglite' | 'postgres';

/** The backends a suite should run on: PGlite always, PostgreSQL where present (or required). */
export async function availableBackends(suite: string): Promise<Backend[]> {
  const why = await postgresUnavailable();
  if (!why) return ['pglite', 'postgres'];
  if (REQUIRE_ALL) throw new Error(`${suite}: SUHE_TEST_REQUIRE_ALL=1 but ${why}`);
  process.stdout.write(`SKIPPED (${suite} on PostgreSQL): ${why}\n`);
  return ['pglite'];
}

/**
 * Where a suite's bulk loads run (thousands of resources): PostgreSQL when present, else PGlite.
 * Both databases run the same SQL and every behaviour is tested on both with small data; loading
 * the same large data set twice would only double minutes of CI time (PGlite, single-threaded
 * WebAssembly, loads ~3× slower).
 */
export function bulkLoadBackend(backends: readonly Backend[]): Backend {
  return backends.includes('postgres') ? 'postgres' : 'pglite';
}

let dcmtkCheck: Promise<string | undefined> | undefined;

/** Undefined when DCMTK's network tools (echoscu, storescu, findscu, getscu, movescu, storescp) are on the PATH; otherwise why not. */
export function dcmtkUnavailable(): Promise<string | undefined> {
  dcmtkCheck ??= new Promise((resolve) => {
    execFile('which', ['echoscu', 'storescu', 'findscu', 'getscu', 'movescu', 'storescp'], { timeout: 5000 }, (err) => resolve(err ? 'DCMTK not installed' : undefined));
  });
  return dcmtkCheck;
}

let orthancCheck: Promise<string | undefined> | undefined;

/**
 * Undefined when Orthanc (with its DICOMweb plugin) can run as a test PACS: installed, and a
 * loopback-only network namespace can be made for it (`unshare -n`, `ip`; needs root or
 * CAP_SYS_ADMIN) — Orthanc 1.10 listens on every address, so it never runs outside one.
 */
export function orthancUnavailable(): Promise<string | undefined> {
  orthancCheck ??= (async () => {
    try {
      accessSync(ORTHANC_BINARY, constants.X_OK);
    } catch {
      return `Orthanc not installed (${ORTHANC_BINARY})`;
    }
    try {
      accessSync(ORTHANC_DICOMWEB_PLUGIN, constants.R_OK);
    } catch {
      return `Orthanc's DICOMweb plugin not installed (${ORTHANC_DICOMWEB_PLUGIN})`;
    }
    return new Promise<string | undefined>((resolve) => {
      execFile('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { timeout: 5000 }, (err, _stdout, stderr) =>
        resolve(err ? `no loopback-only network namespace for Orthanc (unshare -n ... ip link set lo up: ${(stderr || err.message).trim().split('\n')[0]})` : undefined),
      );
    });
  })();
  return orthancCheck;
}

export const CHROMIUM_BINARY = '/usr/bin/chromium';
let chromiumCheck: Promise<string | undefined> | undefined;

/** Undefined when Debian's Chromium (driven by playwright-core, never a downloaded browser) can start; otherwise why not. */
export function chromiumUnavailable(): Promise<string | undefined> {
  chromiumCheck ??= (async () => {
    try {
      accessSync(CHROMIUM_BINARY, constants.X_OK);
    } catch {
      return 'Chromium not installed';
    }
    return new Promise<string | undefined>((resolve) => {
      execFile(CHROMIUM_BINARY, ['--version'], { timeout: 15_000 }, (err, stdout, stderr) =>
        resolve(err ? `Chromium does not start (${CHROMIUM_BINARY} --version: ${(stderr || err.message).trim().split('\n')[0]})` : undefined),
      );
    });
  })();
  return chromiumCheck;
}
