// Composite search parameters (`code-value-quantity`, `component-code-value-quantity`, ...): one
// row per combination of component values reached from one element, so that both halves of a
// composite search match the SAME Observation component. `c0` is the first component's code
// when it is a token (every R4 composite but two begins with one), the selective part the index
// serves; the other columns of each component are in `parts`, in the order of the plain tables.
export const migration003 = {
  version: 3,
  name: 'composite search index',
  statements: [
    `create table idx_composite (
  res_type text not null, res_id text not null, param text not null,
  c0 text,
  parts jsonb not null
)`,
    'create index idx_composite_search on idx_composite (res_type, param, c0)',
    'create index idx_composite_resource on idx_composite (res_type, res_id)',
  ],
};
