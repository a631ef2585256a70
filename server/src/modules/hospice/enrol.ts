// `POST /fhir/Patient/{id}/$enrol-hospice` (HO-02): a physician who cares for an end-stage patient
// enrols them in hospice care — mostly at home — with a multidisciplinary team (a physician, a
// nurse and at least one of social work, psychology or spiritual care; the family contact joins
// the team), a care plan of regular symptom assessments, comfort care, psychological, spiritual
// and social support, family support and, after the death, bereavement follow-up. Written in one
// transaction: EpisodeOfCare (type hospice, the end-stage diagnosis), CareTeam, CarePlan and the
// family-support Task. The team members see the patient's record through the CareTeam.
import type { CarePlan, CareTeam, Condition, EpisodeOfCare, ParametersParameter, PractitionerRole, Task } from '@medplum/fhirtypes';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow, visiblePatientsOf } from '../../fhir/access/enforce.js';
import { Conflict, Forbidden, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf, referenceParam } from '../../fhir/operation-parameters.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { ACTIVITIES, coded, DISCIPLINES, HOSPICE, isHospice, PSYCHOSOCIAL, TASKS, type Discipline } from './hospice-codes.js';
import type { HospiceDeps } from './hospice-deps.js';

const OPERATION = '$enrol-hospice';
const DEFAULT_EVERY_DAYS = 7;
const isActive = (c: Condition) => !c.clinicalStatus?.coding?.some((x) => !['active', 'recurrence', 'relapse'].includes(x.code ?? ''));
const isConfirmed = (c: Condition) => !!c.verificationStatus?.coding?.some((x) => x.code === 'confirmed');

interface TeamMember {
  role: string;
  discipline: Discipline;
}

function teamOf(params: ParametersParameter[]): TeamMember[] {
  const team = params.filter((p) => p.name === 'team').map((p) => {
    const parts = p.part ?? [];
    const role = referenceParam(parts, 'member', 'PractitionerRole');
    const discipline = parts.find((x) => x.name === 'discipline')?.valueCode;
    if (!discipline || !(DISCIPLINES as readonly string[]).includes(discipline)) throw new Invalid(`Each "team" member needs a "discipline": one of ${DISCIPLINES.join(', ')}`, ['team']);
    return { role: `PractitionerRole/${role}`, discipline: discipline as Discipline };
  });
  const has = (d: Discipline) => team.some((m) => m.discipline === d);
  const missing = [...(has('physician') ? [] : ['a physician']), ...(has('nurse') ? [] : ['a nurse']), ...(team.some((m) => PSYCHOSOCIAL.includes(m.discipline)) ? [] : ['social work, psychology or spiritual care'])];
  if (missing.length) throw new Unprocessable(`HO-02: hospice care is multidisciplinary; the team lacks ${missing.join(', ')}`);
  return team;
}

export function enrolOperation(deps: HospiceDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'Patient',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Patient-enrol-hospice',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      for (const type of ['EpisodeOfCare', 'CareTeam', 'CarePlan', 'Task']) allow(ctx, 'create', type);
      const { role, user } = ctx.access.actor;
      if (role !== 'doctor' || !user?.startsWith('Practitioner/')) throw new Forbidden('HO-02: a physician who cares for the patient enrols them in hospice care');
      const patientId = target.id!;
      await visiblePatientsOf(ctx, 'operation', 'Patient', patientId);
      const params = parametersOf(req.body);
      const conditionId = referenceParam(params, 'condition', 'Condition');
      const team = teamOf(params);
      const family = params.find((p) => p.name === 'familyContact') ? `RelatedPerson/${referenceParam(params, 'familyContact', 'RelatedPerson')}` : undefined;
      const everyParam = params.find((p) => p.name === 'assessmentEveryDays');
      const every = everyParam ? everyParam.valueInteger ?? everyParam.valuePositiveInt : DEFAULT_EVERY_DAYS;
      if (!Number.isInteger(every) || every! < 1 || every! > 30) throw new Invalid('"assessmentEveryDays" is a whole number of days from 1 to 30', ['assessmentEveryDays']);

      const condition = (await ctx.repo.read('Condition', conditionId).catch(() => undefined)) as Condition | undefined;
      if (!condition || condition.subject?.reference !== `Patient/${patientId}`) throw new Unprocessable(`Condition/${conditionId} is not a diagnosis of Patient/${patientId}`);
      if (!isActive(condition) || !isConfirmed(condition)) throw new Unprocessable('HO-02: hospice care follows a confirmed, active end-stage diagnosis (Condition clinicalStatus active, verificationStatus confirmed)');
      const roles = await Promise.all(team.map(async (m) => ({ ...m, resource: (await ctx.repo.read('PractitionerRole', m.role.split('/')[1]).catch(() => undefined)) as PractitionerRole | undefined })));
      const inactive = roles.filter((r) => !r.resource || r.resource.active === false || !r.resource.practitioner?.reference);
      if (inactive.length) throw new Unprocessable(`${inactive.map((r) => r.role).join(', ')}: not an active PractitionerRole`);
      const myRole = roles.find((r) => r.resource!.practitioner!.reference === user && r.discipline === 'physician');
      if (!myRole) throw new Unprocessable('HO-02: the enrolling physician is on the team as its physician (a "team" member with discipline physician and your PractitionerRole)');
      const organization = myRole.resource!.organization?.reference;
      const now = deps.clock.now().toISOString();

      const written = await auditedStep(ctx, patientId, OPERATION, async (tx) => {
        await tx.lock(`hospice:Patient/${patientId}`);
        const open = (await searchAll<EpisodeOfCare>(tx, 'EpisodeOfCare', [['patient', `Patient/${patientId}`], ['status', 'active']])).filter((e) => isHospice(e.type));
        if (open.length) throw new Conflict(`Patient/${patientId} is already in hospice care (EpisodeOfCare/${open[0].id})`);
        const careTeam = await tx.create<CareTeam>({
          resourceType: 'CareTeam', status: 'active', category: [{ coding: [HOSPICE] }], name: '安宁疗护团队',
          subject: { reference: `Patient/${patientId}` }, period: { start: now },
          participant: [
            ...roles.map((r) => ({ role: [coded(r.discipline)], member: { reference: r.role } })),
            ...(family ? [{ role: [coded('family-contact', '家属联系人')], member: { reference: family } }] : []),
          ],
          ...(organization ? { managingOrganization: [{ reference: organization }] } : {}),
        });
        const episode = await tx.create<EpisodeOfCare>({
          resourceType: 'EpisodeOfCare', status: 'active', type: [{ coding: [HOSPICE] }], patient: { reference: `Patient/${patientId}` },
          period: { start: now }, careManager: { reference: user }, team: [{ reference: `CareTeam/${careTeam.id}` }],
          diagnosis: [{ condition: { reference: `Condition/${conditionId}` }, rank: 1 }],
          ...(organization ? { managingOrganization: { reference: organization } } : {}),
        });
        const plan = await tx.create<CarePlan>({
          resourceType: 'CarePlan', status: 'active', intent: 'plan', category: [{ coding: [HOSPICE] }], title: '安宁疗护计划',
          subject: { reference: `Patient/${patientId}` }, period: { start: now }, created: now, author: { reference: user },
          careTeam: [{ reference: `CareTeam/${careTeam.id}` }], addresses: [{ reference: `Condition/${conditionId}` }],
          supportingInfo: [{ reference: `EpisodeOfCare/${episode.id}` }],
          activity: ACTIVITIES.map((code) => ({
            detail: {
              code: coded(code),
              status: code === 'bereavement-follow-up' ? 'not-started' : 'in-progress',
              ...(code === 'symptom-assessment' ? { scheduledTiming: { repeat: { frequency: 1, period: every, periodUnit: 'd' as const } } } : {}),
              location: { display: '居家' },
            },
          })),
        });
        const familySupport = await tx.create<Task>({
          resourceType: 'Task', status: 'requested', intent: 'plan', code: coded(TASKS.familySupport, '家属支持'),
          for: { reference: `Patient/${patientId}` }, basedOn: [{ reference: `CarePlan/${plan.id}` }], authoredOn: now,
          owner: { reference: roles.find((r) => PSYCHOSOCIAL.includes(r.discipline))!.role },
          description: '评估并支持家属（照护负担、心理状况、哀伤准备）',
        });
        return { result: { episode, careTeam, plan, familySupport }, written: [careTeam, episode, plan, familySupport].map((resource) => ({ kind: 'create' as const, resource })) };
      });
      const parameter: ParametersParameter[] = [
        { name: 'episodeOfCare', resource: written.episode }, { name: 'careTeam', resource: written.careTeam },
        { name: 'carePlan', resource: written.plan }, { name: 'familySupport', resource: written.familySupport },
      ];
      return { status: 201, resource: { resourceType: 'Parameters', parameter } };
    },
  };
}
