// `POST /fhir/ServiceRequest/{id}/$dispatch` (NU-03, NU-06): staff of the provider institution
// send a nurse. Only after the assessment accepted the applicant (NU-06: the order active with a
// completed assessment Task), only a nurse NU-03 allows (nurse-eligibility.ts), and one open visit
// at a time per order (409). Written: the visit Task, owned by the nurse — while it is open it is
// the care relationship that lets the nurse read the patient's record (auth/policy.ts CARE_LINKS).
import type { ServiceRequest, Task } from '@medplum/fhirtypes';
import { CLOSED_TASK_STATUSES } from '../../auth/policy.js';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow } from '../../fhir/access/enforce.js';
import { Conflict, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf, referenceParam } from '../../fhir/operation-parameters.js';
import { patientOf, providerOf, readOrder, staffOf, tasksOf } from './chain-store.js';
import { ASSESSMENT_TASK, hnConcept, tagged, VISIT_TASK } from './codes.js';
import type { HomeNursingDeps } from './home-nursing-deps.js';
import { eligibleNurse } from './nurse-eligibility.js';

const OPERATION = '$dispatch';
const isOpen = (t: Task) => !(CLOSED_TASK_STATUSES as readonly string[]).includes(t.status);

export function dispatchOperation(deps: HomeNursingDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'ServiceRequest',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/ServiceRequest-dispatch',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      allow(ctx, 'create', 'Task');
      const order = await readOrder(ctx.repo, target.id!);
      const provider = providerOf(order);
      const dispatcher = await staffOf(ctx, provider, 'NU-02', 'Dispatching a nurse');
      const params = parametersOf(req.body);
      const nurseId = referenceParam(params, 'nurse', 'Practitioner');
      const startParam = params.find((p) => p.name === 'scheduledStart');
      const scheduledStart = startParam ? startParam.valueDateTime ?? startParam.valueDate : undefined;
      if (startParam && (!scheduledStart || Number.isNaN(Date.parse(scheduledStart)))) throw new Invalid('Parameter "scheduledStart" must be a dateTime', ['scheduledStart']);
      const assessed = (o: ServiceRequest, tasks: Task[]) => o.status === 'active' && tasks.some((t) => t.status === 'completed');
      if (!assessed(order, await tasksOf(ctx.repo, order.id!, ASSESSMENT_TASK))) {
        throw new Unprocessable(`NU-06: no dispatch before the institution has assessed the applicant and accepted the order (ServiceRequest/${order.id} is ${order.status})`);
      }
      const now = deps.clock.now();
      const nurse = `Practitioner/${nurseId}`;
      await eligibleNurse(ctx.repo, nurse, provider, now);
      const patientId = patientOf(order);

      const task = await auditedStep(ctx, patientId, OPERATION, async (tx) => {
        await tx.lock(`home-nursing:ServiceRequest/${order.id}`);
        const current = (await tx.read('ServiceRequest', order.id!)) as ServiceRequest;
        if (current.status !== 'active') throw new Unprocessable(`NU-06: ServiceRequest/${order.id} is ${current.status}; only an accepted order is dispatched`);
        const open = (await tasksOf(tx, order.id!, VISIT_TASK)).filter(isOpen);
        if (open.length) throw new Conflict(`One visit at a time: Task/${open[0].id} of ServiceRequest/${order.id} is still ${open[0].status}`);
        const created = await tx.create<Task>(tagged({
          resourceType: 'Task',
          status: 'accepted',
          intent: 'order',
          code: hnConcept(VISIT_TASK, '上门护理'),
          focus: { reference: `ServiceRequest/${order.id}` },
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          for: { reference: `Patient/${patientId}` },
          owner: { reference: nurse },
          requester: { reference: provider },
          authoredOn: now.toISOString(),
          lastModified: now.toISOString(),
          ...(scheduledStart ? { executionPeriod: { start: scheduledStart } } : {}),
          note: [{ text: `Dispatched by ${dispatcher}`, time: now.toISOString(), authorReference: { reference: dispatcher } }],
        }));
        return { result: created, written: [{ kind: 'create', resource: created }] };
      });
      return { status: 201, resource: task };
    },
  };
}
