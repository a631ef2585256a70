// `POST Patient/{id}/$register-coverage` (MI-02, MI-03): the resident (for themself or a child in
// their care) or an administrator records the patient's medical insurance — credential type
// (valueCode 01 e-voucher token, 02 ID number, 03 social-security card), the credential
// (valueString) and the insured area (6-digit administrative division code). The Coverage keeps
// the credential masked with its SHA-256 digest (an e-voucher token is never stored in clear); it
// replaces the patient's earlier active Coverage (cancelled). Answers 201 with the Coverage and
// how the patient will settle (in area, directly, or at the institution).
import type { Coverage, Patient } from '@medplum/fhirtypes';
import { canSee } from '../../fhir/access/access-control.js';
import { allow, visiblePatientsOf } from '../../fhir/access/enforce.js';
import { Forbidden, Invalid, Unprocessable } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf, stringParam } from '../../fhir/operation-parameters.js';
import { isResidentIdSystem, parseResidentId } from '../../fhir/identity/resident-id.js';
import { parseSearchRequest } from '../../fhir/search/parse.js';
import type { HospitalDeps } from '../index.js';
import { CREDENTIAL_TYPES, INSURANCE_TAG, isCredentialType } from './codes.js';
import { areaCodeProblem, checkCredential, credentialDigest, maskCredential, settlementRoute } from './credentials.js';
import { newCoverage } from './resources.js';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';

const OPERATION = '$register-coverage';

export function registerCoverageOperation(deps: HospitalDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'Patient',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Patient-register-coverage',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      allow(ctx, 'create', 'Coverage');
      const patientId = target.id!;
      await visiblePatientsOf(ctx, 'operation', 'Patient', patientId);
      const { role } = ctx.access.actor;
      const own = role === 'resident' && canSee(await ctx.access.visiblePatients(), [patientId]);
      if (role !== 'admin' && !own) throw new Forbidden('The resident (for themself or a child in their care) or an administrator records a Coverage');
      const patient = (await ctx.repo.read('Patient', patientId)) as Patient;

      const params = parametersOf(req.body);
      const typeParam = params.find((p) => p.name === 'credentialType');
      const type = typeParam?.valueCode ?? typeParam?.valueString ?? typeParam?.valueCoding?.code;
      if (!isCredentialType(type)) throw new Invalid(`MI-02: parameter "credentialType" must be one of ${Object.entries(CREDENTIAL_TYPES).map(([c, d]) => `${c} (${d})`).join(', ')}`, ['credentialType']);
      const raw = stringParam(params, 'credential');
      if (!raw?.trim()) throw new Invalid('Parameter "credential" (valueString) is required: the token, ID number or card number', ['credential']);
      const checked = checkCredential(type, raw);
      if (!checked.ok) throw new Invalid(checked.reason, ['credential']);
      const areaParam = params.find((p) => p.name === 'insuredArea');
      const area = (areaParam?.valueCode ?? areaParam?.valueString ?? '').trim();
      const areaProblem = areaCodeProblem(area);
      if (areaProblem) throw new Invalid(areaProblem, ['insuredArea']);
      if (type === '02') {
        // The ID number must be the patient's own, when their record carries one.
        const recorded = patient.identifier?.filter((i) => isResidentIdSystem(i.system) && i.value).map((i) => parseResidentId(i.value!)).filter((p) => p.ok).map((p) => (p as { normalized: string }).normalized) ?? [];
        if (recorded.length && !recorded.includes(checked.value)) throw new Unprocessable('MI-02: the ID number is not the one on the patient\'s record', ['credential']);
      }

      const masked = maskCredential(checked.value);
      const digest = credentialDigest(type, checked.value);
      const coverage = await auditedStep(ctx, patientId, OPERATION, async (tx) => {
        await tx.lock(`coverage:Patient/${patientId}`);
        const request = parseSearchRequest('Coverage', [['beneficiary', `Patient/${patientId}`], ['status', 'active']], tx.registry, { defaultCount: 100, maxCount: 100, defaultTotal: 'none' });
        const previous = ((await tx.search(request)).resources as Coverage[]).filter((c) => c.meta?.tag?.some((t) => t.system === INSURANCE_TAG.system && t.code === INSURANCE_TAG.code));
        const written: { kind: 'create' | 'update'; resource: Coverage }[] = [];
        for (const old of previous) written.push({ kind: 'update', resource: (await tx.update<Coverage>({ ...old, status: 'cancelled' })).resource });
        const created = await tx.create(newCoverage(patientId, type, checked.value, masked, digest, area));
        written.push({ kind: 'create', resource: created });
        return { result: created, written };
      });
      const route = settlementRoute(area, deps.rules);
      return {
        status: 201,
        resource: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'coverage', resource: coverage },
            { name: 'settlement', valueCode: route },
          ],
        },
      };
    },
  };
}
