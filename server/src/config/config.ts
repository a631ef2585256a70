// Typed configuration from (lowest to highest precedence) defaults, environment, CLI flags.
// Validated at start: a bad value stops the hub with a message that says what to fix.
import { resolve } from 'node:path';
import type { TotalMode } from '../fhir/search/model.js';

export interface Config {
  host: string;
  port: number;
  /** Where the embedded database and blobs live. */
  dataDir: string;
  /** postgres://... to use a PostgreSQL server instead of the embedded PGlite. */
  databaseUrl?: string;
  /** Load the demo district into an empty database at start. */
  demo: boolean;
  /** Public base URL, when the hub sits behind a proxy; otherwise derived from each request. */
  publicBaseUrl?: string;
  bodyLimitBytes: number;
  search: { defaultCount: number; maxCount: number; defaultTotal: TotalMode };
  logLevel: string;
  profilesDir: string;
}

export type ConfigOverrides = Partial<Omit<Config, 'search'>> & { search?: Partial<Config['search']> };

const PROJECT_ROOT = resolve(new URL('../../..', import.meta.url).pathname);

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const config: Config = {
    host: overrides.host ?? env.SUHE_HOST ?? '127.0.0.1',
    port: overrides.port ?? intFrom(env.SUHE_PORT, 'SUHE_PORT') ?? 8080,
    dataDir: resolve(overrides.dataDir ?? env.SUHE_DATA_DIR ?? './data'),
    databaseUrl: overrides.databaseUrl ?? (env.SUHE_DATABASE_URL || undefined),
    demo: overrides.demo ?? false,
    publicBaseUrl: overrides.publicBaseUrl ?? (env.SUHE_PUBLIC_BASE_URL || undefined),
    bodyLimitBytes: overrides.bodyLimitBytes ?? intFrom(env.SUHE_BODY_LIMIT_BYTES, 'SUHE_BODY_LIMIT_BYTES') ?? 32 * 1024 * 1024,
    search: {
      defaultCount: overrides.search?.defaultCount ?? 20,
      maxCount: overrides.search?.maxCount ?? 1000,
      defaultTotal: overrides.search?.defaultTotal ?? 'accurate',
    },
    logLevel: overrides.logLevel ?? env.SUHE_LOG_LEVEL ?? 'info',
    profilesDir: overrides.profilesDir ?? resolve(PROJECT_ROOT, 'fhir-profiles'),
  };
  validateConfig(config);
  return config;
}

function intFrom(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a whole number, got '${value}'`);
  return Number(value);
}

function validateConfig(config: Config): void {
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw new Error(`port must be 0..65535 (0 picks a free port), got ${config.port}`);
  }
  if (config.databaseUrl && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw new Error(`database URL must start with postgres:// or postgresql://, got '${config.databaseUrl.replace(/:[^:@/]+@/, ':***@')}'`);
  }
  if (config.bodyLimitBytes < 1024) throw new Error('body limit must be at least 1024 bytes');
  if (config.search.defaultCount < 1 || config.search.defaultCount > config.search.maxCount) {
    throw new Error('search default count must be between 1 and the maximum count');
  }
  if (!['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'].includes(config.logLevel)) {
    throw new Error(`log level '${config.logLevel}' is not one of error, warn, info, debug`);
  }
}
