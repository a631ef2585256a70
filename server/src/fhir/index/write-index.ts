// Writes a resource version, its history row and all its index rows in ONE statement
// (data-modifying CTEs with unnest arrays): one round trip per write, whatever the row count.
import type { SqlExecutor } from '../../db/database.js';
import { INDEX_TABLES, type IndexRows, type IndexTable } from './extract.js';
import { SqlParams } from '../search/sql.js';

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

export async function writeVersion(tx: SqlExecutor, w: VersionWrite): Promise<void> {
  const p = new SqlParams();
  const type = p.add(w.type);
  const id = p.add(w.id);
  const version = p.add(w.versionId);
  const updated = p.add(w.lastUpdated);
  const deleted = p.add(w.deleted);
  const content = p.add(w.content);
  const ctes: string[] = [];
  if (w.exists) {
    ctes.push(`upsert as (update resource set version_id = ${version}, last_updated = ${updated}::timestamptz, deleted = ${deleted},
      content = ${content}::jsonb where type = ${type} and id = ${id})`);
    INDEX_TABLES.forEach((table) => ctes.push(`drop_${table} as (delete from idx_${table} where res_type = ${type} and res_id = ${id})`));
  } else {
    ctes.push(`upsert as (insert into resource (type, id, version_id, last_updated, deleted, content)
      values (${type}, ${id}, ${version}, ${updated}::timestamptz, ${deleted}, ${content}::jsonb))`);
  }
  ctes.push(`hist as (insert into resource_history (type, id, version_id, last_updated, deleted, method, content)
    values (${type}, ${id}, ${version}, ${updated}::timestamptz, ${deleted}, ${p.add(w.method)}, ${content}::jsonb))`);
  for (const table of INDEX_TABLES) {
    const rows = w.rows[table] as unknown[][];
    if (rows.length === 0) continue;
    const { names, types } = COLUMNS[table];
    const arrays = names.map((_, col) => `${p.add(rows.map((row) => row[col]))}::${types[col]}[]`);
    ctes.push(`add_${table} as (insert into idx_${table} (res_type, res_id, ${names.join(', ')})
      select ${type}, ${id}, * from unnest(${arrays.join(', ')}))`);
  }
  await tx.query(`with ${ctes.join(',\n')} select 1`, p.values);
}
