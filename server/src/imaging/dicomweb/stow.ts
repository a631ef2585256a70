// STOW-RS (PS3.18 §10.5): a multipart/related body of application/dicom parts, read as a stream
// (one part at a time into the blob store's staging area, never a whole body in memory). The
// answer lists each instance as stored (ReferencedSOPSequence) or failed with its reason
// (FailedSOPSequence): 200 all stored, 202 some, 409 none; 415 for other media types.
import type { Request, Response } from 'express';
import { Forbidden, Invalid, UnsupportedMediaType } from '../../fhir/errors.js';
import { MultipartError, parseMultipartContentType, readMultipart } from '../multipart.js';
import type { PreparedInstance, StoreOutcome } from '../ingest.js';
import type { DicomwebContext } from './context.js';

type Stored = Extract<StoreOutcome, { ok: true }>;
type Failed = Extract<StoreOutcome, { ok: false }>;

const UNSUPPORTED_PART = 0xc000;
const INDEX_BATCH = 32;

export async function stow(ctx: DicomwebContext, req: Request, res: Response, studyUid?: string): Promise<void> {
  ctx.access.check('create', 'ImagingStudy');
  let contentType: ReturnType<typeof parseMultipartContentType>;
  try {
    contentType = parseMultipartContentType(req.get('content-type'));
  } catch (err) {
    throw new UnsupportedMediaType(`STOW-RS: ${(err as Error).message}`);
  }
  if (contentType.type && contentType.type !== 'application/dicom') {
    throw new UnsupportedMediaType(`STOW-RS here accepts type="application/dicom" parts (Part 10 objects), not "${contentType.type}"`);
  }
  const stored: Stored[] = [];
  const failed: Failed[] = [];
  // Instances are made durable one by one as their parts arrive, and indexed in batches: one
  // database commit per batch rather than per instance.
  const pending: PreparedInstance[] = [];
  const flush = async () => {
    for (const outcome of await ctx.ingest.index(pending.splice(0))) (outcome.ok ? stored : failed).push(outcome as never);
  };
  try {
    for await (const part of readMultipart(req, contentType.boundary)) {
      // A part without its own Content-Type has the body's type (application/dicom when none is named).
      const media = (part.headers['content-type'] || contentType.type || 'application/dicom').split(';')[0].trim().toLowerCase();
      if (media !== 'application/dicom') {
        for await (const _ of part.body); // skip it
        failed.push({ ok: false, code: UNSUPPORTED_PART, reason: `A part of type '${media || 'none'}' is not a DICOM object (application/dicom)` });
        continue;
      }
      const prepared = await ctx.ingest.prepare(part.body, { expectedStudyUid: studyUid, authorize: (record) => authorizeStore(ctx, record.patient.id) });
      if (!prepared.ok) failed.push(prepared);
      else if (pending.push(prepared.instance) >= INDEX_BATCH) await flush();
    }
  } catch (err) {
    // The instances that arrived whole are kept, their studies brought up to date and audited.
    await flush();
    auditStored(ctx, stored, await refreshStudies(ctx, stored));
    if (req.destroyed || (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
      // The sender went away mid-upload: nobody is left to answer, and nothing went wrong here.
      ctx.logger.info('STOW-RS: the client closed the connection mid-upload; the instances that arrived whole are kept', { stored: stored.length });
      return;
    }
    if (err instanceof MultipartError) throw new Invalid(`STOW-RS body: ${err.message}`);
    throw err;
  }
  await flush();
  if (!stored.length && !failed.length) throw new Invalid('STOW-RS: the body holds no parts; send one application/dicom part per instance');
  auditStored(ctx, stored, await refreshStudies(ctx, stored));
  const status = failed.length === 0 ? 200 : stored.length === 0 ? 409 : 202;
  res.status(status).type('application/dicom+json').send(JSON.stringify(stowResponse(ctx.base, stored, failed, studyUid)));
}

/** One AuditEvent per study stored into, naming its patient. */
function auditStored(ctx: DicomwebContext, stored: Stored[], studies: Map<string, string | undefined>): void {
  for (const [uid, patient] of studies) {
    const instances = stored.filter((s) => s.record.studyUid === uid).length;
    ctx.audit.record(ctx.access.actor, { kind: 'create', type: 'ImagingStudy', outcome: 'success', patients: patient ? [patient] : [], detail: `STOW-RS: ${instances} instance(s) of study ${uid}`, dicomEvent: 'instances-transferred' });
  }
}

/** Updates the ImagingStudy of each study stored into; returns each study's patient. */
async function refreshStudies(ctx: DicomwebContext, stored: Stored[]): Promise<Map<string, string | undefined>> {
  const studies = new Map<string, string | undefined>();
  for (const uid of new Set(stored.map((s) => s.record.studyUid))) {
    try {
      studies.set(uid, await ctx.linker.refresh(uid, ctx.base));
    } catch (err) {
      // The instances are stored and findable; the ImagingStudy catches up at the study's next
      // store. Failing the request here would tell the sender to resend what it need not.
      ctx.logger.error('refreshing an ImagingStudy after STOW-RS failed', { studyUid: uid, error: (err as Error).message });
      studies.set(uid, undefined);
    }
  }
  return studies;
}

/** Callers who may see only some patients may store only studies of patients they may see. */
async function authorizeStore(ctx: DicomwebContext, patientId: string | undefined): Promise<void> {
  const visible = await ctx.access.visiblePatients();
  if (!Array.isArray(visible)) return;
  const patient = patientId ? await ctx.linker.findPatient(patientId) : undefined;
  if (!patient || !visible.includes(patient)) {
    throw new Forbidden('This caller may store studies only of patients they care for; the Patient ID of this instance is not one of them');
  }
}

function stowResponse(base: string, stored: Stored[], failed: Failed[], studyUid?: string): Record<string, unknown> {
  const studies = new Set(stored.map((s) => s.record.studyUid));
  const response: Record<string, unknown> = {};
  const study = studyUid ?? (studies.size === 1 ? [...studies][0] : undefined);
  if (study) response['00081190'] = { vr: 'UR', Value: [`${base}/studies/${study}`] };
  if (failed.length) {
    response['00081198'] = {
      vr: 'SQ',
      Value: failed.map((f) => ({
        ...(f.sopClassUid ? { '00081150': { vr: 'UI', Value: [f.sopClassUid] } } : {}),
        ...(f.sopInstanceUid ? { '00081155': { vr: 'UI', Value: [f.sopInstanceUid] } } : {}),
        '00081197': { vr: 'US', Value: [f.code] },
        // Why, in words (Failure Reason is only a number): Text Value.
        '0040A160': { vr: 'UT', Value: [f.reason] },
      })),
    };
  }
  if (stored.length) {
    response['00081199'] = {
      vr: 'SQ',
      Value: stored.map((s) => ({
        '00081150': { vr: 'UI', Value: [s.record.sopClassUid] },
        '00081155': { vr: 'UI', Value: [s.record.sopInstanceUid] },
        '00081190': { vr: 'UR', Value: [`${base}/studies/${s.record.studyUid}/series/${s.record.seriesUid}/instances/${s.record.sopInstanceUid}`] },
      })),
    };
  }
  return response;
}
