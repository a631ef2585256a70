// Starts the real hub on 127.0.0.1 with an ephemeral port, on PGlite (in memory or in a temp
// directory) or on a fresh PostgreSQL database that is dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createHub, type Hub } from '../../server/src/app.js';
import { createLogger } from '../../server/src/audit/logger.js';
import { loadConfig, type ConfigOverrides } from '../../server/src/config/config.js';
import { clientCredentialsToken, fetchWithToken, newBootstrapClient, type BootstrapClient } from './auth.js';
import { POSTGRES_ADMIN_URL, type Backend } from './parts.js';
import { testPgliteImage } from './pglite-image.js';

export interface TestHub {
  hub: Hub;
  url: string;
  base: string;
  /** The bootstrap admin client the hub was started with. */
  admin: BootstrapClient;
  /** An admin access token (system/*.cruds). */
  token: string;
  /** fetch that sends the admin token unless the call sets its own Authorization. */
  fetch: typeof fetch;
  close(): Promise<void>;
}

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `suhe_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/**
 * Hubs in tests hash passwords at a 32× cheaper scrypt cost: suites create hundreds of accounts
 * and the production cost (test/unit/passwords.test.ts covers it) is spent, not tested, there.
 */
const TEST_PASSWORD_HASHING = { N: 2 ** 10, r: 8, p: 1 };

export async function startTestHub(backend: Backend, overrides: ConfigOverrides = {}): Promise<TestHub> {
  let database: { url: string; drop(): Promise<void> } | undefined;
  if (backend === 'postgres') database = await createTestDatabase();
  const admin = newBootstrapClient();
  const config = loadConfig(
    { port: 0, host: '127.0.0.1', databaseUrl: database?.url, bootstrapClient: admin, ...overrides, auth: { passwordHashing: TEST_PASSWORD_HASHING, ...overrides.auth } },
    {},
  );
  // Unless the test gave a data dir, everything is thrown away with the hub (PGlite in memory,
  // blobs and exports in temp dirs), on PostgreSQL too: a test never touches ./data.
  const hub = await createHub(overrides.dataDir ? config : { ...config, dataDir: 'memory://' }, {
    logger: createLogger('error', process.env.SUHE_TEST_LOGS !== '1'),
    pgliteImage: backend === 'pglite' && !overrides.dataDir ? await testPgliteImage() : undefined,
  });
  const { url } = await hub.listen();
  const token = await clientCredentialsToken(url, admin);
  return {
    hub,
    url,
    base: `${url}/fhir`,
    admin,
    token,
    fetch: fetchWithToken(() => token),
    async close() {
      await hub.close();
      await database?.drop();
    },
  };
}

