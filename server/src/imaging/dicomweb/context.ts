// What every DICOMweb handler works with, per request: the stores, the caller's access and the
// audit trail. Reads are scoped to the studies the caller may see (the study's patient
// compartment) and each one is audited.
import type { Logger } from '../../audit/logger.js';
import type { Database } from '../../db/database.js';
import { canSee, type AccessControl } from '../../fhir/access/access-control.js';
import type { AuditTrail } from '../../fhir/access/audit-trail.js';
import { NotFound } from '../../fhir/errors.js';
import type { BlobStore } from '../blob-store.js';
import type { ImagingStudyLinker } from '../imaging-study.js';
import type { DicomIngest } from '../ingest.js';
import type { ShareService } from '../shares.js';

export interface DicomwebServices {
  db: Database;
  blobs: BlobStore;
  ingest: DicomIngest;
  linker: ImagingStudyLinker;
  audit: AuditTrail;
  logger: Logger;
  shares: ShareService;
}

export interface DicomwebContext extends DicomwebServices {
  access: AccessControl;
  /** This request's DICOMweb root URL (…/dicomweb), for RetrieveURL and BulkDataURI. */
  base: string;
  /** Set when the request came through a share link: nothing but this study may be read. */
  onlyStudy?: string;
  /** Memo of studiesSharedWithCaller(). */
  shared?: Promise<string[]>;
}

/** Studies shared with the caller's practitioner identity or institution (beyond their patients). */
export function studiesSharedWithCaller(ctx: DicomwebContext): Promise<string[]> {
  ctx.shared ??= (async () => {
    const { user, organization } = ctx.access.actor;
    const actors = (await ctx.access.actingAs?.()) ?? [user, organization].filter((r): r is string => !!r);
    return ctx.shares.studiesSharedWith(actors.filter((r) => /^(Practitioner|Organization)\//.test(r)));
  })();
  return ctx.shared;
}

export interface StudyAccess {
  studyUid: string;
  imagingStudyId: string;
  patientRef: string | null;
}

/**
 * The study when the caller may read it. A study outside the caller's patients answers 404 like
 * one that does not exist (its existence is itself patient data), and the denial is audited.
 */
export async function readableStudy(ctx: DicomwebContext, studyUid: string): Promise<StudyAccess> {
  ctx.access.check('read', 'ImagingStudy');
  if (ctx.onlyStudy && studyUid !== ctx.onlyStudy) throw new NotFound(`Study ${studyUid} is not part of this share`);
  const [row] = await ctx.db.query<{ imaging_study_id: string; patient_ref: string | null }>(
    'select imaging_study_id, patient_ref from dicom_study where study_uid = $1',
    [studyUid],
  );
  if (!row) throw new NotFound(`Study ${studyUid} is not stored here`);
  const visible = await ctx.access.visiblePatients();
  if (!canSee(visible, row.patient_ref ? [row.patient_ref] : []) && !(await studiesSharedWithCaller(ctx)).includes(studyUid)) {
    ctx.audit.record(ctx.access.actor, { kind: 'read', type: 'ImagingStudy', id: row.imaging_study_id, outcome: 'denied', detail: 'study outside the caller\'s patients', patients: [] });
    throw new NotFound(`Study ${studyUid} is not stored here`);
  }
  return { studyUid, imagingStudyId: row.imaging_study_id, patientRef: row.patient_ref };
}

/** Records a successful retrieval (what was read, of which patient) in the audit trail. */
export function auditRetrieve(ctx: DicomwebContext, study: StudyAccess, what: string): void {
  ctx.audit.record(ctx.access.actor, {
    kind: 'read',
    type: 'ImagingStudy',
    id: study.imagingStudyId,
    outcome: 'success',
    patients: study.patientRef ? [study.patientRef] : [],
    detail: what,
    dicomEvent: 'instances-transferred',
  });
}
