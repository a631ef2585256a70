import pg from 'pg';
import type { Database, QueryOptions, SqlExecutor } from './database.js';

export async function openPostgres(connectionString: string, maxConnections = 10): Promise<Database> {
  const pool = new pg.Pool({ connectionString, max: maxConnections });
  // Fail at start with a clear message rather than on the first request.
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`Cannot connect to PostgreSQL at ${redactUrl(connectionString)}: ${(err as Error).message}`);
  }
  pool.on('error', () => undefined); // an idle client dropped by the server must not crash the hub

  return {
    kind: 'postgres',
    async query<T>(sql: string, params: unknown[] = [], options: QueryOptions = {}) {
      const result = await pool.query({ text: sql, values: params, name: options.name });
      return result.rows as T[];
    },
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: SqlExecutor = {
          async query<R>(sql: string, params: unknown[] = [], options: QueryOptions = {}) {
            return (await client.query({ text: sql, values: params, name: options.name })).rows as R[];
          },
        };
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async exec(script: string) {
      await pool.query(script);
    },
    async close() {
      await pool.end();
    },
  };
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}
