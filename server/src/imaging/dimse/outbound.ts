// An association the hub opens to a configured peer (the destination of a C-MOVE, a PACS the hub
// queries and retrieves from). The socket is ours — TCP_NODELAY set before connecting, timeouts
// bounded, what the peer sends watched by a PduGuard — and dcmjs-dimse's Scp serves as the
// protocol machine on it (the library exports no bare Network class; the Scp's request handlers
// simply go unused on an association where we are the requester).
import { Socket } from 'node:net';
import dimse from 'dcmjs-dimse';
import type { DimsePeer } from '../../config/config.js';
import { DEFAULT_PDU_LIMITS, PduGuard } from './pdu-guard.js';

type Network = InstanceType<typeof dimse.Scp>;

export interface OutboundLink {
  network: Network;
  /** The negotiated association (presentation contexts with their results). */
  association: InstanceType<typeof dimse.association.Association>;
  accepts(sopClassUid: string, transferSyntax: string): boolean;
  /** Resolves once the socket has closed. */
  closed: Promise<void>;
  /** A-RELEASE, then close; bounded by the timeout. */
  release(): Promise<void>;
  /** A-ABORT, then close. */
  abort(): void;
  /** Why the connection failed or was closed by us, if it was (network error, timeout, malformed PDU). */
  error(): string | undefined;
}

export interface OutboundOptions {
  callingAeTitle: string;
  /** Abstract syntax → transfer syntaxes to propose in one presentation context. */
  contexts: { abstractSyntax: string; transferSyntaxes: string[] }[];
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

/** Why an association could not be had: the peer refused it, did not answer in time, or could not be reached. */
export class OutboundError extends Error {
  constructor(
    readonly kind: 'rejected' | 'timeout' | 'unreachable',
    message: string,
  ) {
    super(message);
  }
}

class PeerLink extends dimse.Scp {}

/** A-ASSOCIATE-RJ result, source and reason in words (PS3.8 9.3.4). */
export function rejectionText(rejection: { result: number; source: number; reason: number }): string {
  const reasons: Record<number, Record<number, string>> = {
    1: { 1: 'no reason given', 2: 'application context name not supported', 3: 'calling AE title not recognized', 7: 'called AE title not recognized' },
    2: { 1: 'no reason given', 2: 'protocol version not supported' },
    3: { 0: 'reserved', 1: 'temporary congestion', 2: 'local limit exceeded' },
  };
  const reason = reasons[rejection.source]?.[rejection.reason] ?? `reason ${rejection.reason}`;
  return `${reason} (${rejection.result === 2 ? 'transient' : 'permanent'}, source ${rejection.source})`;
}

export function openAssociation(peer: DimsePeer, options: OutboundOptions): Promise<OutboundLink> {
  const socket = new Socket();
  socket.setNoDelay(true);
  const network = new PeerLink(socket, { connectTimeout: options.idleTimeoutMs, associationTimeout: options.connectTimeoutMs, pduTimeout: options.idleTimeoutMs });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // The peer's PDUs are bounded like those of a peer that calls us (dcmjs-dimse would buffer any length).
  let lastError: string | undefined;
  let aborted = false;
  const guard = new PduGuard(DEFAULT_PDU_LIMITS, (reason) => {
    lastError = `malformed data from ${peer.aeTitle}: ${reason}`;
    socket.destroy();
  });
  socket.prependListener('data', (chunk: Buffer) => guard.feed(chunk));
  const association = new dimse.association.Association(options.callingAeTitle, peer.aeTitle);
  for (const context of options.contexts) {
    const id = association.addPresentationContext(context.abstractSyntax);
    for (const syntax of context.transferSyntaxes) association.addTransferSyntaxToPresentationContext(id, syntax);
  }
  return new Promise<OutboundLink>((resolve, reject) => {
    let settled = false;
    const fail = (kind: OutboundError['kind'], reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(new OutboundError(kind, reason));
    };
    const timer = setTimeout(() => fail('timeout', `no association with ${peer.aeTitle} at ${peer.host}:${peer.port} within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
    network.on('connect', () => network.sendAssociationRequest(association));
    network.on('associationRejected', (rejection: { result: number; source: number; reason: number }) =>
      fail('rejected', `${peer.aeTitle} rejected the association: ${rejectionText(rejection)}`),
    );
    network.on('networkError', (err: Error) => {
      lastError = err.message;
      socket.destroy();
      fail(/timeout/i.test(err.message) ? 'timeout' : 'unreachable', `${peer.aeTitle} at ${peer.host}:${peer.port}: ${err.message}`);
    });
    network.on('abort', () => socket.destroy());
    void closed.then(() => fail('unreachable', `${peer.aeTitle} at ${peer.host}:${peer.port} closed the connection${lastError ? `: ${lastError}` : ''}`));
    network.on('associationAccepted', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      guard.associated = true;
      resolve({
        network,
        association,
        closed,
        accepts: (sopClassUid, transferSyntax) =>
          association
            .getPresentationContexts()
            .some(({ context }) => context.getAbstractSyntaxUid() === sopClassUid && context.getResult() === dimse.constants.PresentationContextResult.Accept && context.getAcceptedTransferSyntaxUid() === transferSyntax),
        release: async () => {
          if (socket.destroyed || aborted) return;
          network.on('associationReleaseResponse', () => socket.end());
          network.sendAssociationReleaseRequest();
          const timeout = new Promise<void>((done) => setTimeout(done, options.connectTimeoutMs).unref());
          await Promise.race([closed, timeout]);
          socket.destroy();
        },
        abort: () => {
          if (socket.destroyed || aborted) return;
          aborted = true;
          try {
            network.sendAbort();
          } catch {
            // the socket is closing anyway
          }
          // Let the A-ABORT go out, then close whether or not the peer does.
          socket.end();
          setTimeout(() => socket.destroy(), 1000).unref();
        },
        error: () => lastError,
      });
    });
    socket.on('error', () => undefined); // reported through networkError
    socket.connect(peer.port, peer.host);
  });
}
