// `GET /fhir/EpisodeOfCare/$hospice-worklist` (HO-02): for a member of hospice teams, each patient
// in their care with when the next symptom assessment is due (the plan's interval after the last
// one, or after enrolment) and whether it is overdue, the latest pain score, and the open tasks
// (symptom reviews, family support, bereavement follow-ups). Audited with every patient listed.
import type { CareTeam, EpisodeOfCare, Observation, ParametersParameter, PractitionerRole, Task } from '@medplum/fhirtypes';
import { allow, audit } from '../../fhir/access/enforce.js';
import { Forbidden } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { addDays, clinicDate, clinicDateOf } from '../family-doctor/clinic-dates.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { ASSESSMENT_PANEL, HOSPICE, HOSPICE_SYSTEM, isHospice, PAIN } from './hospice-codes.js';
import type { HospiceDeps } from './hospice-deps.js';

const OPEN_TASKS = 'requested,accepted,in-progress';

export function hospiceWorklistOperation(deps: HospiceDeps): ModuleOperation {
  return {
    name: '$hospice-worklist',
    level: 'type',
    type: 'EpisodeOfCare',
    methods: ['GET'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/EpisodeOfCare-hospice-worklist',
    async handle(ctx) {
      allow(ctx, 'search-type', 'EpisodeOfCare');
      const user = ctx.access.actor.user;
      if (!user?.startsWith('Practitioner/')) throw new Forbidden('The hospice worklist is the team members\'');
      const roles = (await searchAll<PractitionerRole>(ctx.repo, 'PractitionerRole', [['practitioner', user]])).map((r) => `PractitionerRole/${r.id}`);
      const teams = roles.length ? await searchAll<CareTeam>(ctx.repo, 'CareTeam', [['participant', roles.join(',')], ['status', 'active'], ['category', `${HOSPICE.system}|${HOSPICE.code}`]]) : [];
      const today = clinicDateOf(deps.clock.now());
      const entries: ParametersParameter[] = [];
      const patients: string[] = [];
      for (const team of teams) {
        const patient = team.subject?.reference;
        if (!patient?.startsWith('Patient/')) continue;
        const [episode] = (await searchAll<EpisodeOfCare>(ctx.repo, 'EpisodeOfCare', [['patient', patient], ['status', 'active']])).filter((e) => isHospice(e.type) && e.team?.some((t) => t.reference === `CareTeam/${team.id}`));
        if (!episode) continue;
        const [plan] = await searchAll<{ id?: string; activity?: { detail?: { code?: { coding?: { system?: string; code?: string }[] }; scheduledTiming?: { repeat?: { period?: number } } } }[] }>(ctx.repo, 'CarePlan', [['care-team', `CareTeam/${team.id}`]]);
        const every = plan?.activity?.find((a) => a.detail?.code?.coding?.some((c) => c.system === HOSPICE_SYSTEM && c.code === 'symptom-assessment'))?.detail?.scheduledTiming?.repeat?.period ?? 7;
        const assessments = await searchAll<Observation>(ctx.repo, 'Observation', [['subject', patient], ['code', `${ASSESSMENT_PANEL.system}|${ASSESSMENT_PANEL.code}`]]);
        const last = assessments.map((o) => o.effectiveDateTime ?? '').sort().at(-1);
        const due = addDays(clinicDate(last || episode.period?.start)!, every);
        const [pain] = (await searchAll<Observation>(ctx.repo, 'Observation', [['subject', patient], ['code', `${PAIN.system}|${PAIN.code}`]])).sort((a, b) => (b.effectiveDateTime ?? '').localeCompare(a.effectiveDateTime ?? ''));
        const tasks = await searchAll<Task>(ctx.repo, 'Task', [['patient', patient], ['status', OPEN_TASKS]]);
        const ours = tasks.filter((t) => t.code?.coding?.some((c) => c.system === HOSPICE_SYSTEM));
        patients.push(patient.slice('Patient/'.length));
        entries.push({
          name: 'patient',
          part: [
            { name: 'patient', valueReference: { reference: patient } },
            { name: 'episodeOfCare', valueReference: { reference: `EpisodeOfCare/${episode.id}` } },
            ...(last ? [{ name: 'lastAssessment', valueDateTime: last }] : []),
            { name: 'assessmentDue', valueDate: due },
            { name: 'assessmentStatus', valueCode: due < today ? 'overdue' : due === today ? 'due' : 'scheduled' },
            ...(pain?.valueInteger !== undefined ? [{ name: 'pain', valueInteger: pain.valueInteger }] : []),
            ...ours.map((t) => ({ name: 'task', valueReference: { reference: `Task/${t.id}`, display: t.code?.coding?.[0]?.code } })),
          ],
        });
      }
      audit(ctx, { kind: 'operation', type: 'EpisodeOfCare', outcome: 'success', patients, query: '$hospice-worklist' });
      return { status: 200, resource: { resourceType: 'Parameters', parameter: [{ name: 'count', valueInteger: entries.length }, ...entries] } };
    },
  };
}
