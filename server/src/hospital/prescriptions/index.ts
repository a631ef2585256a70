// E-prescriptions of the internet hospital (issue 8 item 4; IH-05, IH-06, IH-07, IH-13), FHIR-first:
// a doctor drafts a MedicationRequest with plain FHIR writes (write-rule.ts), registers their own
// signing key ($register-signing-key) and signs ($sign); a pharmacist reviews ($review), dispenses
// ($dispense) and records the delivery ($delivery); $trace shows the whole chain, also to the
// regulator. docs/INTERNET-HOSPITAL.md describes the API.
import type { ModuleOperation, WriteRule } from '../../fhir/module-operations.js';
import type { HospitalDeps } from '../index.js';
import { deliveryOperation } from './delivery.js';
import { dispenseOperation } from './dispense.js';
import { registerKeyOperation } from './register-key.js';
import { reviewOperation } from './review.js';
import { signOperation } from './sign.js';
import { traceOperation } from './trace.js';
import { prescriptionWriteRule } from './write-rule.js';

export function prescriptionOperations(deps: HospitalDeps): ModuleOperation[] {
  return [registerKeyOperation(deps), signOperation(deps), reviewOperation(deps), dispenseOperation(deps), deliveryOperation(deps), traceOperation(deps)];
}

export function prescriptionWriteRules(deps: HospitalDeps): WriteRule[] {
  return [prescriptionWriteRule(deps.rules)];
}
