import type { Database } from './database.js';
import { openPostgres } from './pg-adapter.js';
import { migratedPgliteImage, openPglite } from './pglite-adapter.js';
import { migrate } from './migrate.js';

export interface DatabaseOptions {
  /** postgres://... for a PostgreSQL server; undefined for the embedded PGlite. */
  databaseUrl?: string;
  /** Where PGlite keeps its files; undefined means in memory. Ignored for PostgreSQL. */
  pgliteDir?: string;
  /** For PGlite in memory: a migrated data directory to start from (`pgliteImage()`), skipping initdb. */
  pgliteImage?: Blob;
  onProgress?: (line: string) => void;
}

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const db = options.databaseUrl
    ? await openPostgres(options.databaseUrl)
    : await openPglite(options.pgliteDir, options.onProgress, options.pgliteImage);
  try {
    await migrate(db, options.onProgress);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/** An empty, fully migrated embedded database as a data directory image, for fast throwaway hubs. */
export function pgliteImage(): Promise<Blob> {
  return migratedPgliteImage((db) => migrate(db));
}
