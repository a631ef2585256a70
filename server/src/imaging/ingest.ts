// One pipeline for every way an instance arrives (STOW-RS part, C-STORE): stream the bytes into
// the blob store's staging area, parse and check them, build the metadata, then commit the blob
// and the index rows. A refusal, a crash or a database failure leaves no object and no row.
import type { Logger } from '../audit/logger.js';
import type { Database } from '../db/database.js';
import { FhirError } from '../fhir/errors.js';
import type { BlobStore } from './blob-store.js';
import { blobInUse, indexBatch, type IndexItem, type IndexResult, type StoredBlob } from './dicom-index.js';
import { GroupCommit } from './group-commit.js';
import { imagingStudyIdFor } from './imaging-study.js';
import { describeInstance } from './describe-instance.js';
import type { InstanceRecord } from './instance-record.js';
import { DicomRejected, FAILURE } from './parse-instance.js';
import { ParsePool } from './parse-pool.js';

export type Failure = { ok: false; code: number; reason: string; sopClassUid?: string; sopInstanceUid?: string; studyUid?: string };
export type StoreOutcome = { ok: true; record: InstanceRecord; blobKey: string; replaced: boolean } | Failure;

/** An instance checked and on its way to durable storage, whose index rows are still to be written. */
export interface PreparedInstance {
  record: InstanceRecord;
  /** The blob's commit (fsync, rename), running while the next part arrives. */
  blob: Promise<StoredBlob & { deduplicated: boolean }>;
  metadata: string;
}

export interface IngestOptions {
  /** STOW-RS to /studies/{uid}: instances of other studies are refused. */
  expectedStudyUid?: string;
  /** Called once the object is parsed, before anything is kept: throw Forbidden to refuse it. */
  authorize?: (record: InstanceRecord) => Promise<void>;
}

// Objects up to this size are parsed whole (every element and fragment checked); larger ones are
// parsed up to their Pixel Data from a head of HEAD_BYTES, so memory stays bounded.
const WHOLE_PARSE_LIMIT = 64 * 1024 * 1024;
const HEAD_BYTES = 16 * 1024 * 1024;

// Instances indexed in one transaction at most (several callers' batches grouped into one commit).
const MAX_COMMIT_GROUP = 64;

export class DicomIngest {
  /** Index writes of concurrent stores (C-STORE associations, STOW-RS requests), grouped into one transaction. */
  private readonly commits = new GroupCommit<IndexItem, IndexResult>((items) => this.db.transaction((tx) => indexBatch(tx, items)), MAX_COMMIT_GROUP);

  constructor(
    private readonly db: Database,
    private readonly blobs: BlobStore,
    private readonly logger: Logger,
    private readonly parser: ParsePool = new ParsePool(logger),
  ) {}

  close(): Promise<void> {
    return this.parser.close();
  }

  /** Stores one Part 10 object: prepare() then index() on its own. */
  async store(source: AsyncIterable<Uint8Array>, options: IngestOptions = {}): Promise<StoreOutcome> {
    const prepared = await this.prepare(source, options);
    return prepared.ok ? (await this.index([prepared.instance]))[0] : prepared;
  }

  /**
   * Stages, parses and checks one Part 10 object and makes its blob durable; index() then makes
   * it findable. A bad object is an outcome, not an exception; only a failing source (a broken
   * request stream) throws, after the staged bytes are dropped. Objects up to the size parsed whole
   * are kept in memory while they arrive, so they are not read back from disk.
   */
  async prepare(source: AsyncIterable<Uint8Array>, options: IngestOptions = {}): Promise<{ ok: true; instance: PreparedInstance } | Failure> {
    const staged = await this.blobs.begin({ keepInMemory: WHOLE_PARSE_LIMIT });
    try {
      for await (const chunk of source) await staged.write(chunk);
    } catch (err) {
      await staged.abort();
      throw err;
    }
    let parsed: InstanceRecord | undefined;
    try {
      if (staged.size === 0) throw new DicomRejected('The object is empty');
      const whole = staged.inMemory();
      const description = whole ? await this.parser.describe(whole) : describeInstance(await staged.read(0, HEAD_BYTES), staged.size);
      if (!description.ok) throw new DicomRejected(description.reason, description.code);
      const { record, metadata } = description;
      parsed = record;
      if (options.expectedStudyUid && record.studyUid !== options.expectedStudyUid) {
        throw new DicomRejected(`The instance belongs to study ${record.studyUid}, not ${options.expectedStudyUid} named in the request`, FAILURE.studyMismatch);
      }
      await options.authorize?.(record);
      const blob = staged.commit();
      blob.catch(() => undefined); // its failure is reported by index()
      return { ok: true, instance: { record, blob, metadata } };
    } catch (err) {
      await staged.abort();
      const ids = parsed ? { sopClassUid: parsed.sopClassUid, sopInstanceUid: parsed.sopInstanceUid, studyUid: parsed.studyUid } : {};
      if (err instanceof DicomRejected) return { ok: false, code: err.code, reason: err.message, ...ids };
      if (err instanceof FhirError && err.status === 403) return { ok: false, code: FAILURE.notAuthorized, reason: err.message, ...ids };
      this.logger.error('storing a DICOM instance failed', { error: (err as Error).message });
      return { ok: false, code: FAILURE.outOfResources, reason: 'The instance could not be stored (server error); try again', ...ids };
    }
  }

  /**
   * Writes the index rows of prepared instances in one transaction. When the batch cannot be
   * written, no row of it is kept and the blobs only it added are taken back.
   */
  async index(instances: PreparedInstance[]): Promise<StoreOutcome[]> {
    const ids = (p: PreparedInstance) => ({ sopClassUid: p.record.sopClassUid, sopInstanceUid: p.record.sopInstanceUid, studyUid: p.record.studyUid });
    const serverError = (p: PreparedInstance): Failure => ({ ok: false, code: FAILURE.outOfResources, reason: 'The instance could not be stored (server error); try again', ...ids(p) });
    const outcomes: StoreOutcome[] = new Array(instances.length);
    const durable: { n: number; item: PreparedInstance; blob: StoredBlob & { deduplicated: boolean } }[] = [];
    for (const [n, settled] of (await Promise.allSettled(instances.map((p) => p.blob))).entries()) {
      if (settled.status === 'fulfilled') durable.push({ n, item: instances[n], blob: settled.value });
      else {
        this.logger.error('writing a DICOM object to the blob store failed', { error: (settled.reason as Error).message });
        outcomes[n] = serverError(instances[n]);
      }
    }
    if (!durable.length) return outcomes;
    let results: Awaited<ReturnType<typeof indexBatch>>;
    try {
      const items = durable.map(({ item, blob }) => ({ record: item.record, metadata: item.metadata, blob, imagingStudyId: imagingStudyIdFor(item.record.studyUid) }));
      results = await this.commits.run(items);
    } catch (err) {
      this.logger.error('indexing DICOM instances failed', { error: (err as Error).message, instances: durable.length });
      await this.takeBack(durable.filter((d) => !d.blob.deduplicated).map((d) => d.blob.key));
      for (const d of durable) outcomes[d.n] = serverError(d.item);
      return outcomes;
    }
    for (const [i, result] of results.entries()) {
      const { n, item, blob } = durable[i];
      if (!result.ok) {
        if (!blob.deduplicated) await this.takeBack([blob.key]);
        outcomes[n] = { ok: false, code: FAILURE.dataSetMismatch, reason: result.reason, ...ids(item) };
        continue;
      }
      if (result.replacedBlobs) await this.takeBack(result.replacedBlobs);
      outcomes[n] = { ok: true, record: item.record, blobKey: blob.key, replaced: !!result.replacedBlobs };
    }
    return outcomes;
  }

  /** Removes blobs no index row points at (any more). */
  private async takeBack(keys: string[]): Promise<void> {
    for (const key of keys) {
      if (!(await blobInUse(this.db, key).catch(() => true))) await this.blobs.remove(key);
    }
  }
}

