import { describe, expect, it } from '@jest/globals';
import { Invalid } from '../../server/src/fhir/errors.js';
import { applyJsonPatch } from '../../server/src/fhir/json-patch.js';

const patient = () => ({
  resourceType: 'Patient',
  active: true,
  name: [{ family: 'Smith', given: ['Ann'] }, { family: 'Jones' }],
});

/** Runs the patch expecting an Invalid, and returns its message. */
function failure(document: unknown, patch: unknown): string {
  try {
    applyJsonPatch(document, patch);
  } catch (err) {
    expect(err).toBeInstanceOf(Invalid);
    return (err as Invalid).message;
  }
  throw new Error('expected the patch to fail');
}

describe('applyJsonPatch operations', () => {
  it('add sets a new member, inserts into arrays and appends with "-"', () => {
    const result = applyJsonPatch(patient(), [
      { op: 'add', path: '/gender', value: 'female' },
      { op: 'add', path: '/name/0/given/0', value: 'Mary' },
      { op: 'add', path: '/name/0/given/-', value: 'Lou' },
      { op: 'add', path: '/name/2', value: { family: 'End' } },
    ]);
    expect(result).toEqual({
      ...patient(),
      gender: 'female',
      name: [{ family: 'Smith', given: ['Mary', 'Ann', 'Lou'] }, { family: 'Jones' }, { family: 'End' }],
    });
  });

  it('add replaces an existing member and add at "" replaces the document', () => {
    expect(applyJsonPatch({ a: 1 }, [{ op: 'add', path: '/a', value: 2 }])).toEqual({ a: 2 });
    expect(applyJsonPatch({ a: 1 }, [{ op: 'add', path: '', value: [1] }])).toEqual([1]);
  });

  it('add accepts null as a value', () => {
    expect(applyJsonPatch({}, [{ op: 'add', path: '/a', value: null }])).toEqual({ a: null });
  });

  it('remove deletes object members and array elements', () => {
    const result = applyJsonPatch(patient(), [
      { op: 'remove', path: '/active' },
      { op: 'remove', path: '/name/0' },
    ]);
    expect(result).toEqual({ resourceType: 'Patient', name: [{ family: 'Jones' }] });
  });

  it('replace changes existing values, keeps key order, and "" replaces the whole document', () => {
    const result = applyJsonPatch(patient(), [
      { op: 'replace', path: '/active', value: false },
      { op: 'replace', path: '/name/1/family', value: 'Brown' },
      { op: 'replace', path: '/name/0/given/0', value: 'Anne' },
    ]) as Record<string, unknown>;
    expect(result.active).toBe(false);
    expect(result.name).toEqual([{ family: 'Smith', given: ['Anne'] }, { family: 'Brown' }]);
    expect(Object.keys(result)).toEqual(['resourceType', 'active', 'name']);
    expect(applyJsonPatch(patient(), [{ op: 'replace', path: '', value: { x: 1 } }])).toEqual({ x: 1 });
  });

  it('move relocates a value within and between containers', () => {
    expect(applyJsonPatch({ a: { b: 1 }, c: {} }, [{ op: 'move', from: '/a/b', path: '/c/d' }])).toEqual({ a: {}, c: { d: 1 } });
    expect(applyJsonPatch({ list: [1, 2, 3] }, [{ op: 'move', from: '/list/0', path: '/list/-' }])).toEqual({ list: [2, 3, 1] });
    expect(applyJsonPatch({ a: 1 }, [{ op: 'move', from: '/a', path: '/a' }])).toEqual({ a: 1 });
    // "/a" is a string prefix of "/ab" but not its parent, so this is allowed.
    expect(applyJsonPatch({ a: 1 }, [{ op: 'move', from: '/a', path: '/ab' }])).toEqual({ ab: 1 });
  });

  it('copy duplicates a value without aliasing it', () => {
    const result = applyJsonPatch({ a: { b: [1] } }, [
      { op: 'copy', from: '/a', path: '/c' },
      { op: 'add', path: '/c/b/-', value: 2 },
    ]);
    expect(result).toEqual({ a: { b: [1] }, c: { b: [1, 2] } });
  });

  it('test passes on deep equality regardless of key order and leaves the document unchanged', () => {
    const doc = { a: { x: 1, y: [1, { z: null }] } };
    expect(applyJsonPatch(doc, [{ op: 'test', path: '/a', value: { y: [1, { z: null }], x: 1 } }])).toEqual(doc);
  });

  it('test failure reports the location and expected value', () => {
    expect(failure(patient(), [{ op: 'test', path: '/active', value: false }])).toBe(
      'Patch test failed at /active: expected false, found true',
    );
    expect(failure({ a: [1, 2] }, [{ op: 'test', path: '/a', value: [2, 1] }])).toMatch(/expected \[2,1\]/);
    expect(failure({ a: { x: 1 } }, [{ op: 'test', path: '/a', value: { x: 1, y: 2 } }])).toMatch(/Patch test failed at \/a/);
    expect(failure({ a: '1' }, [{ op: 'test', path: '/a', value: 1 }])).toMatch(/Patch test failed/);
  });

  it('unescapes ~1 and ~0 in pointers, in that order', () => {
    const doc = { 'a/b': 1, 'c~d': 2, '~1': 3 };
    const result = applyJsonPatch(doc, [
      { op: 'replace', path: '/a~1b', value: 10 },
      { op: 'replace', path: '/c~0d', value: 20 },
      { op: 'replace', path: '/~01', value: 30 },
    ]);
    expect(result).toEqual({ 'a/b': 10, 'c~d': 20, '~1': 30 });
  });

  it('handles the empty-string key', () => {
    expect(applyJsonPatch({ '': 1 }, [{ op: 'replace', path: '/', value: 2 }])).toEqual({ '': 2 });
  });

  it('stores "__proto__" as plain data rather than changing the prototype', () => {
    const result = applyJsonPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as Record<string, unknown>;
    // Had the prototype been replaced, "polluted" would be inherited.
    expect('polluted' in result).toBe(false);
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('applyJsonPatch does not mutate its inputs', () => {
  it('leaves the document untouched on success and on failure', () => {
    const doc = patient();
    const before = structuredClone(doc);
    applyJsonPatch(doc, [
      { op: 'remove', path: '/name/0/given' },
      { op: 'add', path: '/name/-', value: { family: 'New' } },
      { op: 'move', from: '/active', path: '/flag' },
    ]);
    expect(doc).toEqual(before);
    failure(doc, [
      { op: 'remove', path: '/name' },
      { op: 'remove', path: '/missing' },
    ]);
    expect(doc).toEqual(before);
  });

  it('does not share patch values with the result', () => {
    const value = { family: 'X' };
    const result = applyJsonPatch({ name: [] }, [{ op: 'add', path: '/name/0', value }]) as { name: { family: string }[] };
    result.name[0].family = 'changed';
    expect(value.family).toBe('X');
  });
});

describe('applyJsonPatch errors', () => {
  it('rejects a patch that is not an array', () => {
    for (const patch of [{ op: 'add', path: '/a', value: 1 }, null, 'x']) {
      expect(failure({}, patch)).toMatch(/must be an array of operations/);
    }
  });

  it('rejects operations that are not objects', () => {
    expect(failure({}, [42])).toBe('Patch operation 0: each operation must be an object with "op" and "path"');
  });

  it('rejects a missing or unknown op, numbering the failing operation', () => {
    expect(failure({}, [{ path: '/a' }])).toMatch(/^Patch operation 0: "op" is required/);
    expect(failure({ a: 1 }, [{ op: 'test', path: '/a', value: 1 }, { op: 'merge', path: '/a' }])).toBe(
      'Patch operation 1 (merge /a): unknown op "merge"; use one of add, remove, replace, move, copy, test',
    );
  });

  it('rejects a missing or malformed path', () => {
    expect(failure({}, [{ op: 'remove' }])).toMatch(/^Patch operation 0 \(remove\): "path" is required/);
    expect(failure({ a: 1 }, [{ op: 'remove', path: 'a' }])).toMatch(/"path" must be "" or start with "\/"/);
    expect(failure({ a: 1 }, [{ op: 'remove', path: '/a~2' }])).toMatch(/invalid escape/);
  });

  it('rejects add/replace/test without a value', () => {
    for (const op of ['add', 'replace', 'test']) {
      expect(failure({ a: 1 }, [{ op, path: '/a' }])).toBe(`Patch operation 0 (${op} /a): "${op}" requires a "value"`);
    }
  });

  it('rejects move/copy without from, or with a from that does not exist', () => {
    expect(failure({ a: 1 }, [{ op: 'copy', path: '/b' }])).toMatch(/"copy" requires "from"/);
    expect(failure({ a: 1 }, [{ op: 'move', from: '/x', path: '/b' }])).toBe('Patch operation 0 (move /x to /b): from does not exist');
  });

  it('rejects paths that do not exist', () => {
    expect(failure(patient(), [{ op: 'replace', path: '/name/5/family', value: 'X' }])).toBe(
      'Patch operation 0 (replace /name/5/family): path does not exist: index 5 is out of range (array length 2)',
    );
    expect(failure(patient(), [{ op: 'remove', path: '/birthDate' }])).toBe('Patch operation 0 (remove /birthDate): path does not exist');
    expect(failure(patient(), [{ op: 'replace', path: '/gender', value: 'male' }])).toMatch(/path does not exist/);
    expect(failure(patient(), [{ op: 'test', path: '/gender', value: 'male' }])).toMatch(/path does not exist/);
    // add may not create missing parents, nor descend into a primitive.
    expect(failure(patient(), [{ op: 'add', path: '/contact/0', value: {} }])).toMatch(/path does not exist/);
    expect(failure(patient(), [{ op: 'add', path: '/active/x', value: 1 }])).toMatch(/path does not exist/);
    // inherited properties are not part of the document
    expect(failure({}, [{ op: 'remove', path: '/toString' }])).toMatch(/path does not exist/);
  });

  it('rejects non-canonical and out-of-range array indexes', () => {
    const doc = { list: [1, 2] };
    for (const index of ['01', '-1', '1.0', '+1', ' 1', 'x', '']) {
      expect(failure(doc, [{ op: 'replace', path: `/list/${index}`, value: 0 }])).toMatch(/is not a valid array index/);
    }
    expect(failure(doc, [{ op: 'add', path: '/list/3', value: 0 }])).toBe(
      'Patch operation 0 (add /list/3): array index 3 is out of range (array length 2); use "-" to append',
    );
    expect(failure(doc, [{ op: 'remove', path: '/list/2' }])).toMatch(/path does not exist: index 2 is out of range/);
    // "-" means "after the last element", which only a target being added to can use.
    expect(failure(doc, [{ op: 'remove', path: '/list/-' }])).toMatch(/"-" is not a valid array index/);
    expect(failure(doc, [{ op: 'add', path: '/list/01', value: 0 }])).toMatch(/"01" is not a valid array index/);
  });

  it('rejects removing the whole document', () => {
    expect(failure({ a: 1 }, [{ op: 'remove', path: '' }])).toBe('Patch operation 0 (remove ""): cannot remove the whole document');
  });

  it('rejects moving a location into one of its children', () => {
    expect(failure({ a: { b: {} } }, [{ op: 'move', from: '/a', path: '/a/b/c' }])).toBe(
      'Patch operation 0 (move /a to /a/b/c): cannot move /a into one of its own children',
    );
    expect(failure({ a: 1 }, [{ op: 'move', from: '', path: '/a' }])).toMatch(/cannot move "" into one of its own children/);
  });
});
