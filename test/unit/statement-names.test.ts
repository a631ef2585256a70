// Generated SQL texts get a prepared-statement name (db/statement-names.ts): one per text, stable,
// a valid PostgreSQL identifier, and only for the first MAX_NAMED_SHAPES texts of the process, so
// endless new shapes cannot fill every pooled connection with prepared statements.
import { describe, expect, it } from '@jest/globals';
import { MAX_NAMED_SHAPES, namedShapeCount, shapeStatementName } from '../../server/src/db/statement-names.js';

describe('statement names for search shapes', () => {
  it('gives one text one name, and another text another', () => {
    const a = shapeStatementName('select 1 where $1::text = $2');
    expect(a).toMatch(/^suhe_shape_[0-9a-f]{20}$/);
    expect(a!.length).toBeLessThanOrEqual(63); // PostgreSQL truncates longer identifiers
    expect(shapeStatementName('select 1 where $1::text = $2')).toBe(a);
    expect(shapeStatementName('select 2 where $1::text = $2')).not.toBe(a);
  });

  it('stops naming new texts at the bound and keeps the names it gave', () => {
    const first = shapeStatementName('select 3');
    for (let k = 0; namedShapeCount() < MAX_NAMED_SHAPES; k++) expect(shapeStatementName(`select ${k} as filler`)).toBeDefined();
    expect(shapeStatementName('select 4 -- one text too many')).toBeUndefined();
    expect(namedShapeCount()).toBe(MAX_NAMED_SHAPES);
    expect(shapeStatementName('select 3')).toBe(first);
  });
});
