// One pipeline for every way an instance arrives (STOW-RS part, C-STORE): stream the bytes into
// the blob store's staging area, parse and check them, build the metadata, then commit the blob
// and the index rows. A refusal, a crash or a database failure leaves no object and no row.
import type { Logger } from '../audit/logger.js';
import type { Database } from '../db/database.js';
import { FhirError } from '../fhir/errors.js';
import type { BlobStore, StagedBlob } from './blob-store.js';
import { blobInUse, indexInstance } from './dicom-index.js';
import { imagingStudyIdFor } from './imaging-study.js';
import { toDicomJson } from './dicom-json.js';
import { instanceRecord, type InstanceRecord } from './instance-record.js';
import { DicomRejected, FAILURE, parseInstance, TS, type ParsedInstance } from './parse-instance.js';

export type StoreOutcome =
  | { ok: true; record: InstanceRecord; blobKey: string; replaced: boolean }
  | { ok: false; code: number; reason: string; sopClassUid?: string; sopInstanceUid?: string; studyUid?: string };

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

export class DicomIngest {
  constructor(
    private readonly db: Database,
    private readonly blobs: BlobStore,
    private readonly logger: Logger,
  ) {}

  /**
   * Stores one Part 10 object read from `source`. A bad object is an outcome, not an exception;
   * only a failing source (a broken request stream) throws, after the staged bytes are dropped.
   */
  async store(source: AsyncIterable<Uint8Array>, options: IngestOptions = {}): Promise<StoreOutcome> {
    const staged = await this.blobs.begin();
    try {
      for await (const chunk of source) await staged.write(chunk);
    } catch (err) {
      await staged.abort();
      throw err;
    }
    let parsed: ParsedInstance | undefined;
    try {
      parsed = await parseStaged(staged);
      if (options.expectedStudyUid && parsed.studyUid !== options.expectedStudyUid) {
        throw new DicomRejected(`The instance belongs to study ${parsed.studyUid}, not ${options.expectedStudyUid} named in the request`, FAILURE.studyMismatch);
      }
      const record = instanceRecord(parsed);
      await options.authorize?.(record);
      const metadata = JSON.stringify(toDicomJson(parsed.dataSet, {
        implicitVR: parsed.transferSyntax === TS.implicitLE,
        littleEndian: parsed.transferSyntax !== TS.explicitBE,
        // Inside sequences the URI names the path: bulk/{tag}/{item}/{tag}...
        bulkDataUri: (tag, _element, path) =>
          `/studies/${record.studyUid}/series/${record.seriesUid}/instances/${record.sopInstanceUid}/bulk/${[...path, tag].map((p) => (typeof p === 'string' ? p.slice(1).toUpperCase() : p)).join('/')}`,
      }));
      const blob = await staged.commit();
      try {
        const { replacedBlob } = await this.db.transaction((tx) => indexInstance(tx, record, blob, metadata, imagingStudyIdFor(record.studyUid)));
        if (replacedBlob && !(await blobInUse(this.db, replacedBlob))) await this.blobs.remove(replacedBlob);
        return { ok: true, record, blobKey: blob.key, replaced: !!replacedBlob };
      } catch (err) {
        // No index row points at a blob only this store added: take it back.
        if (!blob.deduplicated && !(await blobInUse(this.db, blob.key).catch(() => true))) await this.blobs.remove(blob.key);
        throw err;
      }
    } catch (err) {
      await staged.abort();
      const ids = parsed ? { sopClassUid: parsed.sopClassUid, sopInstanceUid: parsed.sopInstanceUid, studyUid: parsed.studyUid } : {};
      if (err instanceof DicomRejected) return { ok: false, code: err.code, reason: err.message, ...ids };
      if (err instanceof FhirError && err.status === 403) return { ok: false, code: FAILURE.notAuthorized, reason: err.message, ...ids };
      if (err instanceof FhirError && err.status === 409) return { ok: false, code: FAILURE.dataSetMismatch, reason: err.message, ...ids };
      this.logger.error('storing a DICOM instance failed', { error: (err as Error).message });
      return { ok: false, code: FAILURE.outOfResources, reason: 'The instance could not be stored (server error); try again', ...ids };
    }
  }
}

async function parseStaged(staged: StagedBlob): Promise<ParsedInstance> {
  if (staged.size === 0) throw new DicomRejected('The object is empty');
  const whole = staged.size <= WHOLE_PARSE_LIMIT;
  const bytes = await staged.read(0, whole ? staged.size : HEAD_BYTES);
  return parseInstance(bytes, staged.size);
}
