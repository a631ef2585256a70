// The search parameters each resource type supports, with the part of each FHIRPath expression
// that applies to that type, parsed once. Used both to index resources at write time and to
// compile searches, so the two can never disagree about what a parameter means.
import { parseFhirPath, type FhirPathAtom } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { compileSimplePath, type PathWalker } from '../index/simple-path.js';

export type SearchParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

export interface SearchParamDef {
  code: string;
  type: SearchParamType;
  /** The expression restricted to this resource type, e.g. `Patient.name`. */
  expression: string;
  atom: FhirPathAtom;
  /** A direct walk of the JSON when the expression is a plain path (index/simple-path.ts). */
  walk?: PathWalker;
  /** For reference parameters: the resource types a reference may point to. */
  targets: string[];
  url?: string;
  /** For composite parameters: each component's type and expression, relative to `expression`. */
  components?: CompositeComponent[];
  /**
   * For composites: top-level keys the resource must have for the parameter to have any value
   * (`valueQuantity` for code-value-quantity, `component` for component-code-value-quantity).
   * Most Observations have one kind of value, so most composites are skipped without FHIRPath.
   */
  requiredKeys?: string[];
}

export interface CompositeComponent {
  type: SearchParamType;
  atom: FhirPathAtom;
  /** JSON keys of which the element must have one for this component to have a value, when known. */
  keys?: string[];
}

/** Parameters answered from resource columns, not from index tables. */
export const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);

/**
 * Parameters the hub does not offer, per type. Every read writes an AuditEvent, and each index row
 * costs every read; these three codes (the roles and kinds of agents and entities, all fixed by
 * the BALP shape the hub writes) would add five rows to each event and tell an auditor nothing
 * that type, subtype, agent and entity do not.
 */
const NOT_OFFERED: Record<string, ReadonlySet<string>> = {
  AuditEvent: new Set(['agent-role', 'entity-role', 'entity-type']),
};

export class SearchParameterRegistry {
  private readonly byType = new Map<string, Map<string, SearchParamDef>>();
  /** Types of all known parameters by canonical URL: composite components name theirs this way. */
  private readonly typeByUrl = new Map<string, SearchParamType>();

  /** @param fastPaths compile plain-path expressions to direct walks (off only to compare the two). */
  constructor(readonly resourceTypes: string[], parameters: SearchParameter[], private readonly fastPaths = true) {
    for (const type of resourceTypes) this.byType.set(type, new Map());
    for (const sp of parameters) if (sp.url && sp.type) this.typeByUrl.set(sp.url, sp.type as SearchParamType);
    for (const sp of parameters) this.add(sp);
  }

  /** Adds (or replaces) a SearchParameter, e.g. one shipped in fhir-profiles/. */
  add(sp: SearchParameter): void {
    if (!sp.code || !sp.type || !sp.base) return;
    if (sp.url) this.typeByUrl.set(sp.url, sp.type as SearchParamType);
    const components = sp.type === 'composite' ? this.components(sp) : undefined;
    if (sp.type === 'composite' && !components) return;
    const bases = (sp.base as string[]).flatMap((b) => (b === 'Resource' || b === 'DomainResource' ? this.resourceTypes : [b]));
    for (const type of bases) {
      const params = this.byType.get(type);
      if (!params || NOT_OFFERED[type]?.has(sp.code)) continue;
      const expression = sp.expression ? expressionForType(sp.expression, type) : undefined;
      if (sp.expression && !expression) continue;
      params.set(sp.code, {
        code: sp.code,
        type: sp.type as SearchParamType,
        expression: expression ?? '',
        atom: parseFhirPath(expression ?? '{}'),
        walk: expression && this.fastPaths ? compileSimplePath(expression, type) : undefined,
        targets: sp.target ?? [],
        url: sp.url,
        ...(components ? { components, requiredKeys: requiredKeys(expression ?? '', type, components) } : {}),
      });
    }
  }

  /** The components of a composite parameter, or undefined when one cannot be resolved. */
  private components(sp: SearchParameter): CompositeComponent[] | undefined {
    const parts = (sp.component ?? []).map((c) => {
      const type = c.definition ? this.typeByUrl.get(c.definition) : undefined;
      return type && type !== 'composite' && c.expression ? { type, atom: parseFhirPath(c.expression), keys: jsonKeysOf(c.expression) } : undefined;
    });
    return parts.length >= 2 && parts.every(Boolean) ? (parts as CompositeComponent[]) : undefined;
  }

  /**
   * Whether a `type` resource found by `code=Patient/<id>` has its token rows keyed by that
   * patient (index/extract.ts keyTokensByPatient takes the `patient` parameter's Patients, else
   * the `subject` parameter's): always for `patient`; for `subject` where the type's `patient`
   * parameter is its subject (or its subject's Patient), or where the type has no `patient` parameter.
   */
  keysTokensBy(type: string, code: string): boolean {
    const param = this.get(type, code);
    if (param?.type !== 'reference') return false;
    if (code === 'patient') return true;
    if (code !== 'subject') return false;
    return !this.get(type, 'patient') || this.patientIsSubject(type);
  }

  /**
   * Whether a token row of a `type` resource keyed by a patient proves that `code=Patient/<id>`
   * holds for it: where the key is always drawn from this parameter. For `subject` that is what
   * keysTokensBy checks; for `patient`, the key falls back to `subject` when `patient` names no
   * Patient, so only where the type has no `subject` or `patient` is drawn from it.
   */
  keyedTokensImply(type: string, code: string): boolean {
    if (!this.keysTokensBy(type, code)) return false;
    return code === 'subject' || !this.get(type, 'subject') || this.patientIsSubject(type);
  }

  private patientIsSubject(type: string): boolean {
    const expression = this.get(type, 'patient')?.expression;
    return expression === `${type}.subject.where(resolve() is Patient)` || expression === `${type}.subject`;
  }

  get(type: string, code: string): SearchParamDef | undefined {
    return this.byType.get(type)?.get(code);
  }

  forType(type: string): SearchParamDef[] {
    return [...(this.byType.get(type)?.values() ?? [])];
  }

  /** Parameters whose values are written to the index tables at write time. */
  indexedForType(type: string): SearchParamDef[] {
    return this.forType(type).filter((p) => p.expression && !COLUMN_PARAMS.has(p.code) && p.type !== 'special');
  }

  isResourceType(type: string): boolean {
    return this.byType.has(type);
  }
}

/**
 * R4 shares one SearchParameter across types with a union expression
 * (`AllergyIntolerance.patient | CarePlan.subject.where(...) | ...`). Keep only the branches that
 * start at `type` (or at Resource/DomainResource), so indexing a Patient never evaluates the
 * other thirty branches.
 */
export function expressionForType(expression: string, type: string): string | undefined {
  const branches = splitTopLevelUnion(expression).filter((branch) => {
    const head = branch.replace(/^\(+/, '').split(/[.\s]/)[0];
    return head === type || head === 'Resource' || head === 'DomainResource';
  });
  // @medplum/core's FHIRPath does not treat `Resource.` as matching a Patient: name the type.
  const typed = branches.map((branch) => branch.replace(/^(\(*)(?:Resource|DomainResource)\./, `$1${type}.`));
  return typed.length ? typed.join(' | ') : undefined;
}

function splitTopLevelUnion(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "'" && expression[i - 1] !== '\\') quoted = !quoted;
    if (quoted) continue;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts.filter(Boolean);
}

/** `code` → [code]; `value.as(Quantity) | value.as(Range)` → [valueQuantity, valueRange]; else undefined. */
function jsonKeysOf(expression: string): string[] | undefined {
  const keys: string[] = [];
  for (const branch of expression.split('|').map((b) => b.trim())) {
    const m = /^([a-z][A-Za-z]*)(?:\.as\(([A-Za-z]+)\))?$/.exec(branch);
    if (!m) return undefined;
    keys.push(m[2] ? m[1] + m[2][0].toUpperCase() + m[2].slice(1) : m[1]);
  }
  return keys;
}

/**
 * The resource-level keys a composite needs, when each branch of its root is the resource itself
 * (then the value component's keys) or one property of it (`Observation.component`).
 */
function requiredKeys(expression: string, type: string, components: CompositeComponent[]): string[] | undefined {
  const keys: string[] = [];
  for (const branch of expression.split('|').map((b) => b.trim())) {
    const property = branch.startsWith(`${type}.`) ? branch.slice(type.length + 1) : undefined;
    if (branch === type && components[components.length - 1].keys) keys.push(...components[components.length - 1].keys!);
    else if (property && /^[a-z][A-Za-z]*$/.test(property)) keys.push(property);
    else return undefined;
  }
  return keys;
}
