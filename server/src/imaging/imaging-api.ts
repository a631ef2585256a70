// The imaging cloud's own API beside DICOMweb, at /imaging: shares of a study (create, list,
// revoke), result recognition (MR-04), query/retrieve at a hospital PACS (/imaging/peers,
// pacs-api.ts), and the share links themselves — /imaging/shared/{token}/
// dicomweb/studies/{uid}/... opens read-only DICOMweb for that one study without an account.
import express, { Router, type Request } from 'express';
import type { AccessControl, Actor } from '../fhir/access/access-control.js';
import { VIEWER_PATH } from '../auth/built-in-clients.js';
import { Forbidden, Invalid, NotFound } from '../fhir/errors.js';
import { readableStudy, type DicomwebContext, type DicomwebServices } from './dicomweb/context.js';
import { dicomwebRoutes } from './dicomweb/routes.js';
import { pacsRoutes, type PacsGateway } from './pacs-api.js';
import { loadRecognition, parseRecognition, saveRecognition } from './recognition.js';
import type { ShareRequest } from './shares.js';

const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;
/** Who may share a study or mark it recognised: clinicians and institutions, not residents or the regulator. */
const SHARING_ROLES = new Set(['doctor', 'nurse', 'admin', 'institution']);
const RECOGNISING_ROLES = new Set(['doctor', 'admin', 'institution']);

export function imagingApiRoutes(contextFor: (req: Request) => DicomwebContext, pacs?: PacsGateway): Router {
  const router = Router();
  router.use(express.json({ limit: '64kb' }));
  // Query/retrieve at a hospital PACS (the configured DIMSE peers).
  if (pacs) router.use('/peers', pacsRoutes(contextFor, pacs));
  const studyOf = (req: Request) => {
    const uid = req.params.study as string;
    if (!UID.test(uid) || uid.length > 64) throw new Invalid(`'${uid.slice(0, 70)}' is not a Study Instance UID`);
    return uid;
  };
  const requireRole = (ctx: DicomwebContext, roles: Set<string>, what: string) => {
    if (!roles.has(ctx.access.actor.role ?? '')) throw new Forbidden(`Only ${[...roles].join(', ')} may ${what}`);
  };
  const actorName = (actor: Actor) => actor.user ?? actor.clientId ?? 'unknown';

  router.post('/studies/:study/shares', async (req, res) => {
    const ctx = contextFor(req);
    requireRole(ctx, SHARING_ROLES, 'share studies');
    // Sharing discloses the study: a read-only token (an app granted user/*.rs) may not.
    ctx.access.check('update', 'ImagingStudy');
    const study = await readableStudy(ctx, studyOf(req));
    const body = (req.body ?? {}) as Partial<ShareRequest>;
    const { share, token } = await ctx.shares.create({ ...body, studyUid: study.studyUid } as ShareRequest, actorName(ctx.access.actor));
    ctx.audit.record(ctx.access.actor, { kind: 'operation', type: 'ImagingStudy', id: study.imagingStudyId, outcome: 'success', patients: study.patientRef ? [study.patientRef] : [], detail: `share ${share.id} created (${share.kind}${share.recipient ? ` ${share.recipient}` : ''})` });
    const origin = ctx.base.replace(/\/dicomweb$/, '');
    // url: the shared study's DICOMweb base. viewerUrl: the viewer opening it, the token in the
    // fragment, which browsers never send to a server (so it stays out of logs and Referer).
    const links = token ? { url: `${origin}/imaging/shared/${token}/dicomweb/studies/${share.studyUid}`, viewerUrl: `${origin}${VIEWER_PATH}#/shared/${token}/${share.studyUid}` } : {};
    res.status(201).json({ ...share, ...links });
  });

  router.get('/studies/:study/shares', async (req, res) => {
    const ctx = contextFor(req);
    requireRole(ctx, SHARING_ROLES, 'list shares');
    const study = await readableStudy(ctx, studyOf(req));
    res.json(await ctx.shares.list(study.studyUid));
  });

  router.delete('/shares/:id', async (req, res) => {
    const ctx = contextFor(req);
    requireRole(ctx, SHARING_ROLES, 'revoke shares');
    ctx.access.check('update', 'ImagingStudy');
    const existing = await ctx.shares.get(req.params.id as string);
    if (!existing) throw new NotFound(`No share ${(req.params.id as string).slice(0, 40)}`);
    const study = await readableStudy(ctx, existing.studyUid);
    const share = await ctx.shares.revoke(req.params.id as string);
    ctx.audit.record(ctx.access.actor, { kind: 'operation', type: 'ImagingStudy', id: study.imagingStudyId, outcome: 'success', patients: study.patientRef ? [study.patientRef] : [], detail: `share ${share.id} revoked` });
    res.json(share);
  });

  router.put('/studies/:study/recognition', async (req, res) => {
    const ctx = contextFor(req);
    requireRole(ctx, RECOGNISING_ROLES, 'set result recognition (MR-04)');
    ctx.access.check('update', 'ImagingStudy');
    const study = await readableStudy(ctx, studyOf(req));
    const recognition = parseRecognition(req.body, ctx.access.actor.user ?? ctx.access.actor.organization ?? ctx.access.actor.clientId);
    const before = await loadRecognition(ctx.db, study.studyUid);
    await saveRecognition(ctx.db, study.studyUid, recognition);
    try {
      await ctx.linker.refresh(study.studyUid, ctx.base);
    } catch (err) {
      // The ImagingStudy could not carry the mark: the study keeps the one it had.
      await saveRecognition(ctx.db, study.studyUid, before ?? null);
      throw err;
    }
    ctx.audit.record(ctx.access.actor, { kind: 'update', type: 'ImagingStudy', id: study.imagingStudyId, outcome: 'success', patients: study.patientRef ? [study.patientRef] : [], detail: `recognition ${recognition.mark} ${recognition.qcStatus}` });
    res.json(recognition);
  });

  router.get('/studies/:study/recognition', async (req, res) => {
    const ctx = contextFor(req);
    const study = await readableStudy(ctx, studyOf(req));
    const recognition = await loadRecognition(ctx.db, study.studyUid);
    if (!recognition) throw new NotFound('This study carries no recognition mark');
    res.json(recognition);
  });
  return router;
}

/**
 * /imaging/shared/{token}/dicomweb/... — the DICOMweb read routes for the shared study, for
 * whoever holds the link (and its code, when it has one). Each request re-checks the share, so a
 * revocation or expiry takes effect at once; every access is audited under the share's id.
 */
export function sharedLinkRoutes(services: DicomwebServices, origin: (req: Request) => string): Router {
  const router = Router({ mergeParams: true });
  router.use(async (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new Forbidden('A share link only reads');
    const token = (req.params as Record<string, string>).token;
    const code = req.get('x-share-code') ?? new URL(req.originalUrl, 'http://x').searchParams.get('code') ?? undefined;
    const share = await services.shares.openLink(token, code);
    // So a viewer opened from the link can say until when it works.
    if (share.expiresAt) res.setHeader('X-Share-Expires', share.expiresAt);
    const access: AccessControl = {
      actor: { clientId: `share:${share.id}`, address: req.ip },
      check: (kind, type) => {
        if (type !== 'ImagingStudy' || !['read', 'search-type'].includes(kind)) throw new Forbidden('A share link only reads the shared study');
      },
      visiblePatients: async () => 'all',
      checkWrite: async () => {
        throw new Forbidden('A share link only reads');
      },
    };
    res.locals.shareContext = { ...services, access, base: `${origin(req)}/imaging/shared/${token}/dicomweb`, onlyStudy: share.studyUid } satisfies DicomwebContext;
    next();
  });
  router.use('/dicomweb', dicomwebRoutes((req) => req.res!.locals.shareContext as DicomwebContext));
  return router;
}
