// Booking online follow-up visits: `Appointment/$book` (a verified resident, for themself or a
// child they are guardian of), `$cancel`, `$reschedule` and `$no-show`. A slot is taken inside a
// transaction holding the slot's lock, after reading it again there: of any number of residents
// racing for one slot exactly one gets it, the others a 409 that says to choose another.
import type { Appointment, CodeableConcept, Condition, Parameters, Schedule, Slot } from '@medplum/fhirtypes';
import { canSee } from '../../fhir/access/access-control.js';
import { allow, audit } from '../../fhir/access/enforce.js';
import { Conflict, Forbidden, Invalid } from '../../fhir/errors.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf, referenceParam, stringParam } from '../../fhir/operation-parameters.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { eligiblePractitionerByReference } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';
import { followUpDecision } from './follow-up.js';

/** Marks what the internet hospital itself writes (so it never counts as a physical institution's record). */
export const INTERNET_HOSPITAL_SOURCE = 'urn:suhe:internet-hospital';
const FOLLOW_UP = { system: 'http://terminology.hl7.org/CodeSystem/v2-0276', code: 'FOLLOWUP', display: 'A follow up visit from a previous appointment' };
const EXEMPT_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/first-visit-pilot-department';

interface SlotContext {
  slot: Slot;
  schedule: Schedule;
  doctor: string;
}

export function bookingOperations(deps: HospitalDeps): ModuleOperation[] {
  const slotContext = async (repo: FhirRepository, slotId: string): Promise<SlotContext> => {
    const slot = (await repo.read('Slot', slotId).catch(() => {
      throw new Invalid(`Slot/${slotId} does not exist`);
    })) as Slot;
    const schedule = (await repo.read('Schedule', slot.schedule.reference?.split('/')[1] ?? '')) as Schedule;
    const doctor = schedule.actor.find((a) => a.reference?.startsWith('Practitioner/'))?.reference;
    if (!doctor) throw new Invalid(`Slot/${slotId} belongs to no doctor's schedule`);
    return { slot, schedule, doctor };
  };

  /** The patient booked for: the caller's own record or a ward's (IH-10: the caller is a verified resident). */
  const bookingPatient = async (ctx: InteractionContext, params: Parameters['parameter'] & object): Promise<string> => {
    const actor = ctx.access.actor;
    if (actor.role !== 'resident' || !actor.user?.startsWith('Patient/')) throw new Forbidden('Residents book online visits, for themselves or a child in their care');
    const identity = actor.account ? await deps.identityOf(actor.account) : undefined;
    if (!identity) throw new Forbidden('IH-10: online visits are for residents whose identity is verified (real name); verify your identity first');
    const patient = params.some((p) => p.name === 'patient') ? referenceParam(params, 'patient', 'Patient') : actor.user.slice('Patient/'.length);
    if (!canSee(await ctx.access.visiblePatients(), [patient])) throw new Forbidden(`You may book only for yourself or a child you are the recorded guardian of, not Patient/${patient}`);
    return patient;
  };

  const checkBookable = (context: SlotContext, now: Date) => {
    if (Date.parse(context.slot.start) <= now.getTime()) throw new Conflict('This slot has already begun; choose a later one');
  };

  /** Takes the slot for the appointment inside the caller's transaction, or answers 409. */
  const takeSlot = async (tx: FhirRepository, slotId: string): Promise<Slot> => {
    await tx.lock(`slot:${slotId}`);
    const slot = (await tx.read('Slot', slotId)) as Slot;
    if (slot.status !== 'free') throw new Conflict('This time has just been booked by someone else; please choose another free slot');
    return (await tx.update<Slot>({ ...slot, status: 'busy' })).resource;
  };

  const freeSlot = async (tx: FhirRepository, slotId: string, now: Date) => {
    await tx.lock(`slot:${slotId}`);
    const slot = (await tx.read('Slot', slotId)) as Slot;
    if (slot.status === 'busy' && Date.parse(slot.start) > now.getTime()) await tx.update<Slot>({ ...slot, status: 'free' });
  };

  /** The appointment when the caller is its patient (or guardian), its doctor, or an administrator. */
  const ownAppointment = async (ctx: InteractionContext, id: string, who: 'patient-or-doctor' | 'doctor'): Promise<Appointment> => {
    const appointment = (await ctx.repo.read('Appointment', id)) as Appointment;
    const actor = ctx.access.actor;
    const patient = appointment.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference;
    const doctor = appointment.participant.find((p) => p.actor?.reference?.startsWith('Practitioner/'))?.actor?.reference;
    const isDoctor = actor.user !== undefined && actor.user === doctor;
    const isPatientSide = actor.role === 'resident' && !!patient && canSee(await ctx.access.visiblePatients(), [patient.slice('Patient/'.length)]);
    if (actor.role === 'admin' || isDoctor || (who === 'patient-or-doctor' && isPatientSide)) return appointment;
    throw new Forbidden(who === 'doctor' ? "Only the appointment's doctor records this" : "Only the appointment's patient (or their guardian) or doctor may change it");
  };

  const book: ModuleOperation = {
    name: '$book',
    level: 'type',
    type: 'Appointment',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Appointment-book',
    async handle(ctx, req) {
      allow(ctx, 'create', 'Appointment');
      const params = parametersOf(req.body);
      const slotId = referenceParam(params, 'slot', 'Slot');
      const patient = await bookingPatient(ctx, params);
      const now = deps.clock.now();
      const context = await slotContext(ctx.repo, slotId);
      checkBookable(context, now);
      await eligiblePractitionerByReference(deps, context.doctor, 'doctor', undefined, now);
      const people = deps.samePerson ? await deps.samePerson([patient]) : [patient];
      const departments: CodeableConcept[] = [...(context.schedule.specialty ?? []), ...(context.schedule.serviceType ?? [])];
      const decision = await followUpDecision(ctx.repo, people, departments, deps.rules, now);
      if (!decision.allowed) throw new Forbidden(decision.reason);
      const reason = stringParam(params, 'reason');
      const appointment = await ctx.repo.transaction(async (tx) => {
        const slot = await takeSlot(tx, slotId);
        return tx.create<Appointment>(newAppointment(slot, context, patient, decision.basis, decision.exemptDepartment, reason, now));
      });
      audit(ctx, { kind: 'create', type: 'Appointment', id: appointment.id, outcome: 'success', patients: [patient], query: '$book' });
      return { status: 201, resource: appointment, location: `Appointment/${appointment.id}/_history/${appointment.meta?.versionId}` };
    },
  };

  const cancel: ModuleOperation = {
    name: '$cancel',
    level: 'instance',
    type: 'Appointment',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Appointment-cancel',
    async handle(ctx, req, target) {
      allow(ctx, 'update', 'Appointment');
      const reason = stringParam(parametersOf(req.body), 'reason');
      if (!reason?.trim()) throw new Invalid('Say why the appointment is cancelled (parameter "reason")', ['reason']);
      const current = await ownAppointment(ctx, target.id!, 'patient-or-doctor');
      if (current.status !== 'booked') throw new Conflict(`Only a booked appointment can be cancelled; this one is ${current.status}`);
      const now = deps.clock.now();
      const cancelled = await ctx.repo.transaction(async (tx) => {
        const appointment = (await tx.read('Appointment', target.id!)) as Appointment;
        if (appointment.status !== 'booked') throw new Conflict(`Only a booked appointment can be cancelled; this one is ${appointment.status}`);
        for (const slot of appointment.slot ?? []) await freeSlot(tx, slot.reference!.split('/')[1], now);
        return (await tx.update<Appointment>({ ...appointment, status: 'cancelled', cancelationReason: { text: reason } })).resource;
      });
      audit(ctx, { kind: 'update', type: 'Appointment', id: cancelled.id, outcome: 'success', patients: patientsOf(cancelled), query: '$cancel' });
      return { status: 200, resource: cancelled };
    },
  };

  const reschedule: ModuleOperation = {
    name: '$reschedule',
    level: 'instance',
    type: 'Appointment',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Appointment-reschedule',
    async handle(ctx, req, target) {
      allow(ctx, 'update', 'Appointment');
      const slotId = referenceParam(parametersOf(req.body), 'slot', 'Slot');
      const current = await ownAppointment(ctx, target.id!, 'patient-or-doctor');
      if (current.status !== 'booked') throw new Conflict(`Only a booked appointment can be moved; this one is ${current.status}`);
      const now = deps.clock.now();
      const context = await slotContext(ctx.repo, slotId);
      checkBookable(context, now);
      await eligiblePractitionerByReference(deps, context.doctor, 'doctor', undefined, now);
      const moved = await ctx.repo.transaction(async (tx) => {
        const appointment = (await tx.read('Appointment', target.id!)) as Appointment;
        if (appointment.status !== 'booked') throw new Conflict(`Only a booked appointment can be moved; this one is ${appointment.status}`);
        // Take the new slot first: when it is gone, the old one is kept.
        const slot = await takeSlot(tx, slotId);
        for (const old of appointment.slot ?? []) await freeSlot(tx, old.reference!.split('/')[1], now);
        const doctorParticipant = { actor: { reference: context.doctor }, status: 'accepted' as const };
        return (
          await tx.update<Appointment>({
            ...appointment,
            slot: [{ reference: `Slot/${slot.id}` }],
            start: slot.start,
            end: slot.end,
            participant: [...appointment.participant.filter((p) => !p.actor?.reference?.startsWith('Practitioner/')), doctorParticipant],
          })
        ).resource;
      });
      audit(ctx, { kind: 'update', type: 'Appointment', id: moved.id, outcome: 'success', patients: patientsOf(moved), query: '$reschedule' });
      return { status: 200, resource: moved };
    },
  };

  const noShow: ModuleOperation = {
    name: '$no-show',
    level: 'instance',
    type: 'Appointment',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Appointment-no-show',
    async handle(ctx, _req, target) {
      allow(ctx, 'update', 'Appointment');
      const appointment = await ownAppointment(ctx, target.id!, 'doctor');
      if (appointment.status !== 'booked') throw new Conflict(`Only a booked appointment can be a no-show; this one is ${appointment.status}`);
      if (appointment.start && Date.parse(appointment.start) > deps.clock.now().getTime()) throw new Conflict('The appointment has not begun yet: a no-show is recorded once its time has come');
      const { resource } = await ctx.repo.update<Appointment>({ ...appointment, status: 'noshow' }, { ifMatch: appointment.meta?.versionId });
      audit(ctx, { kind: 'update', type: 'Appointment', id: resource.id, outcome: 'success', patients: patientsOf(resource), query: '$no-show' });
      return { status: 200, resource };
    },
  };

  return [book, cancel, reschedule, noShow];
}

function newAppointment(slot: Slot, context: SlotContext, patient: string, basis: Condition | undefined, exemptDepartment: string | undefined, reason: string | undefined, now: Date): Appointment {
  return {
    resourceType: 'Appointment',
    meta: { source: INTERNET_HOSPITAL_SOURCE },
    status: 'booked',
    appointmentType: { coding: [FOLLOW_UP] },
    ...(context.schedule.serviceType ? { serviceType: context.schedule.serviceType } : {}),
    ...(context.schedule.specialty ? { specialty: context.schedule.specialty } : {}),
    ...(basis ? { reasonReference: [{ reference: `Condition/${basis.id}` }] } : {}),
    ...(reason ? { description: reason } : {}),
    ...(exemptDepartment && !basis ? { extension: [{ url: EXEMPT_EXTENSION, valueString: exemptDepartment }] } : {}),
    slot: [{ reference: `Slot/${slot.id}` }],
    start: slot.start,
    end: slot.end,
    created: now.toISOString(),
    participant: [
      { actor: { reference: `Patient/${patient}` }, required: 'required', status: 'accepted' },
      { actor: { reference: context.doctor }, required: 'required', status: 'accepted' },
    ],
  };
}

function patientsOf(appointment: Appointment): string[] {
  return appointment.participant.map((p) => p.actor?.reference).filter((r): r is string => !!r?.startsWith('Patient/')).map((r) => r.slice('Patient/'.length));
}
