// A resource's content hash: SHA-256 of its content without the server-owned meta (versionId,
// lastUpdated, source), with object keys in a fixed order (canonical-json.ts). The same content
// hashes the same whatever the key order or the version it was stored as. Federation uses it to
// tell whether a source changed a resource; report and prescription signing, to bind a signature
// to exactly what was signed.
import { createHash } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { canonicalContent } from './canonical-json.js';

export function contentHash(resource: Resource): string {
  return createHash('sha256').update(canonicalContent(resource)).digest('hex');
}
