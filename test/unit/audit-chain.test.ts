// The audit hash chain: link hashes, and a verifier that names the first tampered row and the
// kind of tampering.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { GENESIS_HASH, linkHash, verifyChain, type ChainRow } from '../../server/src/audit/chain.js';

// The store hashes each event's stored JSON text; here any stable text hash stands in for it.
const contentHash = (resource: unknown): string => createHash('sha256').update(JSON.stringify(resource)).digest('hex');

describe('linkHash', () => {
  it('depends on every field and rejects malformed hashes', () => {
    const c = 'a'.repeat(64);
    const h = linkHash(GENESIS_HASH, 0, 'r1', c);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(linkHash(GENESIS_HASH, 1, 'r1', c)).not.toBe(h);
    expect(linkHash(GENESIS_HASH, 0, 'r2', c)).not.toBe(h);
    expect(linkHash(GENESIS_HASH, 0, 'r1', 'b'.repeat(64))).not.toBe(h);
    expect(linkHash('1'.repeat(64), 0, 'r1', c)).not.toBe(h);
    expect(() => linkHash('xyz', 0, 'r1', c)).toThrow(TypeError);
    expect(() => linkHash(GENESIS_HASH, -1, 'r1', c)).toThrow(TypeError);
    expect(() => linkHash(GENESIS_HASH, 1.5, 'r1', c)).toThrow(TypeError);
  });
});

describe('verifyChain', () => {
  // Five stored AuditEvents and the chain written as each was stored.
  function build(start = 0, startHash = GENESIS_HASH) {
    const store = new Map<string, unknown>();
    const rows: ChainRow[] = [];
    let prev = startHash;
    for (let i = 0; i < 5; i++) {
      const id = `ev${i}`;
      const resource = { resourceType: 'AuditEvent', id, recorded: `2026-01-0${i + 1}T00:00:00Z`, outcome: '0' };
      store.set(id, resource);
      const c = contentHash(resource);
      const hash = linkHash(prev, start + i, id, c);
      rows.push({ position: start + i, resourceId: id, contentHash: c, prevHash: prev, hash });
      prev = hash;
    }
    const current = (id: string): string | undefined => (store.has(id) ? contentHash(store.get(id)) : undefined);
    return { store, rows, current };
  }

  it('accepts an intact chain, from genesis or from a checkpoint', () => {
    const { rows, current } = build();
    expect(verifyChain(rows, 0, GENESIS_HASH, current)).toBeUndefined();
    expect(verifyChain(rows.slice(2), 2, rows[1].hash, current)).toBeUndefined();
    expect(verifyChain([], 0, GENESIS_HASH, current)).toBeUndefined();
    const later = build(100, 'f'.repeat(64));
    expect(verifyChain(later.rows, 100, 'f'.repeat(64), later.current)).toBeUndefined();
  });

  it('accepts rows from a generator (streaming)', () => {
    const { rows, current } = build();
    function* gen() {
      yield* rows;
    }
    expect(verifyChain(gen(), 0, GENESIS_HASH, current)).toBeUndefined();
  });

  it('catches an edited content hash in a row', () => {
    const { rows, current } = build();
    rows[2] = { ...rows[2], contentHash: 'e'.repeat(64) };
    expect(verifyChain(rows, 0, GENESIS_HASH, current)).toMatchObject({ position: 2, resourceId: 'ev2', problem: 'link-broken' });
  });

  it('catches an edited resource', () => {
    const { rows, current, store } = build();
    store.set('ev3', { ...(store.get('ev3') as object), outcome: '8' });
    expect(verifyChain(rows, 0, GENESIS_HASH, current)).toMatchObject({ position: 3, resourceId: 'ev3', problem: 'content-changed' });
  });

  it('catches an edited resource whose row was re-hashed to match', () => {
    const { rows, current, store } = build();
    const forged = { resourceType: 'AuditEvent', id: 'ev1', recorded: '2026-01-02T00:00:00Z', outcome: '8' };
    store.set('ev1', forged);
    const c = contentHash(forged);
    rows[1] = { ...rows[1], contentHash: c, hash: linkHash(rows[1].prevHash, 1, 'ev1', c) };
    expect(verifyChain(rows, 0, GENESIS_HASH, current)).toMatchObject({ position: 2, problem: 'link-broken' });
  });

  it('catches a deleted resource', () => {
    const { rows, current, store } = build();
    store.delete('ev4');
    expect(verifyChain(rows, 0, GENESIS_HASH, current)).toMatchObject({ position: 4, resourceId: 'ev4', problem: 'resource-missing' });
  });

  it('catches an edited prevHash', () => {
    const { rows, current } = build();
    rows[1] = { ...rows[1], prevHash: '1'.repeat(64) };
    expect(verifyChain(rows, 0, GENESIS_HASH, current)).toMatchObject({ position: 1, resourceId: 'ev1', problem: 'link-broken' });
    // A wrong starting hash is caught at the first row.
    expect(verifyChain(build().rows, 0, '2'.repeat(64), current)).toMatchObject({ position: 0, problem: 'link-broken' });
  });

  it('catches a deleted row, renumbered or not', () => {
    const { rows, current } = build();
    const gap = rows.filter((r) => r.position !== 2);
    expect(verifyChain(gap, 0, GENESIS_HASH, current)).toMatchObject({ position: 2, problem: 'missing-row' });
    const renumbered = gap.map((r, i) => ({ ...r, position: i }));
    expect(verifyChain(renumbered, 0, GENESIS_HASH, current)).toMatchObject({ position: 2, resourceId: 'ev3', problem: 'link-broken' });
  });

  it('catches reordered rows', () => {
    const { rows, current } = build();
    // Two rows swapped in place (positions kept, as a query ordered by position returns them).
    const swapped = [...rows];
    swapped[1] = { ...rows[3], position: 1 };
    swapped[3] = { ...rows[1], position: 3 };
    expect(verifyChain(swapped, 0, GENESIS_HASH, current)).toMatchObject({ position: 1, resourceId: 'ev3', problem: 'link-broken' });
    // Rows handed over out of position order.
    const shuffled = [rows[0], rows[2], rows[1], rows[3], rows[4]];
    expect(verifyChain(shuffled, 0, GENESIS_HASH, current)).toMatchObject({ position: 1, problem: 'missing-row' });
    // A row repeated.
    const dup = [rows[0], rows[1], rows[1], rows[2]];
    expect(verifyChain(dup, 0, GENESIS_HASH, current)).toMatchObject({ position: 1, problem: 'link-broken' });
  });

  it('reports only the first problem', () => {
    const { rows, current, store } = build();
    store.set('ev4', { changed: true });
    rows[1] = { ...rows[1], prevHash: '1'.repeat(64) };
    expect(verifyChain(rows, 0, GENESIS_HASH, current)?.position).toBe(1);
  });
});
