// /imaging/peers: the hub queries and retrieves from a hospital PACS (a configured DIMSE peer).
// GET lists the peers; POST .../find runs a Study Root C-FIND there and answers DICOM JSON, as
// QIDO-RS would; POST .../retrieve asks the peer to C-MOVE a study (or a series) to the hub's
// own AE title — the instances come in through the hub's DIMSE listener like any C-STORE — and
// answers once the peer reports the move complete, with the counts and the study's RetrieveURL
// here. For doctors, institutions and administrators; every call is audited.
import { Router, type Request, type Response } from 'express';
import type { Config, DimsePeer } from '../config/config.js';
import { FhirError, Forbidden, Invalid, NotFound, Conflict } from '../fhir/errors.js';
import type { DicomwebContext } from './dicomweb/context.js';
import { FIND_TIMEOUT_MS, findAtPeer, InvalidQuery, MOVE_TIMEOUT_MS, moveFromPeer, REMOTE_LEVELS, RemoteError, type MoveResult, type RemoteLevel, type RemoteOptions } from './dimse/remote.js';
import { isUid } from './dimse/part10.js';

export interface PacsGateway {
  dimse: Config['dimse'];
  /** Whether the hub's DIMSE listener is up: a C-MOVE to the hub needs it. */
  listening(): boolean;
  /** Overall bounds (ms); defaults: a query 60 s, a retrieve 15 min. */
  findTimeoutMs?: number;
  moveTimeoutMs?: number;
}

const PACS_ROLES = new Set(['admin', 'institution', 'doctor']);
const DEFAULT_LIMIT = 200;
const MAX_LIMIT = 1000;

export function pacsRoutes(contextFor: (req: Request) => DicomwebContext, gateway: PacsGateway): Router {
  const router = Router();
  const contextWithRole = (req: Request, what: string) => {
    const ctx = contextFor(req);
    if (!PACS_ROLES.has(ctx.access.actor.role ?? '')) throw new Forbidden(`Only ${[...PACS_ROLES].join(', ')} may ${what}`);
    return ctx;
  };
  const peerOf = (req: Request): DimsePeer => {
    const ae = String(req.params.ae ?? '');
    const peer = gateway.dimse.peers.find((p) => p.aeTitle === ae);
    if (!peer) throw new NotFound(`No DIMSE peer '${ae.slice(0, 16)}' is configured`);
    if (!peer.port) throw new Conflict(`${peer.aeTitle} has no port configured: it may send to the hub, the hub cannot query it`);
    return peer;
  };
  const options = (res: Response, timeoutMs: number): RemoteOptions => {
    // A caller that goes away cancels the operation at the peer (C-CANCEL).
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    return {
      connectTimeoutMs: gateway.dimse.associationTimeoutSeconds * 1000,
      idleTimeoutMs: gateway.dimse.idleTimeoutSeconds * 1000,
      timeoutMs,
      signal: controller.signal,
    };
  };

  router.get('/', (req, res) => {
    contextWithRole(req, 'list the DIMSE peers');
    res.json(gateway.dimse.peers.map((p) => ({ aeTitle: p.aeTitle, host: p.host, port: p.port })));
  });

  router.post('/:ae/find', async (req, res) => {
    const ctx = contextWithRole(req, 'query a PACS');
    ctx.access.check('search-type', 'ImagingStudy');
    const peer = peerOf(req);
    const body = objectBody(req.body, ['level', 'query', 'fields', 'limit']);
    const level = levelOf(body.level);
    const query = queryOf(body.query);
    const fields = fieldsOf(body.fields);
    const limit = limitOf(body.limit);
    const described = `level=${level}&${Object.entries(query).map(([k, v]) => `${k}=${v}`).join('&')}`.slice(0, 2000);
    const audit = (outcome: 'success' | 'failed', detail: string) =>
      ctx.audit.record(ctx.access.actor, { kind: 'search-type', type: 'ImagingStudy', outcome, detail, patients: [], query: described, dicomEvent: 'query' });
    try {
      const result = await findAtPeer(peer, gateway.dimse.aeTitle, level, query, { ...options(res, gateway.findTimeoutMs ?? FIND_TIMEOUT_MS), maxResults: limit, fields });
      audit('success', `C-FIND at ${peer.aeTitle} (${level}): ${result.matches.length} match(es)${result.truncated ? ', cut short' : ''}`);
      if (result.truncated) res.setHeader('Warning', `299 suhe "More than ${limit} matches at ${peer.aeTitle}: the query was cancelled after ${result.matches.length}; narrow it or raise limit (at most ${MAX_LIMIT})"`);
      res.status(200).type('application/dicom+json').send(JSON.stringify(result.matches));
    } catch (err) {
      if (err instanceof InvalidQuery) throw new Invalid(err.message);
      audit('failed', `C-FIND at ${peer.aeTitle} (${level}): ${(err as Error).message}`);
      throw httpError(err);
    }
  });

  router.post('/:ae/retrieve', async (req, res) => {
    const ctx = contextWithRole(req, 'retrieve from a PACS');
    // The retrieved study is written into the hub.
    ctx.access.check('create', 'ImagingStudy');
    const peer = peerOf(req);
    const body = objectBody(req.body, ['studyUid', 'seriesUid']);
    const studyUid = uidOf(body.studyUid, 'studyUid', true)!;
    const seriesUid = uidOf(body.seriesUid, 'seriesUid', false);
    if (!gateway.listening()) throw new Conflict(`The hub's DIMSE listener is off (start it with --dimse-port): ${peer.aeTitle} would have nowhere to send the study`);
    const what = `C-MOVE from ${peer.aeTitle} to ${gateway.dimse.aeTitle} of study ${studyUid}${seriesUid ? `, series ${seriesUid}` : ''}`;
    let result: MoveResult;
    try {
      result = await moveFromPeer(peer, gateway.dimse.aeTitle, { studyUid, seriesUid }, options(res, gateway.moveTimeoutMs ?? MOVE_TIMEOUT_MS));
    } catch (err) {
      if (err instanceof InvalidQuery) throw new Invalid(err.message);
      ctx.audit.record(ctx.access.actor, { kind: 'operation', type: 'ImagingStudy', outcome: 'failed', patients: [], detail: `${what}: ${(err as Error).message}` });
      throw httpError(err);
    }
    // Each instance was stored before the peer counted it: the index has them. The listener
    // refreshes the ImagingStudy when the peer's association ends; refresh it now too, so the
    // answer and what follows it see the study whole.
    const study = await storedStudy(ctx, studyUid);
    let patient = study?.patient_ref ?? undefined;
    if (study) patient = (await ctx.linker.refresh(studyUid, ctx.base)) ?? patient;
    const counts = `${result.completed} completed, ${result.failed} failed, ${result.warning} warning (status ${hex(result.status)})`;
    const arrived = result.completed + result.warning;
    if (!study || arrived === 0) {
      ctx.audit.record(ctx.access.actor, { kind: 'operation', type: 'ImagingStudy', outcome: 'failed', patients: patient ? [patient] : [], detail: `${what}: nothing arrived; ${counts}` });
      if (result.failed === 0 && result.status === 0) throw new NotFound(`${peer.aeTitle} has no instances of study ${studyUid}${seriesUid ? `, series ${seriesUid}` : ''}`);
      throw new FhirError(502, 'exception', `${peer.aeTitle} sent nothing: ${counts}${result.errorComment ? ` — ${result.errorComment}` : ''}`);
    }
    const outcome = result.status === 0 && result.failed === 0 ? 'success' : result.status === 0xfe00 ? 'cancelled' : 'partial';
    ctx.audit.record(ctx.access.actor, {
      kind: 'operation',
      type: 'ImagingStudy',
      id: study.imaging_study_id,
      outcome: outcome === 'success' ? 'success' : 'failed',
      patients: patient ? [patient] : [],
      detail: `${what}: ${counts}`,
      dicomEvent: 'instances-transferred',
    });
    const after = await storedStudy(ctx, studyUid);
    res.status(200).json({
      peer: peer.aeTitle,
      studyUid,
      ...(seriesUid ? { seriesUid } : {}),
      outcome,
      status: hex(result.status),
      completed: result.completed,
      failed: result.failed,
      warning: result.warning,
      ...(result.remaining ? { remaining: result.remaining } : {}),
      ...(result.failedUids.length ? { failedSOPInstanceUIDs: result.failedUids } : {}),
      ...(result.errorComment ? { errorComment: result.errorComment } : {}),
      retrieveUrl: `${ctx.base}/studies/${studyUid}`,
      imagingStudy: `ImagingStudy/${study.imaging_study_id}`,
      instancesOnHub: Number(after?.instance_count ?? study.instance_count),
    });
  });
  return router;
}

async function storedStudy(ctx: DicomwebContext, studyUid: string) {
  const [row] = await ctx.db.query<{ imaging_study_id: string; patient_ref: string | null; instance_count: number }>('select imaging_study_id, patient_ref, instance_count from dicom_study where study_uid = $1', [studyUid]);
  return row;
}

function httpError(err: unknown): Error {
  if (!(err instanceof RemoteError)) return err as Error;
  switch (err.kind) {
    case 'timeout':
      return new FhirError(504, 'timeout', err.message);
    case 'aborted':
      return new FhirError(503, 'transient', err.message);
    case 'not-supported':
      return new FhirError(502, 'not-supported', err.message);
    case 'unreachable':
      return new FhirError(502, 'transient', err.message);
    default:
      // rejected association, failure status
      return new FhirError(502, 'exception', err.message);
  }
}

const hex = (status: number) => `0x${status.toString(16).padStart(4, '0').toUpperCase()}`;

function objectBody(body: unknown, allowed: string[]): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Invalid(`The body must be a JSON object with ${allowed.join(', ')}`);
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length) throw new Invalid(`Unknown propert${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((k) => `'${k.slice(0, 40)}'`).join(', ')}; expected ${allowed.join(', ')}`);
  return body as Record<string, unknown>;
}

function levelOf(value: unknown): RemoteLevel {
  if (value === undefined) return 'STUDY';
  const level = typeof value === 'string' ? value.trim().toUpperCase() : '';
  if (level === 'PATIENT') throw new Invalid('The hub queries PACS in the Study Root model: level must be STUDY, SERIES or IMAGE');
  if (!REMOTE_LEVELS.includes(level as RemoteLevel)) throw new Invalid(`level must be one of ${REMOTE_LEVELS.join(', ')}`);
  return level as RemoteLevel;
}

function queryOf(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Invalid('query must be an object of DICOM keywords (or tags) and match values, e.g. {"PatientID": "123", "StudyDate": "20230101-"}');
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new Invalid(`query.${key.slice(0, 64)} must be a string ("" to have it returned without matching)`);
  }
  return value as Record<string, string>;
}

function fieldsOf(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((f) => typeof f !== 'string')) throw new Invalid('fields must be an array of DICOM keywords or tags to return');
  return value as string[];
}

function limitOf(value: unknown): number {
  if (value === undefined) return DEFAULT_LIMIT;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_LIMIT) throw new Invalid(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  return value;
}

function uidOf(value: unknown, name: string, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || !isUid(value)) throw new Invalid(`${name} must be a DICOM UID (digits and dots, at most 64 characters)${required ? '' : ' when given'}`);
  return value;
}
