// Turns a ValueSet's compose into the plain set of codes it allows, for the kinds of compose that
// can be expanded without a terminology server: an include of a whole CodeSystem we hold in full
// (every concept, nested ones too) or an include that lists its concepts. Anything else (filters,
// imported ValueSets, excludes, a CodeSystem we do not hold or hold only in part) makes the
// ValueSet unexpandable, and the caller leaves the binding unchecked rather than guess.
// The system of a code is not kept: a `code` element carries no system, only the code.
import type { CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';

export type Expansion = { codes: ReadonlySet<string> } | { unexpandable: string };

/** What expansion reads of a CodeSystem. */
export type HeldCodeSystem = Pick<CodeSystem, 'content' | 'caseSensitive' | 'concept'>;

export function expandCompose(valueSet: Pick<ValueSet, 'compose'>, codeSystem: (url: string) => HeldCodeSystem | undefined): Expansion {
  const compose = valueSet.compose;
  if (!compose?.include?.length) return { unexpandable: 'no compose' };
  if (compose.exclude?.length) return { unexpandable: 'compose.exclude' };
  const codes = new Set<string>();
  for (const include of compose.include) {
    if (include.filter?.length) return { unexpandable: `a filter on ${include.system}` };
    if (include.valueSet?.length) return { unexpandable: 'an imported ValueSet' };
    if (!include.system) return { unexpandable: 'an include without a system' };
    if (include.concept?.length) {
      for (const concept of include.concept) codes.add(concept.code);
      continue;
    }
    const system = codeSystem(include.system);
    if (!system) return { unexpandable: `the CodeSystem ${include.system} is not shipped` };
    // 'fragment', 'example', 'not-present': the concepts we hold are not all the system has.
    if (system.content !== 'complete') return { unexpandable: `the CodeSystem ${include.system} is ${system.content ?? 'of unknown content'}` };
    if (system.caseSensitive === false) return { unexpandable: `the CodeSystem ${include.system} is case-insensitive` };
    addConcepts(codes, system.concept);
  }
  return { codes };
}

function addConcepts(codes: Set<string>, concepts: CodeSystemConcept[] | undefined): void {
  for (const concept of concepts ?? []) {
    codes.add(concept.code);
    addConcepts(codes, concept.concept);
  }
}
