// A FHIR type's definition turned into what validation needs, once per type: a table from JSON
// property name to its rule (choice elements expanded, so `valueQuantity` is one lookup instead of
// a scan over fifty type names), the required elements, the invariants parsed to FHIRPath once,
// and for `code` elements with a required binding the set of allowed codes (value-sets.ts). The definitions are the R4 StructureDefinitions that @medplum/core has indexed
// (loadR4Definitions); this module reads them and never changes them.
import { getDataType, parseFhirPath, type FhirPathAtom, type InternalSchemaElement, type InternalTypeSchema } from '@medplum/core';
import { isPrimitiveCode } from './primitives.js';
import { requiredCodes, type RequiredCodes } from './value-sets.js';

export interface Invariant {
  key: string;
  human: string;
  expression: string;
  atom: FhirPathAtom;
}

/** One JSON property name of a type, e.g. `valueQuantity` of Observation. */
export interface PropertyRule {
  /** The element's name in the definition, e.g. `value[x]`. */
  element: string;
  /** The type of this property's values, e.g. `Quantity`; `Resource` means "any resource". */
  code: string;
  primitive: boolean;
  isArray: boolean;
  max: number;
  invariants: Invariant[];
  /**
   * For a `code` element with a required binding whose ValueSet could be expanded: the codes
   * allowed. Bindings on Coding and CodeableConcept are not checked (R4 binds those extensibly
   * or weaker almost everywhere, and a Coding's system would need checking too).
   */
  binding?: RequiredCodes;
}

export interface RequiredElement {
  element: string;
  jsonKeys: string[];
}

export interface CompiledType {
  name: string;
  isResource: boolean;
  properties: Map<string, PropertyRule>;
  required: RequiredElement[];
  /** Invariants on the type itself (checked on a resource's root, as dom-2..dom-5). */
  invariants: Invariant[];
}

// Invariants not evaluated as FHIRPath:
//  ele-1 (element has a value or children) and ext-1 (extension has value or children, not
//  both) are checked structurally by the validator, which is the same rule at a fraction of the
//  cost; dom-3 (every contained resource is referenced) needs descendants() over the whole
//  resource for every write and is not enforced; org-1 is a known R4 back-compatibility
//  exception; sdf-19 concerns the specification's own models.
const NOT_EVALUATED = new Set(['ele-1', 'ext-1', 'dom-3', 'org-1', 'sdf-19']);

const compiled = new Map<string, CompiledType | null>();
const parsedInvariants = new Map<string, FhirPathAtom>();

/** The compiled form of a type, or undefined when no such type is defined. */
export function compiledType(name: string): CompiledType | undefined {
  let type = compiled.get(name);
  if (type === undefined) {
    type = compile(name);
    compiled.set(name, type);
  }
  return type ?? undefined;
}

function compile(name: string): CompiledType | null {
  let schema: InternalTypeSchema;
  try {
    schema = getDataType(name);
  } catch {
    return null;
  }
  if (!schema?.elements || !Object.keys(schema.elements).length) return null;
  const properties = new Map<string, PropertyRule>();
  const required: RequiredElement[] = [];
  for (const [element, definition] of Object.entries(schema.elements)) {
    const keys = addProperties(properties, element, definition);
    if (definition.min > 0) required.push({ element, jsonKeys: keys });
  }
  return {
    name,
    isResource: schema.kind === 'resource',
    properties,
    required,
    invariants: invariantsOf(schema.constraints),
  };
}

function addProperties(properties: Map<string, PropertyRule>, element: string, definition: InternalSchemaElement): string[] {
  const invariants = invariantsOf(definition.constraints);
  const rule = (code: string): PropertyRule => ({
    element,
    code,
    primitive: isPrimitiveCode(code),
    isArray: Boolean(definition.isArray),
    max: definition.max ?? Number.POSITIVE_INFINITY,
    invariants,
    binding: code === 'code' ? codeBinding(definition) : undefined,
  });
  if (!element.endsWith('[x]')) {
    properties.set(element, rule(definition.type[0]?.code ?? 'Element'));
    return [element];
  }
  const stem = element.slice(0, -3);
  const keys: string[] = [];
  for (const { code } of definition.type) {
    const key = stem + code.charAt(0).toUpperCase() + code.slice(1);
    properties.set(key, rule(code));
    keys.push(key);
  }
  return keys;
}

function codeBinding(definition: InternalSchemaElement): RequiredCodes | undefined {
  const binding = definition.binding;
  if (binding?.strength !== 'required' || !binding.valueSet) return undefined;
  return requiredCodes(binding.valueSet);
}

function invariantsOf(constraints: InternalSchemaElement['constraints']): Invariant[] {
  const out: Invariant[] = [];
  for (const c of constraints ?? []) {
    if (c.severity !== 'error' || NOT_EVALUATED.has(c.key)) continue;
    let atom = parsedInvariants.get(c.expression);
    if (!atom) {
      atom = parseFhirPath(c.expression);
      parsedInvariants.set(c.expression, atom);
    }
    out.push({ key: c.key, human: c.description, expression: c.expression, atom });
  }
  return out;
}
