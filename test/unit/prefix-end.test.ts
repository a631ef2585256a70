// A string search is a prefix match, sent as a range `prefix <= norm < prefixEnd(prefix)` of
// text_pattern_ops order (fhir/search/values.ts), so one prepared plan can use the index for every
// prefix. The range must select exactly the texts that start with the prefix: checked here in
// code point order over awkward characters, and in PostgreSQL itself (PGlite) against LIKE.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Database } from '../../server/src/db/database.js';
import { openPglite } from '../../server/src/db/pglite-adapter.js';
import { escapeLike, prefixEnd } from '../../server/src/fhir/index/normalize.js';

// Letters, a space, Chinese, the last BMP characters before and after the surrogates, an astral
// character, and U+10FFFF (which has no successor).
const ALPHABET = ['a', 'b', 'z', ' ', '~', '\u007f', '王', '\ud7ff', '\ue000', '\uffff', '😀', '\u{10ffff}'];

function texts(maxLength: number): string[] {
  let level = [''];
  const all = [''];
  for (let n = 0; n < maxLength; n++) {
    level = level.flatMap((t) => ALPHABET.map((c) => t + c));
    all.push(...level);
  }
  return all;
}

/** Code point order (UTF-8 byte order), not JavaScript's UTF-16 code unit order. */
function compare(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

describe('prefixEnd', () => {
  it('moves the last character on by one code point', () => {
    expect(prefixEnd('wan')).toBe('wao');
    expect(prefixEnd('王')).toBe(String.fromCodePoint('王'.codePointAt(0)! + 1));
    expect(prefixEnd('a\ud7ff')).toBe('a\ue000');
    expect(prefixEnd('a\u{10ffff}')).toBe('b');
    expect(prefixEnd('\u{10ffff}')).toBeUndefined();
    expect(prefixEnd('')).toBeUndefined();
  });

  it('bounds exactly the texts that start with the prefix (code point order)', () => {
    const all = texts(3);
    for (const prefix of texts(2).filter(Boolean)) {
      const end = prefixEnd(prefix);
      for (const t of all) {
        const inRange = compare(prefix, t) <= 0 && (end === undefined || compare(t, end) < 0);
        if (inRange !== t.startsWith(prefix)) throw new Error(`prefix ${JSON.stringify(prefix)}, text ${JSON.stringify(t)}: range says ${inRange}`);
      }
    }
  });

  describe('in PostgreSQL (text_pattern_ops operators against LIKE)', () => {
    let db: Database;
    beforeAll(async () => {
      db = await openPglite(undefined);
    }, 60_000);
    afterAll(async () => db?.close());

    it('selects the same rows as a LIKE prefix pattern', async () => {
      const all = texts(2).filter(Boolean);
      const prefixes = texts(1).filter(Boolean).concat(['王a', 'a\u{10ffff}', '😀z']);
      const rows = await db.query<{ prefix: string; by_range: string[]; by_like: string[] }>(
        `select p.prefix,
                array(select t from unnest($1::text[]) t where t ~>=~ p.prefix and (p.hi is null or t ~<~ p.hi) order by t) as by_range,
                array(select t from unnest($1::text[]) t where t like p.pattern order by t) as by_like
           from unnest($2::text[], $3::text[], $4::text[]) as p(prefix, hi, pattern)`,
        [all, prefixes, prefixes.map((p) => prefixEnd(p) ?? null), prefixes.map((p) => `${escapeLike(p)}%`)],
      );
      expect(rows).toHaveLength(prefixes.length);
      for (const row of rows) {
        expect({ prefix: row.prefix, rows: row.by_range }).toEqual({ prefix: row.prefix, rows: row.by_like });
        expect(row.by_like.length).toBeGreaterThan(0);
      }
    });
  });
});
