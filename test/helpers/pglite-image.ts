// Hubs in tests start their in-memory PGlite from one migrated image instead of running initdb
// each time (about 5 s against 1 s per hub on a loaded CI machine, and nearly every suite starts
// one or more). The image is kept in the temp dir under a key of the PGlite build and the
// migrations, so a changed migration or PGlite version makes a new one.
import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pgliteImage } from '../../server/src/db/open.js';
import { migrations } from '../../server/src/db/migrations/index.js';

let image: Promise<Blob> | undefined;

/** The migrated empty database image, made once per machine (per process if the cache cannot be written). */
export function testPgliteImage(): Promise<Blob> {
  image ??= cachedImage();
  return image;
}

async function cachedImage(): Promise<Blob> {
  const pgliteDist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  const key = createHash('sha256')
    .update(await readFile(join(pgliteDist, '..', 'package.json')))
    .update(JSON.stringify(migrations))
    .digest('hex')
    .slice(0, 16);
  const path = join(tmpdir(), `suhe-test-pglite-${key}.tar`);
  try {
    return new Blob([await readFile(path)]);
  } catch {
    const made = await pgliteImage();
    // Two workers may make it at once: each writes its own file and renames it into place. A temp
    // dir that cannot be written only costs the next process the same few seconds.
    const staging = `${path}.${process.pid}`;
    await writeFile(staging, new Uint8Array(await made.arrayBuffer()))
      .then(() => rename(staging, path))
      .catch(() => rm(staging, { force: true }));
    return made;
  }
}
