// Typed configuration from (lowest to highest precedence) defaults, environment, CLI flags.
// Validated at start: a bad value stops the hub with a message that says what to fix.
import { resolve } from 'node:path';
import { DEFAULT_SCRYPT, type ScryptParams } from '../auth/passwords.js';
import type { TotalMode } from '../fhir/search/model.js';
import { loadRules, type HospitalRules } from '../hospital/rules.js';

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
    /** scrypt cost for new password and client-secret hashes (tests lower it; production keeps the default). */
    passwordHashing: ScryptParams;
  };
  /** How long AuditEvents are kept (SEC-05: at least six months). */
  auditRetentionDays: number;
  /** The internet hospital's rule parameters (server/src/hospital/rules.ts; SUHE_RULES_FILE). */
  rules: HospitalRules;
  /** The DICOM DIMSE service (PS3.7/PS3.8) for PACS and modalities; off unless a port is set. */
  dimse: {
    /** TCP port on `host`; undefined = no DIMSE listener, 0 = an ephemeral port. */
    port?: number;
    /** Our AE title: associations calling another title are rejected. */
    aeTitle: string;
    /** The AEs that may associate; a peer with port 0 may call us but is no C-MOVE destination. */
    peers: DimsePeer[];
    /** Time from connect to a negotiated association. */
    associationTimeoutSeconds: number;
    /** An association with no traffic in either direction for this long is closed. */
    idleTimeoutSeconds: number;
    /** Largest object a C-STORE may carry. */
    maxObjectBytes: number;
    /** Associations open at once; more are rejected (local limit exceeded). */
    maxAssociations: number;
  };
}

export interface DimsePeer {
  aeTitle: string;
  host: string;
  port: number;
}

export type ConfigOverrides = Partial<Omit<Config, 'search' | 'auth' | 'dimse' | 'rules'>> & {
  search?: Partial<Config['search']>;
  rules?: Partial<HospitalRules>;
  auth?: Partial<Config['auth']>;
  dimse?: Partial<Config['dimse']>;
};

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
      passwordHashing: overrides.auth?.passwordHashing ?? DEFAULT_SCRYPT,
    },
    auditRetentionDays: overrides.auditRetentionDays ?? intFrom(env.SUHE_AUDIT_RETENTION_DAYS, 'SUHE_AUDIT_RETENTION_DAYS') ?? 183,
    rules: loadRules(env.SUHE_RULES_FILE || undefined, overrides.rules),
    dimse: {
      port: overrides.dimse?.port ?? intFrom(env.SUHE_DIMSE_PORT, 'SUHE_DIMSE_PORT'),
      aeTitle: overrides.dimse?.aeTitle ?? (env.SUHE_AE_TITLE || 'SUHE'),
      peers: overrides.dimse?.peers ?? parseDimsePeers(env.SUHE_DIMSE_PEERS ?? ''),
      associationTimeoutSeconds: overrides.dimse?.associationTimeoutSeconds ?? 30,
      idleTimeoutSeconds: overrides.dimse?.idleTimeoutSeconds ?? 120,
      maxObjectBytes: overrides.dimse?.maxObjectBytes ?? 2 * 1024 * 1024 * 1024,
      maxAssociations: overrides.dimse?.maxAssociations ?? 32,
    },
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

/** `PACS1@10.0.0.5:104,MODALITY@10.0.0.9:0` → peers (SUHE_DIMSE_PEERS). */
export function parseDimsePeers(text: string): DimsePeer[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(.{1,16})@(\[[0-9a-fA-F:.]+\]|[^@:\s]+):(\d{1,5})$/.exec(entry);
      if (!match) throw new Error(`SUHE_DIMSE_PEERS: '${entry}' is not AETITLE@host:port (port 0: may call us, is no move destination)`);
      return { aeTitle: match[1], host: match[2].replace(/^\[|\]$/g, ''), port: Number(match[3]) };
    });
}

function validateAeTitle(title: string, what: string): void {
  // PS3.5 AE: 1-16 characters of the default repertoire, no backslash or control characters, not all spaces.
  if (title.length < 1 || title.length > 16 || !/^[\x20-\x7e]+$/.test(title) || title.includes('\\') || !title.trim() || title !== title.trim()) {
    throw new Error(`${what} '${title}' is not a valid AE title (1-16 printable characters, no backslash, no leading or trailing spaces)`);
  }
}

function validateDimse(dimse: Config['dimse']): void {
  if (dimse.port !== undefined && (!Number.isInteger(dimse.port) || dimse.port < 0 || dimse.port > 65535)) {
    throw new Error(`DIMSE port must be 0..65535 (0 picks a free port), got ${dimse.port}`);
  }
  validateAeTitle(dimse.aeTitle, 'AE title');
  const seen = new Set<string>();
  for (const peer of dimse.peers) {
    validateAeTitle(peer.aeTitle, 'DIMSE peer AE title');
    if (seen.has(peer.aeTitle)) throw new Error(`DIMSE peer '${peer.aeTitle}' is listed twice`);
    seen.add(peer.aeTitle);
    if (!Number.isInteger(peer.port) || peer.port < 0 || peer.port > 65535) throw new Error(`DIMSE peer '${peer.aeTitle}': port must be 0..65535, got ${peer.port}`);
    if (!peer.host) throw new Error(`DIMSE peer '${peer.aeTitle}' has no host`);
  }
  if (dimse.associationTimeoutSeconds < 1 || dimse.idleTimeoutSeconds < 1) throw new Error('DIMSE timeouts must be at least 1 second');
  if (dimse.maxObjectBytes < 1024) throw new Error('DIMSE maximum object size must be at least 1024 bytes');
  if (!Number.isInteger(dimse.maxAssociations) || dimse.maxAssociations < 1) throw new Error('DIMSE maximum associations must be at least 1');
}

function validateConfig(config: Config): void {
  validateDimse(config.dimse);
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
