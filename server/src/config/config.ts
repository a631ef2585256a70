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
  search: { defaultCount: number; maxCount: number; defaultTotal: TotalMode; maxIncludes: number };
  logLevel: string;
  profilesDir: string;
  /** An admin client for scripts and tests (client_secret_basic); none unless both are set. */
  bootstrapClient?: { clientId: string; secret: string };
  /** Browser origins allowed to call the API (strict allow-list; empty = no CORS). */
  corsOrigins: string[];
  auth: {
    accessTokenSeconds: number;
    backendTokenSeconds: number;
    refreshTokenDays: number;
    /** Sign-in and token requests per IP: burst and sustained rate. */
    rateLimit: { capacity: number; perSecond: number };
  };
  /** How long AuditEvents are kept (SEC-05: at least six months). */
  auditRetentionDays: number;
}

export type ConfigOverrides = Partial<Omit<Config, 'search' | 'auth'>> & { search?: Partial<Config['search']>; auth?: Partial<Config['auth']> };

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
      // Resources _include/_revinclude may add to one page; a Bundle that hits it says so.
      maxIncludes: overrides.search?.maxIncludes ?? intFrom(env.SUHE_SEARCH_MAX_INCLUDES, 'SUHE_SEARCH_MAX_INCLUDES') ?? 1000,
    },
    logLevel: overrides.logLevel ?? env.SUHE_LOG_LEVEL ?? 'info',
    profilesDir: overrides.profilesDir ?? resolve(PROJECT_ROOT, 'fhir-profiles'),
    bootstrapClient: overrides.bootstrapClient ?? bootstrapFrom(env),
    corsOrigins: overrides.corsOrigins ?? (env.SUHE_CORS_ORIGINS ? env.SUHE_CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean) : []),
    auth: {
      accessTokenSeconds: overrides.auth?.accessTokenSeconds ?? 900,
      backendTokenSeconds: overrides.auth?.backendTokenSeconds ?? 300,
      refreshTokenDays: overrides.auth?.refreshTokenDays ?? 30,
      rateLimit: overrides.auth?.rateLimit ?? { capacity: 60, perSecond: 2 },
    },
    auditRetentionDays: overrides.auditRetentionDays ?? intFrom(env.SUHE_AUDIT_RETENTION_DAYS, 'SUHE_AUDIT_RETENTION_DAYS') ?? 183,
  };
  validateConfig(config);
  return config;
}

function bootstrapFrom(env: NodeJS.ProcessEnv): Config['bootstrapClient'] {
  const clientId = env.SUHE_BOOTSTRAP_CLIENT_ID;
  const secret = env.SUHE_BOOTSTRAP_CLIENT_SECRET;
  if (!clientId && !secret) return undefined;
  if (!clientId || !secret) throw new Error('set both SUHE_BOOTSTRAP_CLIENT_ID and SUHE_BOOTSTRAP_CLIENT_SECRET, or neither');
  if (secret.length < 16) throw new Error('SUHE_BOOTSTRAP_CLIENT_SECRET must be at least 16 characters');
  return { clientId, secret };
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
  if (config.auditRetentionDays < 183) throw new Error('audit retention must be at least 183 days (SEC-05: logs are kept six months or more)');
  if (!['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'].includes(config.logLevel)) {
    throw new Error(`log level '${config.logLevel}' is not one of error, warn, info, debug`);
  }
}
