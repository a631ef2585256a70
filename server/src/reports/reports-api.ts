// The reporting API beside the imaging cloud's, at /imaging: reading reports of a study (draft,
// sign, amend, versions) and reading assignments. It lives here rather than as plain FHIR writes
// because who may report follows who may read the study — its patient's care team, or a remote
// reader it was shared with — which the patient-compartment rules of FHIR writes cannot express;
// the reports themselves are FHIR DiagnosticReports, found with any FHIR search.
import express, { Router, type Request } from 'express';
import { Forbidden, Invalid, NotFound } from '../fhir/errors.js';
import { readableStudy, type DicomwebContext, type StudyAccess } from '../imaging/dicomweb/context.js';
import { parseMeasurements } from './image-measurements.js';
import type { MeasurementStore } from './measurement-store.js';
import { parseContent } from './reading-report.js';
import { ReadingAssignments } from './reading-assignments.js';
import type { ReadingReports } from './reading-reports.js';

const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** Who may assign a study to a reader: as for sharing it. */
const ASSIGNING_ROLES = new Set(['doctor', 'admin', 'institution']);

export function readingRoutes(contextFor: (req: Request) => DicomwebContext, reports: ReadingReports, assignments: ReadingAssignments, measurements: MeasurementStore): Router {
  const router = Router();
  router.use(express.json({ limit: '256kb' }));

  const studyOf = (ctx: DicomwebContext, req: Request) => {
    const uid = req.params.study as string;
    if (!UID.test(uid) || uid.length > 64) throw new Invalid(`'${uid.slice(0, 70)}' is not a Study Instance UID`);
    return readableStudy(ctx, uid);
  };
  /** The signed-in reader: a doctor acting as a Practitioner. */
  const readerOf = (ctx: DicomwebContext) => {
    const { role, user } = ctx.access.actor;
    if (role !== 'doctor' || !user?.startsWith('Practitioner/')) throw new Forbidden('Only doctors signed in as a Practitioner write reading reports');
    return user;
  };
  /** The report and its study, when the caller may read that study. */
  const reportOf = async (ctx: DicomwebContext, req: Request) => {
    const id = req.params.id as string;
    if (!ID.test(id)) throw new Invalid(`'${id.slice(0, 70)}' is not a report id`);
    const report = await reports.get(id);
    return { report, study: await studyById(ctx, report.imagingStudy?.[0]?.reference?.split('/')[1], `No reading report ${id}`) };
  };
  /** The study of an ImagingStudy id, when the caller may read it; NotFound(`missing`) otherwise. */
  const studyById = async (ctx: DicomwebContext, imagingStudyId: string | undefined, missing: string) => {
    const [row] = await ctx.db.query<{ study_uid: string }>('select study_uid from dicom_study where imaging_study_id = $1', [imagingStudyId ?? '']);
    if (!row) throw new NotFound(missing);
    return readableStudy(ctx, row.study_uid);
  };
  const ifMatch = (req: Request) => /^(?:W\/)?"?([A-Za-z0-9\-.]{1,64})"?$/.exec(req.get('if-match') ?? '')?.[1];
  const audit = (ctx: DicomwebContext, study: StudyAccess, kind: 'read' | 'create' | 'update' | 'operation', id: string | undefined, detail: string) =>
    ctx.audit.record(ctx.access.actor, { kind, type: 'DiagnosticReport', id, outcome: 'success', patients: study.patientRef ? [study.patientRef] : [], detail });

  router.get('/studies/:study/reports', async (req, res) => {
    const ctx = contextFor(req);
    ctx.access.check('search-type', 'DiagnosticReport');
    const study = await studyOf(ctx, req);
    const found = await reports.ofStudy(study);
    audit(ctx, study, 'read', undefined, `reading reports of study ${study.studyUid}: ${found.length}`);
    res.json({ reports: found });
  });

  router.post('/studies/:study/reports', async (req, res) => {
    const ctx = contextFor(req);
    ctx.access.check('create', 'DiagnosticReport');
    const reader = readerOf(ctx);
    const study = await studyOf(ctx, req);
    const report = await reports.createDraft(study, reader, parseContent(req.body));
    audit(ctx, study, 'create', report.id, 'reading report draft');
    res.status(201).location(`/fhir/DiagnosticReport/${report.id}`).json(report);
  });

  router.put('/reports/:id', async (req, res) => {
    const ctx = contextFor(req);
    ctx.access.check('update', 'DiagnosticReport');
    const reader = readerOf(ctx);
    const { study } = await reportOf(ctx, req);
    const report = await reports.updateDraft(req.params.id as string, reader, parseContent(req.body), ifMatch(req));
    audit(ctx, study, 'update', report.id, `reading report draft, version ${report.meta?.versionId}`);
    res.json(report);
  });

  router.post('/reports/:id/sign', async (req, res) => {
    const ctx = contextFor(req);
    ctx.access.check('update', 'DiagnosticReport');
    const reader = readerOf(ctx);
    const { study } = await reportOf(ctx, req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const amendment = body.findings !== undefined || body.impression !== undefined ? parseContent(body) : undefined;
    const signed = await reports.sign(req.params.id as string, reader, amendment, ifMatch(req));
    audit(ctx, study, 'operation', signed.report.id, `reading report signed (${signed.report.status}, version ${signed.report.meta?.versionId})`);
    res.json(signed);
  });

  router.get('/reports/:id/versions', async (req, res) => {
    const ctx = contextFor(req);
    ctx.access.check('history-instance', 'DiagnosticReport');
    const { study } = await reportOf(ctx, req);
    const versions = await reports.versions(req.params.id as string);
    audit(ctx, study, 'read', req.params.id as string, 'reading report versions');
    res.json({ versions });
  });

  router.get('/studies/:study/measurements', async (req, res) => {
    const ctx = contextFor(req);
    ctx.access.check('search-type', 'Observation');
    const study = await studyOf(ctx, req);
    const found = await measurements.ofStudy(study.imagingStudyId);
    ctx.audit.record(ctx.access.actor, { kind: 'read', type: 'Observation', outcome: 'success', patients: study.patientRef ? [study.patientRef] : [], detail: `image measurements of study ${study.studyUid}: ${found.length}` });
    res.json({ measurements: found });
  });

  router.post('/studies/:study/measurements', async (req, res) => {
    const ctx = contextFor(req);
    ctx.access.check('create', 'Observation');
    const reader = readerOf(ctx);
    const study = await studyOf(ctx, req);
    const saved = await measurements.save(study, reader, parseMeasurements(req.body));
    ctx.audit.record(ctx.access.actor, { kind: 'create', type: 'Observation', outcome: 'success', patients: study.patientRef ? [study.patientRef] : [], detail: `${saved.length} image measurement(s) of study ${study.studyUid}: ${saved.map((m) => m.id).join(', ')}` });
    res.status(201).json({ measurements: saved });
  });

  router.delete('/measurements/:id', async (req, res) => {
    const ctx = contextFor(req);
    ctx.access.check('update', 'Observation');
    const reader = readerOf(ctx);
    const id = req.params.id as string;
    if (!ID.test(id)) throw new Invalid(`'${id.slice(0, 70)}' is not a measurement id`);
    const study = await studyById(ctx, await measurements.studyOf(id), `No saved measurement ${id}`);
    await measurements.withdraw(id, reader);
    ctx.audit.record(ctx.access.actor, { kind: 'update', type: 'Observation', id, outcome: 'success', patients: study.patientRef ? [study.patientRef] : [], detail: 'image measurement withdrawn (entered-in-error)' });
    res.status(204).end();
  });

  router.post('/studies/:study/assignments', async (req, res) => {
    const ctx = contextFor(req);
    if (!ASSIGNING_ROLES.has(ctx.access.actor.role ?? '')) throw new Forbidden(`Only ${[...ASSIGNING_ROLES].join(', ')} may assign studies to readers`);
    ctx.access.check('create', 'Task');
    const study = await studyOf(ctx, req);
    const by = ctx.access.actor.user ?? ctx.access.actor.organization ?? ctx.access.actor.clientId ?? 'unknown';
    const task = await assignments.assign(study, ReadingAssignments.parse(req.body), by);
    ctx.audit.record(ctx.access.actor, { kind: 'create', type: 'Task', id: task.id, outcome: 'success', patients: study.patientRef ? [study.patientRef] : [], detail: `reading assignment of study ${study.studyUid} to ${task.owner?.reference}` });
    res.status(201).location(`/fhir/Task/${task.id}`).json(task);
  });

  /** The caller's open reading assignments (studies they can read), most urgent first. */
  router.get('/assignments', async (req, res) => {
    const ctx = contextFor(req);
    ctx.access.check('search-type', 'Task');
    const user = ctx.access.actor.user;
    if (!user?.startsWith('Practitioner/')) return void res.json({ assignments: [] });
    const open = [];
    for (const assignment of await assignments.openFor(user)) {
      const study = await readableStudy(ctx, assignment.studyUid).catch(() => undefined);
      if (!study) continue;
      ctx.audit.record(ctx.access.actor, { kind: 'read', type: 'Task', id: assignment.task.id, outcome: 'success', patients: study.patientRef ? [study.patientRef] : [], detail: 'reading assignment' });
      open.push(assignment);
    }
    res.json({ assignments: open });
  });
  return router;
}
