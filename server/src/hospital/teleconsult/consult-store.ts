// What the teleconsultation operations share: finding a consult Task and the people on it, a
// clinician's roles, and writing a step of the consult — every resource it changes together with
// their AuditEvents (about the patient) in one transaction.
import type { Extension, PractitionerRole, Resource, Task } from '@medplum/fhirtypes';
import { settleVisibility } from '../../fhir/access/enforce.js';
import { NotFound, PreconditionFailed, Conflict } from '../../fhir/errors.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { parseSearchRequest } from '../../fhir/search/parse.js';
import { isConsultCode } from './codes.js';

const LIMITS = { defaultCount: 100, maxCount: 100, defaultTotal: 'none' as const };

/** The consult Task with this id; NotFound for any other Task (or none). */
export async function consultTask(repo: FhirRepository, id: string): Promise<Task> {
  const task = (await repo.read('Task', id).catch((err) => {
    if ((err as { status?: number }).status === 410) throw new NotFound(`Task/${id} not found`);
    throw err;
  })) as Task;
  if (!isConsultCode(task.code?.coding)) throw new NotFound(`Task/${id} is not a teleconsultation`);
  return task;
}

/** The patient id of a consult Task. */
export function patientOf(task: Task): string {
  return task.for?.reference?.match(/^Patient\/(.+)$/)?.[1] ?? '';
}

/** The clinician's active PractitionerRoles (where they are registered). */
export async function activeRoles(repo: FhirRepository, practitioner: string): Promise<PractitionerRole[]> {
  if (!/^Practitioner\/[A-Za-z0-9\-.]{1,64}$/.test(practitioner)) return [];
  const request = parseSearchRequest('PractitionerRole', [['practitioner', practitioner], ['active', 'true']], repo.registry, LIMITS);
  return (await repo.search(request)).resources as PractitionerRole[];
}

/** The PractitionerRole behind a `PractitionerRole/{id}` reference, if it is one. */
export async function roleOf(repo: FhirRepository, reference: string | undefined): Promise<PractitionerRole | undefined> {
  const id = reference?.match(/^PractitionerRole\/([A-Za-z0-9\-.]{1,64})$/)?.[1];
  if (!id) return undefined;
  return (await repo.read('PractitionerRole', id).catch(() => undefined)) as PractitionerRole | undefined;
}

/** The resource with one extension set (replacing any of the same url). */
export function withExtension<T extends { extension?: Extension[] }>(resource: T, extension: Extension): T {
  return { ...resource, extension: [...(resource.extension ?? []).filter((e) => e.url !== extension.url), extension] };
}

export interface ConsultWrite {
  kind: 'create' | 'update';
  resource: Resource;
}

/**
 * Runs one step of a consult in one transaction: `work` writes through `tx` and says what it
 * wrote; each write's AuditEvent (about `patient`, with `detail` naming the step) is stored in the
 * same transaction. The caller's visibility is settled first (on the embedded database a policy
 * read inside the open transaction would wait for it).
 */
export async function consultStep<T>(ctx: InteractionContext, patient: string, detail: string, work: (tx: FhirRepository) => Promise<{ result: T; written: ConsultWrite[] }>): Promise<T> {
  await settleVisibility(ctx);
  try {
    return await ctx.repo.transaction(async (tx) => {
      const { result, written } = await work(tx);
      for (const { kind, resource } of written) {
        const record = { kind, type: resource.resourceType, id: resource.id, versionId: resource.meta?.versionId, outcome: 'success' as const, patients: patient ? [patient] : [], detail };
        await ctx.audit?.writeIn(tx, ctx.access.actor, record);
      }
      return result;
    });
  } catch (err) {
    // Someone else moved the consult on between our read and our write.
    if (err instanceof PreconditionFailed) throw new Conflict('The teleconsultation changed meanwhile (answered or closed by someone else); read it again');
    throw err;
  }
}

/** The Task as the same version it was read at (If-Match) with `changes`; the update result. */
export async function updateTask(tx: FhirRepository, task: Task, changes: Partial<Task>): Promise<Task> {
  return (await tx.update<Task>({ ...task, ...changes, lastModified: new Date().toISOString() }, { ifMatch: task.meta?.versionId })).resource;
}
