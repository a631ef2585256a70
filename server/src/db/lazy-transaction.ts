// A transaction that begins only when it is first needed. The repository buffers writes, so a
// unit of work that only writes (a create and its AuditEvent) ends as ONE statement, atomic on
// its own, with no BEGIN/COMMIT round trips; the first read or lock opens a real transaction
// (and the buffered writes go into it first).
import type { Database, QueryOptions, SqlExecutor } from './database.js';

class Rollback extends Error {}

export class LazyTransaction implements SqlExecutor {
  private open?: Promise<SqlExecutor>;
  private decide?: (commit: boolean) => void;
  private settled?: Promise<unknown>;

  constructor(private readonly db: Database) {}

  get opened(): boolean {
    return this.open !== undefined;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<T[]> {
    return (await this.begin()).query<T>(sql, params, options);
  }

  /** Opens the real transaction (once) and holds it until commit() or rollback(). */
  private begin(): Promise<SqlExecutor> {
    this.open ??= new Promise<SqlExecutor>((handOut, failed) => {
      const decision = new Promise<boolean>((resolve) => (this.decide = resolve));
      this.settled = this.db
        .transaction(async (tx) => {
          handOut(tx);
          if (!(await decision)) throw new Rollback();
        })
        .catch((err) => {
          failed(err); // could not even begin: the first query fails with the reason
          if (!(err instanceof Rollback)) throw err;
        });
    });
    return this.open;
  }

  async commit(): Promise<void> {
    if (!this.open) return;
    this.decide?.(true);
    await this.settled;
  }

  async rollback(): Promise<void> {
    if (!this.open) return;
    this.decide?.(false);
    await this.settled?.catch(() => undefined);
  }
}
