// Reading assignments: "read this study" for one reader, as a FHIR Task (code image-reading,
// focus the ImagingStudy, owner the reader, for the patient). Assigning also shares the study
// with the reader when they could not read it yet — an assignment nobody can open is no use.
// Signing a report of the study completes the reader's open assignments for it.
import type { DiagnosticReport, Task } from '@medplum/fhirtypes';
import type { Database } from '../db/database.js';
import { Invalid } from '../fhir/errors.js';
import type { FhirRepository } from '../fhir/repository.js';
import { parseSearchRequest } from '../fhir/search/parse.js';
import type { ShareService } from '../imaging/shares.js';

export const READING_TASK_CODE = { system: 'https://suhe.example.cn/fhir/CodeSystem/task', code: 'image-reading', display: 'Read an imaging study' };
const OPEN_STATUSES = ['requested', 'received', 'accepted', 'in-progress'];
const PRIORITIES = ['routine', 'urgent', 'asap', 'stat'] as const;
const SEARCH_LIMITS = { defaultCount: 200, maxCount: 200, defaultTotal: 'none' as const };

export interface AssignmentRequest {
  /** Practitioner/{id} */
  reader: string;
  priority?: (typeof PRIORITIES)[number];
  note?: string;
}

export interface Assignment {
  task: Task;
  studyUid: string;
}

export class ReadingAssignments {
  constructor(
    private readonly repo: FhirRepository,
    private readonly db: Database,
    private readonly shares: ShareService,
  ) {}

  static parse(body: unknown): AssignmentRequest {
    const input = (body ?? {}) as Record<string, unknown>;
    if (typeof input.reader !== 'string' || !/^Practitioner\/[A-Za-z0-9\-.]{1,64}$/.test(input.reader)) throw new Invalid("reader must be 'Practitioner/{id}'");
    if (input.priority !== undefined && !PRIORITIES.includes(input.priority as AssignmentRequest['priority'] & string)) throw new Invalid(`priority must be one of ${PRIORITIES.join(', ')}`);
    if (input.note !== undefined && (typeof input.note !== 'string' || input.note.length > 2000)) throw new Invalid('note must be text of at most 2000 characters');
    return { reader: input.reader, priority: input.priority as AssignmentRequest['priority'], note: input.note as string | undefined };
  }

  async assign(study: { studyUid: string; imagingStudyId: string; patientRef: string | null }, request: AssignmentRequest, by: string): Promise<Task> {
    await this.repo.read('Practitioner', request.reader.slice('Practitioner/'.length)).catch(() => {
      throw new Invalid(`${request.reader} does not exist`);
    });
    const alreadyShared = (await this.shares.list(study.studyUid)).some((s) => s.recipient === request.reader && !s.revokedAt && (!s.expiresAt || new Date(s.expiresAt) > new Date()));
    if (!alreadyShared) await this.shares.create({ studyUid: study.studyUid, kind: 'practitioner', recipient: request.reader }, by);
    return this.repo.create<Task>({
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      priority: request.priority ?? 'routine',
      code: { coding: [READING_TASK_CODE] },
      focus: { reference: `ImagingStudy/${study.imagingStudyId}` },
      ...(study.patientRef ? { for: { reference: `Patient/${study.patientRef}` } } : {}),
      owner: { reference: request.reader },
      ...(by.includes('/') ? { requester: { reference: by } } : {}),
      authoredOn: new Date().toISOString(),
      ...(request.note ? { note: [{ text: request.note }] } : {}),
      input: [{ type: { text: 'StudyInstanceUID' }, valueString: study.studyUid }],
    });
  }

  /** The reader's open assignments, most urgent first, then oldest first. */
  async openFor(reader: string): Promise<Assignment[]> {
    const tasks = (await this.search(this.repo, [['owner', reader]])) as Task[];
    const rank = (t: Task) => -PRIORITIES.indexOf(t.priority ?? 'routine');
    tasks.sort((a, b) => rank(a) - rank(b) || (a.authoredOn ?? '').localeCompare(b.authoredOn ?? ''));
    const ids = tasks.map((t) => t.focus?.reference?.split('/')[1]).filter((id): id is string => !!id);
    const rows = ids.length ? await this.db.query<{ study_uid: string; imaging_study_id: string }>('select study_uid, imaging_study_id from dicom_study where imaging_study_id = any($1)', [ids]) : [];
    const uidOf = new Map(rows.map((r) => [r.imaging_study_id, r.study_uid]));
    return tasks.flatMap((task) => {
      const studyUid = uidOf.get(task.focus?.reference?.split('/')[1] ?? '');
      return studyUid ? [{ task, studyUid }] : [];
    });
  }

  /** Completes the reader's open assignments for the report's study (inside the signing transaction). */
  async complete(tx: FhirRepository, report: DiagnosticReport, reader: string): Promise<void> {
    const study = report.imagingStudy?.[0]?.reference;
    if (!study) return;
    for (const task of (await this.search(tx, [['owner', reader], ['focus', study]])) as Task[]) {
      await tx.update<Task>({ ...task, status: 'completed', lastModified: new Date().toISOString(), output: [{ type: { text: 'report' }, valueReference: { reference: `DiagnosticReport/${report.id}` } }] });
    }
  }

  private async search(repo: FhirRepository, params: [string, string][]) {
    const request = parseSearchRequest('Task', [...params, ['code', `${READING_TASK_CODE.system}|${READING_TASK_CODE.code}`], ['status', OPEN_STATUSES.join(',')]], repo.registry, SEARCH_LIMITS);
    return (await repo.search(request)).resources;
  }
}
