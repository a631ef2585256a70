// Versioned resources and the typed search-index tables (DESIGN.md §4).
// Every index row names its resource by (res_type, res_id); rows are rewritten with the resource
// in the same transaction, so an index never disagrees with the current version.
export const migration001 = {
  version: 1,
  name: 'resources and search indexes',
  sql: `
create sequence resource_seq;

create table resource (
  type text not null,
  id text not null,
  seq bigint not null default nextval('resource_seq'),
  version_id integer not null,
  last_updated timestamptz not null,
  deleted boolean not null default false,
  content jsonb not null,
  primary key (type, id)
);
-- seq never changes after the first version: search paging is keyset on it, stable under writes.
create unique index resource_type_seq on resource (type, seq);
create index resource_type_last_updated on resource (type, last_updated);

create table resource_history (
  hseq bigserial primary key,
  type text not null,
  id text not null,
  version_id integer not null,
  last_updated timestamptz not null,
  deleted boolean not null,
  method text not null,
  content jsonb not null,
  unique (type, id, version_id)
);
create index resource_history_last_updated on resource_history (last_updated);
create index resource_history_type_hseq on resource_history (type, hseq);

create table idx_string (
  res_type text not null, res_id text not null, param text not null,
  value text not null,
  norm text not null
);
create index idx_string_search on idx_string (res_type, param, norm text_pattern_ops);
create index idx_string_resource on idx_string (res_type, res_id);

create table idx_token (
  res_type text not null, res_id text not null, param text not null,
  system text,
  code text,
  display text
);
create index idx_token_search on idx_token (res_type, param, code, system);
create index idx_token_resource on idx_token (res_type, res_id);

create table idx_date (
  res_type text not null, res_id text not null, param text not null,
  lo timestamptz not null,
  hi timestamptz not null
);
create index idx_date_search on idx_date (res_type, param, lo, hi);
create index idx_date_resource on idx_date (res_type, res_id);

create table idx_number (
  res_type text not null, res_id text not null, param text not null,
  value numeric not null
);
create index idx_number_search on idx_number (res_type, param, value);
create index idx_number_resource on idx_number (res_type, res_id);

create table idx_quantity (
  res_type text not null, res_id text not null, param text not null,
  system text,
  code text,
  unit text,
  value numeric not null
);
create index idx_quantity_search on idx_quantity (res_type, param, code, value);
create index idx_quantity_resource on idx_quantity (res_type, res_id);

create table idx_reference (
  res_type text not null, res_id text not null, param text not null,
  target_type text,
  target_id text,
  reference text not null
);
create index idx_reference_search on idx_reference (res_type, param, target_id, target_type);
create index idx_reference_target on idx_reference (target_type, target_id);
create index idx_reference_resource on idx_reference (res_type, res_id);

create table idx_uri (
  res_type text not null, res_id text not null, param text not null,
  value text not null
);
create index idx_uri_search on idx_uri (res_type, param, value);
create index idx_uri_resource on idx_uri (res_type, res_id);
`,
};
