// Doctors' own e-signature keys (IH-05): the public half of a key pair a doctor generated on
// their own device and registered with the hub. The hub never holds the private key, so a
// prescription's signature is the doctor's act, not the hub's. kid is the key's RFC 7638
// thumbprint: one key belongs to one doctor. A key is never deleted — a prescription signed years
// ago must still verify — registering a new key retires the doctor's previous ones for signing.
export const migration010 = {
  version: 10,
  name: 'prescription signing keys',
  statements: [
    `create table practitioner_signing_key (
      kid text primary key,
      practitioner text not null,
      alg text not null,
      public_jwk jsonb not null,
      created_at timestamptz not null default now(),
      retired_at timestamptz
    )`,
    'create index practitioner_signing_key_practitioner on practitioner_signing_key (practitioner)',
  ],
};
