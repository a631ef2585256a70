// `POST /fhir/Task/{id}/$delivery` — the delivery of dispensed medication, as the states of its
// delivery Task (IH-13: traceable end to end; each state is a Task version, each change has a
// Provenance). A pharmacist of the dispensing institution records the state:
//   requested → in-progress (handed to the courier) → completed (received by the patient)
//   requested | in-progress → failed (with a reason)
// Delivered: the MedicationDispense is `completed` (handed over) and the prescription `completed`.
// Failed: the MedicationDispense is `stopped` with the reason, and the prescription stays active,
// so it can be dispensed again. Input: status (valueCode), reason (valueString; required when
// failed), trackingNumber (valueString).
import type { MedicationDispense, MedicationRequest, Task } from '@medplum/fhirtypes';
import { Conflict, Invalid } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { eligibleClinician } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';
import { DELIVERY_TASK, hasTaskCode, idOf, isTagged } from './codes.js';
import { allowAll, codeParam, ok, params, patientOf, prescriptionOperation, storeAudit, textParam, visibleResource } from './operation-support.js';
import { stepProvenance } from './provenance.js';

type DeliveryState = 'in-progress' | 'completed' | 'failed';
const NEXT: Record<string, DeliveryState[]> = { requested: ['in-progress', 'failed'], 'in-progress': ['completed', 'failed'] };
const BUSINESS: Record<DeliveryState, string> = { 'in-progress': 'out for delivery', completed: 'delivered', failed: 'delivery failed' };

export function deliveryOperation(deps: HospitalDeps): ModuleOperation {
  return prescriptionOperation(deps, { name: '$delivery', level: 'instance', type: 'Task', methods: ['POST'] }, async (ctx, req, target, state) => {
    allowAll(ctx, state, [['update', 'Task'], ['update', 'MedicationDispense'], ['update', 'MedicationRequest'], ['create', 'Provenance']]);
    const list = params(req.body, '$delivery');
    const status = codeParam(list, 'status', ['in-progress', 'completed', 'failed'] as const);
    const reason = textParam(list, 'reason', status === 'failed');
    const tracking = textParam(list, 'trackingNumber', false);
    const task = await visibleResource<Task>(ctx, state, 'Task', target.id, 'update');
    if (!hasTaskCode(task, DELIVERY_TASK) || !isTagged(task)) throw new Invalid(`Task/${task.id} is not a medication delivery; $delivery applies to Tasks coded ${DELIVERY_TASK.system}|${DELIVERY_TASK.code}`);
    const dispenseId = idOf(task.focus?.reference, 'MedicationDispense');
    const requestId = idOf(task.basedOn?.[0]?.reference, 'MedicationRequest');
    const owner = task.owner?.reference;
    if (!dispenseId || !requestId || !owner) throw new Invalid(`Task/${task.id} names no dispense, prescription or institution`);
    const pharmacist = await eligibleClinician(deps, ctx.access.actor, 'pharmacist', owner);
    const when = deps.clock.now().toISOString();

    const done = await ctx.repo.transaction(async (tx) => {
      await tx.lock(`prescription:${requestId}`);
      const current = (await tx.read('Task', task.id!)) as Task;
      if (!(NEXT[current.status] ?? []).includes(status)) {
        throw new Conflict(`The delivery is ${current.status}; it can move to ${(NEXT[current.status] ?? []).join(' or ') || 'no other state'}, not ${status}`);
      }
      const dispense = (await tx.read('MedicationDispense', dispenseId)) as MedicationDispense;
      const request = (await tx.read('MedicationRequest', requestId)) as MedicationRequest;
      const patient = patientOf(request);
      const { resource: moved } = await tx.update<Task>({
        ...current,
        status,
        businessStatus: { text: BUSINESS[status] },
        ...(reason ? { statusReason: { text: reason } } : {}),
        lastModified: when,
        executionPeriod: { start: current.executionPeriod?.start ?? when, ...(status === 'in-progress' ? {} : { end: when }) },
        ...(tracking ? { output: [...(current.output ?? []).filter((o) => o.type.text !== 'tracking number'), { type: { text: 'tracking number' }, valueString: tracking }] } : {}),
      });
      const targets = [`Task/${moved.id}/_history/${moved.meta?.versionId}`];
      if (status === 'completed') {
        const handed = (await tx.update<MedicationDispense>({ ...dispense, status: 'completed', whenHandedOver: when, receiver: [{ reference: `Patient/${patient}` }] })).resource;
        const finished = (await tx.update<MedicationRequest>({ ...request, status: 'completed' })).resource;
        targets.push(`MedicationDispense/${dispenseId}/_history/${handed.meta?.versionId}`, `MedicationRequest/${requestId}/_history/${finished.meta?.versionId}`);
      } else if (status === 'failed') {
        const stopped = (await tx.update<MedicationDispense>({ ...dispense, status: 'stopped', statusReasonCodeableConcept: { text: `Delivery failed: ${reason}` } })).resource;
        targets.push(`MedicationDispense/${dispenseId}/_history/${stopped.meta?.versionId}`);
      }
      const provenance = await tx.create(
        stepProvenance({ step: 'deliver', targets, who: pharmacist.reference, onBehalfOf: owner, agentType: 'performer', reason, source: `MedicationRequest/${requestId}`, when }),
      );
      await storeAudit(ctx, tx, { type: 'Task', id: moved.id, versionId: moved.meta?.versionId, patients: [patient], query: '$delivery', detail: `delivery ${status}` });
      return { moved, provenance };
    });
    return ok([
      { name: 'task', resource: done.moved },
      { name: 'provenance', resource: done.provenance },
    ]);
  });
}
