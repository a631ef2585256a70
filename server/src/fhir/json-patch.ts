// RFC 6902 JSON Patch (with RFC 6901 JSON Pointers), used for FHIR PATCH with
// Content-Type application/json-patch+json. Every failure is an Invalid (400) whose
// message names the failing operation and what to fix, since the client wrote the patch.
import { Invalid } from './errors.js';

type JsonObject = Record<string, unknown>;
type Container = JsonObject | unknown[];

const OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'];

/** Raised by the helpers; applyJsonPatch prefixes it with the operation that failed. */
class OpFailure extends Error {}

export function applyJsonPatch(document: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) {
    throw new Invalid('JSON Patch body must be an array of operations, e.g. [{"op": "replace", "path": "/active", "value": false}]');
  }
  // Work on a copy so the caller's document is never touched, even when a later
  // operation fails (RFC 6902 patches apply atomically: all or nothing).
  let doc = structuredClone(document);
  patch.forEach((operation: unknown, index) => {
    try {
      doc = applyOperation(doc, operation);
    } catch (err) {
      if (!(err instanceof OpFailure)) throw err;
      const label = describe(operation);
      throw new Invalid(`Patch operation ${index}${label ? ` (${label})` : ''}: ${err.message}`);
    }
  });
  return doc;
}

function applyOperation(doc: unknown, operation: unknown): unknown {
  if (!isObject(operation)) throw new OpFailure('each operation must be an object with "op" and "path"');
  const { op, path, from } = operation;
  if (typeof op !== 'string') throw new OpFailure(`"op" is required and must be one of ${OPS.join(', ')}`);
  if (!OPS.includes(op)) throw new OpFailure(`unknown op "${op}"; use one of ${OPS.join(', ')}`);
  if (typeof path !== 'string') throw new OpFailure('"path" is required and must be a JSON Pointer string such as "/name/0/family"');
  const target = parsePointer(path, 'path');
  // JSON has no undefined, so an undefined value can only mean the member is missing.
  const needsValue = op === 'add' || op === 'replace' || op === 'test';
  if (needsValue && operation.value === undefined) throw new OpFailure(`"${op}" requires a "value"`);
  // Clone patch values so the result never shares objects with the patch itself.
  const value = needsValue ? structuredClone(operation.value) : undefined;

  switch (op) {
    case 'add':
      return add(doc, target, value);
    case 'remove':
      if (target.length === 0) throw new OpFailure('cannot remove the whole document');
      remove(doc, target, 'path');
      return doc;
    case 'replace': {
      if (target.length === 0) return value; // RFC 6902: replacing "" swaps the whole document
      get(doc, target, 'path'); // unlike add, the target must already exist
      const parent = parentOf(doc, target, 'path');
      const key = target[target.length - 1];
      if (Array.isArray(parent)) parent[arrayIndex(parent, key, 'path')] = value;
      else setKey(parent, key, value); // redefining an existing key keeps its position
      return doc;
    }
    case 'test': {
      const actual = get(doc, target, 'path');
      if (!jsonEqual(actual, value)) {
        throw new Invalid(`Patch test failed at ${path || '""'}: expected ${JSON.stringify(value)}, found ${JSON.stringify(actual)}`);
      }
      return doc;
    }
  }

  // move and copy
  if (typeof from !== 'string') throw new OpFailure(`"${op}" requires "from", a JSON Pointer string`);
  const source = parsePointer(from, 'from');
  if (op === 'copy') return add(doc, target, structuredClone(get(doc, source, 'from')));
  // Compare tokens, not strings: "/a" is a string prefix of "/ab" but not its parent.
  const isPrefix = source.every((token, i) => token === target[i]);
  if (isPrefix && source.length < target.length) {
    throw new OpFailure(`cannot move ${from || '""'} into one of its own children`);
  }
  if (isPrefix && source.length === target.length) {
    get(doc, source, 'from'); // moving onto itself is a no-op, but the location must exist
    return doc;
  }
  return add(doc, target, remove(doc, source, 'from'));
}

/** RFC 6901: "" is the whole document; otherwise "/"-separated tokens with ~1 = "/" and ~0 = "~". */
function parsePointer(pointer: string, name: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new OpFailure(`"${name}" must be "" or start with "/", got "${pointer}"`);
  if (/~(?![01])/.test(pointer)) throw new OpFailure(`"${name}" has an invalid escape; write "~" as "~0" and "/" as "~1"`);
  // Unescape ~1 before ~0 so "~01" becomes "~1" rather than "/".
  return pointer.slice(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Converts an array token to an index; "-" and index === length are only valid where adding. */
function arrayIndex(array: unknown[], token: string, name: string, forAdd = false): number {
  if (token === '-' && forAdd) return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) {
    throw new OpFailure(`"${token}" is not a valid array index; use 0, 1, 2, ... without leading zeros${forAdd ? ', or "-" to append' : ''}`);
  }
  const index = Number(token);
  if (index > array.length || (!forAdd && index === array.length)) {
    const problem = `index ${index} is out of range (array length ${array.length})`;
    throw new OpFailure(forAdd ? `array ${problem}; use "-" to append` : `${name} does not exist: ${problem}`);
  }
  return index;
}

/** Walks to the container holding the last token, which must exist (add may not create parents). */
function parentOf(doc: unknown, tokens: string[], name: string): Container {
  const parent = get(doc, tokens.slice(0, -1), name);
  if (!Array.isArray(parent) && !isObject(parent)) throw new OpFailure(`${name} does not exist`);
  return parent;
}

function get(doc: unknown, tokens: string[], name: string): unknown {
  let node = doc;
  for (const token of tokens) {
    if (Array.isArray(node)) node = node[arrayIndex(node, token, name)];
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token];
    else throw new OpFailure(`${name} does not exist`);
  }
  return node;
}

/** Returns the new document (add at "" replaces it, per RFC 6902 section 4.1). */
function add(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, 'path');
  const key = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, 'path', true), 0, value);
  else setKey(parent, key, value);
  return doc;
}

/** Removes and returns the value at a non-root location. */
function remove(doc: unknown, tokens: string[], name: string): unknown {
  const removed = get(doc, tokens, name);
  const parent = parentOf(doc, tokens, name);
  const key = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, name), 1);
  else delete parent[key];
  return removed;
}

// defineProperty, not assignment: a key like "__proto__" must become data, not a prototype.
function setKey(object: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep JSON equality; object key order does not matter, array order does. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/** "replace /name/0/family" or "move /a to /b", for error messages; "" when unreadable. */
function describe(operation: unknown): string {
  if (!isObject(operation) || typeof operation.op !== 'string') return '';
  const { op, path, from } = operation;
  const show = (pointer: unknown) => (pointer === '' ? '""' : String(pointer));
  if (typeof from === 'string' && (op === 'move' || op === 'copy')) return `${op} ${show(from)} to ${show(path)}`;
  return typeof path === 'string' ? `${op} ${show(path)}` : op;
}
