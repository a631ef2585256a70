import { mkdirSync, existsSync, readdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Database, SqlExecutor } from './database.js';

/**
 * Opens the embedded PostgreSQL (PGlite). `dataDir` undefined means in-memory; an in-memory
 * database can start from `image` (a data directory saved by `migratedPgliteImage`) instead of
 * running initdb, which is most of PGlite's start (about 5 s against 1 s on a loaded machine).
 * PGlite is a single connection: its own queue serialises statements, and a transaction holds
 * that queue until it ends, so concurrent requests simply wait their turn.
 *
 * PGlite runs each statement on this thread and settles its promise as a microtask: a loop of
 * statements (a batch Bundle, a $reindex) never gave pending I/O a turn, so every other request,
 * even /healthz, waited for the whole loop (a batch of 2,000 reads: 5 s). Each statement's result
 * therefore arrives after a turn of the event loop.
 */
export async function openPglite(dataDir: string | undefined, onProgress: (line: string) => void = () => undefined, image?: Blob): Promise<Database> {
  if (dataDir) {
    const fresh = !existsSync(dataDir) || readdirSync(dataDir).length === 0;
    mkdirSync(dataDir, { recursive: true });
    if (fresh) onProgress(`Creating a new embedded database in ${dataDir} (first run: initdb takes a few seconds)...`);
  }
  // On Node, PGlite's filesystem layer passes every write straight to the real files, so a commit is
  // in the OS page cache before the query resolves: it survives kill -9 (proven by the durability
  // test) but is not fsynced. relaxedDurability only matters for browser filesystems.
  const db = await PGlite.create(dataDir, { relaxedDurability: false, ...(image && !dataDir ? { loadDataDir: image } : {}) });
  return pgliteDatabase(db);
}

/** A fresh in-memory PGlite with every migration applied, saved as a data directory image (tar). */
export async function migratedPgliteImage(migrate: (db: Database) => Promise<unknown>): Promise<Blob> {
  const pglite = await PGlite.create(undefined, { relaxedDurability: false });
  try {
    await migrate(pgliteDatabase(pglite));
    return await pglite.dumpDataDir('none');
  } finally {
    await pglite.close();
  }
}

function pgliteDatabase(db: PGlite): Database {
  const toExecutor = (runner: { query: PGlite['query'] }): SqlExecutor => ({
    async query<T>(sql: string, params: unknown[] = []) {
      const result = await runner.query<T>(sql, params as unknown[]);
      await new Promise((resolve) => setImmediate(resolve));
      return result.rows;
    },
  });
  const direct = toExecutor(db);

  return {
    kind: 'pglite',
    query: direct.query,
    transaction: <T>(work: (tx: SqlExecutor) => Promise<T>) => db.transaction((tx) => work(toExecutor(tx))),
    async exec(script: string) {
      await db.exec(script);
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}
