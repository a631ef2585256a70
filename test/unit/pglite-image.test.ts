// An in-memory embedded database started from a migrated image (db/open.ts pgliteImage) is the
// same as one migrated from scratch: every migration recorded, nothing left to apply, no rows,
// and separate instances do not share data.
import { describe, expect, it } from '@jest/globals';
import { migrate } from '../../server/src/db/migrate.js';
import { migrations } from '../../server/src/db/migrations/index.js';
import { openDatabase, pgliteImage } from '../../server/src/db/open.js';

describe('PGlite started from a migrated image', () => {
  it('has every migration applied, is empty, and each instance is its own', async () => {
    const image = await pgliteImage();
    const first = await openDatabase({ pgliteImage: image });
    const second = await openDatabase({ pgliteImage: image });
    try {
      const versions = await first.query<{ version: number }>('select version from schema_migration order by version');
      expect(versions.map((v) => Number(v.version))).toEqual(migrations.map((m) => m.version));
      expect(await migrate(first)).toBe(0);
      expect(await first.query('select id from resource')).toEqual([]);
      await first.query(`insert into schema_migration (version, name) values (999, 'only in the first')`);
      expect(await second.query('select version from schema_migration where version = 999')).toEqual([]);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
