// Index-only search. A search picks its page from the keys of its matches (search/sql.ts) and
// each filter needs only `res_id` from the rows its index finds. Carrying those in the indexes
// (INCLUDE) lets PostgreSQL answer from the index alone once the table is vacuumed (index rows
// are only ever inserted and deleted, so they stay all-visible), instead of one heap visit per
// matching row — the bulk of a search that matches hundreds of rows.
const SEARCH_INDEXES: [name: string, table: string, key: string, include: string][] = [
  ['idx_string_search', 'idx_string', 'res_type, param, norm text_pattern_ops', 'res_id'],
  ['idx_token_search', 'idx_token', 'res_type, param, code, system', 'res_id'],
  ['idx_date_search', 'idx_date', 'res_type, param, lo, hi', 'res_id'],
  ['idx_number_search', 'idx_number', 'res_type, param, value', 'res_id'],
  ['idx_quantity_search', 'idx_quantity', 'res_type, param, code, value', 'res_id, system, unit'],
  ['idx_reference_search', 'idx_reference', 'res_type, param, target_id, target_type', 'res_id'],
  ['idx_reference_target', 'idx_reference', 'target_type, target_id', 'res_type, res_id, param'],
  ['idx_uri_search', 'idx_uri', 'res_type, param, value', 'res_id'],
];

export const migration005 = {
  version: 5,
  name: 'index-only search',
  statements: [
    // The resource's keys: choosing a page of thousands of matches reads no resource rows.
    'create unique index resource_keys on resource (type, id) include (seq, deleted)',
    ...SEARCH_INDEXES.flatMap(([name, table, key, include]) => [`drop index ${name}`, `create index ${name} on ${table} (${key}) include (${include})`]),
  ],
};
