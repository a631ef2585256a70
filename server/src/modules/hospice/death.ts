// `POST /fhir/EpisodeOfCare/{id}/$record-death` (HO-02): the team's physician records the death of
// a patient in hospice care: the Patient's `deceasedDateTime`, the EpisodeOfCare finished, the
// CarePlan's activities completed but bereavement follow-up (now in progress), and the family's
// bereavement follow-up Tasks — 7, 30 and 90 days after the death — owned by the team's social
// worker, psychologist or spiritual-care member. The CareTeam stays active through bereavement.
import type { CarePlan, EpisodeOfCare, ParametersParameter, Patient, PractitionerRole, Task } from '@medplum/fhirtypes';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow, visiblePatientsOf } from '../../fhir/access/enforce.js';
import { Conflict, Forbidden, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf } from '../../fhir/operation-parameters.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { BEREAVEMENT_DAYS, coded, HOSPICE_SYSTEM, isHospice, PSYCHOSOCIAL, TASKS } from './hospice-codes.js';
import type { HospiceDeps } from './hospice-deps.js';
import { careOf } from './hospice-store.js';

const OPERATION = '$record-death';
const roleCode = (p: { role?: { coding?: { system?: string; code?: string }[] }[] }) => p.role?.flatMap((r) => r.coding ?? []).find((c) => c.system === HOSPICE_SYSTEM)?.code;

export function recordDeathOperation(deps: HospiceDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'EpisodeOfCare',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/EpisodeOfCare-record-death',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      for (const type of ['Patient', 'EpisodeOfCare', 'CarePlan']) allow(ctx, 'update', type);
      allow(ctx, 'create', 'Task');
      await visiblePatientsOf(ctx, 'operation', 'EpisodeOfCare', target.id!);
      const episode = (await ctx.repo.read('EpisodeOfCare', target.id!)) as EpisodeOfCare;
      if (!isHospice(episode.type)) throw new Unprocessable('HO-02: not a hospice episode of care');
      if (episode.status !== 'active') throw new Conflict(`The hospice care is already ${episode.status}`);
      const care = await careOf(ctx.repo, episode);
      const user = ctx.access.actor.user;
      const roles = user?.startsWith('Practitioner/') ? (await searchAll<PractitionerRole>(ctx.repo, 'PractitionerRole', [['practitioner', user]])).map((r) => `PractitionerRole/${r.id}`) : [];
      const physician = care.team.participant?.some((p) => roleCode(p) === 'physician' && roles.includes(p.member?.reference ?? ''));
      if (!physician) throw new Forbidden('HO-02: the team\'s physician records the death');
      const params = parametersOf(req.body);
      const at = params.find((p) => p.name === 'date')?.valueDateTime;
      const now = deps.clock.now();
      if (!at || Number.isNaN(Date.parse(at)) || Date.parse(at) > now.getTime() + 60_000 || Date.parse(at) < Date.parse(episode.period?.start ?? at)) {
        throw new Invalid('"date" is the dateTime of the death: not in the future, not before the hospice care began', ['date']);
      }
      const supporter = care.team.participant?.find((p) => PSYCHOSOCIAL.includes(roleCode(p) as never))?.member?.reference ?? care.team.participant?.[0]?.member?.reference;
      const patientId = episode.patient.reference!.slice('Patient/'.length);

      const out = await auditedStep(ctx, patientId, OPERATION, async (tx) => {
        const patient = (await tx.read('Patient', patientId)) as Patient;
        const deceased = (await tx.update<Patient>({ ...patient, deceasedDateTime: at })).resource;
        const finished = (await tx.update<EpisodeOfCare>({ ...episode, status: 'finished', period: { ...episode.period, end: at } }, { ifMatch: episode.meta?.versionId })).resource;
        const plan = (await tx.update<CarePlan>({
          ...care.plan,
          activity: care.plan.activity?.map((a) => ({ ...a, detail: a.detail ? { ...a.detail, status: a.detail.code?.coding?.some((c) => c.code === 'bereavement-follow-up') ? 'in-progress' : 'completed' } : a.detail })),
        })).resource;
        const tasks: Task[] = [];
        for (const days of BEREAVEMENT_DAYS) {
          const due = new Date(Date.parse(at) + days * 86_400_000).toISOString();
          tasks.push(await tx.create<Task>({
            resourceType: 'Task', status: 'requested', intent: 'plan', code: coded(TASKS.bereavement, '哀伤随访'),
            for: { reference: `Patient/${patientId}` }, basedOn: [{ reference: `CarePlan/${care.plan.id}` }], authoredOn: now.toISOString(),
            ...(supporter ? { owner: { reference: supporter } } : {}),
            restriction: { period: { start: due } },
            description: `哀伤随访：逝者家属，第 ${days} 天`,
          }));
        }
        const written = [deceased, finished, plan].map((resource) => ({ kind: 'update' as const, resource }));
        return { result: { deceased, finished, plan, tasks }, written: [...written, ...tasks.map((resource) => ({ kind: 'create' as const, resource }))] };
      });
      const parameter: ParametersParameter[] = [
        { name: 'episodeOfCare', resource: out.finished }, { name: 'carePlan', resource: out.plan },
        ...out.tasks.map((resource) => ({ name: 'bereavement', resource })),
      ];
      return { status: 200, resource: { resourceType: 'Parameters', parameter } };
    },
  };
}
