// Writes resource versions, their history rows and all their index rows in ONE statement
// (data-modifying CTEs over JSON documents unpacked in the database).
import type { SqlExecutor } from '../../db/database.js';
import { INDEX_TABLES, type IndexRows, type IndexTable } from './extract.js';

// The columns of each index table after (res_type, res_id), with the SQL type each is cast to.
const COLUMNS: Record<IndexTable, { names: string[]; types: string[] }> = {
  string: { names: ['param', 'value', 'norm'], types: ['text', 'text', 'text'] },
  token: { names: ['param', 'system', 'code', 'display', 'patient'], types: ['text', 'text', 'text', 'text', 'text'] },
  date: { names: ['param', 'lo', 'hi'], types: ['text', 'timestamptz', 'timestamptz'] },
  number: { names: ['param', 'value'], types: ['text', 'numeric'] },
  quantity: { names: ['param', 'system', 'code', 'unit', 'value'], types: ['text', 'text', 'text', 'text', 'numeric'] },
  reference: { names: ['param', 'target_type', 'target_id', 'reference'], types: ['text', 'text', 'text', 'text'] },
  uri: { names: ['param', 'value'], types: ['text', 'text'] },
  composite: { names: ['param', 'c0', 'parts'], types: ['text', 'text', 'jsonb'] },
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
 * Writes any number of versions in ONE statement. The versions and every index row travel as JSON
 * documents that PostgreSQL unpacks with jsonb_array_elements: building them costs the hub one
 * JSON.stringify per table (the resources' own JSON is spliced in as it is), where text arrays
 * would need every element escaped. The statement text depends only on its shape (are there
 * updates, inserts, rows for each index table?), so the few shapes in use stay prepared in
 * PostgreSQL, and a transaction Bundle's hundreds of resources cost one round trip, not one each.
 */
export async function writeVersions(tx: SqlExecutor, writes: VersionWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const shape: Shape = {
    updates: writes.some((w) => w.exists),
    inserts: writes.some((w) => !w.exists),
    tables: INDEX_TABLES.filter((table) => writes.some((w) => w.rows[table].length > 0)),
  };
  const values: unknown[] = [versionsJson(writes)];
  for (const table of shape.tables) {
    values.push(JSON.stringify(writes.flatMap((w) => (w.rows[table] as unknown[][]).map((row) => [w.type, w.id, ...row]))));
  }
  const key = shapeKey(shape);
  let sql = statements.get(key);
  if (!sql) statements.set(key, (sql = buildStatement(shape)));
  await tx.query(sql, values, { name: `suhe_write_${key}` });
}

/** The versions as one JSON array; `content` is already JSON text and goes in unchanged. */
function versionsJson(writes: VersionWrite[]): string {
  const items = writes.map(
    (w) =>
      `{"t":${JSON.stringify(w.type)},"i":${JSON.stringify(w.id)},"v":${w.versionId},"l":${JSON.stringify(w.lastUpdated)},` +
      `"d":${w.deleted},"m":${JSON.stringify(w.method)},"x":${w.exists},"c":${w.content}}`,
  );
  return `[${items.join(',')}]`;
}

interface Shape {
  updates: boolean;
  inserts: boolean;
  tables: IndexTable[];
}

/** At most 2 × 2 × 2^8 shapes; in practice a handful (create, update, delete). */
const statements = new Map<string, string>();

function shapeKey(shape: Shape): string {
  return `${shape.updates ? 'u' : ''}${shape.inserts ? 'i' : ''}_${INDEX_TABLES.map((t) => (shape.tables.includes(t) ? '1' : '0')).join('')}`;
}

/**
 * Replaces the index rows of current versions without writing a version ($reindex after a new
 * SearchParameter): one statement per batch, like a write.
 */
export async function rewriteIndexRows(tx: SqlExecutor, items: { type: string; id: string; rows: IndexRows }[]): Promise<void> {
  if (items.length === 0) return;
  const values: unknown[] = [JSON.stringify(items.map((item) => [item.type, item.id]))];
  const ctes = [`w as (select e->>0 as type, e->>1 as id from jsonb_array_elements($1::jsonb) e)`];
  for (const table of INDEX_TABLES) {
    ctes.push(`drop_${table} as (delete from idx_${table} i using w where i.res_type = w.type and i.res_id = w.id)`);
  }
  for (const table of INDEX_TABLES) {
    const rows = items.flatMap((item) => (item.rows[table] as unknown[][]).map((row) => [item.type, item.id, ...row]));
    if (rows.length === 0) continue;
    values.push(JSON.stringify(rows));
    ctes.push(insertIndexRows(table, values.length));
  }
  await tx.query(`with ${ctes.join(',\n  ')}\nselect 1`, values);
}

function insertIndexRows(table: IndexTable, parameter: number): string {
  const { names, types } = COLUMNS[table];
  const columns = ['text', 'text', ...types].map((type, i) => `(e->>${i})::${type}`).join(', ');
  return `add_${table} as (insert into idx_${table} (res_type, res_id, ${names.join(', ')})
      select ${columns} from jsonb_array_elements($${parameter}::jsonb) e)`;
}

function buildStatement(shape: Shape): string {
  const ctes = [
    `w as (select e->>'t' as type, e->>'i' as id, (e->>'v')::int as version_id, (e->>'l')::timestamptz as last_updated,
      (e->>'d')::boolean as deleted, e->>'m' as method, e->'c' as content, (e->>'x')::boolean as existed
      from jsonb_array_elements($1::jsonb) e)`,
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
  let n = 1;
  for (const table of shape.tables) ctes.push(insertIndexRows(table, ++n));
  return `with ${ctes.join(',\n  ')}\nselect 1`;
}
