// Referrals from the family doctor (FD-05 "1+1+1": referrals inside the resident's chosen
// combination are prioritised; FD-07: an urgent one is followed up within two weeks):
//   POST /fhir/Patient/{id}/$refer — the family doctor (or any doctor who may see the patient)
//     refers to a hospital: a ServiceRequest (category referral, SNOMED 3457005), `priority`
//     routine or urgent. When the hospital is the district or city hospital of the patient's
//     contract in force, it is tagged a contract referral: the hospital sees it first.
//   GET /fhir/ServiceRequest/$referral-queue?organization=Organization/x — staff registered at
//     the hospital (or an administrator): its open referrals, contract referrals first, then
//     urgent before routine, then oldest first. Audited with every patient listed.
import type { Organization, ParametersParameter, PractitionerRole, ServiceRequest } from '@medplum/fhirtypes';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow, audit, visiblePatientsOf } from '../../fhir/access/enforce.js';
import { Forbidden, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf, referenceParam } from '../../fhir/operation-parameters.js';
import { clinicDateOf } from './clinic-dates.js';
import { chosenHospitals, FAMILY_DOCTOR_SYSTEM, inForce } from './contract-codes.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { contractsOfPatients } from './contract-store.js';
import { recordsOfPerson, type FamilyDoctorDeps } from './family-doctor-deps.js';

const REFER = '$refer';
const REFERRAL = { system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' } as const;
/** The tag of a referral inside the resident's "1+1+1" combination (FD-05). */
export const CONTRACT_REFERRAL = { system: FAMILY_DOCTOR_SYSTEM, code: 'contract-referral', display: '签约转诊（优先）' } as const;
const isContractReferral = (r: ServiceRequest) => !!r.meta?.tag?.some((t) => t.system === CONTRACT_REFERRAL.system && t.code === CONTRACT_REFERRAL.code);

async function rolesOf(deps: FamilyDoctorDeps, user: string | undefined): Promise<PractitionerRole[]> {
  return user?.startsWith('Practitioner/') ? searchAll<PractitionerRole>(deps.repo, 'PractitionerRole', [['practitioner', user]]) : [];
}

export function referralOperations(deps: FamilyDoctorDeps): ModuleOperation[] {
  const refer: ModuleOperation = {
    name: REFER,
    level: 'instance',
    type: 'Patient',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Patient-refer',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, REFER);
      allow(ctx, 'create', 'ServiceRequest');
      const { role, user } = ctx.access.actor;
      if (role !== 'doctor' || !user) throw new Forbidden('A doctor refers a patient');
      const patientId = target.id!;
      await visiblePatientsOf(ctx, 'operation', 'Patient', patientId);
      const params = parametersOf(req.body);
      const to = referenceParam(params, 'to', 'Organization');
      const reason = params.find((p) => p.name === 'reason')?.valueString?.trim();
      if (!reason) throw new Invalid('Say why the patient is referred (parameter "reason")', ['reason']);
      const priority = params.find((p) => p.name === 'priority')?.valueCode ?? 'routine';
      if (priority !== 'routine' && priority !== 'urgent') throw new Invalid('"priority" is routine or urgent', ['priority']);
      const hospital = (await ctx.repo.read('Organization', to).catch(() => undefined)) as Organization | undefined;
      if (!hospital || hospital.active === false) throw new Unprocessable(`Organization/${to} is not an active institution`);
      const [myRole] = await rolesOf(deps, user);
      const today = clinicDateOf(deps.clock.now());
      const persons = await recordsOfPerson(deps, patientId);
      const contract = (await contractsOfPatients(ctx.repo, persons)).find((c) => inForce(c, today));
      const chosen = contract ? Object.values(chosenHospitals(contract)) : [];
      const inCombination = chosen.includes(`Organization/${to}`);

      const referral = await auditedStep(ctx, patientId, REFER, async (tx) => {
        const created = await tx.create<ServiceRequest>({
          resourceType: 'ServiceRequest', status: 'active', intent: 'order', priority,
          ...(inCombination ? { meta: { tag: [CONTRACT_REFERRAL] } } : {}),
          category: [{ coding: [REFERRAL] }], code: { coding: [REFERRAL], text: '转诊' },
          subject: { reference: `Patient/${patientId}` }, authoredOn: deps.clock.now().toISOString(),
          requester: { reference: myRole ? `PractitionerRole/${myRole.id}` : user },
          performer: [{ reference: `Organization/${to}`, display: hospital.name }],
          reasonCode: [{ text: reason }],
          ...(contract && inCombination ? { supportingInfo: [{ reference: `Contract/${contract.id}` }] } : {}),
        });
        return { result: created, written: [{ kind: 'create', resource: created }] };
      });
      const parameter: ParametersParameter[] = [
        { name: 'referral', resource: referral },
        { name: 'contractReferral', valueBoolean: inCombination },
      ];
      return { status: 201, resource: { resourceType: 'Parameters', parameter } };
    },
  };

  const queue: ModuleOperation = {
    name: '$referral-queue',
    level: 'type',
    type: 'ServiceRequest',
    methods: ['GET'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/ServiceRequest-referral-queue',
    async handle(ctx, req) {
      allow(ctx, 'search-type', 'ServiceRequest');
      const organization = new Map(req.query).get('organization');
      if (!organization || !/^Organization\/[A-Za-z0-9\-.]{1,64}$/.test(organization)) throw new Invalid('Name the hospital: organization=Organization/<id>', ['organization']);
      const { role, user } = ctx.access.actor;
      if (role !== 'admin') {
        const staff = (await rolesOf(deps, user)).some((r) => r.active !== false && r.organization?.reference === organization);
        if (!staff || (role !== 'doctor' && role !== 'nurse')) throw new Forbidden(`The referral queue of ${organization} is for its staff`);
      }
      const open = (await searchAll<ServiceRequest>(deps.repo, 'ServiceRequest', [['performer', organization], ['status', 'active'], ['category', `${REFERRAL.system}|${REFERRAL.code}`]]));
      const rank = (r: ServiceRequest) => `${isContractReferral(r) ? 0 : 1}${r.priority === 'urgent' || r.priority === 'asap' || r.priority === 'stat' ? 0 : 1}${r.authoredOn ?? ''}`;
      const ordered = open.sort((a, b) => rank(a).localeCompare(rank(b)));
      audit(ctx, { kind: 'operation', type: 'ServiceRequest', outcome: 'success', patients: ordered.map((r) => r.subject.reference!.slice('Patient/'.length)), query: '$referral-queue' });
      const parameter: ParametersParameter[] = [
        { name: 'count', valueInteger: ordered.length },
        ...ordered.map((r) => ({ name: 'referral', part: [{ name: 'referral', resource: r }, { name: 'contractReferral', valueBoolean: isContractReferral(r) }] })),
      ];
      return { status: 200, resource: { resourceType: 'Parameters', parameter } };
    },
  };
  return [refer, queue];
}
