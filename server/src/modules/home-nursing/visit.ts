// The visit (NU-07, NU-08), by the visit Task's nurse only:
//   POST /fhir/Task/{id}/$check-in   position            → Task in-progress, an Encounter (class HH) started
//   POST /fhir/Task/{id}/$check-out  position, care, item* → Task completed, Encounter finished, a Procedure per item
//   POST /fhir/Task/{id}/$alarm      note?, position?     → a Flag, the Task's businessStatus "alarm", a push to the duty desk
// and by the provider's duty-desk staff:
//   POST /fhir/Flag/{id}/$resolve-alarm note             → the Flag inactive
// Each check-in, check-out and alarm adds a NURSE_POSITION_EXTENSION to the Task (event, time,
// latitude, longitude), so the Task's versions trace where the nurse was and when.
import type { Encounter, Extension, Flag, ParametersParameter, Procedure, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow } from '../../fhir/access/enforce.js';
import { Conflict, Forbidden, Invalid, NotFound } from '../../fhir/errors.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf } from '../../fhir/operation-parameters.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { patientOf, providerOf, readOrder, readOrNull, readVisit, staffOf } from './chain-store.js';
import {
  ACT_CODE, ALARM_ORDER_EXTENSION, ALARM_RESOLUTION_EXTENSION, ALARM_TASK_EXTENSION, CATALOGUE_CODES, FLAG_CATEGORY, hnConcept, HN, NURSE_ALARM,
  isChainResource, NURSE_POSITION_EXTENSION, tagged,
} from './codes.js';
import type { HomeNursingDeps } from './home-nursing-deps.js';

export interface Position {
  latitude: number;
  longitude: number;
}

/** Parameter `position` with parts latitude and longitude (valueDecimal); undefined when absent and optional. */
export function positionParam(params: ParametersParameter[], required: boolean): Position | undefined {
  const p = params.find((x) => x.name === 'position');
  if (!p) {
    if (required) throw new Invalid('NU-08: parameter "position" (parts latitude, longitude as valueDecimal) is required', ['position']);
    return undefined;
  }
  const part = (name: string) => p.part?.find((x) => x.name === name)?.valueDecimal;
  const latitude = part('latitude');
  const longitude = part('longitude');
  if (typeof latitude !== 'number' || typeof longitude !== 'number' || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
    throw new Invalid('Parameter "position" has parts "latitude" (-90..90) and "longitude" (-180..180), each a valueDecimal', ['position']);
  }
  return { latitude, longitude };
}

export function positionExtension(event: string, time: string, position: Position | undefined): Extension {
  return {
    url: NURSE_POSITION_EXTENSION,
    extension: [
      { url: 'event', valueCode: event },
      { url: 'time', valueDateTime: time },
      ...(position ? [{ url: 'latitude', valueDecimal: position.latitude }, { url: 'longitude', valueDecimal: position.longitude }] : []),
    ],
  };
}

/** The visit Task and its order, when the caller is the Task's nurse; 403 otherwise. */
async function nurseVisit(ctx: InteractionContext, taskId: string, rule: string): Promise<{ task: Task; order: ServiceRequest; nurse: string }> {
  const { task, order } = await readVisit(ctx.repo, taskId);
  const nurse = task.owner?.reference;
  if (!nurse || ctx.access.actor.user !== nurse || ctx.access.actor.role !== 'nurse') throw new Forbidden(`${rule}: only the nurse dispatched on Task/${taskId} (${nurse}) records this visit`);
  return { task, order, nurse };
}

/** The Task as it is now inside the transaction (after the lock). */
async function lockedTask(tx: FhirRepository, task: Task): Promise<Task> {
  await tx.lock(`home-nursing:Task/${task.id}`);
  return (await tx.read('Task', task.id!)) as Task;
}

const operation = (name: string, type: string, handle: ModuleOperation['handle']): ModuleOperation => ({
  name, level: 'instance', type, methods: ['POST'], definition: `https://suhe.example.cn/fhir/OperationDefinition/${type}-${name.slice(1)}`, handle,
});

export function visitOperations(deps: HomeNursingDeps): ModuleOperation[] {
  const checkIn = operation('$check-in', 'Task', async (ctx, req, target) => {
    notInBundle(deps.repo, ctx, '$check-in');
    allow(ctx, 'update', 'Task');
    allow(ctx, 'create', 'Encounter');
    const { task, order, nurse } = await nurseVisit(ctx, target.id!, 'NU-08');
    const position = positionParam(parametersOf(req.body), true);
    const now = deps.clock.now().toISOString();
    const patientId = patientOf(order);
    const out = await auditedStep(ctx, patientId, '$check-in', async (tx) => {
      const current = await lockedTask(tx, task);
      if (current.status !== 'accepted') throw new Conflict(`NU-08: Task/${task.id} is ${current.status}; a nurse checks in once, to a dispatched visit`);
      const encounter = await tx.create<Encounter>(tagged({
        resourceType: 'Encounter',
        status: 'in-progress',
        class: { system: ACT_CODE, code: 'HH', display: 'home health' },
        type: [hnConcept('home-nursing-visit', '上门护理')],
        subject: { reference: `Patient/${patientId}` },
        participant: [{ individual: { reference: nurse } }],
        serviceProvider: { reference: providerOf(order) },
        basedOn: [{ reference: `ServiceRequest/${order.id}` }],
        period: { start: now },
      }));
      const next = (await tx.update<Task>({
        ...current,
        status: 'in-progress',
        lastModified: now,
        encounter: { reference: `Encounter/${encounter.id}` },
        executionPeriod: { ...current.executionPeriod, start: now },
        extension: [...(current.extension ?? []), positionExtension('check-in', now, position)],
      })).resource;
      return { result: { task: next, encounter }, written: [{ kind: 'create', resource: encounter }, { kind: 'update', resource: next }] };
    });
    return { status: 200, resource: { resourceType: 'Parameters', parameter: [{ name: 'task', resource: out.task }, { name: 'encounter', resource: out.encounter }] } };
  });

  const checkOut = operation('$check-out', 'Task', async (ctx, req, target) => {
    notInBundle(deps.repo, ctx, '$check-out');
    allow(ctx, 'update', 'Task');
    allow(ctx, 'create', 'Procedure');
    const { task, order, nurse } = await nurseVisit(ctx, target.id!, 'NU-08');
    const params = parametersOf(req.body);
    const position = positionParam(params, true);
    const care = params.find((p) => p.name === 'care')?.valueString?.trim();
    if (!care) throw new Invalid('NU-07: parameter "care" (valueString) records the care given', ['care']);
    if (care.length > 8000) throw new Invalid('Parameter "care" is at most 8000 characters', ['care']);
    const items = params.filter((p) => p.name === 'item').map((p) => p.valueCode ?? p.valueCoding?.code ?? '');
    const ordered = (order.orderDetail ?? []).map((d) => d.coding?.find((c) => c.system === HN)?.code);
    const unknown = items.filter((i) => !ordered.includes(i));
    if (unknown.length) throw new Invalid(`Parameter "item": ${unknown.map((u) => `"${u}"`).join(', ')} is not an item of ServiceRequest/${order.id} (${ordered.join(', ')})`, ['item']);
    const now = deps.clock.now().toISOString();
    const patientId = patientOf(order);
    const out = await auditedStep(ctx, patientId, '$check-out', async (tx) => {
      const current = await lockedTask(tx, task);
      if (current.status !== 'in-progress' || !current.encounter?.reference) throw new Conflict(`NU-08: Task/${task.id} is ${current.status}; the nurse checks in before checking out`);
      const encounterId = current.encounter.reference.slice('Encounter/'.length);
      const encounter = (await tx.read('Encounter', encounterId)) as Encounter;
      const finished = (await tx.update<Encounter>({ ...encounter, status: 'finished', period: { ...encounter.period, end: now } })).resource;
      const procedures: Procedure[] = [];
      for (const code of [...new Set(items)]) {
        procedures.push(await tx.create<Procedure>(tagged({
          resourceType: 'Procedure',
          status: 'completed',
          code: hnConcept(code, CATALOGUE_CODES[code]),
          subject: { reference: `Patient/${patientId}` },
          encounter: { reference: `Encounter/${encounterId}` },
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          performedPeriod: { start: encounter.period?.start ?? now, end: now },
          performer: [{ actor: { reference: nurse } }],
          note: [{ text: care, time: now, authorReference: { reference: nurse } }],
        })));
      }
      const next = (await tx.update<Task>({
        ...current,
        status: 'completed',
        lastModified: now,
        executionPeriod: { ...current.executionPeriod, end: now },
        output: [
          { type: hnConcept('care-record', '护理记录'), valueString: care },
          ...procedures.map((p) => ({ type: hnConcept('procedure'), valueReference: { reference: `Procedure/${p.id}` } })),
        ],
        extension: [...(current.extension ?? []), positionExtension('check-out', now, position)],
      })).resource;
      const written: { kind: 'create' | 'update'; resource: Resource }[] = [
        { kind: 'update', resource: finished }, ...procedures.map((resource) => ({ kind: 'create' as const, resource })), { kind: 'update', resource: next },
      ];
      return { result: { task: next, encounter: finished, procedures }, written };
    });
    return {
      status: 200,
      resource: { resourceType: 'Parameters', parameter: [{ name: 'task', resource: out.task }, { name: 'encounter', resource: out.encounter }, ...out.procedures.map((resource) => ({ name: 'procedure', resource }))] },
    };
  });

  const alarm = operation('$alarm', 'Task', async (ctx, req, target) => {
    notInBundle(deps.repo, ctx, '$alarm');
    allow(ctx, 'update', 'Task');
    allow(ctx, 'create', 'Flag');
    const { task, order, nurse } = await nurseVisit(ctx, target.id!, 'NU-08');
    const params = parametersOf(req.body);
    const position = positionParam(params, false);
    const note = params.find((p) => p.name === 'note')?.valueString?.trim();
    if (note && note.length > 4000) throw new Invalid('Parameter "note" is at most 4000 characters', ['note']);
    const now = deps.clock.now().toISOString();
    const patientId = patientOf(order);
    const provider = providerOf(order);
    const out = await auditedStep(ctx, patientId, '$alarm', async (tx) => {
      const current = await lockedTask(tx, task);
      if (current.status !== 'accepted' && current.status !== 'in-progress') throw new Conflict(`NU-08: Task/${task.id} is ${current.status}; the alarm belongs to an open visit`);
      const flag = await tx.create<Flag>(tagged({
        resourceType: 'Flag',
        status: 'active',
        category: [{ coding: [{ system: FLAG_CATEGORY, code: 'safety', display: 'Safety' }] }],
        code: { ...hnConcept(NURSE_ALARM, '护士一键报警'), ...(note ? { text: note } : {}) },
        subject: { reference: `Patient/${patientId}` },
        ...(current.encounter ? { encounter: current.encounter } : {}),
        author: { reference: nurse },
        period: { start: now },
        extension: [
          { url: ALARM_ORDER_EXTENSION, valueReference: { reference: `ServiceRequest/${order.id}` } },
          { url: ALARM_TASK_EXTENSION, valueReference: { reference: `Task/${task.id}` } },
          ...(position ? [positionExtension('alarm', now, position)] : []),
        ],
      }));
      const nextTask = (await tx.update<Task>({
        ...current,
        lastModified: now,
        businessStatus: { ...hnConcept('alarm', '报警'), ...(note ? { text: note } : {}) },
        extension: [...(current.extension ?? []), positionExtension('alarm', now, position)],
      })).resource;
      await tx.lock(`home-nursing:ServiceRequest/${order.id}`);
      const currentOrder = (await tx.read('ServiceRequest', order.id!)) as ServiceRequest;
      const nextOrder = (await tx.update<ServiceRequest>({ ...currentOrder, supportingInfo: [...(currentOrder.supportingInfo ?? []), { reference: `Flag/${flag.id}` }] })).resource;
      return { result: { flag, task: nextTask }, written: [{ kind: 'create', resource: flag }, { kind: 'update', resource: nextTask }, { kind: 'update', resource: nextOrder }] };
    });
    // After the commit: at once to every duty-desk client of the provider.
    const delivered = deps.desk.push(provider, { type: 'alarm', flag: out.flag, task: `Task/${task.id}`, patient: `Patient/${patientId}`, nurse, position: position ?? null, ...(note ? { note } : {}) });
    return { status: 201, resource: { resourceType: 'Parameters', parameter: [{ name: 'flag', resource: out.flag }, { name: 'task', resource: out.task }, { name: 'deliveredTo', valueInteger: delivered }] } };
  });

  const resolve = operation('$resolve-alarm', 'Flag', async (ctx, req, target) => {
    notInBundle(deps.repo, ctx, '$resolve-alarm');
    allow(ctx, 'update', 'Flag');
    const flag = await readOrNull<Flag>(ctx.repo, 'Flag', target.id!);
    const orderRef = flag?.extension?.find((e) => e.url === ALARM_ORDER_EXTENSION)?.valueReference?.reference;
    if (!flag || !isChainResource(flag) || !orderRef?.startsWith('ServiceRequest/')) throw new NotFound(`Flag/${target.id} is not a home-nursing alarm`);
    const order = await readOrder(ctx.repo, orderRef.slice('ServiceRequest/'.length));
    const staff = await staffOf(ctx, providerOf(order), 'NU-08', 'Resolving an alarm');
    const note = parametersOf(req.body).find((p) => p.name === 'note')?.valueString?.trim();
    if (!note) throw new Invalid('Parameter "note" says how the alarm was handled', ['note']);
    const now = deps.clock.now().toISOString();
    const resolved = await auditedStep(ctx, patientOf(order), '$resolve-alarm', async (tx) => {
      await tx.lock(`home-nursing:Flag/${flag.id}`);
      const current = (await tx.read('Flag', flag.id!)) as Flag;
      if (current.status !== 'active') throw new Conflict(`Flag/${flag.id} is already ${current.status}`);
      const next = (await tx.update<Flag>({
        ...current,
        status: 'inactive',
        period: { ...current.period, end: now },
        extension: [...(current.extension ?? []), { url: ALARM_RESOLUTION_EXTENSION, extension: [{ url: 'by', valueReference: { reference: staff } }, { url: 'time', valueDateTime: now }, { url: 'note', valueString: note }] }],
      })).resource;
      return { result: next, written: [{ kind: 'update', resource: next }] };
    });
    const taskRef = flag.extension?.find((e) => e.url === ALARM_TASK_EXTENSION)?.valueReference?.reference;
    deps.desk.push(providerOf(order), { type: 'alarm-resolved', flag: `Flag/${flag.id}`, task: taskRef, by: staff, note });
    return { status: 200, resource: resolved };
  });

  return [checkIn, checkOut, alarm, resolve];
}
