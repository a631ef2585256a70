// The DIMSE listener: a net.Server bound to the hub's host (dcmjs-dimse's own Server binds every
// address), each accepted socket — TCP_NODELAY on, watched by a PduGuard — handed to a
// DimseAssociation. close() ends every association and waits for their studies to be refreshed.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import dimse from 'dcmjs-dimse';
import type { Logger } from '../../audit/logger.js';
import type { Config } from '../../config/config.js';
import type { DicomwebServices } from '../dicomweb/context.js';
import { DimseAssociation, MAX_PDU_LENGTH } from './association.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from './part10.js';
import { DEFAULT_PDU_LIMITS, PduGuard } from './pdu-guard.js';

export interface DimseContext {
  config: Config['dimse'];
  services: DicomwebServices;
  logger: Logger;
  /** The hub's DICOMweb root URL (ImagingStudy endpoints, RetrieveURL). */
  dicomwebBase(): string;
  activeAssociations(): number;
  /** C-FIND matches answered at most per request. */
  maxResults: number;
  /** Instances one C-MOVE or C-GET may send. */
  maxRetrieveInstances: number;
}

const MAX_RESULTS = 10_000;
const MAX_RETRIEVE_INSTANCES = 100_000;
const CLOSE_WAIT_MS = 10_000;

export class DimseServer {
  #server?: Server;
  readonly #associations = new Set<DimseAssociation>();
  readonly #context: DimseContext;

  constructor(config: Config['dimse'], services: DicomwebServices, dicomwebBase: () => string) {
    this.#context = {
      config,
      services,
      logger: services.logger,
      dicomwebBase,
      activeAssociations: () => this.#associations.size,
      maxResults: MAX_RESULTS,
      maxRetrieveInstances: MAX_RETRIEVE_INSTANCES,
    };
  }

  /** Listens on `host` and the configured port (0: ephemeral); resolves with the bound port. */
  listen(host: string): Promise<number> {
    configureLibrary(this.#context.logger);
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
      server.once('error', reject);
      server.listen(this.#context.config.port ?? 0, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#context.logger.error('DIMSE listener error', { error: err.message }));
        this.#server = server;
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  get port(): number | undefined {
    const address = this.#server?.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const closing = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    const finished = [...this.#associations].map((a) => {
      a.destroy('the hub is shutting down');
      return a.finished;
    });
    const wait = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref());
    await Promise.race([Promise.allSettled([closing, ...finished]), wait]);
  }

  #accept(socket: Socket): void {
    const { config, logger } = this.#context;
    socket.setNoDelay(true);
    socket.on('error', () => undefined); // reported through the association
    if (this.#associations.size >= config.maxAssociations * 2) {
      // Far past the limit: not even worth an A-ASSOCIATE-RJ.
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress;
    let association: DimseAssociation | undefined;
    const guard = new PduGuard(DEFAULT_PDU_LIMITS, (reason) => {
      logger.warn('DIMSE peer sent malformed data; connection closed', { address, reason });
      if (association) association.destroy(reason);
      else socket.destroy();
    });
    // Registered before dcmjs-dimse's own listener: the guard sees each chunk first.
    socket.on('data', (chunk: Buffer) => guard.feed(chunk));
    association = new DimseAssociation(socket, this.#context, guard);
    this.#associations.add(association);
    const current = association;
    void current.finished.finally(() => this.#associations.delete(current));
  }
}

let configured = false;

/** dcmjs-dimse's process-wide settings: our implementation identity, its logging into ours. */
function configureLibrary(logger: Logger): void {
  if (!configured) {
    dimse.Implementation.setImplementationClassUid(IMPLEMENTATION_CLASS_UID);
    dimse.Implementation.setImplementationVersion(IMPLEMENTATION_VERSION);
    dimse.Implementation.setMaxPduLength(MAX_PDU_LENGTH);
    configured = true;
  }
  // It logs every PDU at info (including association details): debug only, through our logger.
  const log = dimse.log;
  log.methodFactory = () => (...parts: unknown[]) => logger.debug(`dcmjs-dimse: ${parts.map(String).join(' ')}`);
  log.setLevel(logger.isDebugEnabled() ? 'debug' : 'silent');
}
