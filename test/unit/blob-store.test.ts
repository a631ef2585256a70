// The content-addressed blob store: durable commit under the sha256, dedupe, aborts and crash
// leftovers that never become objects.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FileBlobStore, listBlobKeys } from '../../server/src/imaging/blob-store.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('FileBlobStore', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'suhe-blob-test-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const put = async (store: FileBlobStore, bytes: Buffer, chunk = 1000) => {
    const staged = await store.begin();
    for (let i = 0; i < bytes.length; i += chunk) await staged.write(bytes.subarray(i, i + chunk));
    return staged.commit();
  };

  it('stores an object under its sha256 and gives back the same bytes, whole or by range', async () => {
    const store = await FileBlobStore.open(root);
    const bytes = randomBytes(10_000);
    const { key, size, deduplicated } = await put(store, bytes);
    expect(key).toBe(sha(bytes));
    expect(size).toBe(bytes.length);
    expect(deduplicated).toBe(false);
    expect(await readFile(join(root, 'objects', key.slice(0, 2), key.slice(2, 4), key))).toEqual(bytes);
    expect(await store.read(key, 100, 50)).toEqual(bytes.subarray(100, 150));
    expect(await store.read(key, 9_990, 50)).toEqual(bytes.subarray(9_990));
    const ranged: Buffer[] = [];
    for await (const c of store.open(key, { start: 10, end: 19 })) ranged.push(c as Buffer);
    expect(Buffer.concat(ranged)).toEqual(bytes.subarray(10, 20));
    expect(await store.size(key)).toBe(bytes.length);
  });

  it('hashes an object kept in memory off the event loop, and one that outgrows memory as it streams — the same key either way', async () => {
    const store = await FileBlobStore.open(root);
    const bytes = randomBytes(300_000);
    const putWith = async (keepInMemory: number) => {
      const staged = await store.begin({ keepInMemory });
      for (let i = 0; i < bytes.length; i += 7_000) await staged.write(bytes.subarray(i, i + 7_000));
      const held = staged.inMemory();
      return { held: held ? sha(held) : undefined, ...(await staged.commit()) };
    };
    const small = await putWith(1_000_000); // all of it held
    expect(small.held).toBe(sha(bytes));
    const crossing = await putWith(100_000); // held at first, then streamed
    expect(crossing.held).toBeUndefined();
    const streamed = await putWith(0);
    expect([small.key, crossing.key, streamed.key]).toEqual([sha(bytes), sha(bytes), sha(bytes)]);
  });

  it('writes a held object to its staging file in one go at commit; one past the limit streams there, reading back the same either way', async () => {
    const store = await FileBlobStore.open(root);
    const bytes = randomBytes(50_000);
    const stagedFile = async () => {
      const [name] = await readdir(join(root, 'staging'));
      return readFile(join(root, 'staging', name));
    };
    const held = await store.begin({ keepInMemory: 1_000_000 });
    for (let i = 0; i < bytes.length; i += 4_000) await held.write(bytes.subarray(i, i + 4_000));
    expect(await readdir(join(root, 'staging'))).toEqual([]); // nothing on disk yet: one write at commit
    expect(await held.read(45_000, 10_000)).toEqual(bytes.subarray(45_000));
    expect((await held.commit()).key).toBe(sha(bytes));
    const crossing = await store.begin({ keepInMemory: 20_000 });
    for (let i = 0; i < bytes.length; i += 4_000) await crossing.write(bytes.subarray(i, i + 4_000));
    expect(await stagedFile()).toEqual(bytes); // what was held first, then every chunk, in order
    expect(await crossing.read(19_000, 3_000)).toEqual(bytes.subarray(19_000, 22_000));
    expect(await crossing.commit()).toEqual({ key: sha(bytes), size: bytes.length, deduplicated: true });
    expect(await readFile(join(root, 'objects', sha(bytes).slice(0, 2), sha(bytes).slice(2, 4), sha(bytes)))).toEqual(bytes);
  });

  it('keeps identical objects once', async () => {
    const store = await FileBlobStore.open(root);
    const bytes = randomBytes(5_000);
    const first = await put(store, bytes, 333);
    const second = await put(store, bytes, 4096);
    expect(second).toEqual({ key: first.key, size: bytes.length, deduplicated: true });
    expect(await listBlobKeys(root)).toEqual([first.key]);
    expect(await readdir(join(root, 'staging'))).toEqual([]);
  });

  it('lets staged bytes be read back before deciding, and an abort leaves nothing', async () => {
    const store = await FileBlobStore.open(root);
    const staged = await store.begin();
    await staged.write(Buffer.from('DICM and more'));
    expect((await staged.read(0, 4)).toString()).toBe('DICM');
    expect(staged.size).toBe(13);
    expect(await readdir(join(root, 'staging'))).toHaveLength(1); // streamed: on disk as it came
    const held = await store.begin({ keepInMemory: 1000 });
    await held.write(Buffer.from('DICM, held'));
    await staged.abort();
    await staged.abort(); // twice is harmless
    await held.abort();
    await expect(staged.commit()).rejects.toThrow(/already/);
    expect(await readdir(join(root, 'staging'))).toEqual([]);
    expect(await listBlobKeys(root)).toEqual([]);
  });

  it('a crash mid-upload leaves only a staging file, which the next start removes', async () => {
    const store = await FileBlobStore.open(root);
    const staged = await store.begin();
    await staged.write(randomBytes(1000));
    // The process dies here: no commit, no abort. A half-written object is never visible...
    expect(await listBlobKeys(root)).toEqual([]);
    await writeFile(join(root, 'staging', 'left-by-a-crash'), 'partial');
    // ... and the next process sweeps what was left.
    await FileBlobStore.open(root);
    expect(await readdir(join(root, 'staging'))).toEqual([]);
  });

  it('refuses keys that are not content hashes (no path tricks)', async () => {
    const store = await FileBlobStore.open(root);
    await expect(store.read('../../etc/passwd', 0, 10)).rejects.toThrow(/not a blob key/);
    expect(() => store.open('abc')).toThrow(/not a blob key/);
  });
});
