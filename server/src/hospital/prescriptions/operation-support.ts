// What every prescription operation does the same way: refuse to run inside a Bundle (each is one
// deliberate act in its own transaction, and the eligibility checks read the account store, which
// must not wait on an open FHIR transaction), check access with allow() (denials audited), audit
// a refusal of a rule (403/422) with the patient concerned, store its own AuditEvents inside its
// transaction, and read its Parameters with errors that name the parameter.
import type { MedicationRequest, ParametersParameter, Resource } from '@medplum/fhirtypes';
import type { AccessKind } from '../../fhir/access/access-control.js';
import { allow, audit, checkVisible } from '../../fhir/access/enforce.js';
import { FhirError, Gone, Invalid, NotFound } from '../../fhir/errors.js';
import type { Interaction, InteractionContext, InteractionResult } from '../../fhir/interactions.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf } from '../../fhir/operation-parameters.js';
import type { FhirRepository } from '../../fhir/repository.js';
import type { HospitalDeps } from '../index.js';

/** The longest free text (a reason, a note) an operation takes. */
export const MAX_TEXT = 2000;

export interface OperationState {
  /** Set once the caller passed allow(): later refusals are audited by the wrapper. */
  checked: boolean;
  /** Patients (ids) concerned, for the audit of a refusal. */
  patients: string[];
}

type Handler = (ctx: InteractionContext, req: Interaction, target: { type?: string; id?: string }, state: OperationState) => Promise<InteractionResult>;

/** A ModuleOperation whose rule refusals (403, 422) are audited as denials with the patient. */
export function prescriptionOperation(deps: HospitalDeps, spec: { name: string; level: 'type' | 'instance'; type: string; methods: ModuleOperation['methods']; bundleSafe?: boolean }, handle: Handler): ModuleOperation {
  return {
    name: spec.name,
    level: spec.level,
    type: spec.type,
    methods: spec.methods,
    definition: `urn:suhe:OperationDefinition/${spec.name.slice(1)}`,
    async handle(ctx, req, target) {
      if (!spec.bundleSafe && ctx.repo !== deps.repo) throw new Invalid(`${spec.name} is one deliberate act in its own transaction: call it on its own, not inside a Bundle`);
      const state: OperationState = { checked: false, patients: [] };
      try {
        return await handle(ctx, req, target, state);
      } catch (err) {
        if (state.checked && err instanceof FhirError && (err.status === 403 || err.status === 422)) {
          audit(ctx, { kind: 'operation', type: spec.type, id: target.id, outcome: 'denied', detail: err.message, patients: state.patients, query: spec.name });
        }
        throw err;
      }
    },
  };
}

/** allow() for each (kind, type); marks the state checked. */
export function allowAll(ctx: InteractionContext, state: OperationState, checks: [AccessKind, string][]): void {
  for (const [kind, type] of checks) allow(ctx, kind, type);
  state.checked = true;
}

/** A resource of `type` the caller may see (404 when missing, deleted or outside their patients). */
export async function visibleResource<T extends Resource>(ctx: InteractionContext, state: OperationState, type: string, id: string | undefined, kind: AccessKind = 'operation'): Promise<T> {
  if (!id) throw new NotFound(`${type} not found`);
  const resource = (await ctx.repo.read(type, id).catch((err) => {
    if (err instanceof NotFound || err instanceof Gone) throw new NotFound(`${type}/${id} not found`);
    throw err;
  })) as T;
  const patients = ctx.compartment.includes(type) ? ctx.compartment.patientsOf(resource) : [];
  state.patients = patients;
  await checkVisible(ctx, kind, type, id, patients);
  return resource;
}

/** Stores the AuditEvents of an operation's writes in its transaction. */
export async function storeAudit(ctx: InteractionContext, tx: FhirRepository, record: { type: string; id?: string; versionId?: string; patients: string[]; query: string; detail?: string }): Promise<void> {
  if (!ctx.audit) return;
  await ctx.audit.writeIn(tx, ctx.access.actor, { kind: 'operation', outcome: 'success', ...record });
}

export function params(body: unknown, operation: string): ParametersParameter[] {
  if (!body) throw new Invalid(`${operation} takes a Parameters resource`);
  return parametersOf(body);
}

export function booleanParam(list: ParametersParameter[], name: string): boolean | undefined {
  const p = list.find((x) => x.name === name);
  if (!p) return undefined;
  if (typeof p.valueBoolean !== 'boolean') throw new Invalid(`Parameter "${name}" must be a valueBoolean`, [name]);
  return p.valueBoolean;
}

export function codeParam<T extends string>(list: ParametersParameter[], name: string, allowed: readonly T[]): T {
  const p = list.find((x) => x.name === name);
  const value = p?.valueCode ?? p?.valueString;
  if (!value || !(allowed as readonly string[]).includes(value)) throw new Invalid(`Parameter "${name}" must be one of ${allowed.join(', ')} (valueCode)`, [name]);
  return value as T;
}

export function textParam(list: ParametersParameter[], name: string, required: boolean): string | undefined {
  const p = list.find((x) => x.name === name);
  if (!p) {
    if (required) throw new Invalid(`Parameter "${name}" (valueString) is required`, [name]);
    return undefined;
  }
  const value = p.valueString?.trim();
  if (p.valueString === undefined || (required && !value)) throw new Invalid(`Parameter "${name}" must be a non-empty valueString`, [name]);
  if (value && value.length > MAX_TEXT) throw new Invalid(`Parameter "${name}" is longer than ${MAX_TEXT} characters`, [name]);
  return value || undefined;
}

/** The Patient id a prescription is for (subject must be a Patient). */
export function patientOf(request: MedicationRequest): string {
  const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(request.subject?.reference ?? '');
  if (!m) throw new Invalid('A prescription\'s subject must be a Patient (Patient/{id})', ['MedicationRequest.subject']);
  return m[1];
}

export function ok(parameter: ParametersParameter[]): InteractionResult {
  return { status: 200, resource: { resourceType: 'Parameters', parameter } };
}
