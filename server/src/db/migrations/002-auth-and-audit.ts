// Credentials and the audit chain: what FHIR does not model, or must never expose through FHIR
// search (password hashes, client secrets, signing keys, codes, refresh tokens). The identities
// these rows bind (Patient, Practitioner, Organization) are FHIR resources.
//
// AuditEvents themselves are FHIR resources in `resource`; triggers make those rows append-only
// (a retention job may delete only with `suhe.audit_retention` set in its transaction) and queue
// each new one in `audit_pending` with the SHA-256 of its stored jsonb text, from where the
// sealer links it into `audit_chain`, a hash chain in commit order (see server/src/audit/).
export const migration002 = {
  version: 2,
  name: 'auth credentials and audit chain',
  statements: [
    `create table auth_signing_key (
  kid text primary key,
  alg text not null,
  private_jwk jsonb not null,
  public_jwk jsonb not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz
)`,
    `create table auth_client (
  client_id text primary key,
  name text not null,
  kind text not null check (kind in ('public', 'confidential', 'backend')),
  role text not null check (role in ('app', 'institution', 'admin')),
  secret_hash text,
  jwks jsonb,
  redirect_uris text[] not null default '{}',
  scope text not null,
  organization text,
  status text not null default 'active' check (status in ('active', 'suspended')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
)`,
    `create table auth_user (
  id text primary key,
  username text not null unique,
  password_hash text not null,
  role text not null check (role in ('resident', 'doctor', 'nurse', 'pharmacist', 'admin', 'regulator')),
  fhir_user text not null,
  practitioner_role text,
  identity_system text,
  identity_value text,
  failed_attempts integer not null default 0,
  locked_until timestamptz,
  created_at timestamptz not null default now()
)`,
    `create table auth_code (
  code_hash text primary key,
  client_id text not null,
  user_id text not null,
  scope text not null,
  redirect_uri text not null,
  code_challenge text not null,
  patient text,
  nonce text,
  expires_at timestamptz not null,
  used_at timestamptz
)`,
    `create table auth_refresh_token (
  token_hash text primary key,
  family text not null,
  client_id text not null,
  user_id text,
  scope text not null,
  patient text,
  expires_at timestamptz not null,
  used_at timestamptz,
  revoked_at timestamptz
)`,
    `create index auth_refresh_token_family on auth_refresh_token (family)`,
    `create table auth_revoked_token (
  jti text primary key,
  expires_at timestamptz not null,
  revoked_at timestamptz not null default now()
)`,
    `create index auth_revoked_token_revoked_at on auth_revoked_token (revoked_at)`,
    `create table auth_assertion_jti (
  client_id text not null,
  jti text not null,
  expires_at timestamptz not null,
  primary key (client_id, jti)
)`,
    `create table audit_pending (
  seq bigserial primary key,
  resource_id text not null,
  content_hash text not null
)`,
    `create table audit_chain (
  position bigint primary key,
  resource_id text not null unique,
  content_hash text not null,
  prev_hash text not null,
  hash text not null,
  sealed_at timestamptz not null default now()
)`,
    // Where verification starts: the genesis, or the last link removed by retention.
    `create table audit_anchor (
  id integer primary key check (id = 1),
  position bigint not null,
  hash text not null
)`,
    // One statement-level trigger per insert (not a call per row): batches of AuditEvents are
    // queued with one insert ... select over the statement's new rows.
    `create function suhe_audit_queue() returns trigger language plpgsql as $$
begin
  insert into audit_pending (resource_id, content_hash)
    select n.id, encode(sha256(convert_to(n.content::text, 'UTF8')), 'hex') from new_rows n where n.type = 'AuditEvent';
  return null;
end $$`,
    `create trigger resource_audit_queue after insert on resource
  referencing new table as new_rows for each statement execute function suhe_audit_queue()`,
    `create function suhe_audit_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' and coalesce(current_setting('suhe.audit_retention', true), '') = 'on' then
    return old;
  end if;
  raise exception 'audit records are append-only (% on %)', tg_op, tg_table_name
    using errcode = 'insufficient_privilege';
end $$`,
    `create trigger resource_audit_append_only before update or delete on resource
  for each row when (old.type = 'AuditEvent') execute function suhe_audit_append_only()`,
    `create trigger history_audit_append_only before update or delete on resource_history
  for each row when (old.type = 'AuditEvent') execute function suhe_audit_append_only()`,
    `create trigger audit_chain_append_only before update or delete on audit_chain
  for each row execute function suhe_audit_append_only()`,
  ],
};
