// Validates a resource against the base FHIR R4 definitions: the JSON shape (known properties,
// arrays where the definition says so, no nulls or empty values), cardinality, primitive formats,
// nested resources (contained, Bundle entries, Parameters), the error-level invariants and the
// required bindings of `code` elements (Observation.status, Patient.gender, ...).
//
// It walks the JSON once, looking each property up in a compiled table (compiled-type.ts), so
// its cost follows the size of the resource rather than the size of the definitions. Its
// verdicts are checked against @medplum/core's validator over every R4 example and the Synthea
// data (test/unit/base-validator.test.ts); where it is stricter, the specification says so:
// empty arrays, empty strings and two values for one choice element are errors, and so is a code
// outside its required ValueSet, which @medplum/core does not check without a terminology server.
import { evalFhirPathTyped, toTypedValue, UCUM, type TypedValue } from '@medplum/core';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { compiledType, type CompiledType, type Invariant, type PropertyRule } from './compiled-type.js';
import { clip, describeJson, primitiveProblem } from './primitives.js';

type Json = Record<string, unknown>;
type IssueCode = 'structure' | 'required' | 'value' | 'code-invalid' | 'invariant' | 'processing';

const UCUM_VALUE: TypedValue = toTypedValue(UCUM);

export function validateBase(resource: unknown): OperationOutcomeIssue[] {
  return new Walk(resource).run();
}

class Walk {
  private readonly issues: OperationOutcomeIssue[] = [];
  // %resource and %rootResource for invariants: the resource holding the element, and its
  // container when it is a contained resource (Bundle entries are resources of their own).
  private readonly scopes: { resource: TypedValue; root: TypedValue }[] = [];

  constructor(private readonly input: unknown) {}

  run(): OperationOutcomeIssue[] {
    const type = this.resourceType(this.input, '');
    if (type) this.resource(this.input as Json, type, type.name, false);
    return this.issues;
  }

  private resourceType(value: unknown, path: string): CompiledType | undefined {
    if (!isObject(value)) {
      this.issue('structure', path || 'Resource', `expected a resource (a JSON object), got ${describeJson(value)}`);
      return undefined;
    }
    const name = value.resourceType;
    if (typeof name !== 'string' || !name) {
      this.issue('structure', path || 'Resource', 'the resource has no resourceType');
      return undefined;
    }
    const type = compiledType(name);
    if (!type?.isResource) {
      this.issue('structure', path ? `${path}.resourceType` : 'resourceType', `"${name}" is not an R4 resource type`);
      return undefined;
    }
    return type;
  }

  private resource(json: Json, type: CompiledType, path: string, contained: boolean): void {
    const typed: TypedValue = { type: type.name, value: json };
    const container = contained ? this.scopes[this.scopes.length - 1]?.root : undefined;
    this.scopes.push({ resource: typed, root: container ?? typed });
    this.invariants(type.invariants, typed, path);
    this.object(json, type, path);
    this.scopes.pop();
  }

  private object(json: Json, type: CompiledType, path: string): void {
    const choices = new Map<string, string>();
    let children = 0;
    for (const key in json) {
      const value = json[key];
      if (key === 'resourceType' && type.isResource) continue;
      const isExtensionOfPrimitive = key.charCodeAt(0) === 95; // '_'
      const name = isExtensionOfPrimitive ? key.slice(1) : key;
      const rule = type.properties.get(name);
      const at = `${path}.${key}`;
      if (!rule || (isExtensionOfPrimitive && !rule.primitive)) {
        this.issue('structure', at, `unknown property "${key}" in ${type.name}`);
        continue;
      }
      if (name !== rule.element) {
        const other = choices.get(rule.element);
        if (other !== undefined && other !== name) {
          this.issue('structure', at, `only one of ${other} and ${name} may be given (${rule.element} takes one type)`);
        }
        choices.set(rule.element, name);
      }
      if (key !== 'id') children++;
      if (isExtensionOfPrimitive) this.primitiveExtensions(value, json[name], rule, at);
      else this.property(value, rule, at, json['_' + key]);
    }
    if (children === 0 && !type.isResource) this.issue('structure', path, 'an element must have a value or children (ele-1)');
    for (const { element, jsonKeys } of type.required) {
      if (!jsonKeys.some((k) => json[k] !== undefined || json['_' + k] !== undefined)) {
        this.issue('required', `${path}.${element.replace('[x]', '')}`, `the required element ${element.replace("[x]", "")} is missing`);
      }
    }
    if (type.name === 'Extension') this.checkExtensionShape(json, path, type);
  }

  private property(value: unknown, rule: PropertyRule, path: string, partner: unknown): void {
    if (value === null) return void this.issue('structure', path, 'null is not allowed here');
    if (!rule.isArray) {
      if (Array.isArray(value)) return void this.issue('structure', path, 'expected a single value, got an array');
      return this.item(value, rule, path);
    }
    if (!Array.isArray(value)) return void this.issue('structure', path, `expected an array, got ${describeJson(value)}`);
    if (value.length === 0) return void this.issue('structure', path, 'an empty array is not allowed (leave the property out)');
    if (value.length > rule.max) this.issue('structure', path, `at most ${rule.max} values are allowed, got ${value.length}`);
    const partners = Array.isArray(partner) ? partner : undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item === null && rule.primitive && partners?.[i] != null) continue; // value lives in the _ array
      this.item(item, rule, `${path}[${i}]`);
    }
  }

  private item(value: unknown, rule: PropertyRule, path: string): void {
    if (value === null || value === undefined) return void this.issue('structure', path, 'null is not allowed here');
    if (rule.primitive) {
      const problem = primitiveProblem(rule.code, value);
      if (problem) this.issue('value', path, problem);
      // A well-formed code is a string; one set lookup is the whole cost of the binding.
      else if (rule.binding && !rule.binding.codes.has(value as string)) {
        const { valueSet, examples } = rule.binding;
        this.issue('code-invalid', path, `${path}: '${clip(value as string)}' is not one of the codes of ${valueSet} (${examples})`);
      }
      if (rule.invariants.length) this.invariants(rule.invariants, { type: rule.code, value }, path);
      return;
    }
    if (rule.code === 'Resource') {
      const type = this.resourceType(value, path);
      if (type) this.resource(value as Json, type, path, rule.element === 'contained');
      return;
    }
    if (!isObject(value)) return void this.issue('structure', path, `expected an object (${rule.code}), got ${describeJson(value)}`);
    const type = compiledType(rule.code);
    if (!type) return void this.issue('processing', path, `no definition for type ${rule.code}`);
    if (type.isResource) return this.resource(value, type, path, false);
    this.object(value, type, path);
    // A datatype's own invariants (per-1, ref-1, ...) hold wherever it is used, not only where
    // the element repeats them.
    const typed = { type: type.name, value };
    this.invariants(type.invariants, typed, path);
    this.invariants(notIn(rule.invariants, type.invariants), typed, path);
  }

  /** `_given`, `_birthDate`, ...: the id and extensions of primitive values. */
  private primitiveExtensions(value: unknown, values: unknown, rule: PropertyRule, path: string): void {
    const element = compiledType('Element')!;
    const one = (item: unknown, at: string) => {
      if (!isObject(item)) return void this.issue('structure', at, `expected an object (id and extensions), got ${describeJson(item)}`);
      this.object(item, element, at);
    };
    if (!rule.isArray) {
      if (Array.isArray(value)) return void this.issue('structure', path, 'expected a single value, got an array');
      return one(value, path);
    }
    if (!Array.isArray(value)) return void this.issue('structure', path, `expected an array, got ${describeJson(value)}`);
    if (Array.isArray(values) && values.length !== value.length) {
      this.issue('structure', path, `has ${value.length} entries but its values have ${values.length}; they pair up by position`);
    }
    const partners = Array.isArray(values) ? values : [];
    for (let i = 0; i < value.length; i++) {
      if (value[i] === null && partners[i] != null) continue;
      one(value[i], `${path}[${i}]`);
    }
  }

  /** ext-1: an extension has either a value or nested extensions, never both or neither. */
  private checkExtensionShape(json: Json, path: string, type: CompiledType): void {
    let hasValue = false;
    for (const key in json) {
      const name = key.charCodeAt(0) === 95 ? key.slice(1) : key;
      if (type.properties.get(name)?.element === 'value[x]') hasValue = true;
    }
    const hasExtensions = Array.isArray(json.extension) && json.extension.length > 0;
    if (hasValue === hasExtensions) {
      this.issue('invariant', path, 'an extension must have either a value or nested extensions, not both (ext-1)');
    }
  }

  private invariants(invariants: Invariant[], context: TypedValue, path: string): void {
    if (!invariants.length) return;
    const variables: Record<string, TypedValue> = { '%context': context, '%ucum': UCUM_VALUE };
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) {
      variables['%resource'] = scope.resource;
      variables['%rootResource'] = scope.root;
    }
    for (const invariant of invariants) {
      try {
        const result = evalFhirPathTyped(invariant.atom, [context], variables);
        // Only a false result breaks an invariant; an empty one means it does not apply (R4's
        // ref-1, for one, is empty for a Reference that has only an identifier).
        if (result.length === 1 && result[0].value === false) {
          this.issue('invariant', path, `${invariant.human} (${invariant.key})`);
        }
      } catch (err) {
        this.issue('processing', path, `invariant ${invariant.key} could not be evaluated: ${(err as Error).message}`);
      }
    }
  }

  private issue(code: IssueCode, path: string, diagnostics: string): void {
    this.issues.push({ severity: 'error', code, diagnostics, expression: [path] });
  }
}

function notIn(invariants: Invariant[], already: Invariant[]): Invariant[] {
  return already.length ? invariants.filter((i) => !already.some((a) => a.key === i.key)) : invariants;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

