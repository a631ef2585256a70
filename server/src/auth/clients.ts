// Registered OAuth clients: SMART apps (public or with a secret), institution systems (SMART
// Backend Services: private_key_jwt with a registered JWKS) and the admin bootstrap client.
// Secrets are stored as scrypt hashes; an institution's client records the Organization it
// speaks for, and suspending it stops every new token at once.
import { createPublicKey, randomBytes, type JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { SqlExecutor } from '../db/database.js';
import { constantTimeEqual, DEFAULT_SCRYPT, hashPassword, verifyAgainstDummy, verifyPassword, type ScryptParams } from './passwords.js';
import { parseScopes } from './scopes.js';

export type ClientKind = 'public' | 'confidential' | 'backend';
export type ClientRole = 'app' | 'institution' | 'admin';

export interface Client {
  clientId: string;
  name: string;
  kind: ClientKind;
  role: ClientRole;
  redirectUris: string[];
  /** The scopes the client may be granted (requests are narrowed to these). */
  scope: string;
  organization?: string;
  jwks?: { keys: JsonWebKey[] };
  status: 'active' | 'suspended';
}

interface ClientRow {
  client_id: string;
  name: string;
  kind: ClientKind;
  role: ClientRole;
  secret_hash: string | null;
  jwks: { keys: JsonWebKey[] } | null;
  redirect_uris: string[];
  scope: string;
  organization: string | null;
  status: 'active' | 'suspended';
}

export class ClientAuthError extends Error {}

const ASSERTION_ALGS: Record<string, { kty: string; crv?: string }> = { RS384: { kty: 'RSA' }, ES384: { kty: 'EC', crv: 'P-384' } };
const MAX_ASSERTION_SECONDS = 300;

export class ClientRegistry {
  constructor(
    private readonly db: SqlExecutor,
    private readonly hashing: ScryptParams = DEFAULT_SCRYPT,
  ) {}

  async get(clientId: string): Promise<Client | undefined> {
    const [row] = await this.db.query<ClientRow>('select * from auth_client where client_id = $1', [clientId], { name: 'suhe_client_get' });
    return row ? toClient(row) : undefined;
  }

  async list(): Promise<Client[]> {
    return (await this.db.query<ClientRow>('select * from auth_client order by created_at')).map(toClient);
  }

  /** Registers a client; returns its secret once (confidential clients), never stored in clear. */
  async register(input: Omit<Client, 'status'> & { secret?: string }): Promise<{ client: Client; secret?: string }> {
    checkRegistration(input);
    const secret = input.kind === 'confidential' ? (input.secret ?? randomBytes(32).toString('base64url')) : undefined;
    await this.db.query(
      `insert into auth_client (client_id, name, kind, role, secret_hash, jwks, redirect_uris, scope, organization)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (client_id) do update set name = excluded.name, kind = excluded.kind, role = excluded.role,
         secret_hash = excluded.secret_hash, jwks = excluded.jwks, redirect_uris = excluded.redirect_uris,
         scope = excluded.scope, organization = excluded.organization, updated_at = now()`,
      [
        input.clientId, input.name, input.kind, input.role, secret ? await hashPassword(secret, this.hashing) : null,
        input.jwks ? JSON.stringify(input.jwks) : null, input.redirectUris, input.scope, input.organization ?? null,
      ],
    );
    return { client: (await this.get(input.clientId))!, secret };
  }

  async setStatus(clientId: string, status: 'active' | 'suspended'): Promise<boolean> {
    const rows = await this.db.query('update auth_client set status = $2, updated_at = now() where client_id = $1 returning client_id', [clientId, status]);
    return rows.length > 0;
  }

  /** client_secret_basic / client_secret_post. Same cost whether or not the client exists. */
  async authenticateSecret(clientId: string, secret: string): Promise<Client> {
    const [row] = await this.db.query<ClientRow>('select * from auth_client where client_id = $1', [clientId], { name: 'suhe_client_get' });
    const ok = row?.secret_hash ? await verifyPassword(secret, row.secret_hash) : await verifyAgainstDummy(secret);
    if (!row || !ok || !constantTimeEqual(row.client_id, clientId)) throw new ClientAuthError('client authentication failed');
    return activeClient(toClient(row));
  }

  /**
   * private_key_jwt (SMART Backend Services): the assertion is signed RS384 or ES384 by a key in
   * the client's registered JWKS, iss = sub = client_id, aud = this token endpoint, expires within
   * five minutes, and its jti is used once.
   */
  async authenticateAssertion(assertion: string, tokenUrl: string): Promise<Client> {
    const decoded = jwt.decode(assertion, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw new ClientAuthError('client_assertion is not a JWT');
    const { alg, kid } = decoded.header;
    const allowed = ASSERTION_ALGS[alg];
    if (!allowed) throw new ClientAuthError(`client_assertion must be signed RS384 or ES384, not ${alg}`);
    const clientId = decoded.payload.iss;
    if (!clientId || decoded.payload.sub !== clientId) throw new ClientAuthError('client_assertion needs iss = sub = client_id');
    const client = await this.get(clientId);
    if (!client?.jwks) throw new ClientAuthError('client authentication failed');
    const candidates = client.jwks.keys.filter((k) => (kid === undefined || k.kid === kid) && k.kty === allowed.kty && (!allowed.crv || k.crv === allowed.crv));
    if (candidates.length !== 1) throw new ClientAuthError('no single registered key matches the assertion (kid, key type)');
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(assertion, createPublicKey({ key: candidates[0], format: 'jwk' }), {
        algorithms: [alg as jwt.Algorithm], audience: tokenUrl, issuer: clientId, subject: clientId,
      }) as jwt.JwtPayload;
    } catch (err) {
      throw new ClientAuthError(`client_assertion rejected: ${(err as Error).message}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number' || payload.exp - now > MAX_ASSERTION_SECONDS) throw new ClientAuthError('client_assertion must expire within 5 minutes');
    if (typeof payload.jti !== 'string' || !payload.jti) throw new ClientAuthError('client_assertion needs a jti');
    const fresh = await this.db.query(
      `insert into auth_assertion_jti (client_id, jti, expires_at) values ($1, $2, to_timestamp($3)) on conflict do nothing returning jti`,
      [clientId, payload.jti, payload.exp],
    );
    if (fresh.length === 0) throw new ClientAuthError('client_assertion jti was already used (replay)');
    await this.db.query('delete from auth_assertion_jti where expires_at < now()', [], { name: 'suhe_jti_prune' });
    return activeClient(client);
  }
}

function activeClient(client: Client): Client {
  if (client.status !== 'active') throw new ClientAuthError(`client ${client.clientId} is suspended`);
  return client;
}

function toClient(row: ClientRow): Client {
  return {
    clientId: row.client_id, name: row.name, kind: row.kind, role: row.role, redirectUris: row.redirect_uris ?? [],
    scope: row.scope, organization: row.organization ?? undefined, jwks: row.jwks ?? undefined, status: row.status,
  };
}

/** Throws with what to fix when a registration is not acceptable (called before anything is stored). */
export function checkRegistration(input: Omit<Client, 'status'>): void {
  if (!/^[A-Za-z0-9._-]{3,64}$/.test(input.clientId)) throw new Error('client_id must be 3-64 letters, digits, dot, dash or underscore');
  if (!input.name.trim()) throw new Error('a client needs a name');
  if (input.kind === 'backend') {
    const keys = input.jwks?.keys ?? [];
    if (!keys.length) throw new Error('a backend client needs a JWKS with at least one RS384 or ES384 public key');
    for (const key of keys) {
      if ('d' in key) throw new Error('the JWKS must hold public keys only (a private member "d" was given)');
      if (!key.kid) throw new Error('every key in the JWKS needs a kid');
      createPublicKey({ key, format: 'jwk' }); // throws on a malformed key
    }
  }
  for (const uri of input.redirectUris) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new Error(`redirect URI '${uri}' is not an absolute URL`);
    }
    if (url.hash) throw new Error(`redirect URI '${uri}' may not have a fragment`);
  }
  if (!parseScopes(input.scope).resources.length && !input.scope.includes('openid')) throw new Error(`scope '${input.scope}' grants nothing`);
}
