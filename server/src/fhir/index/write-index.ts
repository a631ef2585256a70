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
 * Writes any number of versions in ONE statement of fixed text: the versions and every index
 * row travel as unnest arrays. Fixed text lets PostgreSQL keep it prepared (no parse or plan per
 * write), and a transaction Bundle's hundreds of resources cost one round trip instead of one each.
 */
export async function writeVersions(tx: SqlExecutor, writes: VersionWrite[]): Promise<void> {
  if (writes.length === 0) return;
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
  for (const table of INDEX_TABLES) {
    const owners = writes.flatMap((w) => (w.rows[table] as unknown[][]).map(() => w));
    const rows = writes.flatMap((w) => w.rows[table] as unknown[][]);
    values.push(owners.map((w) => w.type), owners.map((w) => w.id));
    COLUMNS[table].names.forEach((_, col) => values.push(rows.map((row) => row[col])));
  }
  await tx.query(WRITE_VERSIONS_SQL, values, { name: 'suhe_write_versions_v1' });
}

export function writeVersion(tx: SqlExecutor, write: VersionWrite): Promise<void> {
  return writeVersions(tx, [write]);
}

const WRITE_VERSIONS_SQL = (() => {
  let n = 8;
  const indexCtes = INDEX_TABLES.map((table) => {
    const { names, types } = COLUMNS[table];
    const arrays = [`$${++n}::text[]`, `$${++n}::text[]`, ...types.map((t) => `$${++n}::${t}[]`)];
    return `drop_${table} as (delete from idx_${table} i using w where w.existed and i.res_type = w.type and i.res_id = w.id),
  add_${table} as (insert into idx_${table} (res_type, res_id, ${names.join(', ')}) select * from unnest(${arrays.join(', ')}))`;
  });
  return `with w as (
    select * from unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::boolean[], $6::text[], $7::jsonb[], $8::boolean[])
      as w(type, id, version_id, last_updated, deleted, method, content, existed)),
  updated as (update resource r set version_id = w.version_id, last_updated = w.last_updated, deleted = w.deleted, content = w.content
    from w where w.existed and r.type = w.type and r.id = w.id),
  inserted as (insert into resource (type, id, version_id, last_updated, deleted, content)
    select type, id, version_id, last_updated, deleted, content from w where not w.existed),
  history as (insert into resource_history (type, id, version_id, last_updated, deleted, method, content)
    select type, id, version_id, last_updated, deleted, method, content from w),
  ${indexCtes.join(',\n  ')}
select 1`;
})();
