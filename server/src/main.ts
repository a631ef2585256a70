// CLI entry: `suhe serve|migrate|import`. See README.md for the options.
// The hub's modules are imported by the commands that need them: help and argument errors answer
// at once instead of after loading the whole server (about two seconds).
import { parseArgs, type ParsedArgs } from './cli/args.js';
import { loadConfig, type ConfigOverrides } from './config/config.js';
import { VERSION } from './version.js';

type Hub = Awaited<ReturnType<typeof import('./app.js').createHub>>;
type Database = Awaited<ReturnType<typeof import('./db/open.js').openDatabase>>;

/** A hub for a command: logs at warn unless it serves. */
async function startHub(config: ReturnType<typeof loadConfig>, options: { onProgress?: (line: string) => void; quiet?: boolean }): Promise<Hub> {
  const [{ createHub }, { createLogger }] = await Promise.all([import('./app.js'), import('./audit/logger.js')]);
  return createHub(config, { onProgress: options.onProgress, ...(options.quiet ? { logger: createLogger('warn') } : {}) });
}

const USAGE = `Suhe ${VERSION} — district health-data hub

Usage:
  suhe serve   [--port 8080] [--host 127.0.0.1] [--data-dir ./data] [--database postgres://...] [--demo]
               [--dimse-port 11112] [--ae-title SUHE]   also serve DICOM DIMSE (C-ECHO/STORE/FIND/MOVE/GET)
  suhe migrate [--data-dir DIR | --database URL]     apply database migrations and exit
  suhe import  FILE|DIR [--data-dir DIR | --database URL]   load FHIR Bundles (.json) and NDJSON
  suhe audit verify                 check the tamper-evident audit chain; names the first broken link
  suhe audit prune                  remove audit events older than SUHE_AUDIT_RETENTION_DAYS (≥ 183)
  suhe keys rotate                  new token-signing key (old tokens stay valid until they expire)
  suhe clients list | add ... | suspend ID | activate ID     OAuth clients (institution systems, apps)
  suhe users add --username U --role R --fhir-user Patient/ID   accounts (password from SUHE_PASSWORD)
  suhe sources add NAME --url FHIR_BASE [...] | list | remove NAME | sync NAME|--all | status NAME
                                    federation sources (see docs/FEDERATION.md; secret in SUHE_SOURCE_SECRET)
  (all take [--data-dir DIR | --database URL]; stop a hub on the embedded database first)

Environment: SUHE_PORT, SUHE_HOST, SUHE_DATA_DIR, SUHE_DATABASE_URL, SUHE_LOG_LEVEL, SUHE_PUBLIC_BASE_URL,
SUHE_BOOTSTRAP_CLIENT_ID / SUHE_BOOTSTRAP_CLIENT_SECRET (an admin client for scripts), SUHE_CORS_ORIGINS,
SUHE_AUDIT_RETENTION_DAYS, SUHE_DIMSE_PORT, SUHE_AE_TITLE, SUHE_DIMSE_PEERS (AE@host:port,... — the AEs that
may associate; port 0: may call us but is no C-MOVE destination).
Without --database the hub runs on the embedded PostgreSQL (PGlite) in <data-dir>/pglite.`;

const say = (line: string) => process.stdout.write(line + '\n');

function overridesFrom(args: ParsedArgs): ConfigOverrides {
  const text = (name: string) => {
    const v = args.flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const port = text('port');
  if (port !== undefined && !/^\d+$/.test(port)) throw new Error(`--port must be a number, got '${port}'`);
  const dimsePort = text('dimse-port');
  if (dimsePort !== undefined && !/^\d+$/.test(dimsePort)) throw new Error(`--dimse-port must be a number, got '${dimsePort}'`);
  return {
    port: port === undefined ? undefined : Number(port),
    host: text('host'),
    dataDir: text('data-dir'),
    databaseUrl: text('database'),
    logLevel: text('log-level'),
    demo: args.flags.has('demo') || undefined,
    dimse: { port: dimsePort === undefined ? undefined : Number(dimsePort), aeTitle: text('ae-title') },
  };
}

async function serve(args: ParsedArgs): Promise<void> {
  const config = loadConfig(overridesFrom(args));
  say(`Suhe ${VERSION} starting on ${config.databaseUrl ? 'PostgreSQL' : `embedded PostgreSQL (PGlite) in ${config.dataDir}/pglite`}...`);
  const hub = await startHub(config, { onProgress: say });
  const { url, dimsePort } = await hub.listen();
  if (config.demo) await (await import('./demo/load-demo.js')).loadDemoIfEmpty(hub, `${config.publicBaseUrl ?? url + '/fhir'}`, say);
  if (!config.databaseUrl) {
    say('  Durability: each commit reaches the files before it is acknowledged, so a killed hub loses nothing; but PGlite');
    say('  runs with fsync off: a power failure or OS crash can lose recent commits and may corrupt the database.');
    say('  Use --database postgres://... for production.');
  }
  say(`Suhe is ready.
  FHIR API          ${url}/fhir
  Capabilities      ${url}/fhir/metadata
  Patients          ${url}/fhir/Patient  (needs an access token)
  DICOMweb          ${url}/dicomweb  (STOW-RS, QIDO-RS, WADO-RS; WADO-URI at ${url}/dicomweb/wado)
  Image viewer      ${url}/viewer/  (sign in with a clinician's account)
  SMART discovery   ${url}/.well-known/smart-configuration  (tokens: ${url}/oauth2/token)
  Health            ${url}/healthz  (readiness: ${url}/readyz)`);
  if (dimsePort !== undefined) {
    const peers = config.dimse.peers.map((p) => p.aeTitle).join(', ') || 'none configured: every association is rejected';
    say(`  DICOM DIMSE       ${config.dimse.aeTitle}@${config.host}:${dimsePort}  (peers: ${peers})`);
  }
  const stop = async (signal: string) => {
    say(`${signal}: shutting down...`);
    await hub.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

async function migrateOnly(args: ParsedArgs): Promise<void> {
  const config = loadConfig(overridesFrom(args));
  const hub = await startHub(config, { onProgress: say, quiet: true });
  await hub.close();
  say('Database is up to date.');
}

async function importCommand(args: ParsedArgs): Promise<void> {
  const target = args.positional[0];
  if (!target) throw new Error('import needs a FILE or DIR: suhe import ../shared/testdata/fhir/synthea/smart');
  const config = loadConfig(overridesFrom(args));
  const hub = await startHub(config, { onProgress: say, quiet: true });
  try {
    const { importFiles } = await import('./cli/import.js');
    const summary = await importFiles(hub, target, say);
    for (const failure of summary.failures) say(`  failed: ${failure.file}: ${failure.message}`);
    say(`Imported ${summary.resources} resources from ${summary.files} files.`);
    if (summary.failures.length) process.exitCode = 1;
  } finally {
    await hub.close();
  }
}

/** Runs `work` on the configured database alone (no HTTP server). */
async function withDatabase(args: ParsedArgs, work: (db: Database) => Promise<number | void>): Promise<void> {
  const config = loadConfig(overridesFrom(args));
  const { openDatabase } = await import('./db/open.js');
  const db = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: config.databaseUrl ? undefined : `${config.dataDir}/pglite` });
  try {
    process.exitCode = (await work(db)) ?? 0;
  } finally {
    await db.close();
  }
}

/** Runs `work` with a hub that does not listen (commands that write through the FHIR layer). */
async function withHub(args: ParsedArgs, work: (hub: Hub) => Promise<number>): Promise<void> {
  const hub = await startHub(loadConfig(overridesFrom(args)), { quiet: true });
  try {
    process.exitCode = await work(hub);
  } finally {
    await hub.close();
  }
}

const adminCommands = () => import('./cli/admin-commands.js');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  switch (args.command) {
    case 'serve':
      return serve(args);
    case 'migrate':
      return migrateOnly(args);
    case 'import':
      return importCommand(args);
    case 'audit':
      if (args.positional[0] === 'verify') return withDatabase(args, async (db) => (await adminCommands()).auditVerify(db, say));
      if (args.positional[0] === 'prune') return withDatabase(args, async (db) => (await adminCommands()).auditPrune(db, loadConfig(overridesFrom(args)).auditRetentionDays, say));
      throw new Error('usage: suhe audit verify|prune [--data-dir DIR | --database URL]');
    case 'keys':
      if (args.positional[0] !== 'rotate') throw new Error('usage: suhe keys rotate [--data-dir DIR | --database URL]');
      return withDatabase(args, async (db) => (await adminCommands()).keysRotate(db, say));
    case 'clients':
      return withHub(args, async (hub) => (await adminCommands()).clientsCommand(hub, args, say));
    case 'users':
      return withHub(args, async (hub) => (await adminCommands()).usersCommand(hub, args, process.env, say));
    case 'sources':
      return withHub(args, async (hub) => (await import('./cli/sources-command.js')).sourcesCommand(hub, args, process.env, say));
    case 'help':
    case '--help':
      say(USAGE);
      return;
    default:
      throw new Error(`Unknown command '${args.command}'.\n\n${USAGE}`);
  }
}

main().catch((err: Error) => {
  process.stderr.write(`suhe: ${err.message}\n`);
  process.exit(1);
});
