// `POST /fhir/Patient/{id}/$sign-contract` (FD-02, FD-05): a resident signs with a family doctor
// — for themself or a child in their care — choosing the basic service package (plus any
// personalised ones) and, Shanghai's "1+1+1", one district and one city hospital. The family
// doctor may record a contract signed on paper at the centre (the scanned form is required), an
// administrator too. Rules:
//   - FD-02: one family doctor (team) at a time: no other contract of the same person (any of
//     their records in the master patient index) may be in force during the new term; the new one
//     may start when the current one ends — renewing with the same team or switching to another.
//     The term is at least one year. Exactly one basic package.
//   - FD-05: the district hospital and the city hospital are institutions of that level.
// Written: a Contract (status executed, the patient as subject, the centre as authority, the
// patient — or their guardian — and the family doctor's PractitionerRole as signers, one term per
// package naming its PlanDefinition and price). Checked and written under a lock per person.
import type { Contract, ContractTerm, Organization, ParametersParameter, PlanDefinition, PractitionerRole } from '@medplum/fhirtypes';
import { canSee } from '../../fhir/access/access-control.js';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow, visiblePatientsOf } from '../../fhir/access/enforce.js';
import { Conflict, Forbidden, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf, referenceParam } from '../../fhir/operation-parameters.js';
import { hasCoding } from './care-codes.js';
import { addDays, clinicDateOf } from './clinic-dates.js';
import {
  BASIC_PACKAGE, CITY_HOSPITAL, COMMUNITY_CENTRE, CONTRACT_TYPE, DISTRICT_HOSPITAL, familyDoctorOf, FAMILY_DOCTOR_SYSTEM,
  INSTITUTION_CATEGORY, MIN_TERM_YEARS, ONE_PLUS_ONE_PLUS_ONE, PACKAGE_PRICE_EXTENSION, PERSONALISED_PACKAGE, SIGNER_TYPES,
} from './contract-codes.js';
import { contractsOfPatients } from './contract-store.js';
import { recordsOfPerson, type FamilyDoctorDeps } from './family-doctor-deps.js';

const OPERATION = '$sign-contract';
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const categoryOf = (org: Organization | undefined, code: string) => !!org?.type?.some((t) => hasCoding(t, INSTITUTION_CATEGORY, code));

async function readOr<T>(ctx: InteractionContext, type: string, id: string, problem: string): Promise<T> {
  const found = (await ctx.repo.read(type, id).catch(() => undefined)) as T | undefined;
  if (!found) throw new Unprocessable(problem);
  return found;
}

/** `years` after a YYYY-MM-DD date (29 February + 1 year is 1 March: the term still lasts a full year). */
export function yearsAfter(date: string, years: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y + years, m - 1, d)).toISOString().slice(0, 10);
}

function dateParam(params: ParametersParameter[], name: string): string | undefined {
  const p = params.find((x) => x.name === name);
  if (!p) return undefined;
  const value = p.valueDate ?? p.valueString;
  if (!value || !DATE.test(value) || Number.isNaN(Date.parse(value))) throw new Invalid(`Parameter "${name}" must be a date (YYYY-MM-DD)`, [name]);
  return value;
}

export function signContractOperation(deps: FamilyDoctorDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'Patient',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Patient-sign-contract',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      allow(ctx, 'create', 'Contract');
      const patientId = target.id!;
      const params = parametersOf(req.body);
      const roleId = referenceParam(params, 'familyDoctor', 'PractitionerRole');
      const packageIds = params.filter((p) => p.name === 'package').map((_, i, all) => referenceParam([all[i]], 'package', 'PlanDefinition'));
      if (!packageIds.length) throw new Invalid('Choose the basic service package (parameter "package", a PlanDefinition reference)', ['package']);
      if (new Set(packageIds).size !== packageIds.length) throw new Invalid('A package is chosen once', ['package']);
      const districtId = referenceParam(params, 'districtHospital', 'Organization');
      const cityId = referenceParam(params, 'cityHospital', 'Organization');
      const signedForm = params.find((p) => p.name === 'signedForm')?.valueAttachment;
      const today = clinicDateOf(deps.clock.now());
      const start = dateParam(params, 'start') ?? today;
      const end = dateParam(params, 'end') ?? yearsAfter(start, MIN_TERM_YEARS);
      // Administrators may record contracts signed earlier (moving a centre's existing contracts to the hub).
      if (start < today && ctx.access.actor.role !== 'admin') throw new Invalid('A contract starts today or later (parameter "start")', ['start']);
      if (end < yearsAfter(start, MIN_TERM_YEARS)) throw new Unprocessable(`FD-02: a family-doctor contract runs at least ${MIN_TERM_YEARS} year (from ${start} until ${yearsAfter(start, MIN_TERM_YEARS)} or later)`);

      // Who signs: the resident for themself or a child in their care; the family doctor with the form signed at the centre; an administrator.
      const role = await readOr<PractitionerRole>(ctx, 'PractitionerRole', roleId, `PractitionerRole/${roleId} does not exist`);
      const { role: callerRole, user } = ctx.access.actor;
      if (callerRole === 'resident') {
        if (!canSee(await ctx.access.visiblePatients(), [patientId])) throw new Forbidden('A resident signs for themself or a child in their care');
      } else if (user && user === role.practitioner?.reference) {
        if (!signedForm?.data && !signedForm?.url) throw new Invalid('The family doctor records a contract the resident signed at the centre: attach the signed form (parameter "signedForm")', ['signedForm']);
      } else if (callerRole !== 'admin') {
        throw new Forbidden('The resident (or their guardian), the chosen family doctor or an administrator signs a family-doctor contract');
      }
      if (callerRole === 'resident') await visiblePatientsOf(ctx, 'operation', 'Patient', patientId);
      else await readOr(ctx, 'Patient', patientId, `Patient/${patientId} does not exist`);

      if (role.active === false || !role.practitioner?.reference || !role.organization?.reference) throw new Unprocessable(`PractitionerRole/${roleId} is not an active role of a doctor at an institution`);
      const centre = (await ctx.repo.read('Organization', role.organization.reference.split('/')[1]).catch(() => undefined)) as Organization | undefined;
      if (!categoryOf(centre, COMMUNITY_CENTRE)) throw new Unprocessable(`FD-02: a family doctor works at a community health centre; ${role.organization.reference} is not one (Organization.type ${INSTITUTION_CATEGORY}|${COMMUNITY_CENTRE})`);

      const packages = await Promise.all(packageIds.map((id) => readOr<PlanDefinition>(ctx, 'PlanDefinition', id, `PlanDefinition/${id} does not exist`)));
      const kindOf = (p: PlanDefinition) => (hasCoding(p.type, FAMILY_DOCTOR_SYSTEM, BASIC_PACKAGE) ? BASIC_PACKAGE : hasCoding(p.type, FAMILY_DOCTOR_SYSTEM, PERSONALISED_PACKAGE) ? PERSONALISED_PACKAGE : undefined);
      const notPackages = packages.filter((p) => p.status !== 'active' || !kindOf(p));
      if (notPackages.length) throw new Unprocessable(`${notPackages.map((p) => `PlanDefinition/${p.id}`).join(', ')}: not an active family-doctor service package`);
      const basics = packages.filter((p) => kindOf(p) === BASIC_PACKAGE);
      if (basics.length !== 1) throw new Unprocessable(`FD-02: a contract has exactly one basic package (chosen: ${basics.length}); personalised packages come on top`);

      const district = (await ctx.repo.read('Organization', districtId).catch(() => undefined)) as Organization | undefined;
      const city = (await ctx.repo.read('Organization', cityId).catch(() => undefined)) as Organization | undefined;
      const wrong = [
        ...(categoryOf(district, DISTRICT_HOSPITAL) ? [] : [`Organization/${districtId} is not a district hospital`]),
        ...(categoryOf(city, CITY_HOSPITAL) ? [] : [`Organization/${cityId} is not a city hospital`]),
      ];
      if (wrong.length) throw new Unprocessable(`FD-05 ("1+1+1"): choose one district and one city hospital: ${wrong.join('; ')}`);

      const persons = await recordsOfPerson(deps, patientId);
      const contract = await auditedStep(ctx, patientId, OPERATION, async (tx) => {
        for (const id of persons) await tx.lock(`family-doctor-contract:Patient/${id}`);
        const current = (await contractsOfPatients(tx, persons)).filter((c) => overlaps(c, start, end));
        if (current.length) {
          const c = current[0];
          const until = c.applies?.end?.slice(0, 10);
          throw new Conflict(
            `FD-02: one family doctor at a time — Contract/${c.id} with ${familyDoctorOf(c)} is in force${until ? ` until ${until}` : ''}; ` +
              `${until ? `a new contract (renewal or switch) can start on ${until}` : 'it must end first'}`,
          );
        }
        const created = await tx.create<Contract>(newContract({ patientId, role, roleId, packages, kindOf, districtId, cityId, start, end, now: deps.clock.now(), signer: signerOf(ctx, patientId), signedForm }));
        return { result: created, written: [{ kind: 'create', resource: created }] };
      });
      return { status: 201, resource: contract };
    },
  };
}

/** True when an executed contract's term [start, end) meets [from, to). */
function overlaps(contract: Contract, from: string, to: string): boolean {
  const start = contract.applies?.start?.slice(0, 10);
  const end = contract.applies?.end?.slice(0, 10);
  return contract.status === 'executed' && !!start && start < to && (!end || from < end);
}

/** Who signs for the patient: themself, or the resident (guardian) signing for a child. */
function signerOf(ctx: InteractionContext, patientId: string): { party: string; type: 'PATN' | 'GUAR' } {
  const user = ctx.access.actor.user;
  if (ctx.access.actor.role === 'resident' && user && user !== `Patient/${patientId}`) return { party: user, type: 'GUAR' };
  return { party: `Patient/${patientId}`, type: 'PATN' };
}

function newContract(input: {
  patientId: string; role: PractitionerRole; roleId: string; packages: PlanDefinition[]; kindOf: (p: PlanDefinition) => string | undefined;
  districtId: string; cityId: string; start: string; end: string; now: Date; signer: { party: string; type: 'PATN' | 'GUAR' };
  signedForm?: { contentType?: string; data?: string; url?: string; title?: string };
}): Contract {
  const when = input.now.toISOString();
  const term = (p: PlanDefinition): ContractTerm => {
    const price = p.extension?.find((e) => e.url === PACKAGE_PRICE_EXTENSION)?.valueMoney;
    return {
      type: { coding: [{ system: FAMILY_DOCTOR_SYSTEM, code: input.kindOf(p)! }] },
      topicReference: { reference: `PlanDefinition/${p.id}`, display: p.title ?? p.name },
      offer: { text: p.title ?? p.name },
      ...(price ? { asset: [{ valuedItem: [{ net: price }] }] } : {}),
    };
  };
  const signature = (who: string) => [{ type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.7', display: 'Consent Signature' }], when, who: { reference: who } }];
  return {
    resourceType: 'Contract',
    status: 'executed',
    type: { coding: [{ ...CONTRACT_TYPE, display: '家庭医生签约服务协议' }] },
    title: '家庭医生签约服务协议',
    issued: when,
    applies: { start: input.start, end: input.end },
    subject: [{ reference: `Patient/${input.patientId}` }],
    authority: [{ reference: input.role.organization!.reference }],
    signer: [
      { type: { system: SIGNER_TYPES, code: input.signer.type }, party: { reference: input.signer.party }, signature: signature(input.signer.party) },
      { type: { system: SIGNER_TYPES, code: 'HPROV' }, party: { reference: `PractitionerRole/${input.roleId}` }, signature: signature(input.role.practitioner!.reference!) },
    ],
    term: input.packages.map(term),
    extension: [{
      url: ONE_PLUS_ONE_PLUS_ONE,
      extension: [{ url: 'districtHospital', valueReference: { reference: `Organization/${input.districtId}` } }, { url: 'cityHospital', valueReference: { reference: `Organization/${input.cityId}` } }],
    }],
    ...(input.signedForm ? { legallyBindingAttachment: input.signedForm } : {}),
  };
}
