import type { Database } from './database.js';
import { migrations, type Migration } from './migrations/index.js';

// An arbitrary constant: the advisory lock that keeps two hub processes starting against the same
// PostgreSQL from applying the same migration twice.
const MIGRATION_LOCK = 7_447_001;

/** Applies the migrations the database has not seen yet, each in its own transaction. Idempotent. */
export async function migrate(db: Database, onProgress: (line: string) => void = () => undefined, all: Migration[] = migrations): Promise<number> {
  await db.exec(`create table if not exists schema_migration (
    version integer primary key, name text not null, applied_at timestamptz not null default now())`);
  let applied = 0;
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const rows = await tx.query<{ version: number }>('select version from schema_migration');
    const done = new Set(rows.map((r) => Number(r.version)));
    for (const migration of all) {
      if (done.has(migration.version)) continue;
      onProgress(`Applying migration ${migration.version}: ${migration.name}`);
      for (const statement of migration.statements ?? splitStatements(migration.sql ?? '')) await tx.query(statement);
      await tx.query('insert into schema_migration (version, name) values ($1, $2)', [migration.version, migration.name]);
      applied++;
    }
  });
  return applied;
}

/** Migrations hold only DDL without functions, so a split on `;` at line ends is enough. */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}
