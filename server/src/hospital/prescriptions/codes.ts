// The codes an internet-hospital prescription and its chain carry, in one place so the write rule,
// the operations and $trace agree on what belongs to the chain. Everything the hub writes for a
// prescription (the signed MedicationRequest, its review and delivery Tasks, its MedicationDispense
// and every Provenance) is tagged `prescription|internet-hospital`; plain FHIR writes never touch a
// tagged resource, so the chain changes only through the operations that check the rules.
import type { Coding, Resource, Task } from '@medplum/fhirtypes';

export const PRESCRIPTION_TAG: Coding = { system: 'https://suhe.example.cn/fhir/CodeSystem/prescription', code: 'internet-hospital', display: 'Internet-hospital prescription chain' };
export const TASK_CODES = 'https://suhe.example.cn/fhir/CodeSystem/task';
export const REVIEW_TASK: Coding = { system: TASK_CODES, code: 'prescription-review', display: 'Pharmacist review of a prescription' };
export const DELIVERY_TASK: Coding = { system: TASK_CODES, code: 'prescription-delivery', display: 'Delivery of dispensed medication' };
/** Provenance.activity of each step of the chain. */
export const STEP_CODES = 'https://suhe.example.cn/fhir/CodeSystem/prescription-step';
export type Step = 'sign' | 'approve' | 'reject' | 'dispense' | 'deliver';
export const ATC_SYSTEM = 'http://www.whocc.no/atc';
/** ASTM E1762 signature type of the doctor's e-signature. */
export const AUTHOR_SIGNATURE: Coding = { system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.1', display: "Author's Signature" };
export const PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
/** v3 ParticipationType: the guardian witnessing a child's prescription (IH-07). */
export const WITNESS: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'WIT', display: 'witness' };

export function isTagged(resource: Resource | undefined): boolean {
  return !!resource?.meta?.tag?.some((t) => t.system === PRESCRIPTION_TAG.system && t.code === PRESCRIPTION_TAG.code);
}

export function withTag<T extends Resource>(resource: T): T {
  if (isTagged(resource)) return resource;
  return { ...resource, meta: { ...resource.meta, tag: [...(resource.meta?.tag ?? []), PRESCRIPTION_TAG] } };
}

export function hasTaskCode(task: Resource | undefined, code: Coding): boolean {
  return task?.resourceType === 'Task' && !!(task as Task).code?.coding?.some((c) => c.system === code.system && c.code === code.code);
}

/** `Type/id` → id, when the reference is of that type. */
export function idOf(reference: string | undefined, type: string): string | undefined {
  const m = reference ? new RegExp(`^${type}/([A-Za-z0-9\\-.]{1,64})(?:/_history/[A-Za-z0-9\\-.]{1,64})?$`).exec(reference) : null;
  return m?.[1];
}
