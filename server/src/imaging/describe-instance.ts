// Parsing an object and building what the hub keeps of it — the index record and the DICOM JSON
// metadata — is pure work on its bytes; it runs on a worker thread (parse-pool.ts) so the event
// loop keeps receiving and writing while the next object is read.
import { toDicomJson } from './dicom-json.js';
import { instanceRecord, type InstanceRecord } from './instance-record.js';
import { DicomRejected, parseInstance, TS } from './parse-instance.js';

export type Description = { ok: true; record: InstanceRecord; metadata: string } | { ok: false; code: number; reason: string };

/** `totalSize` larger than `bytes`: only the object's head was read (see parseInstance). */
export function describeInstance(bytes: Uint8Array, totalSize = bytes.length): Description {
  try {
    const parsed = parseInstance(bytes, totalSize);
    const record = instanceRecord(parsed);
    const instanceUrl = `/studies/${record.studyUid}/series/${record.seriesUid}/instances/${record.sopInstanceUid}`;
    const metadata = JSON.stringify(
      toDicomJson(parsed.dataSet, {
        implicitVR: parsed.transferSyntax === TS.implicitLE,
        littleEndian: parsed.transferSyntax !== TS.explicitBE,
        // Inside sequences the URI names the path: bulk/{tag}/{item}/{tag}...
        bulkDataUri: (tag, _element, path) => `${instanceUrl}/bulk/${[...path, tag].map((p) => (typeof p === 'string' ? p.slice(1).toUpperCase() : p)).join('/')}`,
      }),
    );
    return { ok: true, record, metadata };
  } catch (err) {
    if (err instanceof DicomRejected) return { ok: false, code: err.code, reason: err.message };
    throw err;
  }
}
