// Token modifiers that need terminology: `:in` / `:not-in` (codes of a ValueSet stored on this
// server) and `:above` / `:below` (a code's ancestors / descendants in a CodeSystem stored here).
// They are resolved to concrete codes before the SQL is built, so the search itself stays one
// indexed statement. Terminology outside the server is not consulted: an unknown ValueSet or
// hierarchy is a 400 that says which resource to load.
import type { CodeSystem, CodeSystemConcept, Resource, ValueSet, ValueSetComposeInclude, ValueSetExpansionContains } from '@medplum/fhirtypes';
import { Invalid } from '../errors.js';
import type { CodeSet, SearchRequest, ValueFilter } from './model.js';
import { valueFilters } from './model.js';
import { splitPipe } from './parse.js';

/** Finds a stored conformance resource (ValueSet, CodeSystem) by canonical URL. */
export type CanonicalLookup = (type: 'ValueSet' | 'CodeSystem', url: string) => Promise<Resource | undefined>;

const TERMINOLOGY_MODIFIERS = new Set(['in', 'not-in', 'above', 'below']);
const MAX_VALUESET_DEPTH = 8;

/** Fills in `codes` on every token filter that uses a terminology modifier. */
export async function resolveTerminology(request: SearchRequest, lookup: CanonicalLookup): Promise<void> {
  for (const filter of valueFilters(request.filters)) {
    if (filter.param.type !== 'token' || !filter.modifier || !TERMINOLOGY_MODIFIERS.has(filter.modifier)) continue;
    const codes: CodeSet = new Map();
    for (const value of filter.values) {
      const set = filter.modifier === 'in' || filter.modifier === 'not-in' ? await expandValueSet(value, lookup, 0) : await hierarchy(filter, value, lookup);
      mergeInto(codes, set);
    }
    filter.codes = codes;
  }
}

async function hierarchy(filter: ValueFilter, value: string, lookup: CanonicalLookup): Promise<CodeSet> {
  const [system, code] = splitPipe(value);
  const name = `${filter.param.code}:${filter.modifier}`;
  if (code === undefined || !system || !code) throw new Invalid(`'${name}' takes system|code (the hierarchy belongs to a code system)`, [name]);
  const codeSystem = (await lookup('CodeSystem', system)) as CodeSystem | undefined;
  if (!codeSystem?.concept?.length) {
    throw new Invalid(`'${name}': the hierarchy of ${system} is not known to this server; store its CodeSystem (with concepts) first`, [name]);
  }
  const tree = conceptTree(codeSystem);
  if (!tree.has(code)) throw new Invalid(`'${name}': ${system} has no code '${code}'`, [name]);
  const related = filter.modifier === 'below' ? walk(code, (c) => tree.get(c)?.children ?? []) : walk(code, (c) => tree.get(c)?.parents ?? []);
  return new Map([[system, related]]);
}

interface Node {
  parents: string[];
  children: string[];
}

/** Parent/child links from nested concepts and from `parent`/`child` properties. */
function conceptTree(codeSystem: CodeSystem): Map<string, Node> {
  const tree = new Map<string, Node>();
  const node = (code: string) => {
    let n = tree.get(code);
    if (!n) tree.set(code, (n = { parents: [], children: [] }));
    return n;
  };
  const link = (parent: string, child: string) => {
    node(parent).children.push(child);
    node(child).parents.push(parent);
  };
  const visit = (concepts: CodeSystemConcept[], parent?: string) => {
    for (const concept of concepts) {
      node(concept.code);
      if (parent) link(parent, concept.code);
      for (const p of concept.property ?? []) {
        if (p.code === 'parent' && p.valueCode) link(p.valueCode, concept.code);
        if (p.code === 'child' && p.valueCode) link(concept.code, p.valueCode);
      }
      visit(concept.concept ?? [], concept.code);
    }
  };
  visit(codeSystem.concept ?? []);
  return tree;
}

/** The code and everything reachable from it (cycles in bad data are cut). */
function walk(start: string, next: (code: string) => string[]): string[] {
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length) for (const c of next(queue.shift()!)) if (!seen.has(c)) (seen.add(c), queue.push(c));
  return [...seen];
}

async function expandValueSet(url: string, lookup: CanonicalLookup, depth: number): Promise<CodeSet> {
  if (depth > MAX_VALUESET_DEPTH) throw new Invalid(`ValueSet ${url} imports ValueSets more than ${MAX_VALUESET_DEPTH} levels deep`);
  const valueSet = (await lookup('ValueSet', url)) as ValueSet | undefined;
  if (!valueSet) throw new Invalid(`':in' / ':not-in': the ValueSet ${url} is not stored on this server; create it first`);
  if (valueSet.expansion?.contains?.length) {
    const codes: CodeSet = new Map();
    addContains(codes, valueSet.expansion.contains);
    return codes;
  }
  const included: CodeSet = new Map();
  for (const include of valueSet.compose?.include ?? []) mergeInto(included, await includeCodes(include, lookup, depth));
  for (const exclude of valueSet.compose?.exclude ?? []) {
    const excluded = await includeCodes(exclude, lookup, depth);
    for (const [system, codes] of excluded) {
      if (codes.length === 0) included.delete(system);
      else if (included.get(system)?.length) included.set(system, included.get(system)!.filter((c) => !codes.includes(c)));
    }
  }
  return included;
}

function addContains(codes: CodeSet, contains: ValueSetExpansionContains[]): void {
  for (const c of contains) {
    if (c.system && c.code) mergeInto(codes, new Map([[c.system, [c.code]]]));
    if (c.contains) addContains(codes, c.contains);
  }
}

async function includeCodes(include: ValueSetComposeInclude, lookup: CanonicalLookup, depth: number): Promise<CodeSet> {
  let result: CodeSet | undefined;
  if (include.system) {
    const system = include.system;
    if (include.concept?.length) result = new Map([[system, include.concept.map((c) => c.code)]]);
    else if (include.filter?.length) result = await filteredCodes(system, include.filter, lookup);
    else result = new Map([[system, []]]); // the whole code system
  }
  // Imported ValueSets intersect with each other and with the system part.
  for (const imported of include.valueSet ?? []) {
    const set = await expandValueSet(imported, lookup, depth + 1);
    result = result ? intersect(result, set) : set;
  }
  return result ?? new Map();
}

async function filteredCodes(system: string, filters: NonNullable<ValueSetComposeInclude['filter']>, lookup: CanonicalLookup): Promise<CodeSet> {
  const codeSystem = (await lookup('CodeSystem', system)) as CodeSystem | undefined;
  if (!codeSystem?.concept?.length) throw new Invalid(`A ValueSet filters ${system}, whose CodeSystem is not stored on this server`);
  const tree = conceptTree(codeSystem);
  let codes: string[] | undefined;
  for (const f of filters) {
    let selected: string[];
    if (f.op === 'is-a') selected = walk(f.value, (c) => tree.get(c)?.children ?? []);
    else if (f.op === 'descendent-of') selected = walk(f.value, (c) => tree.get(c)?.children ?? []).filter((c) => c !== f.value);
    else if (f.op === 'is-not-a') {
      const below = new Set(walk(f.value, (c) => tree.get(c)?.children ?? []));
      selected = [...tree.keys()].filter((c) => !below.has(c));
    } else throw new Invalid(`ValueSet filter op '${f.op}' is not supported (is-a, descendent-of, is-not-a are)`);
    codes = codes ? codes.filter((c) => selected.includes(c)) : selected;
  }
  return new Map([[system, codes ?? []]]);
}

function intersect(a: CodeSet, b: CodeSet): CodeSet {
  const out: CodeSet = new Map();
  for (const [system, codesA] of a) {
    const codesB = b.get(system);
    if (!codesB) continue;
    if (codesA.length === 0) out.set(system, codesB);
    else if (codesB.length === 0) out.set(system, codesA);
    else out.set(system, codesA.filter((c) => codesB.includes(c)));
  }
  return out;
}

function mergeInto(target: CodeSet, source: CodeSet): void {
  for (const [system, codes] of source) {
    const existing = target.get(system);
    if (existing === undefined) target.set(system, [...codes]);
    else if (existing.length === 0 || codes.length === 0) target.set(system, []);
    else target.set(system, [...new Set([...existing, ...codes])]);
  }
}
