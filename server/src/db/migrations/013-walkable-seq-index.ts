// A search of one broad filter picks its first page by walking the type in creation order (seq)
// and stopping at the first page of matches (fhir/search/match-set-page.ts). The walk read each
// row's id and deleted flag from the table: a heap visit per row. The (type, seq) index now
// carries them, so the walk is index-only (0.14 ms for 234 Patients instead of about 0.6 ms) and
// can afford to walk further before it gives up. Same number of B-trees per insert; each entry
// grows by the id.
export const migration013 = {
  version: 13,
  name: 'walkable (type, seq) index',
  statements: [
    'create unique index resource_type_seq_walk on resource (type, seq) include (id, deleted)',
    'drop index resource_type_seq',
    'alter index resource_type_seq_walk rename to resource_type_seq',
  ],
};
