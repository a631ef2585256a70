// A resource's content hash: SHA-256 of its content without the server-owned meta (versionId,
// lastUpdated, source), with object keys in a fixed order. The same content hashes the same
// whatever the key order or the version it was stored as. Federation uses it to tell whether a
// source changed a resource; report signing, to bind a signature to exactly what was signed.
import { createHash } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';

export function contentHash(resource: Resource): string {
  const { meta, ...rest } = resource as Resource & { meta?: Record<string, unknown> };
  const keptMeta = meta ? Object.fromEntries(Object.entries(meta).filter(([k]) => k !== 'versionId' && k !== 'lastUpdated' && k !== 'source')) : undefined;
  const canonical = canonicalJson(keptMeta && Object.keys(keptMeta).length ? { ...rest, meta: keptMeta } : rest);
  return createHash('sha256').update(canonical).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
