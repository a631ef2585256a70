// One incoming association (PS3.7/PS3.8): negotiation against our AE title and the configured
// peers, C-ECHO, C-STORE streamed into DicomIngest, Query/Retrieve, and the end of it all — the
// studies it stored into are refreshed and audited (StoredStudies) before the release is
// answered, and every half minute on long associations. A dcmjs-dimse Scp on a socket the DIMSE
// server accepted.
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import type { Actor } from '../../fhir/access/access-control.js';
import type { StoreOutcome } from '../ingest.js';
import { DicomRejected, FAILURE } from '../parse-instance.js';
import type { PduGuard } from './pdu-guard.js';
import { cleanUid, isUid, part10Header } from './part10.js';
import { cFind, cRetrieve, errorComment, type QueryRetrievePort } from './query-retrieve.js';
import type { DimseContext } from './server.js';
import { acceptableSyntaxes, QR_MODELS, STATUS, STORAGE_SOP_CLASSES } from './sop-classes.js';
import { ObjectTooLarge, StoreSink } from './store-sink.js';
import { StoreResponse } from './store-response.js';
import { StoredStudies } from './stored-studies.js';

type Association = InstanceType<typeof dimse.association.Association>;
type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason } = dimse.constants;

/** Largest PDU we accept (announced in A-ASSOCIATE-AC). */
export const MAX_PDU_LENGTH = 256 * 1024;
const FLUSH_INTERVAL_MS = 30_000;
const RELEASE_WAIT_MS = 10_000;
const STORE_HIGH_WATER = 16 * 1024 * 1024;

export class DimseAssociation extends dimse.Scp {
  readonly #socket: Socket;
  readonly #ctx: DimseContext;
  readonly #guard: PduGuard;
  readonly #actor: Actor;
  #association?: Association;
  #callingAe = '';
  #accepted = false;
  #closed = false;
  readonly #closedPromise: Promise<void>;
  readonly #sinkOutcomes = new Map<Writable, Promise<StoreOutcome>>();
  readonly #datasetOutcomes = new WeakMap<object, Promise<StoreOutcome>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #studies: StoredStudies;
  readonly #cancelled = new Set<number>();
  readonly #flushTimer: NodeJS.Timeout;
  readonly #associationTimer: NodeJS.Timeout;
  /** Settles once the association is over and its studies are refreshed and audited. */
  readonly finished: Promise<void>;

  constructor(socket: Socket, ctx: DimseContext, guard: PduGuard) {
    super(socket, { connectTimeout: ctx.config.idleTimeoutSeconds * 1000 });
    this.#socket = socket;
    this.#ctx = ctx;
    this.#guard = guard;
    this.#actor = { clientId: 'dimse:(unassociated)', address: socket.remoteAddress };
    this.#studies = new StoredStudies(ctx.services, this.#actor, ctx.dicomwebBase);
    this.#closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    this.#associationTimer = setTimeout(() => {
      if (!this.#accepted) this.#drop(`no association within ${ctx.config.associationTimeoutSeconds} s`);
    }, ctx.config.associationTimeoutSeconds * 1000);
    this.#flushTimer = setInterval(() => void this.#studies.flush(), FLUSH_INTERVAL_MS);
    this.#flushTimer.unref();
    this.on('networkError', (err: Error) => this.#drop(err.message));
    this.finished = this.#closedPromise.then(() => this.#finish()).catch((err: Error) => void ctx.logger.error('closing a DIMSE association failed', { error: err.message }));
  }

  /** Ends the association now (server shutdown, protocol violation). */
  destroy(reason: string): void {
    this.#drop(reason);
  }

  override associationRequested(association: Association): void {
    try {
      if (this.#association) return this.#drop('a second A-ASSOCIATE-RQ on one connection');
      this.#association = association;
      const called = association.getCalledAeTitle().trim();
      const calling = association.getCallingAeTitle().trim();
      this.#callingAe = calling;
      this.#actor.clientId = `dimse:${calling}`;
      const { config } = this.#ctx;
      if (called !== config.aeTitle) return this.#reject(RejectReason.CalledAeNotRecognized, `called AE title '${called}' is not ours (${config.aeTitle})`);
      if (!config.peers.some((peer) => peer.aeTitle === calling)) return this.#reject(RejectReason.CallingAeNotRecognized, `calling AE title '${calling}' is not a configured peer`);
      if (this.#ctx.activeAssociations() > config.maxAssociations) return this.#reject(RejectReason.LocalLimitExceeded, 'too many associations', true);
      for (const { id, context } of association.getPresentationContexts()) this.#negotiate(id, context);
      if (association.getMaxPduLength() === 0 || association.getMaxPduLength() > MAX_PDU_LENGTH) association.setMaxPduLength(MAX_PDU_LENGTH);
      // Operations are performed one at a time.
      association.setNegotiateAsyncOps(false);
      this.#accepted = true;
      this.#guard.associated = true;
      clearTimeout(this.#associationTimer);
      this.sendAssociationAccept();
      this.#ctx.logger.debug('DIMSE association accepted', { callingAe: calling, address: this.#actor.address });
    } catch (err) {
      this.#drop(`association negotiation failed: ${(err as Error).message}`);
    }
  }

  override associationReleaseRequested(): void {
    // The peer's ACSE timeout is usually 30 s: refresh what it stored, bounded, then answer.
    const wait = new Promise<void>((resolve) => setTimeout(resolve, RELEASE_WAIT_MS).unref());
    void Promise.race([Promise.allSettled([...this.#inFlight]).then(() => this.#studies.flush()), wait])
      .then(() => {
        if (this.#socket.destroyed) return;
        this.sendAssociationReleaseResponse();
        this.#socket.end();
      })
      .catch((err: Error) => this.#drop(`release failed: ${err.message}`));
  }

  override abort(): void {
    this.#drop('the peer aborted the association');
  }

  override cEchoRequest(request: InstanceType<typeof dimse.requests.CEchoRequest>, callback: (response: InstanceType<typeof dimse.responses.CEchoResponse>) => void): void {
    if (!this.#isAccepted()) return;
    const response = dimse.responses.CEchoResponse.fromRequest(request);
    response.setStatus(STATUS.success);
    callback(response);
  }

  override createStoreWritableStream(context: PresentationContext, request: InstanceType<typeof dimse.requests.CStoreRequest>): Writable {
    const { config, services } = this.#ctx;
    const sopClassUid = cleanUid(request.getAffectedSopClassUid());
    const sopInstanceUid = cleanUid(request.getAffectedSopInstanceUid());
    const transferSyntaxUid = context.getAcceptedTransferSyntaxUid() ?? '';
    const limits = { maxObjectBytes: config.maxObjectBytes, highWater: STORE_HIGH_WATER };
    let outcome: Promise<StoreOutcome>;
    let sink: StoreSink;
    if (!this.#isAccepted() || !STORAGE_SOP_CLASSES.has(context.getAbstractSyntaxUid()) || !isUid(sopClassUid) || !isUid(sopInstanceUid)) {
      sink = new StoreSink(this.#socket, limits);
      sink.detach();
      outcome = Promise.resolve({ ok: false, code: FAILURE.dataSetMismatch, reason: 'The C-STORE request names no valid SOP Class and Instance UID for a storage context' });
    } else {
      sink = new StoreSink(this.#socket, limits, part10Header({ sopClassUid, sopInstanceUid, transferSyntaxUid, sourceAeTitle: this.#callingAe }));
      const authorize = async (record: { sopClassUid: string; sopInstanceUid: string }) => {
        if (record.sopInstanceUid !== sopInstanceUid || record.sopClassUid !== sopClassUid) {
          throw new DicomRejected('The data set\'s SOP Class/Instance UID differ from the C-STORE request\'s', FAILURE.dataSetMismatch);
        }
      };
      outcome = services.ingest.store(sink.chunks(), { authorize }).catch((err: Error): StoreOutcome => {
        if (err instanceof ObjectTooLarge) return { ok: false, code: FAILURE.outOfResources, reason: err.message };
        return { ok: false, code: FAILURE.outOfResources, reason: `The object was not received whole: ${err.message}` };
      });
    }
    // The outcome stays in #sinkOutcomes until dcmjs-dimse asks for the data set: a store refused
    // early (too large, say) settles while the rest of the object is still arriving.
    const settled = outcome.finally(() => {
      sink.detach();
      this.#inFlight.delete(settled);
    });
    this.#inFlight.add(settled);
    this.#sinkOutcomes.set(sink, outcome);
    return sink;
  }

  override createDatasetFromStoreWritableStream(writable: Writable, context: PresentationContext, callback: (dataset: InstanceType<typeof dimse.Dataset>) => void): void {
    // The data set is in the blob store already; dcmjs-dimse gets a placeholder carrying the outcome.
    const placeholder = new dimse.Dataset({}, context.getAcceptedTransferSyntaxUid());
    const outcome = this.#sinkOutcomes.get(writable);
    this.#sinkOutcomes.delete(writable);
    this.#datasetOutcomes.set(placeholder, outcome ?? Promise.resolve({ ok: false, code: FAILURE.cannotUnderstand, reason: 'No data set was received' }));
    callback(placeholder);
  }

  override cStoreRequest(request: InstanceType<typeof dimse.requests.CStoreRequest>, callback: (response: InstanceType<typeof dimse.responses.CStoreResponse>) => void): void {
    if (!this.#isAccepted()) return;
    const dataset = request.getDataset();
    const pending = (dataset && this.#datasetOutcomes.get(dataset)) ?? Promise.resolve<StoreOutcome>({ ok: false, code: FAILURE.cannotUnderstand, reason: 'No data set was received' });
    void pending.then((outcome) => {
      let response: StoreResponse;
      if (outcome.ok) {
        response = new StoreResponse(request, STATUS.success);
        this.#studies.stored(outcome.record.studyUid);
      } else {
        this.#studies.refused();
        response = new StoreResponse(request, outcome.code, errorComment(outcome.reason));
        this.#ctx.logger.warn('C-STORE refused', { callingAe: this.#callingAe, sopInstanceUid: cleanUid(request.getAffectedSopInstanceUid()), status: `0x${outcome.code.toString(16)}`, reason: outcome.reason });
      }
      if (!this.#socket.destroyed) callback(response);
    }).catch((err: Error) => this.#drop(`answering a C-STORE failed: ${err.message}`));
  }

  override cFindRequest(request: InstanceType<typeof dimse.requests.CFindRequest>, callback: (responses: InstanceType<typeof dimse.responses.CFindResponse>[]) => void): void {
    if (!this.#isAccepted()) return;
    const model = QR_MODELS.get(request.getAffectedSopClassUid());
    if (model?.op !== 'find') return callback([this.#notSupported(dimse.responses.CFindResponse.fromRequest(request), request)]);
    this.#track(cFind(this.#port(), request, model.root));
    callback([]);
  }

  override cMoveRequest(request: InstanceType<typeof dimse.requests.CMoveRequest>, callback: (responses: InstanceType<typeof dimse.responses.CMoveResponse>[]) => void): void {
    if (!this.#isAccepted()) return;
    const model = QR_MODELS.get(request.getAffectedSopClassUid());
    if (model?.op !== 'move') return callback([this.#notSupported(dimse.responses.CMoveResponse.fromRequest(request), request)]);
    this.#track(cRetrieve(this.#port(), request, model.root, 'move'));
    callback([]);
  }

  override cGetRequest(request: InstanceType<typeof dimse.requests.CGetRequest>, callback: (responses: InstanceType<typeof dimse.responses.CGetResponse>[]) => void): void {
    if (!this.#isAccepted()) return;
    const model = QR_MODELS.get(request.getAffectedSopClassUid());
    if (model?.op !== 'get') return callback([this.#notSupported(dimse.responses.CGetResponse.fromRequest(request), request)]);
    this.#track(cRetrieve(this.#port(), request, model.root, 'get'));
    callback([]);
  }

  override cCancelRequest(request: InstanceType<typeof dimse.requests.CCancelRequest>): void {
    this.#cancelled.add(request.getMessageIdBeingRespondedTo());
  }

  /** DIMSE messages count only on an accepted association (a rejected peer may keep sending). */
  #isAccepted(): boolean {
    if (!this.#accepted) this.#drop('a DIMSE message outside an accepted association');
    return this.#accepted;
  }

  #negotiate(id: number, context: PresentationContext): void {
    const syntaxes = acceptableSyntaxes(context.getAbstractSyntaxUid());
    if (!syntaxes) return context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
    // The requester's order is its preference.
    const chosen = context.getTransferSyntaxUids().find((syntax) => syntaxes.has(syntax));
    if (!chosen) return context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
    context.setResult(PresentationContextResult.Accept, chosen);
    if (STORAGE_SOP_CLASSES.has(context.getAbstractSyntaxUid())) this.#guard.storageContexts.add(id);
  }

  #reject(reason: number, why: string, transient = false): void {
    this.#ctx.logger.warn('DIMSE association rejected', { callingAe: this.#callingAe, address: this.#actor.address, reason: why });
    this.#ctx.services.audit.record(this.#actor, { kind: 'operation', outcome: 'denied', detail: `DICOM association rejected: ${why}`, patients: [] });
    if (transient) this.sendAssociationReject(RejectResult.Transient, RejectSource.ServiceProviderPresentation, reason);
    else this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, reason);
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 2000).unref();
  }

  #port(): QueryRetrievePort {
    const { config, services } = this.#ctx;
    const association = this.#association;
    return {
      db: services.db,
      blobs: services.blobs,
      audit: services.audit,
      logger: services.logger,
      actor: this.#actor,
      aeTitle: config.aeTitle,
      callingAeTitle: this.#callingAe,
      peers: config.peers,
      dicomwebBase: this.#ctx.dicomwebBase,
      maxResults: this.#ctx.maxResults,
      maxRetrieveInstances: this.#ctx.maxRetrieveInstances,
      connectTimeoutMs: config.associationTimeoutSeconds * 1000,
      idleTimeoutMs: config.idleTimeoutSeconds * 1000,
      network: this,
      acceptsOnThisAssociation: (sopClassUid, transferSyntax) =>
        !!association
          ?.getPresentationContexts()
          .some(({ context }) => context.getAbstractSyntaxUid() === sopClassUid && context.getResult() === PresentationContextResult.Accept && context.getAcceptedTransferSyntaxUid() === transferSyntax),
      closed: this.#closedPromise,
      respond: (request, response) => {
        if (!this.#socket.destroyed) this.sendResponse(request, response);
      },
      isCancelled: (messageId) => this.#cancelled.has(messageId) || this.#closed,
    };
  }

  /** A request whose SOP class is not the operation's model: refused, SOP class not supported. */
  #notSupported<R extends InstanceType<typeof dimse.responses.Response>>(response: R, request: InstanceType<typeof dimse.requests.Request>): R {
    this.#ctx.logger.warn('DIMSE request for a SOP class this operation does not serve', { callingAe: this.#callingAe, sopClass: request.getAffectedSopClassUid() });
    response.setAffectedSopClassUid(request.getAffectedSopClassUid());
    response.setStatus(STATUS.refusedSopClassNotSupported);
    return response;
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((err: Error) => this.#ctx.logger.error('DIMSE operation failed', { callingAe: this.#callingAe, error: err.message }));
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
  }

  #drop(reason: string): void {
    if (!this.#socket.destroyed) this.#ctx.logger.debug('DIMSE association dropped', { callingAe: this.#callingAe, address: this.#actor.address, reason });
    this.#socket.destroy();
  }

  async #finish(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#associationTimer);
    clearInterval(this.#flushTimer);
    // Objects still arriving will not be whole: their staged bytes are dropped.
    for (const sink of this.#sinkOutcomes.keys()) (sink as StoreSink).abort(new Error('the association closed'));
    await Promise.allSettled([...this.#inFlight]);
    await this.#studies.flush();
  }
}
