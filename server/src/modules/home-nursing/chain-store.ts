// Reading an order's chain: the order, its Tasks, who works at the provider.
import type { PractitionerRole, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { Forbidden, NotFound, Unprocessable } from '../../fhir/errors.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { hasCoding, HN, isChainResource, ORDER_CATEGORY, taskKindOf } from './codes.js';


export async function readOrNull<T extends Resource>(repo: FhirRepository, type: string, id: string): Promise<T | undefined> {
  return (await repo.read(type, id).catch(() => undefined)) as T | undefined;
}

/** The home-nursing order ServiceRequest/{id}; 404 when there is none. */
export async function readOrder(repo: FhirRepository, id: string): Promise<ServiceRequest> {
  const order = await readOrNull<ServiceRequest>(repo, 'ServiceRequest', id);
  if (!order || !isChainResource(order) || !order.category?.some((c) => hasCoding(c, HN, ORDER_CATEGORY.code!))) throw new NotFound(`ServiceRequest/${id} is not a home-nursing order`);
  return order;
}

export const providerOf = (order: ServiceRequest): string => order.performer?.[0]?.reference ?? '';
export const patientOf = (r: { subject?: { reference?: string } }): string => (r.subject?.reference ?? '').slice('Patient/'.length);

/** The order's Tasks of one kind (assessment, visit, complaint), oldest first. */
export async function tasksOf(repo: FhirRepository, orderId: string, kind: string): Promise<Task[]> {
  const tasks = await searchAll<Task>(repo, 'Task', [['based-on', `ServiceRequest/${orderId}`]]);
  return tasks.filter((t) => isChainResource(t) && taskKindOf(t) === kind).sort((a, b) => (a.authoredOn ?? '').localeCompare(b.authoredOn ?? ''));
}

/** The Organizations where a Practitioner holds an active PractitionerRole. */
export async function organizationsOf(repo: FhirRepository, practitioner: string): Promise<string[]> {
  const roles = await searchAll<PractitionerRole>(repo, 'PractitionerRole', [['practitioner', practitioner], ['active', 'true']]);
  return roles.map((r) => r.organization?.reference).filter((r): r is string => !!r);
}

/** A nurse or doctor signed in as their Practitioner with an active role at `organization`: their reference; 403 otherwise. */
export async function staffOf(ctx: InteractionContext, organization: string, rule: string, what: string): Promise<string> {
  const { role, user } = ctx.access.actor;
  if ((role !== 'nurse' && role !== 'doctor') || !user?.startsWith('Practitioner/')) throw new Forbidden(`${rule}: ${what} is done by a nurse or doctor of the provider institution (${organization})`);
  if (!(await organizationsOf(ctx.repo, user)).includes(organization)) throw new Forbidden(`${rule}: ${user} has no active PractitionerRole at ${organization}, the institution that provides this order`);
  return user;
}

/** Whether the caller is staff of the organization (no error). */
export async function isStaffOf(ctx: InteractionContext, organization: string): Promise<boolean> {
  const { role, user } = ctx.access.actor;
  if ((role !== 'nurse' && role !== 'doctor') || !user?.startsWith('Practitioner/')) return false;
  return (await organizationsOf(ctx.repo, user)).includes(organization);
}

/** The visit Task (ordered by a home-nursing order) with its order; 404 when it is not one. */
export async function readVisit(repo: FhirRepository, taskId: string): Promise<{ task: Task; order: ServiceRequest }> {
  const task = await readOrNull<Task>(repo, 'Task', taskId);
  if (!task || !isChainResource(task) || taskKindOf(task) !== 'visit') throw new NotFound(`Task/${taskId} is not a home-nursing visit`);
  const orderRef = task.basedOn?.[0]?.reference ?? '';
  if (!orderRef.startsWith('ServiceRequest/')) throw new Unprocessable(`Task/${taskId} names no order`);
  return { task, order: await readOrder(repo, orderRef.slice('ServiceRequest/'.length)) };
}
