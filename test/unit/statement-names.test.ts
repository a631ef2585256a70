// Generated SQL texts get a prepared-statement name (db/statement-names.ts): one per text, stable,
// a valid PostgreSQL identifier, only once the text has repeated (NAME_AFTER runs), and only for
// MAX_NAMED_SHAPES texts of the process, so endless new shapes cannot fill every pooled connection
// with prepared statements.
import { describe, expect, it } from '@jest/globals';
import { MAX_NAMED_SHAPES, NAME_AFTER, namedShapeCount, shapeStatementName } from '../../server/src/db/statement-names.js';

/** The name `sql` gets once it has run often enough to have one. */
function nameOf(sql: string): string | undefined {
  let name: string | undefined;
  for (let k = 0; k < NAME_AFTER; k++) name = shapeStatementName(sql);
  return name;
}

describe('statement names for search shapes', () => {
  it('names a text only from its NAME_AFTER-th run on', () => {
    for (let k = 1; k < NAME_AFTER; k++) expect(shapeStatementName('select 0 as once')).toBeUndefined();
    expect(shapeStatementName('select 0 as once')).toMatch(/^suhe_shape_/);
  });

  it('gives one text one name, and another text another', () => {
    const a = nameOf('select 1 where $1::text = $2');
    expect(a).toMatch(/^suhe_shape_[0-9a-f]{20}$/);
    expect(a!.length).toBeLessThanOrEqual(63); // PostgreSQL truncates longer identifiers
    expect(shapeStatementName('select 1 where $1::text = $2')).toBe(a);
    expect(nameOf('select 2 where $1::text = $2')).not.toBe(a);
  });

  it('stops naming new texts at the bound and keeps the names it gave', () => {
    const first = nameOf('select 3');
    for (let k = 0; namedShapeCount() < MAX_NAMED_SHAPES; k++) expect(nameOf(`select ${k} as filler`)).toBeDefined();
    expect(nameOf('select 4 -- one text too many')).toBeUndefined();
    expect(namedShapeCount()).toBe(MAX_NAMED_SHAPES);
    expect(shapeStatementName('select 3')).toBe(first);
  });
});
