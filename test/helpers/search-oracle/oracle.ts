// The independent search evaluator: given the resources (fetched back from the server once) and a
// search, it computes which resources match and which are included, from the R4 definitions.
//
//  - Simple parameters: the values the parameter's FHIRPath expression selects (@medplum/core's
//    engine), matched per type by matchers.ts.
//  - Where @medplum/core's own matchesSearchRequest follows R4 (tokens without a modifier or with
//    :not, :missing, references written `Type/id`), it is run as well and must agree: a
//    disagreement is reported as an oracle self-check failure, not silently resolved.
//  - Chains, _has, composites, :in/:not-in, :of-type, :identifier, :above/:below, _include and
//    _revinclude (with :iterate) and system search are written here, as R4 describes them.
import { matchesSearchRequest, type Operator } from '@medplum/core';
import type { CodeSystem, CodeSystemConcept, Resource, ValueSet } from '@medplum/fhirtypes';
import { componentValues, ParamRegistry, ValueCache, type ParamDef } from './definitions.js';
import { matchTyped, OracleUnsupported, referencesOf, type Terminology, type ValueSetMembership } from './matchers.js';
import { keyOf, parseReference, type Key, type ResourceStore } from './store.js';
import { splitUnescaped } from './values.js';

export interface IncludeDirective {
  reverse: boolean;
  iterate: boolean;
  /** The resource type whose parameter is followed. */
  source: string;
  param: string;
  /** Only references to this type (the optional third part of the value). */
  target?: string;
}

/** A search as the oracle takes it: the type ('' for a system search) and the query parameters, decoded. */
export interface SearchSpec {
  resourceType: string;
  params: [string, string][];
}

export interface OracleResult {
  matches: Set<Key>;
  /** Resources added by _include/_revinclude that are not matches themselves. */
  includes: Set<Key>;
  /** Disagreements between this evaluator and @medplum/core's matchesSearchRequest. */
  selfCheck: string[];
}

/** Parameters that shape the answer (paging, order, totals) rather than select resources. */
const RESULT_PARAMS = new Set(['_count', '_sort', '_total', '_summary', '_elements', '_format', '_pretty']);

/** Resources per filter (matched, and again unmatched) on which @medplum/core is run as a cross-check. */
const CROSS_CHECK_SAMPLE = 25;

export class SearchOracle {
  private readonly values = new ValueCache();
  private readonly memo = new Map<string, Set<string>>();
  private selfCheck: string[] = [];

  constructor(
    private readonly store: ResourceStore,
    private readonly registry: ParamRegistry,
    /** The server's FHIR base URL: absolute references on it read as local ones. */
    private readonly base: string,
  ) {}

  run(spec: SearchSpec): OracleResult {
    this.selfCheck = [];
    let types = spec.resourceType ? [spec.resourceType] : this.store.types();
    const filters: [string, string][] = [];
    const directives: IncludeDirective[] = [];
    for (const [name, value] of spec.params) {
      if (RESULT_PARAMS.has(name)) continue;
      if (name === '_type') {
        types = value.split(',');
        continue;
      }
      const include = /^_(include|revinclude)(?::(iterate))?$/.exec(name);
      if (include) {
        const [source, param, target] = value.split(':');
        if (!source || !param || source === '*' || param === '*') throw new OracleUnsupported(`${name}=${value}`);
        directives.push({ reverse: include[1] === 'revinclude', iterate: include[2] === 'iterate', source, param, target });
        continue;
      }
      filters.push([name, value]);
    }

    const matches = new Set<Key>();
    for (const type of types) {
      let ids: Set<string> | undefined;
      for (const [name, value] of filters) {
        const set = this.matchSet(type, name, value);
        ids = ids ? new Set([...ids].filter((id) => set.has(id))) : set;
      }
      for (const r of this.store.ofType(type)) if (!ids || ids.has(r.id!)) matches.add(keyOf(r));
    }
    const includes = this.include(matches, directives);
    return { matches, includes, selfCheck: this.selfCheck };
  }

  // -------------------------------------------------------------------------------------------
  // Filters. Each `name=value` of a query selects a set of ids of the searched type; sets are
  // memoised, so a chain or _has evaluates its inner search once, not once per resource.

  /** The ids of `type` that satisfy one query parameter `name=value` (name with modifier, chain or _has). */
  matchSet(type: string, name: string, value: string): Set<string> {
    const memoKey = `${type}\u0000${name}\u0000${value}`;
    let set = this.memo.get(memoKey);
    if (!set) {
      set = this.evaluate(type, name, value);
      this.memo.set(memoKey, set);
    }
    return set;
  }

  private evaluate(type: string, name: string, value: string): Set<string> {
    if (name.startsWith('_has:')) return this.evaluateHas(type, name, value);
    const dot = name.indexOf('.');
    if (dot >= 0) return this.evaluateChain(type, name.slice(0, dot), name.slice(dot + 1), value);
    const colon = name.indexOf(':');
    const code = colon >= 0 ? name.slice(0, colon) : name;
    const modifier = colon >= 0 ? name.slice(colon + 1) : undefined;
    const param = this.param(type, code);
    const out = new Set<string>();
    const matched: Resource[] = [];
    const unmatched: Resource[] = [];
    for (const r of this.store.ofType(type)) {
      if (this.matchesSimple(r, param, modifier, value)) {
        out.add(r.id!);
        matched.push(r);
      } else unmatched.push(r);
    }
    // The cross-check costs ~1 ms a resource (medplum re-parses the shared expression each call):
    // run it on the first 25 matches and the first 25 non-matches, enough to catch a disagreement.
    for (const r of matched.slice(0, CROSS_CHECK_SAMPLE)) this.crossCheck(r, param, modifier, value, true);
    for (const r of unmatched.slice(0, CROSS_CHECK_SAMPLE)) this.crossCheck(r, param, modifier, value, false);
    return out;
  }

  private param(type: string, code: string): ParamDef {
    const param = this.registry.get(type, code);
    if (!param) throw new OracleUnsupported(`${type} has no search parameter '${code}'`);
    return param;
  }

  /** One simple parameter on one resource: OR over the comma-separated values, negations applied to the whole OR. */
  private matchesSimple(resource: Resource, param: ParamDef, modifier: string | undefined, value: string): boolean {
    const values = this.values.values(resource, param);
    if (modifier === 'missing') {
      if (value !== 'true' && value !== 'false') throw new OracleUnsupported(`:missing=${value}`);
      return value === 'true' ? values.length === 0 : values.length > 0;
    }
    const alternatives = splitUnescaped(value, ',');
    const ctx = { base: this.base, terminology: this.terminology };
    if (param.type === 'composite') {
      // Composite: `a$b` must hold for the same item the composite's base expression selects
      // (the same Observation, or the same Observation.component).
      if (modifier) throw new OracleUnsupported(`composite modifier :${modifier}`);
      const components = param.components!;
      return alternatives.some((alt) => {
        const parts = splitUnescaped(alt, '$');
        if (parts.length !== components.length) throw new OracleUnsupported(`composite value '${alt}'`);
        return values.some((item) => components.every((c, i) => matchTyped(c.type, componentValues(item, c), parts[i], undefined, ctx)));
      });
    }
    if (param.type === 'token' && modifier === 'not') {
      // R4 :not "reverses the code matching": resources with no matching code, including those with no value.
      return !alternatives.some((alt) => matchTyped('token', values, alt, undefined, ctx));
    }
    if (param.type === 'token' && modifier === 'not-in') {
      // Read as the negation of :in (like :not of a plain token): no coding in the value set,
      // resources without a value included. The corpus uses it on single-coding elements, where
      // "a coding not in the set" means the same.
      return !alternatives.some((alt) => matchTyped('token', values, alt, 'in', ctx));
    }
    return alternatives.some((alt) => matchTyped(param.type, values, alt, modifier, ctx));
  }

  /** Chain `param[:Type].rest=value`: references of `param` to resources (of Type, or of any target type that has the next parameter) matching `rest=value`. */
  private evaluateChain(type: string, head: string, rest: string, value: string): Set<string> {
    const colon = head.indexOf(':');
    const code = colon >= 0 ? head.slice(0, colon) : head;
    const typeModifier = colon >= 0 ? head.slice(colon + 1) : undefined;
    const param = this.param(type, code);
    if (param.type !== 'reference') throw new OracleUnsupported(`chain through ${type}.${code} (a ${param.type})`);
    const nextCode = rest.split(/[.:]/)[0];
    const targetTypes = typeModifier ? [typeModifier] : param.targets.filter((t) => this.registry.get(t, nextCode));
    const targets = new Set<Key>();
    for (const t of targetTypes) for (const id of this.matchSet(t, rest, value)) targets.add(`${t}/${id}`);
    const out = new Set<string>();
    for (const r of this.store.ofType(type)) {
      const keys = this.referencedKeys(r, param);
      if (keys.some((k) => targets.has(k))) out.add(r.id!);
    }
    return out;
  }

  /** `_has:Source:param:rest=value`: resources of `type` referenced, through Source's `param`, by a Source resource matching `rest=value` (rest may be a chain or another _has). */
  private evaluateHas(type: string, name: string, value: string): Set<string> {
    const parts = name.split(':');
    if (parts.length < 4) throw new OracleUnsupported(`malformed ${name}`);
    const [, source, code, ...restParts] = parts;
    const rest = restParts.join(':');
    const param = this.param(source, code);
    if (param.type !== 'reference') throw new OracleUnsupported(`_has through ${source}.${code} (a ${param.type})`);
    const referenced = new Set<string>();
    for (const id of this.matchSet(source, rest, value)) {
      for (const key of this.referencedKeys(this.store.get(`${source}/${id}`)!, param)) {
        if (key.startsWith(type + '/')) referenced.add(key.slice(type.length + 1));
      }
    }
    return new Set(this.store.ofType(type).filter((r) => referenced.has(r.id!)).map((r) => r.id!));
  }

  /** The local `Type/id`s a reference parameter of a resource points at (whether or not they exist). */
  private referencedKeys(resource: Resource, param: ParamDef): Key[] {
    return referencesOf(this.values.values(resource, param))
      .map((ref) => parseReference(ref, this.base).key)
      .filter((k): k is Key => !!k);
  }

  // -------------------------------------------------------------------------------------------
  // _include / _revinclude. Plain directives apply to the matches; :iterate ones also to what was
  // included, repeatedly, until nothing new is added. Only resources that exist are included.

  private include(matches: Set<Key>, directives: IncludeDirective[]): Set<Key> {
    const all = new Set(matches);
    const included = new Set<Key>();
    let frontier = [...matches];
    let active = directives;
    while (frontier.length > 0 && active.length > 0) {
      const added: Key[] = [];
      for (const d of active) {
        for (const key of d.reverse ? this.revIncluded(frontier, d) : this.forwardIncluded(frontier, d)) {
          if (!all.has(key)) {
            all.add(key);
            included.add(key);
            added.push(key);
          }
        }
      }
      frontier = added;
      active = directives.filter((d) => d.iterate);
    }
    return included;
  }

  private forwardIncluded(from: Key[], d: IncludeDirective): Key[] {
    const param = this.param(d.source, d.param);
    if (param.type !== 'reference') throw new OracleUnsupported(`_include of ${d.source}:${d.param} (a ${param.type})`);
    const out: Key[] = [];
    for (const key of from) {
      if (!key.startsWith(d.source + '/')) continue;
      for (const target of this.referencedKeys(this.store.get(key)!, param)) {
        if (this.store.get(target) && (!d.target || target.startsWith(d.target + '/'))) out.push(target);
      }
    }
    return out;
  }

  private revIncluded(to: Key[], d: IncludeDirective): Key[] {
    const param = this.param(d.source, d.param);
    if (param.type !== 'reference') throw new OracleUnsupported(`_revinclude of ${d.source}:${d.param} (a ${param.type})`);
    const wanted = new Set(to.filter((k) => !d.target || k.startsWith(d.target + '/')));
    return this.store
      .ofType(d.source)
      .filter((r) => this.referencedKeys(r, param).some((k) => wanted.has(k)))
      .map(keyOf);
  }

  // -------------------------------------------------------------------------------------------

  private readonly terminology: Terminology = {
    valueSet: (url) => this.valueSet(url),
    related: (system, code, direction) => this.related(system, code, direction),
  };

  /**
   * Codes related to `code` in the is-a hierarchy of a held CodeSystem, the code itself included:
   * its descendants (`below`) or ancestors (`above`). Parent links come from nested concepts and
   * from `parent`/`child` concept properties.
   */
  private related(system: string, code: string, direction: 'above' | 'below'): Set<string> {
    const cs = this.store.ofType('CodeSystem').find((c) => (c as CodeSystem).url === system) as CodeSystem | undefined;
    if (!cs?.concept) throw new OracleUnsupported(`code system ${system} is not held`);
    const parents = new Map<string, Set<string>>();
    const link = (parent: string, child: string) => {
      if (!parents.has(child)) parents.set(child, new Set());
      parents.get(child)!.add(parent);
    };
    const visit = (concepts: CodeSystemConcept[], parent?: string) => {
      for (const c of concepts) {
        if (!parents.has(c.code!)) parents.set(c.code!, new Set());
        if (parent) link(parent, c.code!);
        for (const p of c.property ?? []) {
          if (p.code === 'parent' && p.valueCode) link(p.valueCode, c.code!);
          if (p.code === 'child' && p.valueCode) link(c.code!, p.valueCode);
        }
        visit(c.concept ?? [], c.code);
      }
    };
    visit(cs.concept);
    const step = (c: string): string[] => (direction === 'above' ? [...(parents.get(c) ?? [])] : [...parents.entries()].filter(([, ps]) => ps.has(c)).map(([child]) => child));
    const out = new Set<string>([code]);
    const queue = [code];
    while (queue.length) for (const next of step(queue.shift()!)) if (!out.has(next)) out.add(next), queue.push(next);
    return out;
  }

  /** Value sets for :in / :not-in, looked up by canonical URL among the held ValueSets. Only explicit concepts and whole systems; anything else is refused. */
  private valueSet(url: string): ValueSetMembership {
    const vs = this.store.ofType('ValueSet').find((v) => (v as ValueSet).url === url) as ValueSet | undefined;
    if (!vs) throw new OracleUnsupported(`value set ${url} is not held`);
    type Rule = { system: string; codes?: Set<string> };
    const rules = (list: NonNullable<ValueSet['compose']>['include'] | undefined): Rule[] =>
      (list ?? []).map((inc) => {
        if (!inc.system || inc.filter || inc.valueSet) throw new OracleUnsupported(`value set ${url}: only concept lists and whole systems are evaluated`);
        return { system: inc.system, codes: inc.concept ? new Set(inc.concept.map((c) => c.code)) : undefined };
      });
    const include = rules(vs.compose?.include);
    const exclude = rules(vs.compose?.exclude);
    const inRules = (rs: Rule[], system: string, code: string) => rs.some((r) => r.system === system && (!r.codes || r.codes.has(code)));
    return { has: (system, code) => inRules(include, system, code) && !inRules(exclude, system, code) };
  }

  /**
   * Runs @medplum/core's matchesSearchRequest where it implements R4 as the oracle does, and
   * records any disagreement. (Medplum compares tokens case-insensitively and also indexes display
   * texts as system-less tokens; the corpus searches codes as written, never a display as a code.)
   */
  private crossCheck(resource: Resource, param: ParamDef, modifier: string | undefined, value: string, mine: boolean): void {
    let operator: Operator;
    if (modifier === 'missing') operator = 'missing';
    else if (param.type === 'token' && modifier === undefined) operator = 'eq';
    else if (param.type === 'token' && modifier === 'not') operator = 'not';
    else if (param.type === 'reference' && modifier === undefined && splitUnescaped(value, ',').every((v) => /^[A-Z][A-Za-z]+\/[^/]+$/.test(v))) operator = 'eq';
    else return;
    const theirs = matchesSearchRequest(resource, { resourceType: resource.resourceType, filters: [{ code: param.code, operator, value }] });
    if (theirs !== mine) {
      this.selfCheck.push(`${keyOf(resource)} ${param.code}${modifier ? ':' + modifier : ''}=${value}: oracle ${mine}, @medplum/core matchesSearchRequest ${theirs}`);
    }
  }
}
