// The Query/Retrieve service class (PS3.4 Annex C) on one association: C-FIND answers with a
// pending response per match, C-MOVE stores the matches on a configured peer over an association
// of our own, C-GET stores them back over the requester's association. Every response goes out
// through `respond` as soon as it is known (dcmjs-dimse's callback sends only once).
import dimse from 'dcmjs-dimse';
import type { Logger } from '../../audit/logger.js';
import type { DimsePeer } from '../../config/config.js';
import type { Database } from '../../db/database.js';
import type { Actor } from '../../fhir/access/access-control.js';
import type { AuditTrail } from '../../fhir/access/audit-trail.js';
import type { BlobStore } from '../blob-store.js';
import { EncodedDataset } from './encoded-dataset.js';
import { findMatches } from './find.js';
import { QueryRefused } from './identifier.js';
import { openAssociation } from './outbound.js';
import { retrieveItems, type RetrieveItem } from './retrieve.js';
import { STATUS } from './sop-classes.js';
import { runSubOperations, type SubOperationCounts } from './sub-operations.js';

type Network = InstanceType<typeof dimse.Scp>;
type Request = InstanceType<typeof dimse.requests.Request>;
type Response = InstanceType<typeof dimse.responses.Response>;
type RetrieveResponse = InstanceType<typeof dimse.responses.CMoveResponse> | InstanceType<typeof dimse.responses.CGetResponse>;

export interface QueryRetrievePort {
  db: Database;
  blobs: BlobStore;
  audit: AuditTrail;
  logger: Logger;
  actor: Actor;
  aeTitle: string;
  callingAeTitle: string;
  peers: readonly DimsePeer[];
  dicomwebBase(): string;
  maxResults: number;
  maxRetrieveInstances: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** The requester's association (C-GET sends its sub-operations here). */
  network: Network;
  acceptsOnThisAssociation(sopClassUid: string, transferSyntax: string): boolean;
  closed: Promise<unknown>;
  respond(request: Request, response: Response): void;
  isCancelled(messageId: number): boolean;
}

/** An Error Comment (0000,0902): LO, at most 64 characters, no backslash. */
export function errorComment(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, ' ').replace(/\\/g, '/').trim();
  return clean.length <= 64 ? clean : `${clean.slice(0, 61)}...`;
}

export async function cFind(port: QueryRetrievePort, request: InstanceType<typeof dimse.requests.CFindRequest>, root: 'patient' | 'study'): Promise<void> {
  const messageId = request.getMessageId();
  const sopClass = request.getAffectedSopClassUid();
  const syntax = request.getDataset()?.getTransferSyntaxUid() ?? '1.2.840.10008.1.2';
  const identifier = (request.getDataset()?.getElements() ?? {}) as Record<string, unknown>;
  const answer = (status: number, elements?: Record<string, unknown>, comment?: string) => {
    const response = dimse.responses.CFindResponse.fromRequest(request);
    response.setAffectedSopClassUid(sopClass);
    response.setStatus(status);
    if (elements) response.setDataset(EncodedDataset.encode(elements, syntax, { QueryRetrieveLevel: elements.QueryRetrieveLevel }));
    if (comment) response.setErrorComment(errorComment(comment));
    port.respond(request, response);
  };
  const patients = new Set<string>();
  let matches = 0;
  let outcome: 'success' | 'failed' = 'success';
  let detail: string | undefined;
  try {
    const found = findMatches(port.db, identifier, {
      root,
      aeTitle: port.aeTitle,
      base: port.dicomwebBase(),
      maxResults: port.maxResults,
      cancelled: () => port.isCancelled(messageId),
    });
    for await (const match of found) {
      matches += 1;
      if (match.patientRef) patients.add(match.patientRef);
      answer(STATUS.pending, match.identifier);
      // Let the socket be read now and then: a C-CANCEL can then stop a long answer.
      if (matches % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    if (port.isCancelled(messageId)) answer(STATUS.cancel);
    else answer(STATUS.success);
  } catch (err) {
    outcome = 'failed';
    if (err instanceof QueryRefused) {
      detail = err.message;
      answer(err.status, undefined, err.message);
    } else {
      detail = 'the query could not be run';
      port.logger.error('C-FIND failed', { callingAe: port.callingAeTitle, error: (err as Error).message });
      answer(STATUS.unableToProcess, undefined, 'The query could not be run (server error)');
    }
  }
  port.audit.record(port.actor, {
    kind: 'search-type',
    type: 'ImagingStudy',
    outcome,
    detail: detail ?? `C-FIND (${root} root): ${matches} match(es)`,
    patients: [...patients],
    query: describeIdentifier(identifier),
    dicomEvent: 'query',
  });
}

export async function cRetrieve(port: QueryRetrievePort, request: InstanceType<typeof dimse.requests.CMoveRequest> | InstanceType<typeof dimse.requests.CGetRequest>, root: 'patient' | 'study', op: 'move' | 'get'): Promise<void> {
  const messageId = request.getMessageId();
  const sopClass = request.getAffectedSopClassUid();
  const syntax = request.getDataset()?.getTransferSyntaxUid() ?? '1.2.840.10008.1.2';
  const identifier = (request.getDataset()?.getElements() ?? {}) as Record<string, unknown>;
  const answer = (status: number, counts?: Partial<SubOperationCounts>, comment?: string) => {
    const response: RetrieveResponse = op === 'move' ? dimse.responses.CMoveResponse.fromRequest(request as InstanceType<typeof dimse.requests.CMoveRequest>) : dimse.responses.CGetResponse.fromRequest(request as InstanceType<typeof dimse.requests.CGetRequest>);
    response.setAffectedSopClassUid(sopClass);
    response.setStatus(status);
    if (counts) {
      if (counts.remaining !== undefined) response.setRemaining(counts.remaining);
      response.setCompleted(counts.completed ?? 0);
      response.setFailures(counts.failed ?? 0);
      response.setWarnings(counts.warning ?? 0);
      const failedList = counts.failedUids?.length && status !== STATUS.pending ? failedUidList(counts.failedUids, syntax) : undefined;
      if (failedList) response.setDataset(failedList);
    }
    if (comment) response.setErrorComment(errorComment(comment));
    port.respond(request, response);
  };
  const destinationAe = String(request.getCommandDataset().getElement('MoveDestination') ?? '').trim();
  const what = op === 'move' ? `C-MOVE to ${destinationAe}` : 'C-GET';
  const fail = (status: number, reason: string, counts?: Partial<SubOperationCounts>) => {
    answer(status, counts, reason);
    port.audit.record(port.actor, { kind: 'read', type: 'ImagingStudy', outcome: 'failed', detail: `${what}: ${reason}`, patients: [] });
  };
  const peer = op === 'move' ? port.peers.find((p) => p.aeTitle === destinationAe && p.port > 0) : undefined;
  if (op === 'move' && !peer) return fail(STATUS.moveDestinationUnknown, `Move destination unknown: '${destinationAe.slice(0, 16)}'`);
  let items: RetrieveItem[];
  try {
    items = await retrieveItems(port.db, identifier, root, port.maxRetrieveInstances);
  } catch (err) {
    if (err instanceof QueryRefused) return fail(err.status, err.message);
    port.logger.error(`${what} failed`, { callingAe: port.callingAeTitle, error: (err as Error).message });
    return fail(STATUS.unableToProcess, 'The retrieve could not be run (server error)');
  }
  if (!items.length) return answer(STATUS.success, { completed: 0, failed: 0, warning: 0 });

  let target: { network: Network; accepts(sopClassUid: string, transferSyntax: string): boolean; closed: Promise<unknown>; release?: () => Promise<void> };
  if (peer) {
    try {
      target = await openAssociation(peer, {
        callingAeTitle: port.aeTitle,
        contexts: presentationContexts(items),
        connectTimeoutMs: port.connectTimeoutMs,
        idleTimeoutMs: port.idleTimeoutMs,
      });
    } catch (err) {
      port.logger.warn('C-MOVE: cannot associate with the destination', { destination: destinationAe, error: (err as Error).message });
      return fail(STATUS.outOfResourcesSubOperations, `Cannot associate with ${destinationAe}`, { completed: 0, failed: items.length, warning: 0, failedUids: items.map((i) => i.sopInstanceUid) });
    }
  } else {
    target = { network: port.network, accepts: (c, t) => port.acceptsOnThisAssociation(c, t), closed: port.closed };
  }
  let counts: SubOperationCounts;
  try {
    counts = await runSubOperations(items, {
      network: target.network,
      blobs: port.blobs,
      accepts: target.accepts,
      closed: target.closed,
      cancelled: () => port.isCancelled(messageId),
      progress: (c) => c.remaining > 0 && answer(STATUS.pending, { remaining: c.remaining, completed: c.completed, failed: c.failed, warning: c.warning }),
      originator: op === 'move' ? { aeTitle: port.callingAeTitle, messageId } : undefined,
      timeoutMs: port.idleTimeoutMs,
      onError: (item, reason) => port.logger.warn(`${what}: an instance was not sent`, { sopInstanceUid: item.sopInstanceUid, reason }),
    });
  } finally {
    await target.release?.();
  }
  const unsent = items.slice(items.length - counts.remaining);
  if (port.isCancelled(messageId)) answer(STATUS.cancel, { ...counts, failedUids: [...counts.failedUids, ...unsent.map((i) => i.sopInstanceUid)] });
  else if (counts.remaining > 0) answer(STATUS.outOfResourcesSubOperations, { ...counts, remaining: undefined, failed: counts.failed + counts.remaining, failedUids: [...counts.failedUids, ...unsent.map((i) => i.sopInstanceUid)] }, 'The association closed before all sub-operations');
  else if (counts.failed || counts.warning) answer(STATUS.subOperationsWithFailures, { ...counts, remaining: undefined }, `${counts.failed} sub-operation(s) failed`);
  else answer(STATUS.success, { ...counts, remaining: undefined });
  auditRetrieve(port, items, counts, what);
}

/**
 * Failed SOP Instance UID List (0008,0058) for a final response. A UI value is at most 64 KiB in
 * explicit VR (16-bit length): a longer list is cut, the counts still say how many failed.
 */
function failedUidList(uids: string[], syntax: string): EncodedDataset | undefined {
  const fitting: string[] = [];
  let length = 0;
  for (const uid of uids) {
    if (length + uid.length + 1 > 65_000) break;
    fitting.push(uid);
    length += uid.length + 1;
  }
  try {
    return EncodedDataset.encode({ FailedSOPInstanceUIDList: fitting }, syntax);
  } catch {
    return undefined;
  }
}

/** One audit event per study read, naming its patient. */
function auditRetrieve(port: QueryRetrievePort, items: RetrieveItem[], counts: SubOperationCounts, what: string): void {
  const failed = new Set(counts.failedUids);
  const studies = new Map<string, { id: string; patientRef: string | null; sent: number; total: number }>();
  items.forEach((item, index) => {
    const study = studies.get(item.studyUid) ?? { id: item.imagingStudyId, patientRef: item.patientRef, sent: 0, total: 0 };
    study.total += 1;
    if (index < items.length - counts.remaining && !failed.has(item.sopInstanceUid)) study.sent += 1;
    studies.set(item.studyUid, study);
  });
  for (const [uid, study] of studies) {
    port.audit.record(port.actor, {
      kind: 'read',
      type: 'ImagingStudy',
      id: study.id,
      outcome: study.sent === study.total ? 'success' : 'failed',
      detail: `${what}: ${study.sent} of ${study.total} instance(s) of study ${uid}`,
      patients: study.patientRef ? [study.patientRef] : [],
      dicomEvent: 'instances-transferred',
    });
  }
}

/** One presentation context per SOP class and stored transfer syntax: objects go out as kept. */
function presentationContexts(items: RetrieveItem[]): { abstractSyntax: string; transferSyntaxes: string[] }[] {
  const seen = new Map<string, { abstractSyntax: string; transferSyntaxes: string[] }>();
  for (const item of items) {
    const key = `${item.sopClassUid}|${item.transferSyntax}`;
    // PS3.8 limits an association to 128 presentation contexts; the rest fail their sub-operation.
    if (!seen.has(key) && seen.size < 128) seen.set(key, { abstractSyntax: item.sopClassUid, transferSyntaxes: [item.transferSyntax] });
  }
  return [...seen.values()];
}

/** The identifier as `Keyword=value` pairs for the audit trail's query text. */
function describeIdentifier(identifier: Record<string, unknown>): string {
  return Object.entries(identifier)
    .filter(([key]) => key !== '_vrMap')
    .map(([key, value]) => `${key}=${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '')}`)
    .join('&')
    .slice(0, 2000);
}
