// Most search parameters are plain paths (`Patient.name`, `AuditEvent.agent.who`), sometimes a
// union of them or filtered by `.where(resolve() is Type)`. Those are compiled here into direct
// walks over the JSON, typed from the compiled definitions (validator/compiled-type.ts), instead
// of being interpreted as FHIRPath for every resource written. Anything else (choice elements,
// `as`, functions) returns undefined and keeps the FHIRPath evaluation. The two must give the same
// index rows: test/unit/simple-path.test.ts compares them over every R4 example and Synthea.
import type { TypedValue } from '@medplum/core';
import { compiledType } from '../validator/compiled-type.js';

export type PathWalker = (resource: Record<string, unknown>) => TypedValue[];

interface Step {
  name: string;
  code: string;
}

const BRANCH = /^([A-Z][A-Za-z]+)((?:\.[a-z][A-Za-z]*)+)(?:\.where\(resolve\(\) is ([A-Z][A-Za-z]+)\))?$/;

/** A walker for `expression` (already restricted to `type`), or undefined when it is not simple. */
export function compileSimplePath(expression: string, type: string): PathWalker | undefined {
  const branches = expression.split(' | ').map((b) => b.trim());
  const compiled: { steps: Step[]; resolveIs?: string }[] = [];
  for (const branch of branches) {
    const m = BRANCH.exec(branch);
    if (!m || m[1] !== type) return undefined;
    const steps = resolveSteps(type, m[2].slice(1).split('.'));
    if (!steps) return undefined;
    if (m[3] && steps[steps.length - 1].code !== 'Reference') return undefined;
    compiled.push({ steps, resolveIs: m[3] });
  }
  return (resource) => {
    const out: TypedValue[] = [];
    for (const branch of compiled) walk(resource, branch.steps, 0, branch.resolveIs, out);
    return out;
  };
}

/** Each step's type, through the compiled definitions; undefined if a step is unknown or a choice. */
function resolveSteps(type: string, names: string[]): Step[] | undefined {
  const steps: Step[] = [];
  let current = type;
  for (const name of names) {
    const rule = compiledType(current)?.properties.get(name);
    if (!rule || rule.element !== name || rule.code === 'Resource' || rule.code === 'Element' || rule.code === 'BackboneElement') return undefined;
    steps.push({ name, code: rule.code });
    current = rule.code;
  }
  return steps;
}

function walk(value: unknown, steps: Step[], at: number, resolveIs: string | undefined, out: TypedValue[]): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) walk(item, steps, at, resolveIs, out);
    return;
  }
  if (at === steps.length) {
    if (isEmpty(value)) return;
    if (resolveIs) {
      const reference = (value as { reference?: unknown }).reference;
      // As @medplum/core's resolve() names a type: before '?' in a conditional reference, else
      // the first segment of a path (so an absolute URL names none).
      if (typeof reference !== 'string') return;
      const named = reference.includes('?') ? reference.split('?')[0] : reference.includes('/') ? reference.split('/')[0] : undefined;
      if (named !== resolveIs) return;
    }
    out.push({ type: steps[at - 1].code, value });
    return;
  }
  if (typeof value !== 'object') return;
  walk((value as Record<string, unknown>)[steps[at].name], steps, at + 1, resolveIs, out);
}

function isEmpty(value: unknown): boolean {
  if (value === '') return true;
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}
