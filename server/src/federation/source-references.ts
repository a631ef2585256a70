// How a source names its resources, and what that becomes at the hub. A source's reference is
// `Type/id` (maybe with `/_history/n`), the same with its own base URL in front, or the
// `urn:uuid:` fullUrl of another entry of the Bundle it sent. Each becomes the key
// (type, source id) that fed_map turns into a hub id.
import type { Resource } from '@medplum/fhirtypes';

export interface SourceKey {
  type: string;
  sourceId: string;
}

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export function keyString(key: SourceKey): string {
  return `${key.type}/${key.sourceId}`;
}

/**
 * The key a reference names, or undefined when it names something outside the source (another
 * server, a contained resource `#x`, a conditional reference `Type?query`).
 * `bundleIds` maps the fullUrls of the entries being ingested to their keys.
 */
export function referencedKey(reference: string, baseUrl: string, bundleIds: ReadonlyMap<string, SourceKey>, isType: (t: string) => boolean): SourceKey | undefined {
  const local = bundleIds.get(reference);
  if (local) return local;
  let path = reference;
  if (/^https?:\/\//.test(reference)) {
    if (!reference.startsWith(`${baseUrl}/`)) return undefined;
    path = reference.slice(baseUrl.length + 1);
  }
  const m = RELATIVE.exec(path);
  return m && isType(m[1]) ? { type: m[1], sourceId: m[2] } : undefined;
}

/** Every `reference` string in a resource (contained resources included). */
export function referencesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) referencesIn(item, found);
  } else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'reference' && typeof child === 'string') found.push(child);
      else if (child && typeof child === 'object') referencesIn(child, found);
    }
  }
  return found;
}

/** Replaces every `reference` string for which `replace` returns text (in place). */
export function replaceReferences(value: unknown, replace: (reference: string) => string | undefined): void {
  if (Array.isArray(value)) {
    for (const item of value) replaceReferences(item, replace);
  } else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const [key, child] of Object.entries(record)) {
      if (key === 'reference' && typeof child === 'string') {
        const next = replace(child);
        if (next !== undefined) record[key] = next;
      } else if (child && typeof child === 'object') replaceReferences(child, replace);
    }
  }
}
