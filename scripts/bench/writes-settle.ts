// Waits until the hub has stored what earlier requests left behind. Reads are audited, and their
// AuditEvents are queued in the hub and stored every 100 ms (audit/trail.ts), then sealed into
// the chain. A class of queries that produces events faster than the database stores them leaves
// a backlog that is still being written while the next class is timed, so that class would pay
// for its predecessor. "Settled" means: no new resource row for `quietMs`, and nothing left to seal.
import type pg from 'pg';
import { formatNumber } from './report.js';

export interface Settled {
  /** Seconds spent waiting. */
  seconds: number;
  /** Resource rows stored while waiting (the backlog). */
  stored: number;
  /** False when `timeoutMs` passed first. */
  quiet: boolean;
}

export async function waitForWritesToSettle(monitor: pg.Client, quietMs = 400, timeoutMs = 120_000): Promise<Settled> {
  const started = performance.now();
  const sample = async () => {
    const { rows } = await monitor.query<{ seq: string; pending: string }>(
      'select (select last_value from resource_seq)::text as seq, (select count(*) from audit_pending)::text as pending',
    );
    return { seq: Number(rows[0].seq), pending: Number(rows[0].pending) };
  };
  const first = await sample();
  let last = first;
  let quietSince = performance.now();
  for (;;) {
    await new Promise((done) => setTimeout(done, 100));
    const now = await sample();
    if (now.seq !== last.seq || now.pending > 0) quietSince = performance.now();
    last = now;
    const elapsed = performance.now() - started;
    if (performance.now() - quietSince >= quietMs || elapsed >= timeoutMs) {
      return { seconds: elapsed / 1000, stored: last.seq - first.seq, quiet: elapsed < timeoutMs };
    }
  }
}

/** Waits (waitForWritesToSettle) and tells `say` how long, when there was anything to wait for. */
export async function settleWrites(monitor: pg.Client, say: (line: string) => void): Promise<void> {
  const settled = await waitForWritesToSettle(monitor);
  if (settled.stored > 0 || !settled.quiet) {
    say(`  waited ${formatNumber(settled.seconds)} s for the writes of the phase before (${settled.stored.toLocaleString('en-US')} resources, mostly AuditEvents)${settled.quiet ? '' : ': still writing, timing anyway'}`);
  }
}
