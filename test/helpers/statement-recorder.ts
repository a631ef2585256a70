// Records the statements a hub sends through its database interface (searches run outside
// transactions, on the hub's db), so a test can EXPLAIN exactly what the hub asked.
import type { Database } from '../../server/src/db/database.js';

export interface RecordedStatement {
  sql: string;
  params: unknown[];
  /** The prepared statement's name, when the hub gave one. */
  name?: string;
}

/** From now on every `db.query` is appended to the returned list (empty it between requests). */
export function recordStatements(db: Database): RecordedStatement[] {
  const recorded: RecordedStatement[] = [];
  const target = db as { query: (sql: string, params?: unknown[], options?: { name?: string }) => Promise<unknown[]> };
  const original = target.query.bind(db);
  target.query = (sql, params, options) => {
    recorded.push({ sql, params: params ?? [], name: options?.name });
    return original(sql, params, options);
  };
  return recorded;
}
