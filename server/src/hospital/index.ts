// The internet hospital and teleconsultation (issue 8) as FHIR $operations and write rules,
// plugged into the FHIR layer through its extension points (fhir/module-operations.ts). Each
// part lives in its own folder and contributes its operations and rules here.
import type { Logger } from '../audit/logger.js';
import type { Database } from '../db/database.js';
import type { ModuleOperation, WriteRule } from '../fhir/module-operations.js';
import type { EligibilityDeps } from './eligibility.js';
import type { VisitLive } from './consultation/visit-live.js';
import { visitOperations } from './consultation/visit-operations.js';
import { bookingOperations } from './scheduling/booking.js';
import { scheduleOperations } from './scheduling/schedule-operations.js';
import { schedulingWriteRules } from './scheduling/scheduling-rules.js';
import { teleconsultOperations, teleconsultWriteRules } from './teleconsult/index.js';
import { prescriptionOperations, prescriptionWriteRules } from './prescriptions/index.js';
import { insuranceOperations, insuranceWriteRules, type SettlementAdapter } from './insurance/index.js';

export interface HospitalDeps extends EligibilityDeps {
  db: Database;
  /** Now, for the rules that depend on time (a slot has begun, a visit is over). Replaceable in tests. */
  clock: { now(): Date };
  /** Who is connected to which online visit (messages and call signalling pushed live). */
  live: VisitLive;
  /** Every Patient record the master patient index links to the same person (the federated record). */
  samePerson?(patientIds: readonly string[]): Promise<string[]>;
  /** MI-01: settles online visits' claims with medical insurance; the simulated adapter when absent. */
  settlement?: SettlementAdapter;
  /** For what fails after a step has committed (a visit's charge); no patient data above debug. */
  logger?: Logger;
}

export function hospitalOperations(deps: HospitalDeps): ModuleOperation[] {
  return [...scheduleOperations(deps), ...bookingOperations(deps), ...visitOperations(deps), ...teleconsultOperations(deps), ...prescriptionOperations(deps), ...insuranceOperations(deps)];
}

export function hospitalWriteRules(deps: HospitalDeps): WriteRule[] {
  return [...schedulingWriteRules(deps), ...teleconsultWriteRules(), ...prescriptionWriteRules(deps), ...insuranceWriteRules()];
}
