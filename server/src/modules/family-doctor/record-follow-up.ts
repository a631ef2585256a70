// `POST /fhir/Patient/{id}/$record-follow-up` (FD-07..09): the family doctor (or a nurse of the
// team) records a follow-up or health check as it happened — a finished Encounter typed with the
// kind, face to face at the centre (AMB) or at home (HH), and the measurements taken: blood
// pressure (LOINC 85354-9 with systolic 8480-6 and diastolic 8462-4, mm[Hg]) and fasting glucose
// (LOINC 14771-0, mmol/L). The worklist counts them at once: the item it was due for clears.
// Written with their AuditEvents in one transaction.
import type { Encounter, Observation, ParametersParameter, PractitionerRole } from '@medplum/fhirtypes';
import { auditedStep, notInBundle } from '../../fhir/access/audited-step.js';
import { allow, visiblePatientsOf } from '../../fhir/access/enforce.js';
import { Forbidden, Invalid } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf } from '../../fhir/operation-parameters.js';
import { ACT_CODE_SYSTEM, BLOOD_PRESSURE_PANEL_LOINC, ENCOUNTER_TYPES, FOLLOW_UP_SYSTEM, LOINC_SYSTEM } from './care-codes.js';
import { searchAll } from '../../fhir/search/search-all.js';
import type { FamilyDoctorDeps } from './family-doctor-deps.js';

const OPERATION = '$record-follow-up';
const KINDS: readonly string[] = Object.values(ENCOUNTER_TYPES);
const CLASSES: Record<string, string> = { AMB: 'ambulatory', HH: 'home health' };
const UCUM = 'http://unitsofmeasure.org';
const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

interface FollowUpInput {
  kind: string;
  at: string;
  classCode: string;
  bloodPressure?: { systolic: number; diastolic: number };
  fastingGlucose?: number;
  note?: string;
}

function number(params: ParametersParameter[], name: string, min: number, max: number): number | undefined {
  const p = params.find((x) => x.name === name);
  if (!p) return undefined;
  const value = p.valueInteger ?? p.valueDecimal;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) throw new Invalid(`Parameter "${name}" must be a number from ${min} to ${max}`, [name]);
  return value;
}

export function readFollowUp(params: ParametersParameter[], now: Date): FollowUpInput {
  const kind = params.find((p) => p.name === 'kind')?.valueCode;
  if (!kind || !KINDS.includes(kind)) throw new Invalid(`Parameter "kind" must be one of ${KINDS.join(', ')}`, ['kind']);
  const classCode = params.find((p) => p.name === 'class')?.valueCode ?? 'AMB';
  if (!CLASSES[classCode]) throw new Invalid('Parameter "class" is AMB (at the centre) or HH (at home): a follow-up is face to face', ['class']);
  const atParam = params.find((p) => p.name === 'date');
  const at = atParam ? atParam.valueDateTime ?? atParam.valueDate : now.toISOString();
  if (!at || Number.isNaN(Date.parse(at)) || Date.parse(at) > now.getTime() + 60_000) throw new Invalid('Parameter "date" must be a dateTime, not in the future', ['date']);
  const systolic = number(params, 'systolic', 40, 300);
  const diastolic = number(params, 'diastolic', 20, 200);
  if ((systolic === undefined) !== (diastolic === undefined)) throw new Invalid('Blood pressure needs both "systolic" and "diastolic"', ['systolic', 'diastolic']);
  const note = params.find((p) => p.name === 'note')?.valueString?.trim();
  if (note && note.length > 4000) throw new Invalid('Parameter "note" is at most 4000 characters', ['note']);
  return {
    kind, at, classCode,
    ...(systolic !== undefined ? { bloodPressure: { systolic, diastolic: diastolic! } } : {}),
    ...(params.some((p) => p.name === 'fastingGlucose') ? { fastingGlucose: number(params, 'fastingGlucose', 0.5, 50) } : {}),
    ...(note ? { note } : {}),
  };
}

export function recordFollowUpOperation(deps: FamilyDoctorDeps): ModuleOperation {
  return {
    name: OPERATION,
    level: 'instance',
    type: 'Patient',
    methods: ['POST'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Patient-record-follow-up',
    async handle(ctx, req, target) {
      notInBundle(deps.repo, ctx, OPERATION);
      allow(ctx, 'create', 'Encounter');
      allow(ctx, 'create', 'Observation');
      const { role, user } = ctx.access.actor;
      if ((role !== 'doctor' && role !== 'nurse') || !user?.startsWith('Practitioner/')) throw new Forbidden('A family doctor or nurse records a follow-up');
      const patientId = target.id!;
      await visiblePatientsOf(ctx, 'operation', 'Patient', patientId);
      const input = readFollowUp(parametersOf(req.body), deps.clock.now());
      const [role0] = await searchAll<PractitionerRole>(ctx.repo, 'PractitionerRole', [['practitioner', user]]);
      const out = await auditedStep(ctx, patientId, OPERATION, async (tx) => {
        const encounter = await tx.create<Encounter>(followUpEncounter(patientId, user, role0?.organization?.reference, input));
        const observations: Observation[] = [];
        for (const o of measurements(patientId, user, encounter.id!, input)) observations.push(await tx.create<Observation>(o));
        return { result: { encounter, observations }, written: [encounter, ...observations].map((resource) => ({ kind: 'create' as const, resource })) };
      });
      const parameter: ParametersParameter[] = [{ name: 'encounter', resource: out.encounter }, ...out.observations.map((resource) => ({ name: 'observation', resource }))];
      return { status: 201, resource: { resourceType: 'Parameters', parameter } };
    },
  };
}

function followUpEncounter(patientId: string, doctor: string, organization: string | undefined, input: FollowUpInput): Encounter {
  return {
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: ACT_CODE_SYSTEM, code: input.classCode, display: CLASSES[input.classCode] },
    type: [{ coding: [{ system: FOLLOW_UP_SYSTEM, code: input.kind }] }],
    subject: { reference: `Patient/${patientId}` },
    participant: [{ individual: { reference: doctor } }],
    period: { start: input.at, end: input.at },
    ...(organization ? { serviceProvider: { reference: organization } } : {}),
  };
}

function measurements(patientId: string, doctor: string, encounterId: string, input: FollowUpInput): Observation[] {
  const common = { status: 'final' as const, subject: { reference: `Patient/${patientId}` }, encounter: { reference: `Encounter/${encounterId}` }, effectiveDateTime: input.at, performer: [{ reference: doctor }] };
  const category = (code: string) => [{ coding: [{ system: OBSERVATION_CATEGORY, code }] }];
  const out: Observation[] = [];
  if (input.bloodPressure) {
    const mmHg = (value: number) => ({ value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' });
    out.push({
      resourceType: 'Observation', ...common, category: category('vital-signs'),
      code: { coding: [{ system: LOINC_SYSTEM, code: BLOOD_PRESSURE_PANEL_LOINC, display: 'Blood pressure panel' }] },
      component: [
        { code: { coding: [{ system: LOINC_SYSTEM, code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: mmHg(input.bloodPressure.systolic) },
        { code: { coding: [{ system: LOINC_SYSTEM, code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: mmHg(input.bloodPressure.diastolic) },
      ],
      ...(input.note ? { note: [{ text: input.note }] } : {}),
    });
  }
  if (input.fastingGlucose !== undefined) {
    out.push({
      resourceType: 'Observation', ...common, category: category('laboratory'),
      code: { coding: [{ system: LOINC_SYSTEM, code: '14771-0', display: 'Fasting glucose [Moles/volume] in Serum or Plasma' }] },
      valueQuantity: { value: input.fastingGlucose, unit: 'mmol/L', system: UCUM, code: 'mmol/L' },
    });
  }
  return out;
}
