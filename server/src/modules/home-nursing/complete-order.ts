// `POST /fhir/ServiceRequest/{id}/$complete-order` (NU-07): staff of the provider close an order
// once its care is done — no visit may still be open (409) — with an optional `note`. The order
// becomes `completed`; with it ends the provider's care relationship (access.ts), so the staff no
// longer see the patient's record. The rating and $trace stay available to the patient's side.
import type { ServiceRequest, Task } from '@medplum/fhirtypes';
import { CLOSED_TASK_STATUSES } from '../../auth/policy.js';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow } from '../../fhir/access/enforce.js';
import { Conflict } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf } from '../../fhir/operation-parameters.js';
import { patientOf, providerOf, readOrder, staffOf, tasksOf } from './chain-store.js';
import { VISIT_TASK } from './codes.js';
import type { HomeNursingDeps } from './home-nursing-deps.js';

const OPERATION = '$complete-order';
const isOpen = (t: Task) => !(CLOSED_TASK_STATUSES as readonly string[]).includes(t.status);

export function completeOrderOperation(deps: HomeNursingDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'ServiceRequest',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/ServiceRequest-complete-order',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      allow(ctx, 'update', 'ServiceRequest');
      const order = await readOrder(ctx.repo, target.id!);
      const closer = await staffOf(ctx, providerOf(order), 'NU-07', 'Closing an order');
      const note = req.body === undefined || req.body === '' ? undefined : parametersOf(req.body).find((p) => p.name === 'note')?.valueString?.trim();
      const now = deps.clock.now().toISOString();
      const completed = await auditedStep(ctx, patientOf(order), OPERATION, async (tx) => {
        await tx.lock(`home-nursing:ServiceRequest/${order.id}`);
        const current = (await tx.read('ServiceRequest', order.id!)) as ServiceRequest;
        if (current.status !== 'active') throw new Conflict(`ServiceRequest/${order.id} is ${current.status}: only an accepted order in service is completed`);
        const open = (await tasksOf(tx, order.id!, VISIT_TASK)).filter(isOpen);
        if (open.length) throw new Conflict(`Task/${open[0].id} of ServiceRequest/${order.id} is still ${open[0].status}: close the visit first`);
        const updated = (await tx.update<ServiceRequest>({
          ...current,
          status: 'completed',
          note: [...(current.note ?? []), { text: note || 'Order completed', time: now, authorReference: { reference: closer } }],
        })).resource;
        return { result: updated, written: [{ kind: 'update', resource: updated }] };
      });
      return { status: 200, resource: completed };
    },
  };
}
