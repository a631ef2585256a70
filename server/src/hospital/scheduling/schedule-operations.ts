// Publishing time for online visits: `POST Schedule/{id}/$generate-slots` turns working hours,
// a slot length and holidays into free Slots (slot-plan.ts), skipping starts the schedule already
// has, so running it again over a range is harmless. Only for an eligible doctor's schedule
// (IH-08/09), by that doctor or an administrator/institution.
import type { Parameters, Schedule, Slot } from '@medplum/fhirtypes';
import { allow, audit } from '../../fhir/access/enforce.js';
import { Forbidden, Invalid } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { integerParams, parametersOf, stringParam, stringParams } from '../../fhir/operation-parameters.js';
import { parseSearchRequest } from '../../fhir/search/parse.js';
import { eligiblePractitionerByReference } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';
import { planSlots } from './slot-plan.js';

/** Who may manage any practitioner's schedule besides the practitioner. */
const MANAGERS = new Set(['admin', 'institution']);

export function scheduleOperations(deps: HospitalDeps): ModuleOperation[] {
  return [
    {
      name: '$generate-slots',
      level: 'instance',
      type: 'Schedule',
      methods: ['POST'],
      definition: 'https://suhe.example.cn/fhir/OperationDefinition/Schedule-generate-slots',
      async handle(ctx, req, target) {
        allow(ctx, 'create', 'Slot');
        const schedule = (await ctx.repo.read('Schedule', target.id!)) as Schedule;
        const doctor = schedule.actor.find((a) => a.reference?.startsWith('Practitioner/'))?.reference;
        if (!doctor) throw new Invalid('The schedule names no Practitioner among its actors: slots are published for a doctor');
        const actor = ctx.access.actor;
        if (actor.user !== doctor && !MANAGERS.has(actor.role ?? '')) throw new Forbidden(`Only ${doctor} or an administrator publishes this schedule's slots`);
        if (schedule.active === false) throw new Invalid('The schedule is not active');
        await eligiblePractitionerByReference(deps, doctor, 'doctor');
        const params = parametersOf(req.body);
        const plan = planSlots(
          {
            from: stringParam(params, 'from') ?? params.find((p) => p.name === 'from')?.valueDate ?? '',
            to: stringParam(params, 'to') ?? params.find((p) => p.name === 'to')?.valueDate ?? '',
            hours: stringParams(params, 'hours'),
            slotMinutes: integerParams(params, 'slotMinutes')[0] ?? Number.NaN,
            weekdays: params.some((p) => p.name === 'weekday') ? integerParams(params, 'weekday') : undefined,
            holidays: stringParams(params, 'holiday'),
          },
          deps.rules.clinicTimeZone,
          deps.rules.maxScheduleDays,
        );
        const created = await ctx.repo.transaction(async (tx) => {
          await tx.lock(`schedule-slots:${schedule.id}`);
          const existing = new Set(
            ((await tx.search(parseSearchRequest('Slot', [['schedule', `Schedule/${schedule.id}`], ['start', `ge${plan[0]?.start ?? '1900-01-01'}`]], tx.registry, { defaultCount: 10_000, maxCount: 10_000, defaultTotal: 'none' }))).resources as Slot[]).map((s) => Date.parse(s.start)),
          );
          const fresh = plan.filter((p) => !existing.has(Date.parse(p.start)));
          for (const slot of fresh) {
            await tx.create<Slot>({
              resourceType: 'Slot',
              schedule: { reference: `Schedule/${schedule.id}` },
              status: 'free',
              start: slot.start,
              end: slot.end,
              ...(schedule.serviceType ? { serviceType: schedule.serviceType } : {}),
              ...(schedule.specialty ? { specialty: schedule.specialty } : {}),
            });
          }
          return fresh.length;
        });
        audit(ctx, { kind: 'operation', type: 'Schedule', id: schedule.id, outcome: 'success', patients: [], query: '$generate-slots', detail: `${created} slot(s) published` });
        const result: Parameters = {
          resourceType: 'Parameters',
          parameter: [
            { name: 'created', valueInteger: created },
            { name: 'alreadyPublished', valueInteger: plan.length - created },
          ],
        };
        return { status: 200, resource: result };
      },
    },
  ];
}
