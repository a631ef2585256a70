// IH-07: no narcotic or psychotropic (special-control) drugs online. The classes are a rule
// parameter (rules.specialControlDrugs, `system|code`), so the list is policy, not code. A
// medication is in a class when one of its codings has the class's system and code; for ATC, whose
// codes are hierarchical, also when its code lies below the class (N02AA01 morphine is in N02A
// opioids). The medication's codings are its medicationCodeableConcept, or the code and the
// ingredients of the Medication it refers to (a combination product with one controlled
// ingredient is controlled).
import type { CodeableConcept, Medication, MedicationRequest } from '@medplum/fhirtypes';
import { ATC_SYSTEM } from './codes.js';

export interface DrugClassMatch {
  /** The class as configured, `system|code`. */
  drugClass: string;
  /** The medication coding that falls in it, `system|code`. */
  coding: string;
}

/** The first configured class one of these concepts falls in, or undefined. */
export function specialControlClass(concepts: readonly (CodeableConcept | undefined)[], classes: readonly string[]): DrugClassMatch | undefined {
  for (const concept of concepts) {
    for (const coding of concept?.coding ?? []) {
      if (!coding.system || !coding.code) continue;
      for (const drugClass of classes) {
        if (inClass(coding.system, coding.code, drugClass)) return { drugClass, coding: `${coding.system}|${coding.code}` };
      }
    }
  }
  return undefined;
}

/** Whether system|code is the class or (ATC) below it. */
export function inClass(system: string, code: string, drugClass: string): boolean {
  const bar = drugClass.lastIndexOf('|');
  if (bar < 0) return false;
  const classSystem = drugClass.slice(0, bar);
  const classCode = drugClass.slice(bar + 1).trim();
  if (system !== classSystem || !classCode) return false;
  if (system === ATC_SYSTEM) return code.trim().toUpperCase().startsWith(classCode.toUpperCase());
  return code === classCode;
}

/** The concepts that name what a prescription orders: its code, or its Medication's code and ingredients. */
export function medicationConcepts(request: MedicationRequest, medication?: Medication): CodeableConcept[] {
  if (request.medicationCodeableConcept) return [request.medicationCodeableConcept];
  if (!medication) return [];
  return [medication.code, ...(medication.ingredient ?? []).map((i) => i.itemCodeableConcept)].filter((c): c is CodeableConcept => !!c);
}

/** A Medication the request carries itself (`#id` to a contained one). */
export function containedMedication(request: MedicationRequest): Medication | undefined {
  const ref = request.medicationReference?.reference;
  if (!ref?.startsWith('#')) return undefined;
  return request.contained?.find((r) => r.resourceType === 'Medication' && r.id === ref.slice(1)) as Medication | undefined;
}
