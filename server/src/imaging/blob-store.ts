// Content-addressed storage for DICOM objects. Bytes are staged in a temporary file while their
// sha256 is computed, fsynced, then renamed to objects/ab/cd/<sha256>: a reader never sees a
// partial object, a crash leaves only a temp file (swept at the next start), and identical
// objects are stored once. The interface is what an S3-compatible store would implement too
// (stage locally or as a multipart upload, commit = copy to the content key).
import { createHash, randomUUID, webcrypto, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export interface BlobStore {
  /** Starts staging a new object; objects up to `keepInMemory` bytes are also held in memory. */
  begin(options?: { keepInMemory?: number }): Promise<StagedBlob>;
  /** Streams a stored object, or an inclusive byte range of it. */
  open(key: string, range?: { start: number; end: number }): Readable;
  /** Reads `length` bytes at `start` (fewer at the end of the object). */
  read(key: string, start: number, length: number): Promise<Buffer>;
  /** An open object read into the caller's buffers (no allocation per read: large retrievals). */
  reader(key: string): Promise<BlobReader>;
  size(key: string): Promise<number | undefined>;
  remove(key: string): Promise<void>;
}

export interface BlobReader {
  readonly size: number;
  /** Fills `buffer` from `position`; returns how many bytes it read (0 at the end). */
  read(buffer: Buffer, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface StagedBlob {
  write(chunk: Uint8Array): Promise<void>;
  readonly size: number;
  /** Reads back staged bytes (to parse an object before deciding to keep it). */
  read(start: number, length: number): Promise<Buffer>;
  /** The whole object, when it is small enough to have been kept in memory as it was written. */
  inMemory(): Buffer | undefined;
  /** Makes the object durable under its content key; identical content is kept once. */
  commit(): Promise<{ key: string; size: number; deduplicated: boolean }>;
  /** Throws the staged bytes away. Safe to call more than once or after commit. */
  abort(): Promise<void>;
}

const KEY = /^[0-9a-f]{64}$/;

export class FileBlobStore implements BlobStore {
  private readonly objects: string;
  private readonly staging: string;

  private constructor(readonly root: string) {
    this.objects = join(root, 'objects');
    this.staging = join(root, 'staging');
  }

  /** Opens the store under `root`, removing what an earlier process left half-written. */
  static async open(root: string): Promise<FileBlobStore> {
    const store = new FileBlobStore(root);
    await rm(store.staging, { recursive: true, force: true });
    await mkdir(store.staging, { recursive: true });
    await mkdir(store.objects, { recursive: true });
    return store;
  }

  async begin(options: { keepInMemory?: number } = {}): Promise<StagedBlob> {
    return new FileStagedBlob(join(this.staging, randomUUID()), (key) => this.pathOf(key), options.keepInMemory ?? 0);
  }

  open(key: string, range?: { start: number; end: number }): Readable {
    // 1 MiB reads: a series leaves in a few hundred chunks rather than thousands of 64 KiB ones.
    return createReadStream(this.pathOf(key), { highWaterMark: 1024 * 1024, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  async read(key: string, start: number, length: number): Promise<Buffer> {
    return readAt(this.pathOf(key), start, length);
  }

  async reader(key: string): Promise<BlobReader> {
    const handle = await open(this.pathOf(key), 'r');
    const { size } = await handle.stat();
    return {
      size,
      read: async (buffer, position) => (await handle.read(buffer, 0, buffer.length, position)).bytesRead,
      close: () => handle.close(),
    };
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(key))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  private pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error(`not a blob key: ${key}`);
    return join(this.objects, key.slice(0, 2), key.slice(2, 4), key);
  }
}

/**
 * An object being staged. Small objects (up to `memoryLimit`) are kept in memory as they arrive;
 * at commit they are hashed on the thread pool (crypto.subtle), off the event loop, and written to
 * the staging file in one call: one file write per object instead of one per chunk, each of which
 * costs a wake-up of a thread-pool thread. A larger one is written and hashed as it streams, from
 * the chunk that passes the limit on. The staging file is created only when bytes first go to
 * disk: a held object that is aborted, or found stored already, never touches the file system.
 */
class FileStagedBlob implements StagedBlob {
  private hash?: Hash;
  private held: Uint8Array[] | undefined = [];
  private whole?: Buffer;
  private written = 0;
  /** Bytes in the staging file (all of them once the object streams; none while it is held). */
  private onDisk = 0;
  /** The staging file, once created; `opening` while it is being created. */
  private handle?: FileHandle;
  private opening?: Promise<FileHandle>;
  private done = false;

  constructor(
    private readonly path: string,
    private readonly finalPath: (key: string) => string,
    private readonly memoryLimit: number,
  ) {}

  private file(): Promise<FileHandle> {
    this.opening ??= open(this.path, 'wx+').then((handle) => (this.handle = handle));
    return this.opening;
  }

  get size(): number {
    return this.written;
  }

  inMemory(): Buffer | undefined {
    if (!this.held) return undefined;
    this.whole ??= this.held.length === 1 ? Buffer.from(this.held[0].buffer, this.held[0].byteOffset, this.held[0].length) : Buffer.concat(this.held, this.written);
    return this.whole;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.held && this.written + chunk.length <= this.memoryLimit) {
      this.held.push(chunk);
      this.whole = undefined;
      this.written += chunk.length;
      return;
    }
    if (this.held) {
      // Past the limit: from now on hash and write as it streams, after what was held so far.
      this.hash = createHash('sha256');
      for (const earlier of this.held) this.hash.update(earlier);
      await this.writeOut(this.held);
      this.held = undefined;
      this.whole = undefined;
    }
    this.hash!.update(chunk);
    await this.writeOut([chunk]);
    this.written += chunk.length;
  }

  /** Appends `chunks` to the staging file. */
  private async writeOut(chunks: Uint8Array[]): Promise<void> {
    const handle = await this.file();
    let pending = chunks.filter((c) => c.length > 0);
    while (pending.length) {
      const { bytesWritten } = await handle.writev(pending, this.onDisk);
      this.onDisk += bytesWritten;
      pending = remainderAfter(pending, bytesWritten);
    }
  }

  async read(start: number, length: number): Promise<Buffer> {
    const wanted = Math.max(0, Math.min(length, this.written - start));
    const whole = this.inMemory();
    if (whole) return whole.subarray(start, start + wanted);
    const handle = await this.file();
    const buffer = Buffer.allocUnsafe(wanted);
    let got = 0;
    while (got < wanted) {
      const { bytesRead } = await handle.read(buffer, got, wanted - got, start + got);
      if (!bytesRead) break;
      got += bytesRead;
    }
    return buffer.subarray(0, got);
  }

  async commit(): Promise<{ key: string; size: number; deduplicated: boolean }> {
    if (this.done) throw new Error('staged blob already committed or aborted');
    this.done = true;
    try {
      const held = this.held;
      const key = this.hash ? this.hash.digest('hex') : Buffer.from(await webcrypto.subtle.digest('SHA-256', this.inMemory()!)).toString('hex');
      this.held = undefined;
      this.whole = undefined;
      const target = this.finalPath(key);
      const existing = await stat(target).catch(() => undefined);
      if (existing?.size === this.written) {
        // Stored already (published only once durable): what was staged is not needed.
        await this.discard();
        return { key, size: this.written, deduplicated: true };
      }
      if (held) await this.writeOut(held);
      await (await this.file()).sync();
      await this.close();
      const dir = join(target, '..');
      await mkdir(dir, { recursive: true });
      await rename(this.path, target);
      await syncDirectory(dir);
      return { key, size: this.written, deduplicated: false };
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  async abort(): Promise<void> {
    this.done = true;
    await this.discard();
  }

  /** Closes and removes the staging file, if there is one. */
  private async discard(): Promise<void> {
    if (!this.opening) return;
    await this.opening.catch(() => undefined);
    await this.close();
    await rm(this.path, { force: true });
  }

  private async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

/** What is left of `chunks` after the first `bytes` of them. */
function remainderAfter(chunks: Uint8Array[], bytes: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let skip = bytes;
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    rest.push(skip ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return rest;
}

/** A rename is durable only once its directory entry is on disk. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readAt(path: string, start: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await handle.read(buffer, got, length - got, start + got);
      if (!bytesRead) break;
      got += bytesRead;
    }
    return buffer.subarray(0, got);
  } finally {
    await handle.close();
  }
}

/** Lists stored keys (maintenance: orphan sweeps, tests). */
export async function listBlobKeys(root: string): Promise<string[]> {
  const objects = join(root, 'objects');
  const keys: string[] = [];
  for (const a of await readdir(objects).catch(() => [] as string[])) {
    for (const b of await readdir(join(objects, a)).catch(() => [] as string[])) {
      for (const name of await readdir(join(objects, a, b))) if (KEY.test(name)) keys.push(name);
    }
  }
  return keys;
}
