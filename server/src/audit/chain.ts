// A tamper-evident hash chain over the audit trail. Each row commits to the resource's content
// (contentHash, computed by the store: chain-store.ts), its place in the sequence (position) and the previous row (prevHash), so editing
// an AuditEvent, editing a row, removing a row or swapping rows is found by re-walking the chain.
// Pure functions only: storing rows and reading resources is the caller's business.
//
// The chain assumes the resources it covers are never updated (AuditEvents are append-only), so
// a resource's current content must still hash to what was recorded when it was written.
import { createHash } from 'node:crypto';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export const GENESIS_HASH: string = '0'.repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;
// Domain separation: a link hash can never collide with some other sha256 use in the system.
const LINK_TAG = 'suhe-audit-chain-v1';

/**
 * SHA-256 (hex) of one chain link. The fields are encoded as a JSON array, which is unambiguous
 * (no choice of ids can make two different field tuples encode alike), after a version tag.
 */
export function linkHash(prevHash: string, position: number, resourceId: string, contentHash: string): string {
  if (!HEX64.test(prevHash)) throw new TypeError('linkHash: prevHash must be 64 lowercase hex digits');
  if (!HEX64.test(contentHash)) throw new TypeError('linkHash: contentHash must be 64 lowercase hex digits');
  if (!Number.isSafeInteger(position) || position < 0) throw new TypeError('linkHash: position must be a non-negative integer');
  return sha256(`${LINK_TAG}\n${JSON.stringify([prevHash, position, resourceId, contentHash])}`);
}

export interface ChainRow {
  position: number;
  resourceId: string;
  contentHash: string;
  prevHash: string;
  hash: string;
}

export interface ChainProblem {
  position: number;
  resourceId: string;
  problem: 'content-changed' | 'link-broken' | 'missing-row' | 'resource-missing';
  detail: string;
}

/**
 * Checks rows in position order (positions must be consecutive from `startPosition`, starting at
 * `startHash`); `currentContentHash(id)` gives the hash of the stored resource now (undefined if
 * gone). Returns the FIRST problem or undefined.
 *
 * Per row, the link is checked before the content: a row whose own fields were edited is
 * 'link-broken' there, while a resource edited behind an intact row is 'content-changed'.
 * Rows removed from the end cannot be seen from the rows alone: compare the last position with
 * the expected head separately.
 */
export function verifyChain(
  rows: Iterable<ChainRow>,
  startPosition: number,
  startHash: string,
  currentContentHash: (resourceId: string) => string | undefined,
): ChainProblem | undefined {
  let expected = startPosition;
  let prev = startHash;
  for (const row of rows) {
    const at = (problem: ChainProblem['problem'], detail: string, position = row.position): ChainProblem => ({
      position,
      resourceId: row.resourceId,
      problem,
      detail,
    });
    if (row.position > expected) {
      return { position: expected, resourceId: '', problem: 'missing-row', detail: `no row at position ${expected}; the next row is at ${row.position}` };
    }
    if (row.position < expected) {
      return at('link-broken', `row at position ${row.position} comes after position ${expected - 1} (duplicate or out of order)`);
    }
    if (row.prevHash !== prev) {
      return at('link-broken', `prevHash ${row.prevHash} does not match the hash of the row before (${prev})`);
    }
    let recomputed: string | undefined;
    try {
      recomputed = linkHash(row.prevHash, row.position, row.resourceId, row.contentHash);
    } catch {
      recomputed = undefined; // a malformed field: reported as a broken link below
    }
    if (recomputed !== row.hash) {
      return at('link-broken', 'the row hash does not match its fields (position, resourceId or contentHash was edited)');
    }
    const current = currentContentHash(row.resourceId);
    if (current === undefined) return at('resource-missing', `resource ${row.resourceId} is no longer stored`);
    if (current !== row.contentHash) {
      return at('content-changed', `resource ${row.resourceId} now hashes to ${current}, recorded ${row.contentHash}`);
    }
    prev = row.hash;
    expected++;
  }
  return undefined;
}
