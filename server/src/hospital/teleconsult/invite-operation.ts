// `POST /fhir/ServiceRequest/$invite-consult`: an eligible doctor (IH-08/09) invites another
// institution to a teleconsultation about a patient in their care. The invitation must state
// everything TM-05 asks (invitation.ts), the two institutions must have a cooperation agreement in
// force (TM-03, agreement.ts) and the patient's consent must cover it (TM-04, consent-check.ts).
// Then, in one transaction: the ServiceRequest (status active, requester the doctor's
// PractitionerRole at the inviting institution) and a Task for the invited institution (owner the
// Organization, focus the ServiceRequest, status requested, response due after
// rules.consultResponseHours — TM-06), both audited with the patient.
import { randomUUID } from 'node:crypto';
import type { Parameters, ServiceRequest, Task } from '@medplum/fhirtypes';
import { canSee } from '../../fhir/access/access-control.js';
import { allow, audit } from '../../fhir/access/enforce.js';
import { Forbidden, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { eligibleClinician } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';
import { cooperatingInstitutions } from './agreement.js';
import { CONSULT_CODE, RESPONSE_DUE_EXTENSION } from './codes.js';
import { consultConsent } from './consent-check.js';
import { activeRoles, consultStep } from './consult-store.js';
import { checkInvitation, requestOf } from './invitation.js';

export function inviteOperation(deps: HospitalDeps): ModuleOperation {
  return {
    name: '$invite-consult',
    level: 'type',
    type: 'ServiceRequest',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/ServiceRequest-invite-consult',
    async handle(ctx, req) {
      allow(ctx, 'create', 'ServiceRequest');
      allow(ctx, 'create', 'Task');
      const doctor = await eligibleClinician(deps, ctx.access.actor, 'doctor');
      const invitation = checkInvitation(requestOf(req.body));
      const { patient, invited } = invitation;
      if (!canSee(await ctx.access.visiblePatients(), [patient])) {
        const detail = `You may invite a consult only about a patient in your care; Patient/${patient} is not`;
        audit(ctx, { kind: 'operation', type: 'ServiceRequest', outcome: 'denied', detail: '$invite-consult about a patient outside the caller\'s care', patients: [patient] });
        throw new Forbidden(detail);
      }
      await ctx.repo.read('Organization', invited.slice('Organization/'.length)).catch(() => {
        throw new Invalid(`The invited institution ${invited} does not exist`, ['ServiceRequest.performer']);
      });

      // The inviting institution: the one the requester role names, else the doctor's registrations.
      const roles = await activeRoles(ctx.repo, doctor.reference);
      const named = invitation.requester?.startsWith('PractitionerRole/') ? roles.find((r) => `PractitionerRole/${r.id}` === invitation.requester) : undefined;
      if (invitation.requester?.startsWith('PractitionerRole/') && !named) throw new Forbidden(`${invitation.requester} is not an active role of ${doctor.reference}`);
      if (invitation.requester?.startsWith('Practitioner/') && invitation.requester !== doctor.reference) throw new Forbidden(`Nobody invites in another doctor's name: requester must be ${doctor.reference}`);
      const candidates = [...new Set((named ? [named] : roles).map((r) => r.organization?.reference).filter((o): o is string => !!o && o !== invited))];
      if (!candidates.length) throw new Unprocessable(`A teleconsultation invites another institution: ${invited} is the one you are registered at`, ['ServiceRequest.performer']);
      const now = new Date();
      const { institutions, why } = await cooperatingInstitutions(ctx.repo, candidates, invited, now);
      if (!institutions.length) throw new Unprocessable(why!, ['ServiceRequest.performer']);
      if (institutions.length > 1) {
        throw new Invalid(`You are registered at several institutions that cooperate with ${invited} (${institutions.join(', ')}): name the one inviting as requester (your PractitionerRole there)`, ['ServiceRequest.requester']);
      }
      const inviting = institutions[0];
      const role = roles.find((r) => r.organization?.reference === inviting)!;
      const consent = await consultConsent(ctx.repo, invitation.consentIds, patient, invited, now);

      const srId = randomUUID();
      const { id: _id, meta: _meta, ...sent } = invitation.request;
      const request: ServiceRequest = {
        ...sent,
        status: 'active',
        intent: 'order',
        code: { ...(sent.code ?? {}), coding: sent.code?.coding?.length ? sent.code.coding : [CONSULT_CODE] },
        requester: { reference: `PractitionerRole/${role.id}` },
        authoredOn: now.toISOString(),
      };
      const due = new Date(now.getTime() + deps.rules.consultResponseHours * 3_600_000).toISOString();
      const task: Task = {
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        priority: request.priority ?? 'routine',
        code: { coding: [CONSULT_CODE] },
        description: `Teleconsultation requested by ${inviting}`,
        focus: { reference: `ServiceRequest/${srId}` },
        basedOn: [{ reference: `ServiceRequest/${srId}` }],
        for: { reference: `Patient/${patient}` },
        requester: { reference: `PractitionerRole/${role.id}` },
        owner: { reference: invited },
        authoredOn: now.toISOString(),
        lastModified: now.toISOString(),
        input: [{ type: { text: 'consent' }, valueReference: { reference: `Consent/${consent.id}` } }],
        extension: [{ url: RESPONSE_DUE_EXTENSION, valueDateTime: due }],
      };
      const { storedRequest, storedTask } = await consultStep(ctx, patient, '$invite-consult', async (tx: FhirRepository) => {
        const storedRequest = await tx.create<ServiceRequest>(request, srId);
        const storedTask = await tx.create<Task>(task);
        return { result: { storedRequest, storedTask }, written: [{ kind: 'create', resource: storedRequest }, { kind: 'create', resource: storedTask }] };
      });
      const output: Parameters = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'serviceRequest', resource: storedRequest },
          { name: 'task', resource: storedTask },
        ],
      };
      return { status: 201, resource: output, location: `Task/${storedTask.id}/_history/${storedTask.meta?.versionId}` };
    },
  };
}
