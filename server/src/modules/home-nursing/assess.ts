// `POST /fhir/ServiceRequest/{id}/$assess` (NU-06): a nurse or doctor of the provider institution
// records the assessment before the first service — the answers to the hub's assessment
// Questionnaire (ASSESSMENT_QUESTIONNAIRE, created in the store at the first assessment) and the
// decision. Accept: the order becomes active and the assessment Task completed with the stored
// QuestionnaireResponse as output. Decline (a reason is required): the order is revoked (the
// reason in ServiceRequest.note) and the Task rejected (Task.statusReason). Once only (409).
import type { Questionnaire, QuestionnaireResponse, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow } from '../../fhir/access/enforce.js';
import { Conflict, Invalid } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf } from '../../fhir/operation-parameters.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { patientOf, providerOf, readOrder, staffOf, tasksOf } from './chain-store.js';
import { ASSESSMENT_ITEMS, ASSESSMENT_QUESTIONNAIRE, ASSESSMENT_TASK, hnConcept, tagged } from './codes.js';
import type { HomeNursingDeps } from './home-nursing-deps.js';

const OPERATION = '$assess';

export const assessmentQuestionnaire = (): Questionnaire => ({
  resourceType: 'Questionnaire',
  url: ASSESSMENT_QUESTIONNAIRE,
  version: '1',
  name: 'HomeNursingAssessment',
  title: '互联网+护理服务 上门前评估',
  status: 'active',
  subjectType: ['Patient'],
  item: ASSESSMENT_ITEMS.map((i) => ({ linkId: i.linkId, text: i.text, type: i.type, required: true })),
});

/** The hub's assessment Questionnaire, stored at first use (one, under a lock). */
async function ensureQuestionnaire(tx: FhirRepository): Promise<Resource | undefined> {
  await tx.lock('home-nursing:assessment-questionnaire');
  if (await tx.findCanonical('Questionnaire', ASSESSMENT_QUESTIONNAIRE)) return undefined;
  return tx.create<Questionnaire>(assessmentQuestionnaire());
}

function readAssessment(value: unknown): QuestionnaireResponse {
  const qr = value as QuestionnaireResponse | undefined;
  if (!qr || qr.resourceType !== 'QuestionnaireResponse') throw new Invalid('Parameter "assessment" must be a QuestionnaireResponse answering the home-nursing assessment', ['assessment']);
  const answered = new Set((qr.item ?? []).filter((i) => i.answer?.length).map((i) => i.linkId));
  const missing = ASSESSMENT_ITEMS.map((i) => i.linkId).filter((l) => !answered.has(l));
  if (missing.length) throw new Invalid(`NU-06: the assessment answers every item of ${ASSESSMENT_QUESTIONNAIRE}; missing: ${missing.join(', ')}`, ['assessment']);
  return qr;
}

export function assessOperation(deps: HomeNursingDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'ServiceRequest',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/ServiceRequest-assess',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      allow(ctx, 'update', 'ServiceRequest');
      allow(ctx, 'update', 'Task');
      const order = await readOrder(ctx.repo, target.id!);
      const assessor = await staffOf(ctx, providerOf(order), 'NU-06', 'The assessment');
      const params = parametersOf(req.body);
      const decision = params.find((p) => p.name === 'decision')?.valueCode;
      if (decision !== 'accept' && decision !== 'decline') throw new Invalid('Parameter "decision" must be accept or decline', ['decision']);
      const reason = params.find((p) => p.name === 'reason')?.valueString?.trim();
      if (decision === 'decline' && !reason) throw new Invalid('A decline gives its reason (parameter "reason")', ['reason']);
      const answers = readAssessment(params.find((p) => p.name === 'assessment')?.resource);
      const patientId = patientOf(order);
      const now = deps.clock.now().toISOString();

      const out = await auditedStep(ctx, patientId, OPERATION, async (tx) => {
        await tx.lock(`home-nursing:ServiceRequest/${order.id}`);
        const current = (await tx.read('ServiceRequest', order.id!)) as ServiceRequest;
        const [task] = await tasksOf(tx, order.id!, ASSESSMENT_TASK);
        if (current.status !== 'on-hold' || !task || task.status !== 'requested') {
          throw new Conflict(`NU-06: ServiceRequest/${order.id} is already assessed (order ${current.status}, assessment Task ${task?.status ?? 'missing'})`);
        }
        const written: { kind: 'create' | 'update'; resource: Resource }[] = [];
        const questionnaire = await ensureQuestionnaire(tx);
        if (questionnaire) written.push({ kind: 'create', resource: questionnaire });
        const response = await tx.create<QuestionnaireResponse>(tagged({
          resourceType: 'QuestionnaireResponse',
          questionnaire: ASSESSMENT_QUESTIONNAIRE,
          status: 'completed',
          subject: { reference: `Patient/${patientId}` },
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          authored: now,
          author: { reference: assessor },
          item: answers.item,
        }));
        written.push({ kind: 'create', resource: response });
        const accepted = decision === 'accept';
        const nextOrder = (await tx.update<ServiceRequest>({
          ...current,
          status: accepted ? 'active' : 'revoked',
          ...(accepted ? {} : { note: [...(current.note ?? []), { text: `NU-06 declined after assessment: ${reason}`, time: now, authorReference: { reference: assessor } }] }),
        })).resource;
        const nextTask = (await tx.update<Task>({
          ...task,
          status: accepted ? 'completed' : 'rejected',
          lastModified: now,
          executionPeriod: { start: now, end: now },
          output: [{ type: hnConcept('assessment-response'), valueReference: { reference: `QuestionnaireResponse/${response.id}` } }],
          ...(accepted ? {} : { statusReason: { text: reason } }),
        })).resource;
        written.push({ kind: 'update', resource: nextOrder }, { kind: 'update', resource: nextTask });
        return { result: { order: nextOrder, task: nextTask, response }, written };
      });
      return {
        status: 200,
        resource: { resourceType: 'Parameters', parameter: [{ name: 'serviceRequest', resource: out.order }, { name: 'task', resource: out.task }, { name: 'assessment', resource: out.response }] },
      };
    },
  };
}
