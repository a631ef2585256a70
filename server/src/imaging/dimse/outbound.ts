// An association the hub opens to a configured peer (the destination of a C-MOVE). The socket is
// ours — TCP_NODELAY set before connecting, timeouts bounded — and dcmjs-dimse's Scp serves as
// the protocol machine on it (the library exports no bare Network class; the Scp's request
// handlers simply go unused on an association where we are the requester).
import { Socket } from 'node:net';
import dimse from 'dcmjs-dimse';
import type { DimsePeer } from '../../config/config.js';

type Network = InstanceType<typeof dimse.Scp>;

export interface OutboundLink {
  network: Network;
  accepts(sopClassUid: string, transferSyntax: string): boolean;
  /** Resolves once the socket has closed. */
  closed: Promise<void>;
  /** A-RELEASE, then close; bounded by the timeout. */
  release(): Promise<void>;
}

export interface OutboundOptions {
  callingAeTitle: string;
  /** Abstract syntax → transfer syntaxes to propose in one presentation context. */
  contexts: { abstractSyntax: string; transferSyntaxes: string[] }[];
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

class PeerLink extends dimse.Scp {}

export function openAssociation(peer: DimsePeer, options: OutboundOptions): Promise<OutboundLink> {
  const socket = new Socket();
  socket.setNoDelay(true);
  const network = new PeerLink(socket, { connectTimeout: options.idleTimeoutMs, associationTimeout: options.connectTimeoutMs, pduTimeout: options.idleTimeoutMs });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const association = new dimse.association.Association(options.callingAeTitle, peer.aeTitle);
  for (const context of options.contexts) {
    const id = association.addPresentationContext(context.abstractSyntax);
    for (const syntax of context.transferSyntaxes) association.addTransferSyntaxToPresentationContext(id, syntax);
  }
  return new Promise<OutboundLink>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(reason));
    };
    const timer = setTimeout(() => fail(`no association with ${peer.aeTitle} at ${peer.host}:${peer.port} within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
    network.on('connect', () => network.sendAssociationRequest(association));
    network.on('associationRejected', (rejection: { result: number; source: number; reason: number }) =>
      fail(`${peer.aeTitle} rejected the association (result ${rejection.result}, source ${rejection.source}, reason ${rejection.reason})`),
    );
    network.on('networkError', (err: Error) => {
      socket.destroy();
      fail(`${peer.aeTitle} at ${peer.host}:${peer.port}: ${err.message}`);
    });
    network.on('abort', () => socket.destroy());
    void closed.then(() => fail(`${peer.aeTitle} at ${peer.host}:${peer.port} closed the connection`));
    network.on('associationAccepted', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        network,
        closed,
        accepts: (sopClassUid, transferSyntax) =>
          association
            .getPresentationContexts()
            .some(({ context }) => context.getAbstractSyntaxUid() === sopClassUid && context.getResult() === dimse.constants.PresentationContextResult.Accept && context.getAcceptedTransferSyntaxUid() === transferSyntax),
        release: async () => {
          if (socket.destroyed) return;
          network.on('associationReleaseResponse', () => socket.end());
          network.sendAssociationReleaseRequest();
          const timeout = new Promise<void>((done) => setTimeout(done, options.connectTimeoutMs).unref());
          await Promise.race([closed, timeout]);
          socket.destroy();
        },
      });
    });
    socket.on('error', () => undefined); // reported through networkError
    socket.connect(peer.port, peer.host);
  });
}
