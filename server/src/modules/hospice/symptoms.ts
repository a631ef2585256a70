// `POST /fhir/Patient/{id}/$assess-symptoms` (HO-02): a member of the hospice team records a
// symptom assessment: pain on the 0–10 numeric rating (LOINC 72514-3) and, as they were asked,
// the other ESAS-r symptoms (0–10). Stored as a panel Observation with one member per symptom,
// based on the hospice CarePlan. A score of 7 or more asks the team's physician to review the
// symptoms: a Task, urgent, owned by the physician's role.
import type { Observation, ParametersParameter, PractitionerRole, Task } from '@medplum/fhirtypes';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow, visiblePatientsOf } from '../../fhir/access/enforce.js';
import { Forbidden, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf } from '../../fhir/operation-parameters.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { ASSESSMENT_PANEL, coded, ESAS_ITEMS, HOSPICE_SYSTEM, PAIN, SEVERE_SCORE, TASKS } from './hospice-codes.js';
import type { HospiceDeps } from './hospice-deps.js';
import { activeCare, onTeam } from './hospice-store.js';

const OPERATION = '$assess-symptoms';
const SURVEY = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey' }] };

function score(params: ParametersParameter[], name: string): number | undefined {
  const p = params.find((x) => x.name === name);
  if (!p) return undefined;
  const value = p.valueInteger;
  if (!Number.isInteger(value) || value! < 0 || value! > 10) throw new Invalid(`"${name}" is a score from 0 (none) to 10 (worst)`, [name]);
  return value;
}

export function assessSymptomsOperation(deps: HospiceDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'Patient',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Patient-assess-symptoms',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      allow(ctx, 'create', 'Observation');
      const patientId = target.id!;
      await visiblePatientsOf(ctx, 'operation', 'Patient', patientId);
      const params = parametersOf(req.body);
      const pain = score(params, 'pain');
      if (pain === undefined) throw new Invalid('HO-02: a symptom assessment always rates pain ("pain", 0–10)', ['pain']);
      const others = ESAS_ITEMS.flatMap((item) => {
        const value = score(params, item);
        return value === undefined ? [] : [{ item, value }];
      });
      const unknown = params.filter((p) => p.name !== 'pain' && p.name !== 'note' && !(ESAS_ITEMS as readonly string[]).includes(p.name)).map((p) => p.name);
      if (unknown.length) throw new Invalid(`Unknown symptom(s) ${unknown.join(', ')}; rate pain and any of ${ESAS_ITEMS.join(', ')}`, unknown);
      const note = params.find((p) => p.name === 'note')?.valueString?.trim();

      const care = await activeCare(ctx.repo, patientId);
      if (!care) throw new Unprocessable(`HO-02: Patient/${patientId} is not in hospice care ($enrol-hospice first)`);
      const user = ctx.access.actor.user;
      const roles = user?.startsWith('Practitioner/') ? (await searchAll<PractitionerRole>(ctx.repo, 'PractitionerRole', [['practitioner', user]])).map((r) => `PractitionerRole/${r.id}`) : [];
      if (!onTeam(care.team, [...roles, user ?? ''])) throw new Forbidden('HO-02: the hospice team records symptom assessments');
      const physician = care.team.participant?.find((p) => p.role?.some((r) => r.coding?.some((c) => c.system === HOSPICE_SYSTEM && c.code === 'physician')))?.member?.reference;
      const now = deps.clock.now().toISOString();
      const common = { status: 'final' as const, category: [SURVEY], subject: { reference: `Patient/${patientId}` }, effectiveDateTime: now, performer: user ? [{ reference: user }] : [], basedOn: [{ reference: `CarePlan/${care.plan.id}` }] };
      const severe = [{ item: 'pain', value: pain }, ...others].filter((s) => s.value >= SEVERE_SCORE);

      const out = await auditedStep(ctx, patientId, OPERATION, async (tx) => {
        const items: Observation[] = [await tx.create<Observation>({ resourceType: 'Observation', ...common, code: { coding: [PAIN] }, valueInteger: pain })];
        for (const { item, value } of others) items.push(await tx.create<Observation>({ resourceType: 'Observation', ...common, code: coded(item), valueInteger: value }));
        const panel = await tx.create<Observation>({
          resourceType: 'Observation', ...common, code: { coding: [ASSESSMENT_PANEL] }, hasMember: items.map((o) => ({ reference: `Observation/${o.id}` })),
          ...(note ? { note: [{ text: note }] } : {}),
        });
        const review = severe.length && physician
          ? await tx.create<Task>({
              resourceType: 'Task', status: 'requested', intent: 'order', priority: 'urgent', code: coded(TASKS.symptomReview, '症状复评'),
              for: { reference: `Patient/${patientId}` }, focus: { reference: `Observation/${panel.id}` }, basedOn: [{ reference: `CarePlan/${care.plan.id}` }],
              owner: { reference: physician }, authoredOn: now, description: `HO-02: severe symptoms (${severe.map((s) => `${s.item} ${s.value}/10`).join(', ')}): review the comfort care`,
            })
          : undefined;
        const written = [...items, panel, ...(review ? [review] : [])];
        return { result: { panel, items, review }, written: written.map((resource) => ({ kind: 'create' as const, resource })) };
      });
      const parameter: ParametersParameter[] = [
        { name: 'assessment', resource: out.panel }, ...out.items.map((resource) => ({ name: 'symptom', resource })),
        ...(out.review ? [{ name: 'review', resource: out.review }] : []),
      ];
      return { status: 201, resource: { resourceType: 'Parameters', parameter } };
    },
  };
}
