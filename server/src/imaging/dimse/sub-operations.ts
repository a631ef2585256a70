// C-STORE sub-operations of a C-MOVE (on an association we open to the destination) or a C-GET
// (on the requester's own association): each stored object is sent in the transfer syntax it is
// kept in, its data set bytes as stored (an EncodedDataset), so nothing is decoded or transcoded.
// An instance whose transfer syntax the receiver did not accept fails its sub-operation rather
// than being converted.
import dimse from 'dcmjs-dimse';
import type { BlobStore } from '../blob-store.js';
import { EncodedDataset } from './encoded-dataset.js';
import { datasetOffset } from './part10.js';
import type { RetrieveItem } from './retrieve.js';

type Network = InstanceType<typeof dimse.Scp>;

export interface SubOperationCounts {
  remaining: number;
  completed: number;
  failed: number;
  warning: number;
  failedUids: string[];
}

export interface SubOperationRun {
  network: Network;
  blobs: BlobStore;
  /** Whether the link accepted a presentation context for this SOP class in exactly this transfer syntax. */
  accepts(sopClassUid: string, transferSyntax: string): boolean;
  /** Resolves when the link is gone (sub-operations still waiting fail). */
  closed: Promise<unknown>;
  cancelled(): boolean;
  progress(counts: SubOperationCounts): void;
  /** C-MOVE: who asked, for the C-STORE-RQ's Move Originator fields. */
  originator?: { aeTitle: string; messageId: number };
  /** Longest wait for one C-STORE-RSP. */
  timeoutMs: number;
  onError(item: RetrieveItem, reason: string): void;
}

/** Runs the sub-operations in order; stops early when cancelled or when the link closes. */
export async function runSubOperations(items: RetrieveItem[], run: SubOperationRun): Promise<SubOperationCounts> {
  const counts: SubOperationCounts = { remaining: items.length, completed: 0, failed: 0, warning: 0, failedUids: [] };
  let linkGone = false;
  void run.closed.then(() => (linkGone = true));
  for (const item of items) {
    if (run.cancelled() || linkGone) break;
    const status = await storeOne(item, run);
    counts.remaining -= 1;
    if (status === 0x0000) counts.completed += 1;
    else if ((status & 0xf000) === 0xb000) counts.warning += 1;
    else {
      counts.failed += 1;
      counts.failedUids.push(item.sopInstanceUid);
    }
    run.progress({ ...counts, failedUids: [...counts.failedUids] });
  }
  return counts;
}

async function storeOne(item: RetrieveItem, run: SubOperationRun): Promise<number> {
  if (!run.accepts(item.sopClassUid, item.transferSyntax)) {
    run.onError(item, `no presentation context accepted for ${item.sopClassUid} in ${item.transferSyntax} (the hub does not transcode)`);
    return 0xa702;
  }
  let dataset: EncodedDataset;
  try {
    const size = await run.blobs.size(item.blobKey);
    if (size === undefined) throw new Error('the stored object is missing from the blob store');
    const bytes = await run.blobs.read(item.blobKey, 0, size);
    dataset = new EncodedDataset(bytes.subarray(datasetOffset(bytes)), item.transferSyntax, { SOPClassUID: item.sopClassUid, SOPInstanceUID: item.sopInstanceUid });
  } catch (err) {
    run.onError(item, (err as Error).message);
    return 0xa702;
  }
  const request = new dimse.requests.CStoreRequest(dataset);
  if (run.originator) {
    request.getCommandDataset().setElement('MoveOriginatorApplicationEntityTitle', run.originator.aeTitle);
    request.getCommandDataset().setElement('MoveOriginatorMessageID', run.originator.messageId as unknown as string);
  }
  return new Promise<number>((resolve) => {
    let settled = false;
    const settle = (status: number, reason?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      dataset.release();
      if (reason) run.onError(item, reason);
      resolve(status);
    };
    const timer = setTimeout(() => settle(0xa702, 'no C-STORE response in time'), run.timeoutMs);
    request.on('response', (response: InstanceType<typeof dimse.responses.CStoreResponse>) => settle(response.getStatus()));
    // 'done' without a response: dcmjs-dimse could not send it.
    request.on('done', () => settle(0xa702, 'the C-STORE request could not be sent'));
    void run.closed.then(() => settle(0xa702, 'the association closed'));
    run.network.sendRequests(request);
  });
}
