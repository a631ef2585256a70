// The resources the oracle searches, held in memory, and how references between them resolve.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { Bundle, Resource } from '@medplum/fhirtypes';

/** `Type/id`: how the oracle names a resource everywhere (results, includes, references). */
export type Key = string;

export function keyOf(resource: Resource): Key {
  return `${resource.resourceType}/${resource.id}`;
}

/** A reference string as search sees it. */
export interface ParsedReference {
  /** The local `Type/id` when the reference is relative (or absolute on this server's base). */
  key?: Key;
  type?: string;
  id?: string;
  /** Absolute references to elsewhere, canonicals, `urn:`: compared as written. */
  url?: string;
}

/** Reads `Type/id`, `Type/id/_history/n` and `{base}/Type/id` as local; anything else (URL, urn, `#contained`) as an opaque string. */
export function parseReference(reference: string, base: string | undefined): ParsedReference {
  let local = reference;
  if (base && reference.startsWith(base + '/')) local = reference.slice(base.length + 1);
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]+)?$/.exec(local);
  if (m) return { key: `${m[1]}/${m[2]}`, type: m[1], id: m[2] };
  return { url: reference };
}

export class ResourceStore {
  private readonly byTypeMap = new Map<string, Resource[]>();
  private readonly byKeyMap = new Map<Key, Resource>();

  constructor(resources: Iterable<Resource> = []) {
    for (const r of resources) this.add(r);
  }

  add(resource: Resource): void {
    const key = keyOf(resource);
    if (this.byKeyMap.has(key)) throw new Error(`duplicate resource ${key}`);
    this.byKeyMap.set(key, resource);
    let list = this.byTypeMap.get(resource.resourceType);
    if (!list) this.byTypeMap.set(resource.resourceType, (list = []));
    list.push(resource);
  }

  get(key: Key): Resource | undefined {
    return this.byKeyMap.get(key);
  }

  ofType(type: string): Resource[] {
    return this.byTypeMap.get(type) ?? [];
  }

  types(): string[] {
    return [...this.byTypeMap.keys()].sort();
  }

  get size(): number {
    return this.byKeyMap.size;
  }
}

// ---------------------------------------------------------------------------------------------
// The Synthea subset, read straight from ../shared/testdata (never copied into the repository).

export const SYNTHEA_DIR = new URL('../../../../shared/testdata/fhir/synthea/smart/', import.meta.url);

/** The `count` smallest bundles (by file size, then name): a deterministic subset that keeps CI time sane. */
export function smallestBundles(count: number): string[] {
  return readdirSync(SYNTHEA_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ f, size: statSync(new URL(f, SYNTHEA_DIR)).size }))
    .sort((a, b) => a.size - b.size || a.f.localeCompare(b.f))
    .slice(0, count)
    .map((x) => x.f);
}

export interface SyntheaFile {
  file: string;
  /** The bundle exactly as it is posted. */
  bundle: Bundle;
  /** The local id the oracle gives each entry, in entry order (see loadSyntheaFiles). */
  localIds: string[];
}

/**
 * Reads the bundles and builds the "file store": every resource with a local id and its
 * `urn:uuid:` references rewritten to `Type/localId`, as the server will store them (with its own
 * ids). The corpus is generated from this store, so it is the same on every run and backend.
 *
 * Several bundles carry the same Organization/Practitioner (same uuid); each copy becomes its
 * own server resource, so a repeated uuid gets the local id `uuid.n` (n = bundle number).
 */
export function loadSyntheaFiles(files: string[]): { files: SyntheaFile[]; store: ResourceStore } {
  const store = new ResourceStore();
  const seen = new Set<string>();
  const out: SyntheaFile[] = [];
  files.forEach((file, n) => {
    const text = readFileSync(new URL(file, SYNTHEA_DIR), 'utf8');
    const bundle = JSON.parse(text) as Bundle;
    const localByUrn = new Map<string, string>();
    const localIds: string[] = [];
    for (const entry of bundle.entry ?? []) {
      const uuid = entry.fullUrl!.replace(/^urn:uuid:/, '');
      const local = seen.has(uuid) ? `${uuid}.${n}` : uuid;
      seen.add(uuid);
      localByUrn.set(entry.fullUrl!, `${entry.resource!.resourceType}/${local}`);
      localIds.push(local);
    }
    // A second parse gives independent objects for the store; references are rewritten in the JSON text.
    const rewritten = text.replace(/"reference"\s*:\s*"(urn:uuid:[0-9a-f-]+)"/g, (whole, urn: string) => {
      const target = localByUrn.get(urn);
      return target ? `"reference":"${target}"` : whole;
    });
    const copy = JSON.parse(rewritten) as Bundle;
    (copy.entry ?? []).forEach((entry, i) => store.add({ ...entry.resource!, id: localIds[i] }));
    out.push({ file, bundle, localIds });
  });
  return { files: out, store };
}
