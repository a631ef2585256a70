// `POST /fhir/Task/{id}/$review` — the pharmacist's review of a signed prescription (IH-05): a
// prescription is active only once a pharmacist approves it. The reviewer is a pharmacist who may
// practise (identity and licence) and is registered at the institution that owns the review Task.
// Input: Parameters decision = approve | reject (valueCode), reason (valueString; required to
// reject). In one transaction: approve → the MedicationRequest becomes `active` (the special-
// control list is checked again, as it may have changed since signing), reject → `cancelled` with
// the reason as statusReason; the Task is `completed` or `rejected` with the decision and reason;
// a Provenance records the pharmacist's act.
import type { MedicationRequest, Task } from '@medplum/fhirtypes';
import { Conflict, Invalid } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { eligibleClinician } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';
import { hasTaskCode, idOf, isTagged, REVIEW_TASK, type Step } from './codes.js';
import { allowAll, codeParam, ok, params, patientOf, prescriptionOperation, storeAudit, textParam, visibleResource } from './operation-support.js';
import { stepProvenance } from './provenance.js';
import { checkDrug, medicationOf } from './sign.js';

const OPEN_TASK = new Set<Task['status']>(['requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold']);

export function reviewOperation(deps: HospitalDeps): ModuleOperation {
  return prescriptionOperation(deps, { name: '$review', level: 'instance', type: 'Task', methods: ['POST'] }, async (ctx, req, target, state) => {
    allowAll(ctx, state, [['update', 'Task'], ['update', 'MedicationRequest'], ['create', 'Provenance']]);
    const list = params(req.body, '$review');
    const decision = codeParam(list, 'decision', ['approve', 'reject'] as const);
    const reason = textParam(list, 'reason', decision === 'reject');
    const task = await visibleResource<Task>(ctx, state, 'Task', target.id, 'update');
    if (!hasTaskCode(task, REVIEW_TASK) || !isTagged(task)) throw new Invalid(`Task/${task.id} is not a prescription review; $review applies to Tasks coded ${REVIEW_TASK.system}|${REVIEW_TASK.code}`);
    const requestId = idOf(task.focus?.reference, 'MedicationRequest');
    const owner = task.owner?.reference;
    if (!requestId || !owner) throw new Invalid(`Task/${task.id} names no prescription or no owning institution`);
    const pharmacist = await eligibleClinician(deps, ctx.access.actor, 'pharmacist', owner);
    const when = deps.clock.now().toISOString();

    const done = await ctx.repo.transaction(async (tx) => {
      await tx.lock(`prescription:${requestId}`);
      const current = (await tx.read('Task', task.id!)) as Task;
      const request = (await tx.read('MedicationRequest', requestId)) as MedicationRequest;
      if (!OPEN_TASK.has(current.status) || request.status !== 'on-hold' || !isTagged(request)) {
        throw new Conflict(`This prescription has already been reviewed (Task ${current.status}, MedicationRequest ${request.status})`);
      }
      const patient = patientOf(request);
      if (decision === 'approve') checkDrug(request, await medicationOf(tx, request), deps.rules.specialControlDrugs);
      const { statusReason: _waiting, ...rest } = request;
      const next: MedicationRequest = decision === 'approve'
        ? { ...rest, status: 'active' }
        : { ...rest, status: 'cancelled', statusReason: { text: `Rejected by the reviewing pharmacist: ${reason}` } };
      const { resource: reviewed } = await tx.update<MedicationRequest>(next);
      const { resource: closed } = await tx.update<Task>({
        ...current,
        status: decision === 'approve' ? 'completed' : 'rejected',
        ...(reason ? { statusReason: { text: reason } } : {}),
        businessStatus: { text: decision === 'approve' ? 'approved' : 'rejected' },
        lastModified: when,
        executionPeriod: { ...current.executionPeriod, end: when },
        output: [
          { type: { text: 'decision' }, valueCode: decision },
          { type: { text: 'reviewer' }, valueReference: { reference: pharmacist.reference } },
          ...(reason ? [{ type: { text: 'reason' }, valueString: reason }] : []),
        ],
      });
      const step: Step = decision;
      const provenance = await tx.create(
        stepProvenance({
          step,
          targets: [`MedicationRequest/${requestId}/_history/${reviewed.meta?.versionId}`, `Task/${closed.id}/_history/${closed.meta?.versionId}`],
          who: pharmacist.reference,
          onBehalfOf: owner,
          agentType: 'verifier',
          reason,
          when,
        }),
      );
      await storeAudit(ctx, tx, { type: 'MedicationRequest', id: requestId, versionId: reviewed.meta?.versionId, patients: [patient], query: '$review', detail: `pharmacist review: ${decision}` });
      return { reviewed, closed, provenance };
    });
    return ok([
      { name: 'medicationRequest', resource: done.reviewed },
      { name: 'task', resource: done.closed },
      { name: 'provenance', resource: done.provenance },
    ]);
  });
}
