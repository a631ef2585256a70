// The online visit itself: `Appointment/{id}/$start-visit` (the doctor opens the Encounter, class
// VR), `Encounter/{id}/$send-message` (text or a file, as Communication, pushed live to the other
// side — see visit-socket.ts for the WebSocket way), and `Encounter/{id}/$end-visit` (the doctor
// closes it with a summary and a diagnosis, or ends it early to refer the patient offline with the
// reason, IH-03; either way the record of the visit is written, IH-11, with retention classes,
// IH-12). Only an eligible doctor (IH-08/09) who is the appointment's doctor runs a visit.
import type { Appointment, Attachment, Communication, Encounter, ParametersParameter } from '@medplum/fhirtypes';
import { canSee } from '../../fhir/access/access-control.js';
import { allow, audit } from '../../fhir/access/enforce.js';
import { Conflict, Forbidden, Invalid } from '../../fhir/errors.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf, stringParam } from '../../fhir/operation-parameters.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { parseSearchRequest } from '../../fhir/search/parse.js';
import { eligibleClinician } from '../eligibility.js';
import { chargeVisit, selfPayParameter } from '../insurance/index.js';
import type { HospitalDeps } from '../index.js';
import { visitEncounter, visitMessage, visitRecord, type VisitOutcome } from './visit-resources.js';

const MAX_MESSAGE = 4000;
const MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024;

const doctorOf = (encounter: Encounter) => encounter.participant?.find((p) => p.individual?.reference?.startsWith('Practitioner/'))?.individual?.reference;
const patientOf = (encounter: Encounter) => encounter.subject?.reference;

/**
 * The visit produces its charge (MI-01) as soon as it ends: a settled Claim or a self-pay Invoice,
 * as parts `charge` (its Parameters) and `chargeOutcome`. Charging runs after the visit's record
 * is committed, so an insurer that fails cannot undo the visit; the answer then says so and
 * `$submit-claim` charges it later.
 */
async function chargeEndedVisit(deps: HospitalDeps, ctx: InteractionContext, finished: Encounter, selfPay: boolean): Promise<ParametersParameter[]> {
  try {
    const charge = await chargeVisit(deps, ctx, finished, selfPay, '$end-visit');
    return [{ name: 'charge', part: charge }, { name: 'chargeOutcome', valueCode: charge.find((p) => p.name === 'outcome')?.valueCode }];
  } catch (err) {
    deps.logger?.warn('charging an ended online visit failed; $submit-claim can retry', { encounter: finished.id, error: (err as Error).message });
    const diagnostics = `The visit has ended, but charging it failed (${(err as Error).message}); charge it with Encounter/${finished.id}/$submit-claim`;
    return [
      { name: 'chargeOutcome', valueCode: 'failed' },
      { name: 'chargeIssue', resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'incomplete', diagnostics }] } },
    ];
  }
}

/** Whom the caller speaks for in this visit (its doctor, or its patient — themself or a guardian), else Forbidden. */
export async function visitParty(ctx: InteractionContext, encounter: Encounter): Promise<string> {
  const { user, role } = ctx.access.actor;
  if (user && user === doctorOf(encounter)) return user;
  const patient = patientOf(encounter);
  if (role === 'resident' && patient && canSee(await ctx.access.visiblePatients(), [patient.slice('Patient/'.length)])) return patient;
  throw new Forbidden('Only the visit\'s doctor and patient (or the patient\'s guardian) take part in it');
}

/** Stores a message of the visit and pushes it to the other side; delivered at once when they are connected. */
export async function sendMessage(deps: HospitalDeps, repo: FhirRepository, encounter: Encounter, sender: string, content: { text?: string; attachment?: Attachment }): Promise<Communication> {
  if (encounter.status !== 'in-progress') throw new Conflict(`The visit is ${encounter.status}: messages go to a visit in progress`);
  const text = content.text?.trim();
  if (!content.attachment && !text) throw new Invalid('A message needs text or an attachment');
  if (text && text.length > MAX_MESSAGE) throw new Invalid(`A message is at most ${MAX_MESSAGE} characters`);
  if (content.attachment && (content.attachment.data?.length ?? 0) * 0.75 > MAX_ATTACHMENT_BYTES) throw new Invalid(`A file sent in a visit is at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB`);
  const recipients = [doctorOf(encounter), patientOf(encounter)].filter((r): r is string => !!r && r !== sender);
  const now = deps.clock.now();
  const message = await repo.create(visitMessage(encounter, sender, recipients, { text, attachment: content.attachment }, now));
  const reached = deps.live.push(encounter.id!, { type: 'message', communication: message }, sender);
  if (!recipients.some((r) => reached.includes(r))) return message;
  const { resource } = await repo.update<Communication>({ ...message, status: 'completed', received: deps.clock.now().toISOString() });
  return resource;
}

/** Marks the messages a participant had not yet received as delivered (they just connected). */
export async function deliverPending(repo: FhirRepository, encounterId: string, recipient: string, now: Date): Promise<Communication[]> {
  const pending = (await repo.search(parseSearchRequest('Communication', [['encounter', `Encounter/${encounterId}`], ['status', 'in-progress'], ['recipient', recipient], ['_sort', 'sent']], repo.registry, { defaultCount: 500, maxCount: 500, defaultTotal: 'none' }))).resources as Communication[];
  const delivered: Communication[] = [];
  for (const message of pending) delivered.push((await repo.update<Communication>({ ...message, status: 'completed', received: now.toISOString() })).resource);
  return delivered;
}

export function visitOperations(deps: HospitalDeps): ModuleOperation[] {
  const readEncounter = async (ctx: InteractionContext, id: string) => (await ctx.repo.read('Encounter', id)) as Encounter;

  const start: ModuleOperation = {
    name: '$start-visit',
    level: 'instance',
    type: 'Appointment',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Appointment-start-visit',
    async handle(ctx, _req, target) {
      allow(ctx, 'create', 'Encounter');
      const appointment = (await ctx.repo.read('Appointment', target.id!)) as Appointment;
      const doctor = appointment.participant.find((p) => p.actor?.reference?.startsWith('Practitioner/'))?.actor?.reference;
      if (ctx.access.actor.user !== doctor) throw new Forbidden('Only the appointment\'s doctor starts the visit');
      const clinician = await eligibleClinician(deps, ctx.access.actor, 'doctor', undefined, deps.clock.now());
      if (appointment.status !== 'booked') throw new Conflict(`The appointment is ${appointment.status}: only a booked one starts a visit`);
      const now = deps.clock.now();
      const encounter = await ctx.repo.transaction(async (tx) => {
        const created = await tx.create(visitEncounter(appointment, clinician.reference, clinician.organizations[0], now));
        await tx.update<Appointment>({ ...appointment, status: 'arrived' }, { ifMatch: appointment.meta?.versionId });
        return created;
      });
      audit(ctx, { kind: 'create', type: 'Encounter', id: encounter.id, outcome: 'success', patients: [patientOf(encounter)!.slice('Patient/'.length)], query: '$start-visit' });
      return { status: 201, resource: encounter, location: `Encounter/${encounter.id}/_history/${encounter.meta?.versionId}` };
    },
  };

  const send: ModuleOperation = {
    name: '$send-message',
    level: 'instance',
    type: 'Encounter',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Encounter-send-message',
    async handle(ctx, req, target) {
      allow(ctx, 'create', 'Communication');
      const encounter = await readEncounter(ctx, target.id!);
      const sender = await visitParty(ctx, encounter);
      const params = parametersOf(req.body);
      const attachment = params.find((p) => p.name === 'attachment')?.valueAttachment;
      const message = await sendMessage(deps, ctx.repo, encounter, sender, { text: stringParam(params, 'text'), attachment });
      audit(ctx, { kind: 'create', type: 'Communication', id: message.id, outcome: 'success', patients: [patientOf(encounter)!.slice('Patient/'.length)], query: '$send-message' });
      return { status: 201, resource: message };
    },
  };

  const end: ModuleOperation = {
    name: '$end-visit',
    level: 'instance',
    type: 'Encounter',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Encounter-end-visit',
    async handle(ctx, req, target) {
      allow(ctx, 'update', 'Encounter');
      const encounter = await readEncounter(ctx, target.id!);
      if (ctx.access.actor.user !== doctorOf(encounter)) throw new Forbidden('Only the visit\'s doctor ends it');
      if (encounter.status !== 'in-progress') throw new Conflict(`The visit is already ${encounter.status}`);
      const params = parametersOf(req.body);
      const summary = stringParam(params, 'summary')?.trim();
      if (!summary) throw new Invalid('Write what happened in the visit (parameter "summary"): it becomes the outpatient record (IH-11)', ['summary']);
      const referTo = params.find((p) => p.name === 'referOffline');
      const referReason = referTo ? stringParam(referTo.part ?? [], 'reason')?.trim() ?? referTo.valueString?.trim() : undefined;
      if (referTo && !referReason) throw new Invalid('IH-03: referring the patient offline needs the reason', ['referOffline']);
      const selfPay = selfPayParameter(params);
      const outcome: VisitOutcome = { summary, diagnosis: params.find((p) => p.name === 'diagnosis')?.valueCoding, ...(referReason ? { referral: { reason: referReason } } : {}) };
      const institution = encounter.serviceProvider?.reference;
      const now = deps.clock.now();
      const result = await ctx.repo.transaction(async (tx) => {
        const record = visitRecord(encounter, doctorOf(encounter)!, institution, outcome, now);
        const condition = record.condition ? await tx.create(record.condition) : undefined;
        const referral = record.referral ? await tx.create(record.referral) : undefined;
        const composition = await tx.create({ ...record.composition, ...(condition ? { section: [...record.composition.section!, { title: 'entries', entry: [{ reference: `Condition/${condition.id}` }] }] } : {}) });
        const finished = (
          await tx.update<Encounter>({
            ...encounter,
            status: 'finished',
            period: { ...encounter.period, end: now.toISOString() },
            ...(condition ? { diagnosis: [{ condition: { reference: `Condition/${condition.id}` } }] } : {}),
            ...(referral ? { hospitalization: { dischargeDisposition: { text: `referred offline: ${referReason}` } } } : {}),
          }, { ifMatch: encounter.meta?.versionId })
        ).resource;
        for (const ref of encounter.appointment ?? []) {
          const appointment = (await tx.read('Appointment', ref.reference!.split('/')[1])) as Appointment;
          await tx.update<Appointment>({ ...appointment, status: 'fulfilled' });
        }
        return { finished, composition, condition, referral };
      });
      deps.live.end(encounter.id!, { type: 'ended', encounter: result.finished, ...(result.referral ? { referral: result.referral } : {}) });
      audit(ctx, { kind: 'update', type: 'Encounter', id: encounter.id, outcome: 'success', patients: [patientOf(encounter)!.slice('Patient/'.length)], query: '$end-visit' });
      const parameter = [
        { name: 'encounter', resource: result.finished },
        { name: 'record', resource: result.composition },
        ...(result.condition ? [{ name: 'diagnosis', resource: result.condition }] : []),
        ...(result.referral ? [{ name: 'referral', resource: result.referral }] : []),
        ...(await chargeEndedVisit(deps, ctx, result.finished, selfPay)),
      ];
      return { status: 200, resource: { resourceType: 'Parameters', parameter } };
    },
  };

  return [start, send, end];
}
