// TM-06: the invited institution answers an invitation promptly, and a decline carries a reason.
// - `POST /fhir/Task/{id}/$accept-consult`: an eligible doctor (IH-08/09) registered at the invited
//   institution takes the consult; they become its consultant (Task.owner = their PractitionerRole
//   there, status accepted), which is what opens the patient's record to them (auth/policy.ts:
//   an open Task a person owns) — to them alone, until the consult is over.
// - `POST /fhir/Task/{id}/$decline-consult` with `reason`: status rejected, the reason in
//   statusReason; the invitation (ServiceRequest) is revoked.
// Both record when the answer came (extension consult-responded beside consult-response-due).
// - `POST /fhir/Task/{id}/$cancel-consult` with `reason`: the inviting doctor withdraws the
//   invitation or ends a consult under way; the consultant's access ends with it.
import type { ServiceRequest, Task } from '@medplum/fhirtypes';
import { allow } from '../../fhir/access/enforce.js';
import { Conflict, Invalid, NotFound } from '../../fhir/errors.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf, stringParam } from '../../fhir/operation-parameters.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { eligibleClinician } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';
import { AWAITING_RESPONSE, RESPONDED_EXTENSION, UNDER_WAY } from './codes.js';
import { activeRoles, consultStep, consultTask, patientOf, roleOf, updateTask, withExtension } from './consult-store.js';

const MAX_REASON = 2000;

export function responseOperations(deps: HospitalDeps): ModuleOperation[] {
  const awaiting = (task: Task) => {
    if (!AWAITING_RESPONSE.includes(task.status)) throw new Conflict(`This teleconsultation has already been answered or closed (${task.status})`);
  };
  /**
   * The invited institution (the owner, or the owner role's institution once accepted) and the
   * caller as an eligible doctor registered there, for a Task still awaiting its answer. Someone
   * not working at the invited institution learns nothing about the invitation (404).
   */
  const invitedDoctor = async (ctx: InteractionContext, task: Task) => {
    const owner = task.owner?.reference ?? '';
    const invited = owner.startsWith('Organization/') ? owner : (await roleOf(ctx.repo, owner))?.organization?.reference;
    const user = ctx.access.actor.user;
    if (!user || !invited || !(await activeRoles(ctx.repo, user)).some((r) => r.organization?.reference === invited)) throw new NotFound(`Task/${task.id} not found`);
    awaiting(task);
    return { invited, doctor: await eligibleClinician(deps, ctx.access.actor, 'doctor', invited) };
  };

  const accept: ModuleOperation = {
    name: '$accept-consult',
    level: 'instance',
    type: 'Task',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Task-accept-consult',
    async handle(ctx, req, target) {
      allow(ctx, 'update', 'Task');
      const note = optionalText(req.body, 'note');
      const task = await consultTask(ctx.repo, target.id!);
      const { invited, doctor } = await invitedDoctor(ctx, task);
      const role = (await activeRoles(ctx.repo, doctor.reference)).find((r) => r.organization?.reference === invited)!;
      const now = new Date().toISOString();
      const accepted = await consultStep(ctx, patientOf(task), '$accept-consult', async (tx) => {
        const current = (await tx.read('Task', task.id!)) as Task;
        awaiting(current);
        const stored = await updateTask(tx, withExtension(current, { url: RESPONDED_EXTENSION, valueDateTime: now }), {
          status: 'accepted',
          owner: { reference: `PractitionerRole/${role.id}` },
          executionPeriod: { start: now },
          ...(note ? { note: [...(current.note ?? []), { authorReference: { reference: doctor.reference }, time: now, text: note }] } : {}),
        });
        return { result: stored, written: [{ kind: 'update', resource: stored }] };
      });
      return { status: 200, resource: accepted };
    },
  };

  const decline: ModuleOperation = {
    name: '$decline-consult',
    level: 'instance',
    type: 'Task',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Task-decline-consult',
    async handle(ctx, req, target) {
      allow(ctx, 'update', 'Task');
      const reason = requiredReason(req.body, 'TM-06: a decline carries a reason (parameter "reason")');
      const task = await consultTask(ctx.repo, target.id!);
      await invitedDoctor(ctx, task);
      const now = new Date().toISOString();
      const declined = await consultStep(ctx, patientOf(task), '$decline-consult', async (tx) => {
        const current = (await tx.read('Task', task.id!)) as Task;
        awaiting(current);
        const stored = await updateTask(tx, withExtension(current, { url: RESPONDED_EXTENSION, valueDateTime: now }), { status: 'rejected', statusReason: { text: reason } });
        const request = await revokeRequest(tx, current);
        return { result: stored, written: [{ kind: 'update', resource: stored }, ...(request ? [{ kind: 'update' as const, resource: request }] : [])] };
      });
      return { status: 200, resource: declined };
    },
  };

  const cancel: ModuleOperation = {
    name: '$cancel-consult',
    level: 'instance',
    type: 'Task',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Task-cancel-consult',
    async handle(ctx, req, target) {
      allow(ctx, 'update', 'Task');
      const reason = requiredReason(req.body, 'Say why the teleconsultation is cancelled (parameter "reason")');
      const task = await consultTask(ctx.repo, target.id!);
      const requester = await roleOf(ctx.repo, task.requester?.reference);
      const actor = ctx.access.actor;
      if (actor.role !== 'admin' && (!actor.user || requester?.practitioner?.reference !== actor.user)) throw new NotFound(`Task/${task.id} not found`);
      const open = [...AWAITING_RESPONSE, ...UNDER_WAY];
      const check = (t: Task) => {
        if (!open.includes(t.status)) throw new Conflict(`This teleconsultation is already over (${t.status})`);
      };
      check(task);
      const cancelled = await consultStep(ctx, patientOf(task), '$cancel-consult', async (tx) => {
        const current = (await tx.read('Task', task.id!)) as Task;
        check(current);
        const stored = await updateTask(tx, current, { status: 'cancelled', statusReason: { text: reason } });
        const request = await revokeRequest(tx, current);
        return { result: stored, written: [{ kind: 'update', resource: stored }, ...(request ? [{ kind: 'update' as const, resource: request }] : [])] };
      });
      return { status: 200, resource: cancelled };
    },
  };

  return [accept, decline, cancel];
}

/** The consult's ServiceRequest, revoked (the invitation is over without an opinion). */
async function revokeRequest(tx: FhirRepository, task: Task): Promise<ServiceRequest | undefined> {
  const id = task.focus?.reference?.match(/^ServiceRequest\/(.+)$/)?.[1];
  if (!id) return undefined;
  const request = (await tx.read('ServiceRequest', id)) as ServiceRequest;
  if (request.status !== 'active' && request.status !== 'on-hold') return undefined;
  return (await tx.update<ServiceRequest>({ ...request, status: 'revoked' })).resource;
}

function requiredReason(body: unknown, message: string): string {
  const reason = optionalText(body, 'reason');
  if (!reason) throw new Invalid(message, ['reason']);
  return reason;
}

/** A text parameter (valueString, or a CodeableConcept's text); Invalid when too long. An empty body has none. */
function optionalText(body: unknown, name: string): string | undefined {
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body as object).length === 0)) return undefined;
  const params = parametersOf(body);
  const param = params.find((p) => p.name === name);
  const text = (stringParam(params, name) ?? param?.valueCodeableConcept?.text ?? param?.valueCodeableConcept?.coding?.[0]?.display)?.trim();
  if (text && text.length > MAX_REASON) throw new Invalid(`Parameter "${name}" is at most ${MAX_REASON} characters`, [name]);
  return text || undefined;
}

