// `POST /fhir/Patient/{id}/$order-home-nursing` (NU-02, NU-04, NU-05): a resident orders home
// nursing for themself or a child in their care, or a doctor who may see the patient (the family
// doctor) orders it for them. Written in one step with the AuditEvents: the order (ServiceRequest,
// on-hold until the provider has assessed the applicant, NU-06) and the assessment Task queued to
// the provider institution.
import type { ActivityDefinition, Address, Condition, MedicationRequest, Organization, ParametersParameter, Patient, Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import { canSee } from '../../fhir/access/access-control.js';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow, visiblePatientsOf } from '../../fhir/access/enforce.js';
import { Forbidden, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf, referenceParam } from '../../fhir/operation-parameters.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { readOrNull } from './chain-store.js';
import {
  ASSESSMENT_TASK, catalogueCodeOf, CATALOGUE_CODES, ELIGIBILITY_CODES, hnConcept, ICD10, INSTITUTION_CATEGORY, INSTITUTION_LICENCE, ORDER_CATEGORY,
  PROVIDER_CATEGORIES, SERVICE_ADDRESS_EXTENSION, tagged, HN,
} from './codes.js';
import type { HomeNursingDeps } from './home-nursing-deps.js';

const OPERATION = '$order-home-nursing';
const ELDERLY_AGE = 60;

/** Whole years from a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) to now. */
export function ageOn(birthDate: string, now: Date): number {
  const [y, m = 1, d = 1] = birthDate.split('-').map(Number);
  let age = now.getUTCFullYear() - y;
  const month = now.getUTCMonth() + 1;
  if (month < m || (month === m && now.getUTCDate() < d)) age--;
  return age;
}

/** NU-04: what the record can confirm of the eligibility claimed (the rest is the assessment's). */
function checkEligibility(eligibility: string, patient: Patient, conditions: Condition[], now: Date): void {
  if (eligibility === 'elderly') {
    if (!patient.birthDate) throw new Unprocessable(`NU-04: "elderly" needs the patient's birth date on Patient/${patient.id}`, ['eligibility']);
    const age = ageOn(patient.birthDate, now);
    if (age < ELDERLY_AGE) throw new Unprocessable(`NU-04: "elderly" is ${ELDERLY_AGE} or older; Patient/${patient.id} is ${age}`, ['eligibility']);
  }
  if (eligibility === 'maternal-infant') {
    const infant = !!patient.birthDate && ageOn(patient.birthDate, now) < 1;
    const maternal = conditions.some((c) => c.code?.coding?.some((k) => k.system === ICD10 && !!k.code && (/^O/i.test(k.code) || /^Z39/i.test(k.code))));
    if (!infant && !maternal) throw new Unprocessable(`NU-04: "maternal-infant" is for an infant under 1 or a mother with a pregnancy or postpartum condition (ICD-10 O00-O99, Z39) on record; Patient/${patient.id} has neither`, ['eligibility']);
  }
}

interface OrderInput {
  itemIds: string[];
  providerId: string;
  eligibility: string;
  address: Address;
  preferredStart?: string;
  note?: string;
}

function readInput(params: ParametersParameter[]): OrderInput {
  const items = params.filter((p) => p.name === 'item');
  if (!items.length) throw new Invalid('Choose at least one service item (parameter "item", an ActivityDefinition reference)', ['item']);
  const itemIds = items.map((p) => referenceParam([p], 'item', 'ActivityDefinition'));
  if (new Set(itemIds).size !== itemIds.length) throw new Invalid('A service item is chosen once', ['item']);
  const providerId = referenceParam(params, 'provider', 'Organization');
  const eligibility = params.find((p) => p.name === 'eligibility')?.valueCode;
  if (!eligibility || !(eligibility in ELIGIBILITY_CODES)) throw new Invalid(`NU-04: parameter "eligibility" must be one of ${Object.keys(ELIGIBILITY_CODES).join(', ')}`, ['eligibility']);
  const address = params.find((p) => p.name === 'address')?.valueAddress;
  if (!address || !(address.text || address.line?.length)) throw new Invalid('Parameter "address" (valueAddress with text or line) is where the nurse goes', ['address']);
  const startParam = params.find((p) => p.name === 'preferredStart');
  const preferredStart = startParam ? startParam.valueDateTime ?? startParam.valueDate : undefined;
  if (startParam && (!preferredStart || Number.isNaN(Date.parse(preferredStart)))) throw new Invalid('Parameter "preferredStart" must be a dateTime', ['preferredStart']);
  const note = params.find((p) => p.name === 'note')?.valueString?.trim();
  if (note && note.length > 4000) throw new Invalid('Parameter "note" is at most 4000 characters', ['note']);
  return { itemIds, providerId, eligibility, address, ...(preferredStart ? { preferredStart } : {}), ...(note ? { note } : {}) };
}

export function orderOperation(deps: HomeNursingDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'Patient',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Patient-order-home-nursing',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      allow(ctx, 'create', 'ServiceRequest');
      allow(ctx, 'create', 'Task');
      const patientId = target.id!;
      const { role, user } = ctx.access.actor;
      if (role === 'resident') {
        if (!canSee(await ctx.access.visiblePatients(), [patientId])) throw new Forbidden('A resident orders home nursing for themself or a child in their care');
      } else if (role !== 'doctor' || !user?.startsWith('Practitioner/')) {
        throw new Forbidden('Home nursing is ordered by the resident (or their guardian) or by a doctor who cares for the patient');
      }
      await visiblePatientsOf(ctx, 'operation', 'Patient', patientId);
      const input = readInput(parametersOf(req.body));
      const now = deps.clock.now();

      // NU-05: active items of the catalogue.
      const items = await Promise.all(input.itemIds.map((id) => readOrNull<ActivityDefinition>(ctx.repo, 'ActivityDefinition', id)));
      const bad = input.itemIds.filter((id, i) => { const a = items[i]; return !a || a.status !== 'active' || !catalogueCodeOf(a); });
      if (bad.length) throw new Unprocessable(`NU-05: ${bad.map((id) => `ActivityDefinition/${id}`).join(', ')} is not an active item of the home-nursing catalogue`, ['item']);

      // NU-02: a licensed physical institution provides the service.
      const provider = await readOrNull<Organization>(ctx.repo, 'Organization', input.providerId);
      const ref = `Organization/${input.providerId}`;
      if (!provider || provider.active === false) throw new Unprocessable(`NU-02: ${ref} is not an active institution`, ['provider']);
      if (!provider.type?.some((t) => t.coding?.some((c) => c.system === INSTITUTION_CATEGORY && PROVIDER_CATEGORIES.includes(c.code ?? '')))) {
        throw new Unprocessable(`NU-02: home nursing is provided by a physical medical institution (${PROVIDER_CATEGORIES.join(', ')} in ${INSTITUTION_CATEGORY}); ${ref} is none`, ['provider']);
      }
      if (!provider.identifier?.some((i) => i.system === INSTITUTION_LICENCE && i.value)) {
        throw new Unprocessable(`NU-02: ${ref} has no practice licence on record (identifier ${INSTITUTION_LICENCE}); the platform only carries orders to licensed institutions`, ['provider']);
      }

      // NU-04, and the current prescriptions and records attached to the order.
      const patient = (await ctx.repo.read('Patient', patientId)) as Patient;
      const conditions = (await searchAll<Condition>(ctx.repo, 'Condition', [['subject', `Patient/${patientId}`]])).filter(
        (c) => !c.clinicalStatus || c.clinicalStatus.coding?.some((k) => ['active', 'recurrence', 'relapse'].includes(k.code ?? '')),
      ).filter((c) => !c.verificationStatus?.coding?.some((k) => ['refuted', 'entered-in-error'].includes(k.code ?? '')));
      checkEligibility(input.eligibility, patient, conditions, now);
      const prescriptions = await searchAll<MedicationRequest>(ctx.repo, 'MedicationRequest', [['subject', `Patient/${patientId}`], ['status', 'active']]);
      const supportingInfo: Reference[] = [
        ...prescriptions.map((m) => ({ reference: `MedicationRequest/${m.id}` })),
        ...conditions.map((c) => ({ reference: `Condition/${c.id}` })),
      ];

      const requester = user ?? `Patient/${patientId}`;
      const out = await auditedStep(ctx, patientId, OPERATION, async (tx) => {
        const order = await tx.create<ServiceRequest>(tagged({
          resourceType: 'ServiceRequest',
          status: 'on-hold',
          intent: 'order',
          category: [{ coding: [ORDER_CATEGORY] }],
          code: { coding: [ORDER_CATEGORY] },
          orderDetail: items.map((a) => hnConcept(catalogueCodeOf(a!)!, CATALOGUE_CODES[catalogueCodeOf(a!)!])),
          subject: { reference: `Patient/${patientId}` },
          requester: { reference: requester },
          performer: [{ reference: ref, display: provider.name }],
          reasonCode: [{ coding: [{ system: HN, code: input.eligibility, display: ELIGIBILITY_CODES[input.eligibility] }] }],
          authoredOn: now.toISOString(),
          ...(input.preferredStart ? { occurrenceDateTime: input.preferredStart } : {}),
          ...(supportingInfo.length ? { supportingInfo } : {}),
          ...(input.note ? { note: [{ text: input.note, time: now.toISOString() }] } : {}),
          // The catalogue items themselves (instantiatesCanonical would need their url).
          instantiatesUri: items.map((a) => `ActivityDefinition/${a!.id}`),
          extension: [{ url: SERVICE_ADDRESS_EXTENSION, valueAddress: input.address }],
        }));
        const task = await tx.create<Task>(tagged({
          resourceType: 'Task',
          status: 'requested',
          intent: 'order',
          code: hnConcept(ASSESSMENT_TASK, '上门护理前评估'),
          focus: { reference: `ServiceRequest/${order.id}` },
          basedOn: [{ reference: `ServiceRequest/${order.id}` }],
          for: { reference: `Patient/${patientId}` },
          owner: { reference: ref },
          requester: { reference: requester },
          authoredOn: now.toISOString(),
        }));
        return { result: { order, task }, written: [{ kind: 'create', resource: order }, { kind: 'create', resource: task }] };
      });
      return { status: 201, resource: { resourceType: 'Parameters', parameter: [{ name: 'serviceRequest', resource: out.order }, { name: 'task', resource: out.task }] } };
    },
  };
}
