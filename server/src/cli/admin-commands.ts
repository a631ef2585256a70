// Operator commands that work on the database directly: audit verification, key rotation,
// clients and accounts. They open the same database the hub uses (stop a hub on the embedded
// database first: PGlite allows one process at a time).
import { readFileSync } from 'node:fs';
import type { Hub } from '../app.js';
import { pruneAuditEvents, sealPending, verifyAuditChain } from '../audit/chain-store.js';
import { createAccount, registerClient } from '../auth/admin-endpoints.js';
import { SigningKeys } from '../auth/keys.js';
import type { Database } from '../db/database.js';
import type { ParsedArgs } from './args.js';

type Say = (line: string) => void;

/** `suhe audit verify`: seals what is queued, then walks the chain; exit 1 names the first broken link. */
export async function auditVerify(db: Database, say: Say): Promise<number> {
  let sealed = 0;
  for (let n = await sealPending(db); n > 0; n = await sealPending(db)) sealed += n;
  if (sealed) say(`Sealed ${sealed} queued audit events into the chain first.`);
  say('Verifying the audit chain...');
  const report = await verifyAuditChain(db, say);
  if (report.problem) {
    const p = report.problem;
    say(`BROKEN at position ${p.position}${p.resourceId ? ` (AuditEvent/${p.resourceId})` : ''}: ${p.problem} — ${p.detail}`);
    say(`${report.checked} links before it verified.`);
    return 1;
  }
  if (report.unchained) {
    say(`BROKEN: ${report.unchained} AuditEvent(s) are neither in the chain nor queued for it (written around the store, or their queue entry removed).`);
    return 1;
  }
  say(`OK: ${report.checked} links verified; head at position ${report.head.position}, hash ${report.head.hash}.`);
  if (report.pending) say(`${report.pending} events are queued and not yet sealed.`);
  say('Keep the head hash somewhere outside this database (it proves later that nothing before it changed).');
  return 0;
}

/** `suhe audit prune`: removes AuditEvents older than the retention period (at least 183 days, SEC-05). */
export async function auditPrune(db: Database, retentionDays: number, say: Say): Promise<number> {
  if (retentionDays < 183) throw new Error('audit retention must be at least 183 days (SEC-05)');
  for (let n = await sealPending(db); n > 0; n = await sealPending(db));
  const cutoff = new Date(Date.now() - retentionDays * 86_400_000);
  say(`Removing audit events recorded before ${cutoff.toISOString()} (retention ${retentionDays} days)...`);
  const removed = await pruneAuditEvents(db, cutoff, say);
  say(`Removed ${removed} audit events; the chain now starts after them (suhe audit verify checks from there).`);
  return 0;
}

/** `suhe keys rotate`: a new signing key; the old one keeps verifying until its tokens expire. */
export async function keysRotate(db: Database, say: Say): Promise<void> {
  const keys = new SigningKeys(db, 3600);
  await keys.load();
  const kid = await keys.rotate();
  say(`New signing key ${kid}. The previous key verifies tokens until they expire and is then removed.`);
}

/** `suhe clients list|add|suspend|activate` */
export async function clientsCommand(hub: Hub, args: ParsedArgs, say: Say): Promise<number> {
  const [action, id] = args.positional;
  const flag = (name: string) => (typeof args.flags.get(name) === 'string' ? (args.flags.get(name) as string) : undefined);
  switch (action) {
    case 'list':
      for (const c of await hub.auth.clients.list()) say(`${c.clientId}\t${c.kind}\t${c.role}\t${c.status}\t${c.organization ?? '-'}\t${c.name}\t${c.scope}`);
      return 0;
    case 'suspend':
    case 'activate': {
      if (!id) throw new Error(`clients ${action} needs a client id`);
      const ok = await hub.auth.clients.setStatus(id, action === 'suspend' ? 'suspended' : 'active');
      say(ok ? `Client ${id} is now ${action === 'suspend' ? 'suspended' : 'active'}.` : `No client ${id}.`);
      return ok ? 0 : 1;
    }
    case 'add': {
      const jwksFile = flag('jwks');
      const body: Record<string, unknown> = {
        client_id: flag('id'),
        name: flag('name'),
        kind: flag('kind'),
        role: flag('role') ?? 'institution',
        scope: flag('scope') ?? 'system/*.cruds',
        redirect_uris: flag('redirect-uri') ? [flag('redirect-uri')] : [],
        jwks: jwksFile ? JSON.parse(readFileSync(jwksFile, 'utf8')) : undefined,
        organization: flag('organization') ?? { name: flag('organization-name'), licenceNumber: flag('licence'), creditCode: flag('credit-code') },
      };
      const result = await registerClient(hub.auth, hub.context(hub.config.publicBaseUrl ?? 'urn:suhe:cli'), body);
      const { client_secret: secret, ...shown } = result;
      say(`Registered client ${String(shown.client_id)}: ${JSON.stringify(shown)}`);
      if (secret) say(`client_secret (shown once, store it now): ${String(secret)}`);
      return 0;
    }
    default:
      throw new Error('usage: suhe clients list | add --id ID --name NAME [--kind backend --jwks FILE | --kind confidential] [--scope S] [--organization-name N --licence L --credit-code C] | suspend ID | activate ID');
  }
}

/** `suhe users add --username U --role R --fhir-user Patient/1 [--identity-system S --identity-value V]`; password from SUHE_PASSWORD. */
export async function usersCommand(hub: Hub, args: ParsedArgs, env: NodeJS.ProcessEnv, say: Say): Promise<number> {
  const flag = (name: string) => (typeof args.flags.get(name) === 'string' ? (args.flags.get(name) as string) : undefined);
  if (args.positional[0] !== 'add') throw new Error('usage: SUHE_PASSWORD=... suhe users add --username U --role resident|doctor|nurse|pharmacist|admin|regulator --fhir-user Patient/ID');
  if (!env.SUHE_PASSWORD) throw new Error('set the new account password in SUHE_PASSWORD (kept out of the shell history and process list)');
  const identity = flag('identity-system') ? { system: flag('identity-system'), value: flag('identity-value') } : undefined;
  const account = await createAccount(hub.auth, hub.context(hub.config.publicBaseUrl ?? 'urn:suhe:cli'), { username: flag('username'), password: env.SUHE_PASSWORD, role: flag('role'), fhirUser: flag('fhir-user'), identity });
  say(`Created account ${account.username} (${account.role}) for ${account.fhirUser}.`);
  return 0;
}
