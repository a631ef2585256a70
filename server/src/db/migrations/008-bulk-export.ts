// FHIR Bulk Data export jobs ($export): the request, progress and the NDJSON files written. The
// files themselves live under the data directory; a job row names them in its manifest.
export const migration008 = {
  version: 8,
  name: 'bulk export jobs',
  statements: [
    `create table bulk_export_job (
      id text primary key,
      client_id text not null,
      status text not null,
      request text not null,
      types text[] not null,
      since timestamptz,
      transaction_time text not null,
      output jsonb not null default '[]',
      progress text,
      error text,
      created_at timestamptz not null default now(),
      finished_at timestamptz
    )`,
  ],
};
