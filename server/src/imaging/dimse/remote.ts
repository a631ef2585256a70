// The hub as a Query/Retrieve SCU (PS3.4 C.4, Study Root): C-FIND at a configured peer (a
// hospital PACS) and C-MOVE from it to the hub's own AE — the peer opens an association to the
// hub's DIMSE listener and stores the instances there, which refreshes their ImagingStudy as any
// C-STORE does. Each operation runs on one association of our own (outbound.ts: TCP_NODELAY,
// bounded PDUs), bounded by an association timeout, an idle timeout and an overall deadline; a
// caller that goes away (signal) cancels it with C-CANCEL. Failures are RemoteErrors whose kind
// says what went wrong: the peer refused the association or the SOP class, could not be reached,
// did not answer in time, or answered with a failure status.
import dimse from 'dcmjs-dimse';
import type { DimsePeer } from '../../config/config.js';
import type { DicomJsonDataSet } from '../dicom-json.js';
import { openAssociation, OutboundError, type OutboundLink } from './outbound.js';
import { isUid } from './part10.js';
import { findIdentifier, InvalidQuery, naturalToDicomJson, type RemoteLevel } from './remote-identifier.js';
import { EXPLICIT_LE, IMPLICIT_LE, QR, STATUS } from './sop-classes.js';

export { InvalidQuery, REMOTE_LEVELS, type RemoteLevel } from './remote-identifier.js';

type Request = InstanceType<typeof dimse.requests.CFindRequest> | InstanceType<typeof dimse.requests.CMoveRequest>;
type Response = InstanceType<typeof dimse.responses.Response>;

export type RemoteErrorKind = 'rejected' | 'unreachable' | 'timeout' | 'not-supported' | 'failed' | 'aborted';

export class RemoteError extends Error {
  constructor(
    readonly kind: RemoteErrorKind,
    message: string,
    /** The peer's DIMSE status, when it answered with a failure. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface RemoteOptions {
  /** From connect to a negotiated association. */
  connectTimeoutMs: number;
  /** Longest silence from the peer while an operation runs. */
  idleTimeoutMs: number;
  /** The whole operation, association and release included. */
  timeoutMs: number;
  /** Aborting it cancels the operation (C-CANCEL); what arrived so far is returned. */
  signal?: AbortSignal;
}

export interface FindOptions extends RemoteOptions {
  /** Matches kept at most; past it the query is cancelled and the result marked truncated. */
  maxResults: number;
  /** More attributes to return (keywords or tags), beyond the level's usual ones. */
  fields?: string[];
}

export interface FindResult {
  matches: DicomJsonDataSet[];
  /** More matched than maxResults (or the caller cancelled): the query was cancelled. */
  truncated: boolean;
  /** Final DIMSE status (0x0000 success, 0xFE00 cancelled). */
  status: number;
}

export interface MoveResult {
  /** Final DIMSE status: 0x0000, 0xB000 (some failed), 0xFE00 (cancelled), or a failure. */
  status: number;
  completed: number;
  failed: number;
  warning: number;
  /** Sub-operations the peer had not run when it stopped (cancel, failure). */
  remaining: number;
  failedUids: string[];
  errorComment?: string;
}

/** Defaults: the DIMSE settings' association and idle timeouts; a query 60 s, a move 15 min, 1000 matches. */
export const FIND_TIMEOUT_MS = 60_000;
export const MOVE_TIMEOUT_MS = 15 * 60_000;
const MAX_RESULTS = 1000;
const DEFAULTS = { connectTimeoutMs: 30_000, idleTimeoutMs: 120_000 };
/** Grace for the final response after a C-CANCEL, before the association is aborted. */
const CANCEL_GRACE_MS = 5_000;
/** What an operation ends with when the peer does not answer our C-CANCEL in time. */
const CANCELLED = Symbol('cancelled');
const SYNTAXES = [EXPLICIT_LE, IMPLICIT_LE];

/** C-FIND (Study Root) at `peer` as `ourAe`: the matches, each as DICOM JSON. */
export async function findAtPeer(peer: DimsePeer, ourAe: string, level: RemoteLevel, keys: Record<string, string>, given: Partial<FindOptions> = {}): Promise<FindResult> {
  const options: FindOptions = { ...DEFAULTS, timeoutMs: FIND_TIMEOUT_MS, maxResults: MAX_RESULTS, ...given };
  const { identifier } = findIdentifier(level, keys, options.fields);
  const matches: DicomJsonDataSet[] = [];
  let truncated = false;
  const final = await runOperation(peer, ourAe, QR.studyFind, options, (syntax) => {
    const request = new dimse.requests.CFindRequest();
    request.setAffectedSopClassUid(QR.studyFind);
    request.setDataset(new dimse.Dataset(identifier, syntax));
    return request;
  }, (response, cancel) => {
    if (truncated) return;
    const dataset = response.getDataset();
    if (!dataset) return;
    if (matches.length >= options.maxResults) {
      truncated = true;
      cancel();
      return;
    }
    matches.push(naturalToDicomJson(dataset.getElements() as Record<string, unknown>));
  });
  const status = final === CANCELLED ? STATUS.cancel : final.getStatus();
  if (final !== CANCELLED && status !== STATUS.success && status !== STATUS.cancel) throw failure(peer, 'C-FIND', final);
  return { matches, truncated: truncated || status === STATUS.cancel, status };
}

/**
 * C-MOVE (Study Root) of a study, or one series of it, from `peer` to `ourAe`: the peer must know
 * our AE title, host and DIMSE port. Resolves with the sub-operation counts once the peer's final
 * response arrives (the instances are in the hub by then: each C-STORE is answered only once
 * stored); throws a RemoteError when the peer refuses or fails the move outright.
 */
export async function moveFromPeer(peer: DimsePeer, ourAe: string, target: { studyUid: string; seriesUid?: string }, given: Partial<RemoteOptions> = {}): Promise<MoveResult> {
  const options: RemoteOptions = { ...DEFAULTS, timeoutMs: MOVE_TIMEOUT_MS, ...given };
  if (!isUid(target.studyUid)) throw new InvalidQuery(`'${target.studyUid.slice(0, 70)}' is not a Study Instance UID`);
  if (target.seriesUid !== undefined && !isUid(target.seriesUid)) throw new InvalidQuery(`'${target.seriesUid.slice(0, 70)}' is not a Series Instance UID`);
  const identifier: Record<string, unknown> = { QueryRetrieveLevel: target.seriesUid ? 'SERIES' : 'STUDY', StudyInstanceUID: target.studyUid };
  if (target.seriesUid) identifier.SeriesInstanceUID = target.seriesUid;
  let last: { completed: number; failed: number; warning: number; remaining: number } | undefined;
  // The peer need not send pending responses (PS3.4 C.4.2.1.3: "may"): while it stores to us on
  // its own association, this one can be silent for as long as the whole move takes.
  const moveOptions = { ...options, idleTimeoutMs: Math.max(options.idleTimeoutMs, options.timeoutMs) };
  const answer = await runOperation(peer, ourAe, QR.studyMove, moveOptions, (syntax) => {
    const request = new dimse.requests.CMoveRequest();
    request.setAffectedSopClassUid(QR.studyMove);
    request.getCommandDataset().setElement('MoveDestination', ourAe);
    request.setDataset(new dimse.Dataset(identifier, syntax));
    return request;
  }, (response) => {
    last = countsOf(response as InstanceType<typeof dimse.responses.CMoveResponse>, last);
  });
  if (answer === CANCELLED) {
    const counts = last ?? { completed: 0, failed: 0, warning: 0, remaining: 0 };
    return { status: STATUS.cancel, ...counts, failedUids: [] };
  }
  const final = answer as InstanceType<typeof dimse.responses.CMoveResponse>;
  const status = final.getStatus();
  // Counts may be left out of a final response (PS3.4 C.4.2.1.3): the last pending ones then stand.
  const counts = countsOf(final, last);
  const failedUids = failedUidList(final);
  const errorComment = commentOf(final);
  const result: MoveResult = { status, ...counts, remaining: status === STATUS.success ? 0 : counts.remaining, failedUids, ...(errorComment ? { errorComment } : {}) };
  const failedOutright = status !== STATUS.success && status !== STATUS.cancel && (status & 0xf000) !== 0xb000;
  if (failedOutright && result.completed === 0 && result.warning === 0) throw failure(peer, 'C-MOVE', final);
  return result;
}

/**
 * Associates, sends one request, hands each pending response to `onPending` and resolves with
 * the final response; releases the association whatever happens. Bounded by the options.
 */
async function runOperation(
  peer: DimsePeer,
  ourAe: string,
  sopClass: string,
  options: RemoteOptions,
  build: (syntax: string) => Request,
  onPending: (response: Response, cancel: () => void) => void,
): Promise<Response | typeof CANCELLED> {
  if (!peer.port) throw new RemoteError('not-supported', `${peer.aeTitle} has no port configured: it may call the hub, the hub cannot call it`);
  if (options.signal?.aborted) throw new RemoteError('aborted', 'The request was cancelled before it started');
  const started = Date.now();
  const what = sopClass === QR.studyFind ? 'C-FIND' : 'C-MOVE';
  let link: OutboundLink;
  try {
    link = await openAssociation(peer, {
      callingAeTitle: ourAe,
      contexts: [{ abstractSyntax: sopClass, transferSyntaxes: SYNTAXES }],
      connectTimeoutMs: Math.min(options.connectTimeoutMs, options.timeoutMs),
      idleTimeoutMs: options.idleTimeoutMs,
    });
  } catch (err) {
    if (err instanceof OutboundError) throw new RemoteError(err.kind, err.message);
    throw err;
  }
  try {
    const syntax = SYNTAXES.find((s) => link.accepts(sopClass, s));
    if (!syntax) throw new RemoteError('not-supported', `${peer.aeTitle} accepted the association but not Study Root ${what} (${sopClass})`);
    return await exchange(link, build(syntax), peer, what, Math.max(1, options.timeoutMs - (Date.now() - started)), options.signal, onPending);
  } finally {
    await link.release().catch(() => undefined);
  }
}

function exchange(link: OutboundLink, request: Request, peer: DimsePeer, what: string, timeoutMs: number, signal: AbortSignal | undefined, onPending: (response: Response, cancel: () => void) => void): Promise<Response | typeof CANCELLED> {
  return new Promise<Response | typeof CANCELLED>((resolve, reject) => {
    let settled = false;
    let cancelled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (error: RemoteError | undefined, response?: Response | typeof CANCELLED) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
      // After an error, or a cancel the peer did not confirm, the association is of no further
      // use: abort it rather than wait for a release.
      if (error || response === CANCELLED) link.abort();
      if (error) reject(error);
      else resolve(response!);
    };
    const cancel = () => {
      if (cancelled || settled) return;
      cancelled = true;
      try {
        link.network.sendCancel(request);
      } catch {
        // the final response or the closing socket settles the operation
      }
      graceTimer = setTimeout(() => finish(undefined, CANCELLED), CANCEL_GRACE_MS);
    };
    const onAbort = () => cancel();
    const deadline = setTimeout(() => finish(new RemoteError('timeout', `${peer.aeTitle} did not complete the ${what} within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    void link.closed.then(() => {
      const networkError = link.error();
      const timedOut = networkError !== undefined && /timeout/i.test(networkError);
      const reason = networkError ? `: ${networkError}` : '';
      finish(new RemoteError(timedOut ? 'timeout' : 'failed', `${peer.aeTitle} closed the association before the final ${what} response${reason}`));
    });
    request.on('response', (response: Response) => {
      if (settled) return;
      const status = response.getStatus();
      // 0xFF00 and 0xFF01 (optional keys not supported) are both pending.
      if ((status & 0xfff0) === 0xff00) {
        try {
          onPending(response, cancel);
        } catch (err) {
          finish(new RemoteError('failed', `${peer.aeTitle} sent a ${what} response the hub cannot read: ${(err as Error).message}`));
        }
        return;
      }
      finish(undefined, response);
    });
    link.network.sendRequests(request);
  });
}

function countsOf(response: InstanceType<typeof dimse.responses.CMoveResponse>, previous?: { completed: number; failed: number; warning: number; remaining: number }) {
  const read = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);
  return {
    completed: read(response.getCompleted(), previous?.completed ?? 0),
    failed: read(response.getFailures(), previous?.failed ?? 0),
    warning: read(response.getWarnings(), previous?.warning ?? 0),
    remaining: read(response.getRemaining(), previous?.remaining ?? 0),
  };
}

function failedUidList(response: Response): string[] {
  const value = response.getDataset()?.getElement('FailedSOPInstanceUIDList') as unknown;
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split('\\') : [];
  return list.map((uid) => String(uid ?? '').replace(/[\0 ]+$/, '').trim()).filter(Boolean);
}

function commentOf(response: Response): string | undefined {
  const comment = response.getErrorComment();
  return typeof comment === 'string' && comment.trim() ? comment.trim() : undefined;
}

function failure(peer: DimsePeer, what: string, response: Response): RemoteError {
  const status = response.getStatus();
  const comment = commentOf(response);
  return new RemoteError('failed', `${peer.aeTitle} answered the ${what} with status 0x${status.toString(16).padStart(4, '0').toUpperCase()}${comment ? ` (${comment})` : ''}`, status);
}
