// Composition root: builds config-driven services and the express app. Nothing else.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import express, { type Express, type RequestHandler } from 'express';
import { sealPending } from './audit/chain-store.js';
import { createLogger, requestContext, type Logger } from './audit/logger.js';
import { AuditTrailWriter, storeAuditItems, type QueuedAudit } from './audit/trail.js';
import { bearerGuard, callerOf, type Caller } from './auth/guard.js';
import { discoveryRoutes, oauthRoutes } from './auth/oauth-routes.js';
import { CallerAccess } from './auth/policy.js';
import { AuthService } from './auth/service.js';
import { FULL_ACCESS, type AccessControl } from './fhir/access/access-control.js';
import { PatientCompartment } from './fhir/access/compartment.js';
import { Unauthorized } from './fhir/errors.js';
import { corsAllowList } from './http/cors.js';
import { securityHeaders } from './http/security-headers.js';
import type { Config } from './config/config.js';
import type { Database } from './db/database.js';
import { openDatabase } from './db/open.js';
import { buildCapabilityStatement } from './fhir/capability.js';
import { loadR4Definitions } from './fhir/definitions.js';
import { NotFound } from './fhir/errors.js';
import { fhirErrorHandler } from './fhir/http/error-handler.js';
import type { InteractionContext } from './fhir/interactions.js';
import { loadProjectProfiles } from './fhir/profiles.js';
import { loadStoredSearchParameters } from './fhir/custom-search-parameters.js';
import { failInterruptedReindexes } from './fhir/reindex.js';
import { FhirRepository } from './fhir/repository.js';
import { fhirRoutes } from './fhir/routes.js';
import { SearchParameterRegistry } from './fhir/search/parameters.js';
import { R4Validator } from './fhir/validation.js';
import { FileBlobStore } from './imaging/blob-store.js';
import { dicomwebRoutes } from './imaging/dicomweb/routes.js';
import type { DicomwebServices } from './imaging/dicomweb/context.js';
import { imagingApiRoutes, sharedLinkRoutes } from './imaging/imaging-api.js';
import { DimseServer } from './imaging/dimse/server.js';
import { answerClientErrors, MAX_HEADER_BYTES } from './http/client-errors.js';
import { ImagingStudyLinker } from './imaging/imaging-study.js';
import { DicomIngest } from './imaging/ingest.js';
import { ShareService } from './imaging/shares.js';
import { Federation } from './federation/federation.js';
import { federationOperations } from './federation/operations.js';
import { mpiOperations } from './federation/mpi/operations.js';
import { OperationRegistry } from './fhir/module-operations.js';
import { hospitalOperations, hospitalWriteRules, type HospitalDeps } from './hospital/index.js';
import { VisitLive } from './hospital/consultation/visit-live.js';
import { attachVisitSockets } from './hospital/consultation/visit-socket.js';
import { consultRelationships } from './hospital/teleconsult/index.js';
import { pharmacyRelationships } from './hospital/prescriptions/access.js';
import { hospiceOperations } from './modules/hospice/index.js';
import { familyDoctorOperations, familyDoctorRelationships, familyDoctorWriteRules, type FamilyDoctorDeps } from './modules/family-doctor/index.js';
import { attachDutyDeskSockets, DutyDesk, homeNursingOperations, homeNursingWriteRules, providerRelationships, type HomeNursingDeps } from './modules/home-nursing/index.js';
import { DocumentSigner } from './reports/document-signer.js';
import { MeasurementStore } from './reports/measurement-store.js';
import { readingReportWriteRule } from './reports/reading-report.js';
import { ReadingAssignments } from './reports/reading-assignments.js';
import { ReadingReports } from './reports/reading-reports.js';
import { readingRoutes } from './reports/reports-api.js';
import { BulkExports } from './fhir/bulk/export-jobs.js';
import { bulkJobRoutes, exportOperation } from './fhir/bulk/export-api.js';
import { viewerStaticRoutes } from './viewer/static-routes.js';

import { VERSION } from './version.js';

export { VERSION };

export interface Hub {
  config: Config;
  app: Express;
  db: Database;
  repo: FhirRepository;
  logger: Logger;
  auth: AuthService;
  audit: AuditTrailWriter;
  imaging: DicomwebServices;
  federation: Federation;
  /** The internet hospital's dependencies, its clock among them (tests move it on to reach "after the visit"). */
  hospital: HospitalDeps;
  /** The InteractionContext for in-process callers (import, demo loader, modules): full access. */
  context(base: string, access?: AccessControl): InteractionContext;
  /** Starts HTTP and, when config.dimse.port is set, the DICOM DIMSE listener. */
  listen(): Promise<{ server: Server; url: string; dimsePort?: number }>;
  /** The bound DIMSE port once listening (undefined when DIMSE is off). */
  dimsePort(): number | undefined;
  close(): Promise<void>;
}

export interface HubOptions {
  logger?: Logger;
  onProgress?: (line: string) => void;
  /** With dataDir 'memory://': the embedded database starts from this image (`pgliteImage()`). */
  pgliteImage?: Blob;
}

// How often queued AuditEvents are linked into the hash chain.
const SEAL_INTERVAL_MS = 500;

export async function createHub(config: Config, options: HubOptions = {}): Promise<Hub> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const definitions = loadR4Definitions();
  const profiles = loadProjectProfiles(config.profilesDir);
  const registry = new SearchParameterRegistry(definitions.resourceTypes, definitions.searchParameters);
  for (const sp of profiles.searchParameters) registry.add(sp);
  const validator = new R4Validator(profiles.structureDefinitions);

  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    // dataDir 'memory://' keeps the embedded database in memory (tests, throwaway runs).
    pgliteDir: config.databaseUrl || config.dataDir === 'memory://' ? undefined : `${config.dataDir}/pglite`,
    pgliteImage: options.pgliteImage,
    onProgress: options.onProgress,
  });
  const repo = new FhirRepository(db, registry, validator);
  const customParameters = await loadStoredSearchParameters(repo);
  if (customParameters) logger.info(`loaded ${customParameters} stored SearchParameter(s)`);
  const interrupted = await failInterruptedReindexes(repo);
  if (interrupted) logger.warn(`${interrupted} $reindex job(s) were cut short by the last stop; their Tasks are marked failed`);
  const compartment = new PatientCompartment(registry);
  const storeAuditEvents = (items: QueuedAudit[]) => repo.transaction((tx) => storeAuditItems(tx, items));
  const audit = new AuditTrailWriter(storeAuditEvents, logger, { observer: { display: 'Suhe hub', base: config.publicBaseUrl ?? 'urn:suhe:hub' } });
  const federation = new Federation({ db, repo, validator, compartment, audit, logger });
  const exportRoot = config.dataDir === 'memory://' ? await mkdtemp(join(tmpdir(), 'suhe-export-')) : join(config.dataDir, 'bulk-export');
  const exports = new BulkExports(db, exportRoot, compartment, logger, audit);
  const hospital: HospitalDeps = {
    clock: { now: () => new Date() },
    live: new VisitLive(),
    db,
    repo,
    rules: config.rules,
    samePerson: (ids) => federation.samePerson(ids),
    logger,
    identityOf: async (id) => (await auth.users.get(id))?.identity,
  };
  // The community-care modules share the hospital's clock (tests move one clock for all).
  const familyDoctor: FamilyDoctorDeps = { repo, clock: hospital.clock, samePerson: hospital.samePerson, personKeys: (ids) => federation.personKeys(ids) };
  const homeNursing: HomeNursingDeps = { repo, clock: hospital.clock, desk: new DutyDesk() };
  const operations = new OperationRegistry().add(
    exportOperation(exports), ...federationOperations(federation), ...mpiOperations(federation), ...hospitalOperations(hospital), ...familyDoctorOperations(familyDoctor), ...hospiceOperations({ repo, clock: hospital.clock }),
    ...homeNursingOperations(homeNursing),
  );
  const writeRules = [readingReportWriteRule, ...hospitalWriteRules(hospital), ...familyDoctorWriteRules(), ...homeNursingWriteRules()];
  const patientLinks = federation.patientLinks();
  const context = (base: string, access: AccessControl = FULL_ACCESS): InteractionContext => ({
    repo, base, limits: config.search, validator, access, compartment, audit, operations, patientLinks, writeRules,
  });
  const auth = new AuthService(
    db,
    { ...config.auth, codeSeconds: 60, publicBaseUrl: config.publicBaseUrl },
    (event) => audit.recordAuth(event),
  );
  await auth.start(config.bootstrapClient);
  // DICOM objects live beside the embedded database; a throwaway hub keeps them in a temp dir.
  const blobRoot = config.dataDir === 'memory://' ? await mkdtemp(join(tmpdir(), 'suhe-blobs-')) : join(config.dataDir, 'blobs');
  const blobs = await FileBlobStore.open(blobRoot);
  const imaging: DicomwebServices = { db, blobs, ingest: new DicomIngest(db, blobs, logger), linker: new ImagingStudyLinker(db, repo), audit, logger, shares: new ShareService(db) };
  const assignments = new ReadingAssignments(repo, db, imaging.shares);
  const reports = new ReadingReports(repo, await DocumentSigner.open(db), assignments, config.publicBaseUrl ?? 'urn:suhe:hub');
  const sealer = setInterval(() => void sealPending(db).catch((err) => logger.error('audit chain sealing failed', { error: (err as Error).message })), SEAL_INTERVAL_MS);
  sealer.unref();
  const accessFor = (req: express.Request): AccessControl => {
    const caller = callerOf(req);
    if (!caller) throw new Unauthorized('An access token is required');
    return accessForCaller(caller);
  };
  const accessForCaller = (caller: Caller): AccessControl =>
    new CallerAccess(caller, {
      repo,
      compartment,
      identityOf: async (id) => (await auth.users.get(id))?.identity,
      samePerson: (ids) => federation.samePerson(ids),
      // TM: an accepted teleconsultation; IH-05: the pharmacy of an open prescription; FD-02: a
      // family-doctor contract in force; NU-06: the provider of an open home-nursing order.
      relationships: async (actors) => [
        ...(await consultRelationships(repo, actors)), ...(await pharmacyRelationships(repo, actors)), ...(await familyDoctorRelationships(familyDoctor, actors)),
        ...(await providerRelationships(repo, actors)),
      ],
    });

  let capability: unknown;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', false);
  // Versioned reads set their own ETag (W/"versionId"); express would otherwise hash every other
  // response body (search pages, Bundles) to make one nobody uses.
  app.set('etag', false);
  app.use(requestIds(logger));
  app.use(securityHeaders());
  if (config.corsOrigins.length) app.use(corsAllowList(config.corsOrigins));
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    try {
      await db.query('select 1');
      res.json({ status: 'ready', database: db.kind });
    } catch (err) {
      res.status(503).json({ status: 'unavailable', database: db.kind, error: (err as Error).message });
    }
  });
  app.use(discoveryRoutes(auth));
  app.use('/oauth2', oauthRoutes({ auth, rateLimit: config.auth.rateLimit, adminFhir: (req) => context(auth.urls(req).fhirBase) }));
  const guard = (prefix: string) =>
    bearerGuard({
      tokens: auth.tokens,
      urls: (req) => auth.urls(req),
      onRejected: (req, reason) => audit.recordAuth({ action: 'denied', outcome: 'minor-failure', outcomeDescription: `${req.method} ${prefix}${req.path}: ${reason}`, client: { id: 'unauthenticated', address: req.ip } }),
    });
  app.use(
    '/fhir',
    guard(''),
    bulkJobRoutes(exports, (req) => callerOf(req)?.claims.client_id, config.publicBaseUrl),
    fhirRoutes({
      context: (base, req) => context(base, accessFor(req)),
      capabilityStatement: (base) => (capability ??= buildCapabilityStatement(registry, base, validator.knownProfiles(), VERSION, operations)),
      bodyLimitBytes: config.bodyLimitBytes,
      publicBaseUrl: config.publicBaseUrl,
    }),
  );
  const imagingContext = (req: express.Request) => ({ ...imaging, access: accessFor(req), base: `${auth.urls(req).origin}/dicomweb` });
  app.use('/dicomweb', guard('/dicomweb'), dicomwebRoutes(imagingContext));
  // Share links open without an account (the link is the credential); everything else needs a token.
  app.use('/imaging/shared/:token', sharedLinkRoutes(imaging, (req) => auth.urls(req).origin));
  app.use('/imaging', guard('/imaging'), imagingApiRoutes(imagingContext, { dimse: config.dimse, listening: () => dimse?.port !== undefined }), readingRoutes(imagingContext, reports, assignments, new MeasurementStore(repo, db)));
  // The browser viewer (static files; it signs in as the built-in client suhe-viewer).
  app.use(viewerStaticRoutes());
  app.use((req) => {
    throw new NotFound(`No route for ${req.method} ${req.path}`);
  });
  app.use(fhirErrorHandler(logger));

  let server: Server | undefined;
  let dimse: DimseServer | undefined;
  let closeVisitSockets: (() => Promise<void>) | undefined;
  let closeDutyDeskSockets: (() => Promise<void>) | undefined;
  return {
    config,
    app,
    db,
    repo,
    logger,
    auth,
    audit,
    imaging,
    federation,
    hospital,
    context,
    listen: async () => {
      federation.startScheduler();
      const listening = await new Promise<{ server: Server; url: string }>((resolve, reject) => {
        // Request lines up to 64 KiB (Node's default is 16): the hub's own `next` links repeat a
        // search of up to MAX_QUERY_CHARACTERS and must be followable.
        const s = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, app);
        answerClientErrors(s);
        s.listen(config.port, config.host, () => {
          server = s;
          const { port } = s.address() as AddressInfo;
          resolve({ server: s, url: `http://${config.host}:${port}` });
        });
        s.on('error', reject);
      });
      closeVisitSockets = attachVisitSockets(listening.server, {
        hospital,
        accessForToken: async (token, req) => {
          // The hub's URLs as this request reached it (the token's issuer and audience).
          const urls = auth.urls({ protocol: 'http', get: (name: string) => req.headers[name.toLowerCase()] } as unknown as express.Request);
          const { claims } = await auth.tokens.verify(token, urls.issuer, urls.fhirBase);
          return claims ? accessForCaller({ claims, address: req.socket.remoteAddress }) : undefined;
        },
        context: (access, req) => context(`${auth.urls({ protocol: 'http', get: (name: string) => req.headers[name.toLowerCase()] } as unknown as express.Request).fhirBase}`, access),
      });
      // NU-08: the providers' duty desks, where a nurse's alarm arrives at once.
      closeDutyDeskSockets = attachDutyDeskSockets(listening.server, {
        desk: homeNursing.desk,
        accessForToken: async (token, req) => {
          const urls = auth.urls({ protocol: 'http', get: (name: string) => req.headers[name.toLowerCase()] } as unknown as express.Request);
          const { claims } = await auth.tokens.verify(token, urls.issuer, urls.fhirBase);
          return claims ? accessForCaller({ claims, address: req.socket.remoteAddress }) : undefined;
        },
        context: (access, req) => context(`${auth.urls({ protocol: 'http', get: (name: string) => req.headers[name.toLowerCase()] } as unknown as express.Request).fhirBase}`, access),
      });
      if (config.dimse.port === undefined) return listening;
      // ImagingStudy endpoints name the hub's DICOMweb root, as a DICOMweb request would see it.
      const dicomwebBase = config.publicBaseUrl ? `${config.publicBaseUrl.replace(/\/$/, '').replace(/\/fhir$/, '')}/dicomweb` : `${listening.url}/dicomweb`;
      dimse = new DimseServer(config.dimse, imaging, () => dicomwebBase);
      return { ...listening, dimsePort: await dimse.listen(config.host) };
    },
    dimsePort: () => dimse?.port,
    async close() {
      await closeVisitSockets?.();
      await closeDutyDeskSockets?.();
      await dimse?.close();
      await federation.close();
      await exports.close();
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      server?.closeAllConnections?.();
      await imaging.ingest.close();
      clearInterval(sealer);
      await audit.close();
      await sealPending(db).catch(() => 0);
      await db.close();
      if (config.dataDir === 'memory://') await rm(blobRoot, { recursive: true, force: true });
      if (config.dataDir === 'memory://') await rm(exportRoot, { recursive: true, force: true });
    },
  };
}

/**
 * A request's path as the log may keep it: without the query (names and identifiers are patient
 * data) and without a share link's token (it is the credential that opens the study).
 */
export function loggablePath(url: string): string {
  return url.split('?')[0].replace(/^\/imaging\/shared\/[^/]+/, '/imaging/shared/[token]');
}

/** Gives each request an id (or keeps the caller's X-Request-Id) and logs one line per request. */
function requestIds(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    const requestId = given && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      requestContext.run({ requestId }, () => {
        // The path only: query strings can hold names and identifiers (patient data).
        logger.info('request', { method: req.method, path: loggablePath(req.originalUrl), status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 });
      });
    });
    requestContext.run({ requestId }, next);
  };
}

