// TM-07: `POST /fhir/Task/{id}/$file-opinion` — the consultant files the consult opinion into the
// inviting institution's record and the consult ends. In one transaction:
// - a DiagnosticReport (code LOINC 11488-4 Consult note, category consult-opinion, status final,
//   subject the patient, basedOn the invitation, performer the consultant's role and the invited
//   institution, resultsInterpreter the consultant, conclusion the opinion);
// - a DocumentReference filing it in the inviting institution's record: custodian the inviting
//   Organization (R4's element for "the organisation that maintains the document"), subject the
//   patient, the opinion's text as its content, context.related the report and the invitation.
//   The inviting side finds it with DocumentReference?custodian=<its Organization>&patient=…, and
//   the report itself by the patient or by the invitation (DiagnosticReport?based-on=…);
// - the Task completed (output: the report) and the ServiceRequest completed. A completed consult
//   no longer opens the patient's record to the consultant (auth/policy.ts).
import type { CodeableConcept, DiagnosticReport, DocumentReference, ServiceRequest, Task } from '@medplum/fhirtypes';
import { allow } from '../../fhir/access/enforce.js';
import { Conflict, Forbidden, Invalid } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf, stringParam } from '../../fhir/operation-parameters.js';
import { eligibleClinician } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';
import { CONSULT_NOTE, OPINION_CATEGORY, UNDER_WAY } from './codes.js';
import { consultStep, consultTask, patientOf, roleOf, updateTask } from './consult-store.js';

const MAX_OPINION = 20_000;

export function opinionOperation(deps: HospitalDeps): ModuleOperation {
  return {
    name: '$file-opinion',
    level: 'instance',
    type: 'Task',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Task-file-opinion',
    async handle(ctx, req, target) {
      allow(ctx, 'create', 'DiagnosticReport');
      allow(ctx, 'update', 'Task');
      const params = parametersOf(req.body);
      const conclusion = stringParam(params, 'conclusion')?.trim();
      if (!conclusion) throw new Invalid('TM-07: the opinion is required (parameter "conclusion", text)', ['conclusion']);
      if (conclusion.length > MAX_OPINION) throw new Invalid(`The opinion is at most ${MAX_OPINION} characters`, ['conclusion']);
      const codes = params.filter((p) => p.name === 'conclusionCode').map((p) => p.valueCodeableConcept);
      if (codes.some((c) => !c || !(c.text || c.coding?.length))) throw new Invalid('Parameter "conclusionCode" takes a CodeableConcept (valueCodeableConcept)', ['conclusionCode']);

      const task = await consultTask(ctx.repo, target.id!);
      const role = await roleOf(ctx.repo, task.owner?.reference);
      const user = ctx.access.actor.user;
      if (!user || role?.practitioner?.reference !== user) throw new Forbidden('TM-07: only the consultant who accepted this teleconsultation files its opinion');
      const check = (t: Task) => {
        if (!UNDER_WAY.includes(t.status)) throw new Conflict(`An opinion is filed while the consult is under way; this one is ${t.status}`);
      };
      check(task);
      const invited = role.organization?.reference;
      await eligibleClinician(deps, ctx.access.actor, 'doctor', invited);
      const requestId = task.focus?.reference?.match(/^ServiceRequest\/(.+)$/)?.[1] ?? '';
      const request = (await ctx.repo.read('ServiceRequest', requestId)) as ServiceRequest;
      const inviting = (await roleOf(ctx.repo, request.requester?.reference))?.organization?.reference;
      const patient = patientOf(task);
      const now = new Date().toISOString();

      const report: DiagnosticReport = {
        resourceType: 'DiagnosticReport',
        status: 'final',
        category: [{ coding: [OPINION_CATEGORY] }],
        code: { coding: [CONSULT_NOTE], text: '远程会诊意见 Teleconsultation opinion' },
        subject: { reference: `Patient/${patient}` },
        basedOn: [{ reference: `ServiceRequest/${request.id}` }],
        effectiveDateTime: now,
        issued: now,
        performer: [{ reference: `PractitionerRole/${role.id}` }, ...(invited ? [{ reference: invited }] : [])],
        resultsInterpreter: [{ reference: user }],
        conclusion,
        ...(codes.length ? { conclusionCode: codes as CodeableConcept[] } : {}),
      };
      const filed = await consultStep(ctx, patient, '$file-opinion', async (tx) => {
        const current = (await tx.read('Task', task.id!)) as Task;
        check(current);
        const stored = await tx.create<DiagnosticReport>(report);
        const filing = await tx.create<DocumentReference>({
          resourceType: 'DocumentReference',
          status: 'current',
          docStatus: 'final',
          type: { coding: [CONSULT_NOTE] },
          category: [{ coding: [OPINION_CATEGORY] }],
          subject: { reference: `Patient/${patient}` },
          date: now,
          author: [{ reference: user }, ...(invited ? [{ reference: invited }] : [])],
          authenticator: { reference: user },
          ...(inviting ? { custodian: { reference: inviting } } : {}),
          description: '远程会诊意见 Teleconsultation opinion',
          content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from(conclusion, 'utf8').toString('base64'), title: '远程会诊意见', creation: now } }],
          context: { related: [{ reference: `DiagnosticReport/${stored.id}` }, { reference: `ServiceRequest/${request.id}` }] },
        });
        const completed = await updateTask(tx, current, {
          status: 'completed',
          executionPeriod: { ...current.executionPeriod, end: now },
          output: [{ type: { coding: [OPINION_CATEGORY] }, valueReference: { reference: `DiagnosticReport/${stored.id}` } }],
        });
        const fresh = (await tx.read('ServiceRequest', request.id!)) as ServiceRequest;
        const done = (await tx.update<ServiceRequest>({ ...fresh, status: 'completed' })).resource;
        return {
          result: stored,
          written: [
            { kind: 'create', resource: stored },
            { kind: 'create', resource: filing },
            { kind: 'update', resource: completed },
            { kind: 'update', resource: done },
          ],
        };
      });
      return { status: 201, resource: filed, location: `DiagnosticReport/${filed.id}/_history/${filed.meta?.versionId}` };
    },
  };
}
