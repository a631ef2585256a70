// Writes resource versions, their history rows and all their index rows in ONE statement
// (data-modifying CTEs over unnest arrays).
import type { SqlExecutor } from '../../db/database.js';
import { INDEX_TABLES, type IndexRows, type IndexTable } from './extract.js';

const COLUMNS: Record<IndexTable, { names: string[]; types: string[] }> = {
  string: { names: ['param', 'value', 'norm'], types: ['text', 'text', 'text'] },
  token: { names: ['param', 'system', 'code', 'display'], types: ['text', 'text', 'text', 'text'] },
  date: { names: ['param', 'lo', 'hi'], types: ['text', 'timestamptz', 'timestamptz'] },
  number: { names: ['param', 'value'], types: ['text', 'numeric'] },
  quantity: { names: ['param', 'system', 'code', 'unit', 'value'], types: ['text', 'text', 'text', 'text', 'numeric'] },
  reference: { names: ['param', 'target_type', 'target_id', 'reference'], types: ['text', 'text', 'text', 'text'] },
  uri: { names: ['param', 'value'], types: ['text', 'text'] },
};

export interface VersionWrite {
  type: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  deleted: boolean;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  content: string;
  /** Index rows of the new version; empty for a delete. */
  rows: IndexRows;
  /** Whether the resource already has a current row (and old index rows to drop). */
  exists: boolean;
}

/**
 * Writes any number of versions in ONE statement: the versions and every index row travel as
 * unnest arrays. The text depends only on the statement's shape (are there updates, inserts, rows
 * for each index table?), so the few shapes in use stay prepared in PostgreSQL (no parse or plan
 * per write), and a transaction Bundle's hundreds of resources cost one round trip, not one each.
 */
export async function writeVersions(tx: SqlExecutor, writes: VersionWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const shape: Shape = {
    updates: writes.some((w) => w.exists),
    inserts: writes.some((w) => !w.exists),
    tables: INDEX_TABLES.filter((table) => writes.some((w) => w.rows[table].length > 0)),
  };
  const values: unknown[] = [
    writes.map((w) => w.type),
    writes.map((w) => w.id),
    writes.map((w) => w.versionId),
    writes.map((w) => w.lastUpdated),
    writes.map((w) => w.deleted),
    writes.map((w) => w.method),
    writes.map((w) => w.content),
    writes.map((w) => w.exists),
  ];
  for (const table of shape.tables) {
    const owners = writes.flatMap((w) => (w.rows[table] as unknown[][]).map(() => w));
    const rows = writes.flatMap((w) => w.rows[table] as unknown[][]);
    values.push(owners.map((w) => w.type), owners.map((w) => w.id));
    COLUMNS[table].names.forEach((_, col) => values.push(rows.map((row) => row[col])));
  }
  const key = shapeKey(shape);
  let sql = statements.get(key);
  if (!sql) statements.set(key, (sql = buildStatement(shape)));
  await tx.query(sql, values, { name: `suhe_write_${key}` });
}

interface Shape {
  updates: boolean;
  inserts: boolean;
  tables: IndexTable[];
}

/** At most 2 × 2 × 2^7 shapes; in practice a handful (create, update, delete). */
const statements = new Map<string, string>();

function shapeKey(shape: Shape): string {
  return `${shape.updates ? 'u' : ''}${shape.inserts ? 'i' : ''}_${INDEX_TABLES.map((t) => (shape.tables.includes(t) ? '1' : '0')).join('')}`;
}

function buildStatement(shape: Shape): string {
  const ctes = [
    `w as (select * from unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::boolean[], $6::text[], $7::jsonb[], $8::boolean[])
      as w(type, id, version_id, last_updated, deleted, method, content, existed))`,
  ];
  if (shape.updates) {
    ctes.push(`updated as (update resource r set version_id = w.version_id, last_updated = w.last_updated, deleted = w.deleted,
      content = w.content from w where w.existed and r.type = w.type and r.id = w.id)`);
    for (const table of INDEX_TABLES) {
      ctes.push(`drop_${table} as (delete from idx_${table} i using w where w.existed and i.res_type = w.type and i.res_id = w.id)`);
    }
  }
  if (shape.inserts) {
    ctes.push(`inserted as (insert into resource (type, id, version_id, last_updated, deleted, content)
      select type, id, version_id, last_updated, deleted, content from w where not w.existed)`);
  }
  ctes.push(`history as (insert into resource_history (type, id, version_id, last_updated, deleted, method, content)
    select type, id, version_id, last_updated, deleted, method, content from w)`);
  let n = 8;
  for (const table of shape.tables) {
    const { names, types } = COLUMNS[table];
    const arrays = [`$${++n}::text[]`, `$${++n}::text[]`, ...types.map((t) => `$${++n}::${t}[]`)];
    ctes.push(`add_${table} as (insert into idx_${table} (res_type, res_id, ${names.join(', ')}) select * from unnest(${arrays.join(', ')}))`);
  }
  return `with ${ctes.join(',\n  ')}\nselect 1`;
}
