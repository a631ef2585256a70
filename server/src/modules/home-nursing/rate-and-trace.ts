// Closing the loop and tracing the chain (NU-07):
//   POST /fhir/ServiceRequest/{id}/$rate   the patient's side rates the latest completed visit not
//     yet rated: an Observation (code home-nursing|service-rating, valueInteger score 1–5, the
//     comment as note, a complaint as a component; focus the visit Task, basedOn the order). A
//     complaint also queues a complaint Task to the provider.
//   GET  /fhir/ServiceRequest/{id}/$trace  every version of every resource of the order's chain,
//     in time order, as a collection Bundle: the order, its Tasks, the assessment answers, the
//     Encounters, Procedures, alarm Flags and ratings.
import type { Bundle, BundleEntry, Observation, Resource, Task } from '@medplum/fhirtypes';
import { canSee } from '../../fhir/access/access-control.js';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow, audit, visiblePatientsOf } from '../../fhir/access/enforce.js';
import { Conflict, Forbidden, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf } from '../../fhir/operation-parameters.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { isStaffOf, patientOf, providerOf, readOrder, tasksOf } from './chain-store.js';
import { COMPLAINT_TASK, hnConcept, HN, isChainResource, RATING_CODE, tagged, VISIT_TASK } from './codes.js';
import type { HomeNursingDeps } from './home-nursing-deps.js';

const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

export function rateOperation(deps: HomeNursingDeps): ModuleOperation {
  return {
    name: '$rate',
    level: 'instance',
    type: 'ServiceRequest',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/ServiceRequest-rate',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, '$rate');
      allow(ctx, 'create', 'Observation');
      const order = await readOrder(ctx.repo, target.id!);
      const patientId = patientOf(order);
      const { role, user } = ctx.access.actor;
      if (role !== 'resident' || !user || !canSee(await ctx.access.visiblePatients(), [patientId])) throw new Forbidden('NU-07: the patient (or their guardian) rates the service');
      const params = parametersOf(req.body);
      const score = params.find((p) => p.name === 'score')?.valueInteger;
      if (typeof score !== 'number' || !Number.isInteger(score) || score < 1 || score > 5) throw new Invalid('Parameter "score" must be an integer from 1 to 5', ['score']);
      const comment = params.find((p) => p.name === 'comment')?.valueString?.trim();
      const complaint = params.find((p) => p.name === 'complaint')?.valueString?.trim();
      for (const [name, v] of [['comment', comment], ['complaint', complaint]] as const) if (v && v.length > 4000) throw new Invalid(`Parameter "${name}" is at most 4000 characters`, [name]);
      const now = deps.clock.now().toISOString();
      const out = await auditedStep(ctx, patientId, '$rate', async (tx) => {
        await tx.lock(`home-nursing:ServiceRequest/${order.id}`);
        const completed = (await tasksOf(tx, order.id!, VISIT_TASK)).filter((t) => t.status === 'completed');
        if (!completed.length) throw new Unprocessable(`NU-07: ServiceRequest/${order.id} has no completed visit to rate yet`);
        const ratings = (await searchAll<Observation>(tx, 'Observation', [['based-on', `ServiceRequest/${order.id}`]])).filter((o) => isChainResource(o) && o.code.coding?.some((c) => c.system === HN && c.code === RATING_CODE));
        const rated = new Set(ratings.flatMap((o) => (o.focus ?? []).map((f) => f.reference)));
        const visit = completed.reverse().find((t) => !rated.has(`Task/${t.id}`));
        if (!visit) throw new Conflict(`Every completed visit of ServiceRequest/${order.id} is rated already`);
        const rating = await tx.create<Observation>(tagged({
          resourceType: 'Observation',
          status: 'final',
          category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'survey' }] }],
          code: hnConcept(RATING_CODE, '服务评价'),
          subject: { reference: `Patient/${patientId}` },
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          focus: [{ reference: `Task/${visit.id}` }],
          effectiveDateTime: now,
          issued: now,
          performer: [{ reference: user }],
          valueInteger: score,
          ...(comment ? { note: [{ text: comment, time: now }] } : {}),
          ...(complaint ? { component: [{ code: hnConcept(COMPLAINT_TASK, '投诉'), valueString: complaint }] } : {}),
        }));
        const written: { kind: 'create'; resource: Resource }[] = [{ kind: 'create', resource: rating }];
        let complaintTask: Task | undefined;
        if (complaint) {
          complaintTask = await tx.create<Task>(tagged({
            resourceType: 'Task',
            status: 'requested',
            intent: 'order',
            code: hnConcept(COMPLAINT_TASK, '投诉处理'),
            description: complaint,
            focus: { reference: `ServiceRequest/${order.id}` },
            basedOn: [{ reference: `ServiceRequest/${order.id}` }],
            for: { reference: `Patient/${patientId}` },
            owner: { reference: providerOf(order) },
            requester: { reference: user },
            authoredOn: now,
            input: [{ type: hnConcept('rating'), valueReference: { reference: `Observation/${rating.id}` } }],
          }));
          written.push({ kind: 'create', resource: complaintTask });
        }
        return { result: { rating, complaintTask }, written };
      });
      return {
        status: 201,
        resource: { resourceType: 'Parameters', parameter: [{ name: 'rating', resource: out.rating }, ...(out.complaintTask ? [{ name: 'complaint', resource: out.complaintTask }] : [])] },
      };
    },
  };
}

export function traceOperation(deps: HomeNursingDeps): ModuleOperation {
  return {
    name: '$trace',
    level: 'instance',
    type: 'ServiceRequest',
    methods: ['GET'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/ServiceRequest-trace',
    async handle(ctx, _req, target) {
      allow(ctx, 'read', 'ServiceRequest');
      const order = await readOrder(ctx.repo, target.id!);
      const patientId = patientOf(order);
      // Whoever may read the order, and the provider's staff who carry it out.
      if (!(await isStaffOf(ctx, providerOf(order)))) await visiblePatientsOf(ctx, 'read', 'ServiceRequest', order.id!);
      const basedOn: [string, string][] = [['based-on', `ServiceRequest/${order.id}`]];
      const [tasks, responses, encounters, procedures, observations] = await Promise.all([
        searchAll<Task>(ctx.repo, 'Task', basedOn),
        searchAll<Resource>(ctx.repo, 'QuestionnaireResponse', basedOn),
        searchAll<Resource>(ctx.repo, 'Encounter', basedOn),
        searchAll<Resource>(ctx.repo, 'Procedure', basedOn),
        searchAll<Observation>(ctx.repo, 'Observation', basedOn),
      ]);
      const ratings = observations.filter((o) => isChainResource(o) && o.code.coding?.some((c) => c.system === HN && c.code === RATING_CODE));
      const flags = (order.supportingInfo ?? []).map((r) => r.reference ?? '').filter((r) => r.startsWith('Flag/')).map((r) => ({ resourceType: 'Flag', id: r.slice(5) }) as Resource);
      const chain: Resource[] = [order, ...tasks, ...responses, ...encounters, ...procedures, ...flags, ...ratings];
      const versions: Resource[] = [];
      for (const r of chain) {
        const history = await ctx.repo.history({ type: r.resourceType, id: r.id!, count: 1000 });
        versions.push(...history.entries.filter((e) => !e.deleted).map((e) => e.resource).reverse());
      }
      const at = (r: Resource) => r.meta?.lastUpdated ?? '';
      const ordered = versions.map((r, i) => ({ r, i })).sort((a, b) => at(a.r).localeCompare(at(b.r)) || a.i - b.i).map(({ r }) => r);
      audit(ctx, { kind: 'operation', type: 'ServiceRequest', id: order.id, outcome: 'success', patients: [patientId], query: '$trace' });
      const entry: BundleEntry[] = ordered.map((resource) => ({ fullUrl: `${ctx.base}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`, resource }));
      const bundle: Bundle = { resourceType: 'Bundle', type: 'collection', timestamp: deps.clock.now().toISOString(), entry };
      return { status: 200, resource: bundle };
    },
  };
}
