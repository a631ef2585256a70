// The exact text a resource's content hash is taken over (fhir/content-hash.ts): the resource
// without the server-owned meta (versionId, lastUpdated, source), as JSON with object keys sorted
// and no whitespace. Pure and dependency-free on purpose: the viewer imports this same file to
// compute what a doctor's device signs, so hub and device can never disagree on the bytes.

/** The canonical JSON of a resource's content. */
export function canonicalContent(resource: object): string {
  const { meta, ...rest } = resource as { meta?: Record<string, unknown> };
  const keptMeta = meta ? Object.fromEntries(Object.entries(meta).filter(([k]) => k !== 'versionId' && k !== 'lastUpdated' && k !== 'source')) : undefined;
  return canonicalJson(keptMeta && Object.keys(keptMeta).length ? { ...rest, meta: keptMeta } : rest);
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
