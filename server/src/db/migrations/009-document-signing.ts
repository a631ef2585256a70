// The hub's document-signing keys: they sign reading reports (a JWS in the report's Provenance)
// on the reader's authenticated action. Unlike token keys, which are deleted once their tokens
// have expired, a document key is kept for ever: a report signed years ago must still verify.
export const migration009 = {
  version: 9,
  name: 'document signing keys',
  statements: [
    `create table document_signing_key (
      kid text primary key,
      private_jwk jsonb not null,
      public_jwk jsonb not null,
      created_at timestamptz not null default now(),
      retired_at timestamptz
    )`,
  ],
};
