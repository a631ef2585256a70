// The one SQL interface every floor above uses. Two adapters implement it with the same SQL:
// pg (a pool, for a PostgreSQL server) and PGlite (PostgreSQL in-process, the embedded default).

export interface QueryOptions {
  /**
   * Keep the statement prepared under this name (PostgreSQL: per connection, no parse or plan on
   * later runs). Only for statements whose text never changes. PGlite ignores it.
   */
  name?: string;
}

export interface SqlExecutor {
  /** Runs one parameterised statement and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<T[]>;
}

export interface Database extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

const MAX_BIGINT = 2n ** 63n - 1n;

/** Whether text is a non-negative whole number a PostgreSQL bigint holds (a position, an action id). */
export function isBigintText(text: string): boolean {
  return /^\d{1,19}$/.test(text) && BigInt(text) <= MAX_BIGINT;
}
