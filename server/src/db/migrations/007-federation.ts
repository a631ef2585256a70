// Federation and the master patient index (DESIGN §4: SQL where FHIR does not fit). Sources
// themselves are FHIR Organization + Endpoint resources; these tables hold what must never be
// readable through the FHIR API (credentials) and the bookkeeping of sync: which hub id each
// source resource maps to, how far each source and type has been pulled, what was quarantined,
// and each run's counts. The MPI keeps one row per source Patient with its match keys, and a log
// of every link decision so that any of them can be undone.
export const migration007 = {
  version: 7,
  name: 'federation and master patient index',
  statements: [
    `create table fed_credential (
      endpoint_id text primary key,
      secret text not null,
      updated_at timestamptz not null default now()
    )`,
    // source + type + source id → hub id. A row with arrived = false was reserved by a reference
    // from another resource before the target itself arrived: when it does, it takes that id.
    `create table fed_map (
      endpoint_id text not null,
      resource_type text not null,
      source_id text not null,
      hub_id text not null,
      content_hash text,
      arrived boolean not null default false,
      deleted boolean not null default false,
      updated_at timestamptz not null default now(),
      primary key (endpoint_id, resource_type, source_id)
    )`,
    `create unique index fed_map_hub on fed_map (resource_type, hub_id)`,
    `create table fed_checkpoint (
      endpoint_id text not null,
      resource_type text not null,
      last_updated text,
      deletes_since text,
      updated_at timestamptz not null default now(),
      primary key (endpoint_id, resource_type)
    )`,
    `create table fed_quarantine (
      id bigserial primary key,
      endpoint_id text not null,
      resource_type text,
      source_id text,
      content jsonb,
      outcome jsonb not null,
      received_at timestamptz not null default now()
    )`,
    `create index fed_quarantine_source on fed_quarantine (endpoint_id, received_at)`,
    `create table fed_run (
      id bigserial primary key,
      endpoint_id text not null,
      kind text not null,
      started_at timestamptz not null default now(),
      finished_at timestamptz,
      status text not null default 'running',
      fetched integer not null default 0,
      stored integer not null default 0,
      unchanged integer not null default 0,
      deleted integer not null default 0,
      quarantined integer not null default 0,
      error text
    )`,
    `create index fed_run_source on fed_run (endpoint_id, id)`,
    // One row per source Patient (hub id). golden_id: the golden Patient it is linked to (null
    // while it waits for review or after an unlink). keys: blocking keys for candidate lookup.
    `create table mpi_record (
      patient_id text primary key,
      golden_id text,
      keys text[] not null,
      person jsonb not null,
      link_status text not null,
      score double precision,
      updated_at timestamptz not null default now()
    )`,
    `create index mpi_record_keys on mpi_record using gin (keys)`,
    `create index mpi_record_golden on mpi_record (golden_id)`,
    // Every link decision as moves of one source Patient between golden records; the moves of
    // one action (a merge moves many) share action_id, and undoing it replays them backwards.
    `create sequence mpi_action_seq`,
    `create table mpi_log (
      id bigserial primary key,
      action_id bigint not null,
      action text not null,
      patient_id text not null,
      from_golden text,
      to_golden text,
      actor text,
      reason text,
      undone_by bigint,
      at timestamptz not null default now()
    )`,
    `create index mpi_log_patient on mpi_log (patient_id, id)`,
    `create index mpi_log_action on mpi_log (action_id)`,
  ],
};
