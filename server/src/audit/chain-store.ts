// The audit chain in the database. New AuditEvent rows are queued by a trigger (migration 002);
// the sealer links them into `audit_chain` in the order it finds them, each link hashing the one
// before (chain.ts), under an advisory lock so that one process at a time extends the chain.
// Verification walks the chain from its anchor and recomputes every link and every event's
// content hash: an edited, removed or reordered record is named by its position.
import type { Database, SqlExecutor } from '../db/database.js';
import { GENESIS_HASH, linkHash, verifyChain, type ChainProblem, type ChainRow } from './chain.js';

// An arbitrary constant, distinct from the migration lock.
const SEAL_LOCK = 7_447_002;

// An event's content hash: SHA-256 of the text PostgreSQL gives for its jsonb, which is canonical
// (jsonb keeps no whitespace or key order of its own), computed in the database: by the trigger
// that queues a new event (migration 002) and here, when verifying. Any change to the stored
// event changes it.
const CONTENT_HASH = `encode(sha256(convert_to(r.content::text, 'UTF8')), 'hex')`;

/** Links up to `limit` queued AuditEvents into the chain; returns how many (0 if another process holds the lock). */
export async function sealPending(db: Database, limit = 1000): Promise<number> {
  return db.transaction(async (tx) => {
    const [lock] = await tx.query<{ ok: boolean }>('select pg_try_advisory_xact_lock($1) as ok', [SEAL_LOCK]);
    if (!lock.ok) return 0;
    // The trigger that queued each event hashed it as it was stored (same CONTENT_HASH expression).
    const pending = await tx.query<{ seq: string; resource_id: string; content_hash: string }>(
      `select p.seq::text as seq, p.resource_id, p.content_hash from audit_pending p order by p.seq limit $1`,
      [limit],
    );
    if (!pending.length) return 0;
    let { position, hash } = await head(tx);
    const rows: ChainRow[] = [];
    for (const p of pending) {
      position++;
      const link = linkHash(hash, position, p.resource_id, p.content_hash);
      rows.push({ position, resourceId: p.resource_id, contentHash: p.content_hash, prevHash: hash, hash: link });
      hash = link;
    }
    if (rows.length) {
      await tx.query(
        `insert into audit_chain (position, resource_id, content_hash, prev_hash, hash)
         select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])`,
        [rows.map((r) => r.position), rows.map((r) => r.resourceId), rows.map((r) => r.contentHash), rows.map((r) => r.prevHash), rows.map((r) => r.hash)],
      );
    }
    await tx.query('delete from audit_pending where seq = any($1::bigint[])', [pending.map((p) => p.seq)]);
    return rows.length;
  });
}

/** The last link (or the anchor, or the genesis when the chain is empty). */
async function head(db: SqlExecutor): Promise<{ position: number; hash: string }> {
  const [last] = await db.query<{ position: string; hash: string }>('select c.position::text as position, c.hash from audit_chain c order by c.position desc limit 1');
  if (last) return { position: Number(last.position), hash: last.hash };
  return anchor(db);
}

async function anchor(db: SqlExecutor): Promise<{ position: number; hash: string }> {
  const [row] = await db.query<{ position: string; hash: string }>('select position::text as position, hash from audit_anchor where id = 1');
  return row ? { position: Number(row.position), hash: row.hash } : { position: 0, hash: GENESIS_HASH };
}

export interface VerifyReport {
  checked: number;
  problem?: ChainProblem;
  /** AuditEvents waiting to be sealed (normal for a few seconds after they are written). */
  pending: number;
  /** AuditEvents neither in the chain nor queued: inserted around the trigger, or their queue row removed. */
  unchained: number;
  head: { position: number; hash: string };
}

/** Walks the whole chain in batches. `onProgress` gets a line every batch. */
export async function verifyAuditChain(db: SqlExecutor, onProgress: (line: string) => void = () => undefined, batch = 5000): Promise<VerifyReport> {
  const start = await anchor(db);
  let position = start.position;
  let hash = start.hash;
  let checked = 0;
  for (;;) {
    const rows = await db.query<{ position: string; resource_id: string; content_hash: string; prev_hash: string; hash: string; current_hash: string | null }>(
      `select c.position::text as position, c.resource_id, c.content_hash, c.prev_hash, c.hash, ${CONTENT_HASH} as current_hash
         from audit_chain c left join resource r on r.type = 'AuditEvent' and r.id = c.resource_id and not r.deleted
        where c.position > $1 order by c.position limit $2`,
      [position, batch],
    );
    if (!rows.length) break;
    const current = new Map(rows.map((r) => [r.resource_id, r.current_hash ?? undefined]));
    const chainRows: ChainRow[] = rows.map((r) => ({ position: Number(r.position), resourceId: r.resource_id, contentHash: r.content_hash, prevHash: r.prev_hash, hash: r.hash }));
    const problem = verifyChain(chainRows, position + 1, hash, (id) => current.get(id));
    if (problem) return { checked: checked + (problem.position - position - 1), problem, ...(await counts(db)), head: { position, hash } };
    checked += rows.length;
    position = chainRows[chainRows.length - 1].position;
    hash = chainRows[chainRows.length - 1].hash;
    onProgress(`  verified ${checked} links (position ${position})`);
  }
  return { checked, ...(await counts(db)), head: { position, hash } };
}

async function counts(db: SqlExecutor): Promise<{ pending: number; unchained: number }> {
  const [row] = await db.query<{ pending: number; unchained: number }>(
    `select (select count(*) from audit_pending)::int as pending,
            (select count(*) from resource r where r.type = 'AuditEvent'
               and not exists (select 1 from audit_chain c where c.resource_id = r.id)
               and not exists (select 1 from audit_pending p where p.resource_id = r.id))::int as unchained`,
  );
  return { pending: Number(row.pending), unchained: Number(row.unchained) };
}

/**
 * Retention (SEC-05): removes the oldest AuditEvents recorded before `cutoff`, a prefix of the
 * chain at a time, and moves the anchor to the last removed link, so what remains still verifies
 * from it. Deletion is allowed by the append-only triggers only inside these transactions.
 */
export async function pruneAuditEvents(db: Database, cutoff: Date, onProgress: (line: string) => void = () => undefined, batch = 2000): Promise<number> {
  let removed = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [SEAL_LOCK]); // no sealing meanwhile
      await tx.query(`select set_config('suhe.audit_retention', 'on', true)`);
      const from = await anchor(tx);
      const rows = await tx.query<{ position: string; resource_id: string; hash: string; old: boolean }>(
        `select c.position::text as position, c.resource_id, c.hash,
                coalesce((r.content->>'recorded')::timestamptz < $2, true) as old
           from audit_chain c left join resource r on r.type = 'AuditEvent' and r.id = c.resource_id
          where c.position > $1 order by c.position limit $3`,
        [from.position, cutoff.toISOString(), batch],
      );
      const prefix: typeof rows = [];
      for (const row of rows) {
        if (!row.old) break;
        prefix.push(row);
      }
      if (!prefix.length) return 0;
      const ids = prefix.map((r) => r.resource_id);
      for (const table of ['idx_string', 'idx_token', 'idx_date', 'idx_number', 'idx_quantity', 'idx_reference', 'idx_uri']) {
        await tx.query(`delete from ${table} where res_type = 'AuditEvent' and res_id = any($1::text[])`, [ids]);
      }
      await tx.query(`delete from resource_history where type = 'AuditEvent' and id = any($1::text[])`, [ids]);
      await tx.query(`delete from resource where type = 'AuditEvent' and id = any($1::text[])`, [ids]);
      const last = prefix[prefix.length - 1];
      await tx.query('delete from audit_chain where position <= $1', [last.position]);
      await tx.query(
        `insert into audit_anchor (id, position, hash) values (1, $1, $2)
         on conflict (id) do update set position = excluded.position, hash = excluded.hash`,
        [last.position, last.hash],
      );
      return prefix.length;
    });
    if (!n) break;
    removed += n;
    onProgress(`  removed ${removed} audit events`);
  }
  return removed;
}
