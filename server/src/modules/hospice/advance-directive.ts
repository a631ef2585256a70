// `POST /fhir/Patient/{id}/$record-advance-directive` (HO-02): the patient's advance directive as a
// Consent with scope `adr` (advance directive), category LOINC 75320-2: the decisions (no CPR, no
// intubation, no transfer to intensive care, no artificial nutrition, comfort care only, to die at
// home) as `provision.code` with type deny (a refusal of treatment) or permit (comfort care, dying at
// home), the patient's own words, and the signed document. Signed by the patient or, when they can
// no longer, by their proxy (a RelatedPerson) — named as the Consent's performer. A new directive
// replaces the one in force (set inactive), in one transaction. Recorded by a physician or nurse
// who may see the patient, or by the resident themself.
import type { Attachment, Consent, ParametersParameter } from '@medplum/fhirtypes';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow, visiblePatientsOf } from '../../fhir/access/enforce.js';
import { Forbidden, Invalid } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf } from '../../fhir/operation-parameters.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { ADVANCE_DIRECTIVE, CONSENT_SCOPE, DIRECTIVES, HOSPICE_SYSTEM } from './hospice-codes.js';
import type { HospiceDeps } from './hospice-deps.js';

const OPERATION = '$record-advance-directive';
/** Decisions that permit rather than refuse. */
const PERMITS = new Set(['comfort-care-only', 'die-at-home']);
const isAdr = (c: Consent) => !!c.scope?.coding?.some((x) => x.system === CONSENT_SCOPE && x.code === 'adr');

export function advanceDirectiveOperation(deps: HospiceDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'Patient',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Patient-record-advance-directive',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      allow(ctx, 'create', 'Consent');
      const { role } = ctx.access.actor;
      if (role !== 'doctor' && role !== 'nurse' && role !== 'resident') throw new Forbidden('The patient (or their proxy) with a physician or nurse records an advance directive');
      const patientId = target.id!;
      await visiblePatientsOf(ctx, 'operation', 'Patient', patientId);
      const params = parametersOf(req.body);
      const decisions = params.filter((p) => p.name === 'decision').map((p) => p.valueCode ?? '');
      const unknown = decisions.filter((d) => !(DIRECTIVES as readonly string[]).includes(d));
      if (!decisions.length || unknown.length) throw new Invalid(`"decision" (repeated) is one of ${DIRECTIVES.join(', ')}${unknown.length ? `; not ${unknown.join(', ')}` : ''}`, ['decision']);
      const form = params.find((p) => p.name === 'signedForm')?.valueAttachment as Attachment | undefined;
      if (!form?.data && !form?.url) throw new Invalid('An advance directive needs the signed document ("signedForm", an Attachment)', ['signedForm']);
      const proxy = params.find((p) => p.name === 'signedBy')?.valueReference?.reference;
      if (proxy !== undefined && !/^RelatedPerson\/[A-Za-z0-9\-.]{1,64}$/.test(proxy) && proxy !== `Patient/${patientId}`) throw new Invalid('"signedBy" is the patient or their proxy (a RelatedPerson)', ['signedBy']);
      const statement = params.find((p) => p.name === 'statement')?.valueString?.trim();
      const now = deps.clock.now().toISOString();

      const out = await auditedStep(ctx, patientId, OPERATION, async (tx) => {
        await tx.lock(`advance-directive:Patient/${patientId}`);
        const replaced: Consent[] = [];
        for (const earlier of (await searchAll<Consent>(tx, 'Consent', [['patient', `Patient/${patientId}`], ['status', 'active']])).filter(isAdr)) {
          replaced.push((await tx.update<Consent>({ ...earlier, status: 'inactive' })).resource);
        }
        const consent = await tx.create<Consent>({
          resourceType: 'Consent', status: 'active',
          scope: { coding: [{ system: CONSENT_SCOPE, code: 'adr', display: 'Advanced Care Directive' }] },
          category: [{ coding: [ADVANCE_DIRECTIVE] }],
          patient: { reference: `Patient/${patientId}` }, dateTime: now,
          performer: [{ reference: proxy ?? `Patient/${patientId}` }],
          sourceAttachment: form,
          policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentpolicycodes', code: 'cric' }], text: '《上海市安宁疗护服务规范》生前预嘱' },
          provision: {
            type: 'permit',
            period: { start: now },
            provision: decisions.map((code) => ({ type: PERMITS.has(code) ? ('permit' as const) : ('deny' as const), code: [{ coding: [{ system: HOSPICE_SYSTEM, code }] }] })),
          },
          ...(statement ? { extension: [{ url: 'https://suhe.example.cn/fhir/StructureDefinition/patient-statement', valueString: statement }] } : {}),
        });
        return { result: { consent, replaced }, written: [...replaced.map((resource) => ({ kind: 'update' as const, resource })), { kind: 'create' as const, resource: consent }] };
      });
      const parameter: ParametersParameter[] = [{ name: 'consent', resource: out.consent }, ...out.replaced.map((resource) => ({ name: 'replaced', resource }))];
      return { status: 201, resource: { resourceType: 'Parameters', parameter } };
    },
  };
}
