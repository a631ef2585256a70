// IH-06 on plain FHIR writes: no prescription comes into being without a human doctor's signing
// action. Through the REST API
// - a doctor drafts: creates, edits and deletes a MedicationRequest of status `draft` that names
//   them as requester (the access policy already limits them to patients they treat, IH-05); a
//   draft is inert until its requester signs it ($sign) and a pharmacist approves it ($review);
// - residents, apps (AI engines and other automatic clients), nurses, pharmacists and the regulator
//   write no MedicationRequest at all; and no one but a doctor writes a draft;
// - administrators and institution systems may still record MedicationRequests that are not
//   drafts — prescriptions made and signed at a physical institution, shared through the hub — but
//   those are never internet-hospital prescriptions: they cannot be signed, reviewed or dispensed
//   here;
// - nobody changes or deletes what the chain operations wrote (tagged prescription|internet-
//   hospital: the signed MedicationRequest, its Tasks, MedicationDispenses and Provenances), and
//   dispensing on the hub is `$dispense`, not a plain MedicationDispense write by a clinician.
// IH-07 is checked here too, at drafting: a special-control drug is refused at once (checked again
// at signing, where a referenced Medication is read).
import type { MedicationRequest, Resource } from '@medplum/fhirtypes';
import type { Actor } from '../../fhir/access/access-control.js';
import { Forbidden, Unprocessable } from '../../fhir/errors.js';
import type { WriteRule } from '../../fhir/module-operations.js';
import type { HospitalRules } from '../rules.js';
import { DELIVERY_TASK, hasTaskCode, isTagged, REVIEW_TASK } from './codes.js';
import { containedMedication, medicationConcepts, specialControlClass } from './drug-classes.js';

/** Roles that write no MedicationRequest and no MedicationDispense through the REST API. */
const NEVER_PRESCRIBE = new Set(['resident', 'app', 'nurse', 'pharmacist', 'regulator']);
/** Roles that may record physical institutions' (non-draft) MedicationRequests. */
const RECORD_KEEPERS = new Set(['admin', 'institution']);

export function prescriptionWriteRule(rules: HospitalRules): WriteRule {
  return (kind, { type, previous, next, actor }) => {
    const chain = [previous, next].some((r) => isTagged(r) || hasTaskCode(r, REVIEW_TASK) || hasTaskCode(r, DELIVERY_TASK));
    if (chain) {
      throw new Forbidden(
        `IH-06/IH-13: this ${type} belongs to an internet-hospital prescription's chain, which changes only through its operations (MedicationRequest/$sign, Task/$review, MedicationRequest/$dispense, Task/$delivery); this ${kind} was refused`,
      );
    }
    if (type === 'MedicationDispense' && NEVER_PRESCRIBE.has(actor?.role ?? '')) {
      throw new Forbidden('IH-05: medication is dispensed on the hub with MedicationRequest/{id}/$dispense, after a pharmacist approved the prescription');
    }
    if (type === 'MedicationRequest') checkMedicationRequest(kind, previous as MedicationRequest | undefined, next as MedicationRequest | undefined, actor, rules);
  };
}

function checkMedicationRequest(kind: string, previous: MedicationRequest | undefined, next: MedicationRequest | undefined, actor: Actor | undefined, rules: HospitalRules): void {
  const role = actor?.role;
  if (role === 'doctor') {
    const self = actor?.user;
    if (previous && (previous.status !== 'draft' || previous.requester?.reference !== self)) {
      throw new Forbidden(`IH-06: a doctor changes only their own draft prescriptions (status draft, requester ${self ?? 'themself'}); this ${kind} was refused`);
    }
    if (!next) return;
    if (next.status !== 'draft') {
      throw new Unprocessable(`IH-06: a prescription is written as status "draft" and becomes one only through its doctor's signature (MedicationRequest/{id}/$sign) and a pharmacist's approval; status "${next.status}" was refused`, ['MedicationRequest.status']);
    }
    if (next.requester?.reference !== self) {
      throw new Forbidden(`IH-05/IH-06: only the treating doctor prescribes, in their own name: requester must be ${self ?? 'your Practitioner'}`);
    }
    if (next.intent !== 'order') throw new Unprocessable('A prescription draft has intent "order"', ['MedicationRequest.intent']);
    const controlled = specialControlClass(medicationConcepts(next, containedMedication(next)), rules.specialControlDrugs);
    if (controlled) {
      throw new Unprocessable(`IH-07: ${controlled.coding} is a special-control (narcotic or psychotropic) drug, class ${controlled.drugClass}; it cannot be prescribed online`, ['MedicationRequest.medication']);
    }
    return;
  }
  if (!role || RECORD_KEEPERS.has(role)) {
    // In-process callers (no role), administrators and institution systems keep records of
    // physical institutions; the internet hospital's drafts are its doctors' alone.
    if ([previous, next].some((r: Resource | undefined) => (r as MedicationRequest | undefined)?.status === 'draft')) {
      throw new Forbidden(`IH-06: draft prescriptions are written only by the doctor who will sign them; this ${kind} was refused`);
    }
    return;
  }
  // Residents, apps, nurses, pharmacists, the regulator and any role not named above.
  throw new Forbidden(`IH-06: ${role === 'app' ? 'no automatic client (AI or other) generates prescriptions' : `a ${role} does not write prescriptions`}; a doctor drafts and signs them`);
}
