// `POST Encounter/{id}/$submit-claim` (MI-01): for a finished online visit (Encounter class VR),
// its doctor or an administrator charges the consultation fee (rule onlineConsultationFee). With
// the patient's active Coverage, a Claim (professional; provider = the visit's physical
// institution; diagnosis from the visit) goes to the settlement adapter and its ClaimResponse is
// stored; without one (or with `selfPay` true) the patient pays in full: an Invoice. One charge per
// visit: a second answers 409, as does a visit not yet finished. Answers 201 with Parameters.
import type { Claim, CodeableConcept, Condition, Coverage, Encounter, Invoice, ParametersParameter } from '@medplum/fhirtypes';
import { allow, visiblePatientsOf } from '../../fhir/access/enforce.js';
import { Conflict, Forbidden, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf } from '../../fhir/operation-parameters.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { parseSearchRequest } from '../../fhir/search/parse.js';
import type { HospitalDeps } from '../index.js';
import { FIRST_VISIT_SERVICE, FOLLOW_UP_SERVICE, INSURANCE_TAG, VISIT_CHARGE_SYSTEM } from './codes.js';
import { newClaim, newClaimResponse, newSelfPayInvoice } from './resources.js';
import { coverageCredential, SimulatedSettlementAdapter, type SettlementAdapter } from './settlement.js';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';

const OPERATION = '$submit-claim';
const LIMITS = { defaultCount: 100, maxCount: 100, defaultTotal: 'none' as const };
const ours = (r: { meta?: { tag?: { system?: string; code?: string }[] } }) => !!r.meta?.tag?.some((t) => t.system === INSURANCE_TAG.system && t.code === INSURANCE_TAG.code);
const doctorOf = (encounter: Encounter) => encounter.participant?.find((p) => p.individual?.reference?.startsWith('Practitioner/'))?.individual?.reference;

async function charged(tx: FhirRepository, encounterId: string): Promise<boolean> {
  for (const type of ['Claim', 'Invoice']) {
    const request = parseSearchRequest(type, [['identifier', `${VISIT_CHARGE_SYSTEM}|${encounterId}`]], tx.registry, LIMITS);
    if ((await tx.search(request)).resources.length) return true;
  }
  return false;
}

async function activeCoverage(tx: FhirRepository, patient: string): Promise<Coverage | undefined> {
  const request = parseSearchRequest('Coverage', [['beneficiary', `Patient/${patient}`], ['status', 'active']], tx.registry, LIMITS);
  return ((await tx.search(request)).resources as Coverage[]).filter(ours).sort((a, b) => (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? ''))[0];
}

async function diagnosesOf(tx: FhirRepository, encounter: Encounter): Promise<CodeableConcept[]> {
  const out: CodeableConcept[] = [];
  for (const d of encounter.diagnosis ?? []) {
    const id = /^Condition\/([A-Za-z0-9\-.]{1,64})$/.exec(d.condition.reference ?? '')?.[1];
    const condition = id ? ((await tx.read('Condition', id).catch(() => undefined)) as Condition | undefined) : undefined;
    if (condition?.code) out.push(condition.code);
  }
  return out;
}

/**
 * Charges a finished online visit (MI-01): a Claim settled through the adapter when the patient has
 * an active Coverage (and `selfPay` is not asked), else a self-pay Invoice. One charge per visit
 * (409). Runs in its own transaction; the caller has already checked who may charge.
 */
export async function chargeVisit(deps: HospitalDeps, ctx: InteractionContext, encounter: Encounter, selfPay = false, via = OPERATION): Promise<ParametersParameter[]> {
  const adapter: SettlementAdapter = deps.settlement ?? new SimulatedSettlementAdapter(deps.rules);
  const encounterId = encounter.id!;
  if (encounter.class?.code !== 'VR') throw new Unprocessable('MI-01: only an online visit (Encounter class VR) is charged here');
  if (encounter.status !== 'finished') throw new Conflict(`The visit is ${encounter.status}: a claim is submitted once it is finished ($end-visit)`);
  const patient = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(encounter.subject?.reference ?? '')?.[1];
  if (!patient) throw new Unprocessable('The visit names no patient');
  const provider = encounter.serviceProvider?.reference;
  if (!provider) throw new Unprocessable('MI-01: the visit names no physical institution (Encounter.serviceProvider) to settle through');
  const fee = deps.rules.onlineConsultationFee;
  const service = encounter.reasonReference?.length ? FOLLOW_UP_SERVICE : FIRST_VISIT_SERVICE;
  const doctor = doctorOf(encounter);
  const now = deps.clock.now();

  return auditedStep<ParametersParameter[]>(ctx, patient, via, async (tx) => {
    await tx.lock(`charge:Encounter/${encounterId}`);
    if (await charged(tx, encounterId)) throw new Conflict(`Encounter/${encounterId} has already been charged: one claim per visit`);
    const coverage = selfPay ? undefined : await activeCoverage(tx, patient);
    if (!coverage) {
      const invoice = await tx.create<Invoice>(newSelfPayInvoice(encounter, patient, provider, service, fee, now));
      return { result: [{ name: 'invoice', resource: invoice }, { name: 'outcome', valueCode: 'self-pay' }], written: [{ kind: 'create', resource: invoice }] };
    }
    const claim = await tx.create<Claim>(newClaim({ encounter, patient, provider, doctor, coverage, service, diagnoses: await diagnosesOf(tx, encounter), fee, now }));
    const settlement = await adapter.settle(claim, coverage);
    const response = await tx.create(newClaimResponse(claim, coverage, coverageCredential(coverage).area, settlement, now));
    return {
      result: [{ name: 'claim', resource: claim }, { name: 'claimResponse', resource: response }, { name: 'outcome', valueCode: settlement.code }],
      written: [{ kind: 'create', resource: claim }, { kind: 'create', resource: response }],
    };
  });
}

/** The optional `selfPay` parameter (valueBoolean) of a charge. */
export function selfPayParameter(params: ParametersParameter[]): boolean {
  const selfPay = params.find((p) => p.name === 'selfPay');
  if (selfPay && typeof selfPay.valueBoolean !== 'boolean') throw new Invalid('Parameter "selfPay" must be a valueBoolean', ['selfPay']);
  return selfPay?.valueBoolean ?? false;
}

export function submitClaimOperation(deps: HospitalDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'Encounter',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Encounter-submit-claim',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      for (const type of ['Claim', 'ClaimResponse', 'Invoice']) allow(ctx, 'create', type);
      const encounterId = target.id!;
      await visiblePatientsOf(ctx, 'operation', 'Encounter', encounterId);
      const encounter = (await ctx.repo.read('Encounter', encounterId)) as Encounter;
      const doctor = doctorOf(encounter);
      if (ctx.access.actor.role !== 'admin' && (!ctx.access.actor.user || ctx.access.actor.user !== doctor)) throw new Forbidden('The visit\'s doctor (or an administrator) submits its claim');
      const params: ParametersParameter[] = req.body === undefined || req.body === null || req.body === '' ? [] : parametersOf(req.body);
      const selfPay = selfPayParameter(params);
      const unknown = params.filter((p) => p.name !== 'selfPay').map((p) => p.name);
      if (unknown.length) throw new Invalid(`${OPERATION} takes only "selfPay"; unknown: ${unknown.join(', ')}`, unknown);
      return { status: 201, resource: { resourceType: 'Parameters', parameter: await chargeVisit(deps, ctx, encounter, selfPay) } };
    },
  };
}
