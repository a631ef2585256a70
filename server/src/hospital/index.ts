// The internet hospital and teleconsultation (issue 8) as FHIR $operations and write rules,
// plugged into the FHIR layer through its extension points (fhir/module-operations.ts). Each
// part lives in its own folder and contributes its operations and rules here.
import type { Database } from '../db/database.js';
import type { ModuleOperation, WriteRule } from '../fhir/module-operations.js';
import type { EligibilityDeps } from './eligibility.js';
import { bookingOperations } from './scheduling/booking.js';
import { scheduleOperations } from './scheduling/schedule-operations.js';
import { schedulingWriteRules } from './scheduling/scheduling-rules.js';

export interface HospitalDeps extends EligibilityDeps {
  db: Database;
  /** Now, for the rules that depend on time (a slot has begun, a visit is over). Replaceable in tests. */
  clock: { now(): Date };
  /** Every Patient record the master patient index links to the same person (the federated record). */
  samePerson?(patientIds: readonly string[]): Promise<string[]>;
}

export function hospitalOperations(deps: HospitalDeps): ModuleOperation[] {
  return [...scheduleOperations(deps), ...bookingOperations(deps)];
}

export function hospitalWriteRules(deps: HospitalDeps): WriteRule[] {
  return [...schedulingWriteRules(deps)];
}
