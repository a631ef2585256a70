// `POST /fhir/MedicationRequest/{id}/$dispense` — dispensing an approved prescription (IH-05:
// dispensing and delivery only after a pharmacist approved it; IH-13: traceable). The dispenser is
// a pharmacist who may practise, registered at the institution that reviewed it. Input (all
// optional): delivery (valueBoolean, default true: home delivery; false: handed over at the
// pharmacy), quantity (valueQuantity, default dispenseRequest.quantity), address (valueAddress,
// where to deliver), note (valueString).
// States: with delivery, the MedicationDispense is `in-progress` and a delivery Task (`requested`)
// follows it (Task/$delivery moves it on; delivered completes the dispense and the prescription);
// handed over at the pharmacy, the MedicationDispense is `completed` at once and the prescription
// `completed`. One dispense at a time: another needs the previous one completed or stopped.
import type { Address, MedicationDispense, MedicationRequest, Quantity, Task } from '@medplum/fhirtypes';
import { Conflict, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parseSearchRequest } from '../../fhir/search/parse.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { eligibleClinician } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';
import { DELIVERY_TASK, hasTaskCode, isTagged, PRESCRIPTION_TAG, REVIEW_TASK } from './codes.js';
import { allowAll, booleanParam, ok, params, patientOf, prescriptionOperation, storeAudit, textParam, visibleResource } from './operation-support.js';
import { stepProvenance } from './provenance.js';

const LIMITS = { defaultCount: 100, maxCount: 100, defaultTotal: 'none' as const };

export function dispenseOperation(deps: HospitalDeps): ModuleOperation {
  return prescriptionOperation(deps, { name: '$dispense', level: 'instance', type: 'MedicationRequest', methods: ['POST'] }, async (ctx, req, target, state) => {
    allowAll(ctx, state, [['create', 'MedicationDispense'], ['update', 'MedicationRequest'], ['create', 'Task'], ['create', 'Provenance']]);
    const list = req.body === undefined ? [] : params(req.body, '$dispense');
    const delivery = booleanParam(list, 'delivery') ?? true;
    const note = textParam(list, 'note', false);
    const quantity = list.find((p) => p.name === 'quantity');
    if (quantity && (!quantity.valueQuantity || typeof quantity.valueQuantity.value !== 'number' || quantity.valueQuantity.value <= 0)) throw new Invalid('Parameter "quantity" must be a valueQuantity with a positive value', ['quantity']);
    const address = list.find((p) => p.name === 'address');
    if (address && !address.valueAddress) throw new Invalid('Parameter "address" must be a valueAddress', ['address']);
    if (address && !delivery) throw new Invalid('An address is given only for a delivery', ['address']);
    const request = await visibleResource<MedicationRequest>(ctx, state, 'MedicationRequest', target.id, 'update');
    const id = request.id!;
    if (!isTagged(request)) throw new Unprocessable(`IH-05: MedicationRequest/${id} is not an internet-hospital prescription signed and reviewed here; only those are dispensed through the hub`);
    const review = await reviewOf(ctx.repo, id);
    const pharmacy = review?.owner?.reference;
    if (!pharmacy) throw new Unprocessable(`IH-05: MedicationRequest/${id} has no pharmacist review`);
    const pharmacist = await eligibleClinician(deps, ctx.access.actor, 'pharmacist', pharmacy);
    const when = deps.clock.now().toISOString();

    const done = await ctx.repo.transaction(async (tx) => {
      await tx.lock(`prescription:${id}`);
      const current = (await tx.read('MedicationRequest', id)) as MedicationRequest;
      const approved = await reviewOf(tx, id);
      if (current.status !== 'active' || approved?.status !== 'completed') {
        throw new Unprocessable(`IH-05: dispensing only after a pharmacist approved the prescription; MedicationRequest/${id} is ${current.status}${current.status === 'on-hold' ? ' (awaiting review)' : ''}`);
      }
      const open = (await dispensesOf(tx, id)).find((d) => d.status === 'preparation' || d.status === 'in-progress' || d.status === 'on-hold');
      if (open) throw new Conflict(`MedicationDispense/${open.id} of this prescription is still ${open.status}; complete or stop it first`);
      const patient = patientOf(current);
      const dispense = await tx.create<MedicationDispense>({
        resourceType: 'MedicationDispense',
        meta: { tag: [PRESCRIPTION_TAG] },
        status: delivery ? 'in-progress' : 'completed',
        ...(current.medicationCodeableConcept ? { medicationCodeableConcept: current.medicationCodeableConcept } : { medicationReference: current.medicationReference }),
        ...(current.contained ? { contained: current.contained } : {}),
        subject: { reference: `Patient/${patient}` },
        ...(current.encounter ? { context: current.encounter } : {}),
        performer: [{ actor: { reference: pharmacist.reference } }],
        authorizingPrescription: [{ reference: `MedicationRequest/${id}` }],
        ...((quantity?.valueQuantity ?? current.dispenseRequest?.quantity) ? { quantity: (quantity?.valueQuantity ?? current.dispenseRequest?.quantity) as Quantity } : {}),
        ...(current.dispenseRequest?.expectedSupplyDuration ? { daysSupply: current.dispenseRequest.expectedSupplyDuration } : {}),
        whenPrepared: when,
        ...(delivery ? {} : { whenHandedOver: when, receiver: [{ reference: `Patient/${patient}` }] }),
        ...(current.dosageInstruction ? { dosageInstruction: current.dosageInstruction } : {}),
        ...(note ? { note: [{ text: note, time: when }] } : {}),
      });
      let deliveryTask: Task | undefined;
      if (delivery) {
        deliveryTask = await tx.create<Task>({
          resourceType: 'Task',
          meta: { tag: [PRESCRIPTION_TAG] },
          status: 'requested',
          intent: 'order',
          code: { coding: [DELIVERY_TASK] },
          description: 'Delivery of dispensed medication to the patient (IH-13)',
          focus: { reference: `MedicationDispense/${dispense.id}` },
          basedOn: [{ reference: `MedicationRequest/${id}` }],
          for: { reference: `Patient/${patient}` },
          authoredOn: when,
          lastModified: when,
          requester: { reference: pharmacist.reference },
          owner: { reference: pharmacy },
          businessStatus: { text: 'awaiting dispatch' },
          ...(address?.valueAddress ? { input: [{ type: { text: 'destination' }, valueAddress: address.valueAddress as Address }] } : {}),
        });
      }
      const completed = delivery ? undefined : (await tx.update<MedicationRequest>({ ...current, status: 'completed' })).resource;
      const provenance = await tx.create(
        stepProvenance({
          step: 'dispense',
          targets: [
            `MedicationDispense/${dispense.id}/_history/${dispense.meta?.versionId}`,
            ...(deliveryTask ? [`Task/${deliveryTask.id}/_history/${deliveryTask.meta?.versionId}`] : []),
            ...(completed ? [`MedicationRequest/${id}/_history/${completed.meta?.versionId}`] : []),
          ],
          who: pharmacist.reference,
          onBehalfOf: pharmacy,
          agentType: 'performer',
          source: `MedicationRequest/${id}/_history/${current.meta?.versionId}`,
          when,
        }),
      );
      await storeAudit(ctx, tx, { type: 'MedicationDispense', id: dispense.id, versionId: dispense.meta?.versionId, patients: [patient], query: '$dispense', detail: delivery ? `dispensed for delivery (Task/${deliveryTask?.id})` : 'dispensed and handed over at the pharmacy' });
      return { dispense, deliveryTask, completed, provenance };
    });
    return ok([
      { name: 'medicationDispense', resource: done.dispense },
      ...(done.deliveryTask ? [{ name: 'task', resource: done.deliveryTask }] : []),
      ...(done.completed ? [{ name: 'medicationRequest', resource: done.completed }] : []),
      { name: 'provenance', resource: done.provenance },
    ]);
  });
}

/** The prescription's review Task (the latest). */
export async function reviewOf(repo: FhirRepository, requestId: string): Promise<Task | undefined> {
  const request = parseSearchRequest('Task', [['focus', `MedicationRequest/${requestId}`], ['code', `${REVIEW_TASK.system}|${REVIEW_TASK.code}`], ['_sort', '-_lastUpdated']], repo.registry, LIMITS);
  return ((await repo.search(request)).resources as Task[]).find((t) => isTagged(t) && hasTaskCode(t, REVIEW_TASK));
}

export async function dispensesOf(repo: FhirRepository, requestId: string): Promise<MedicationDispense[]> {
  const request = parseSearchRequest('MedicationDispense', [['prescription', `MedicationRequest/${requestId}`], ['_sort', '_lastUpdated']], repo.registry, LIMITS);
  return ((await repo.search(request)).resources as MedicationDispense[]).filter(isTagged);
}

export async function deliveriesOf(repo: FhirRepository, requestId: string): Promise<Task[]> {
  const request = parseSearchRequest('Task', [['based-on', `MedicationRequest/${requestId}`], ['code', `${DELIVERY_TASK.system}|${DELIVERY_TASK.code}`], ['_sort', '_lastUpdated']], repo.registry, LIMITS);
  return ((await repo.search(request)).resources as Task[]).filter((t) => isTagged(t) && hasTaskCode(t, DELIVERY_TASK));
}
