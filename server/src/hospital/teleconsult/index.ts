// Teleconsultation between institutions (TM-03..TM-07): its $operations and its rule on REST
// writes, contributed to the hospital module (../index.ts); and the care relationship an accepted
// consult is, which app.ts hands to the access policy.
import type { ModuleOperation, WriteRule } from '../../fhir/module-operations.js';
import type { HospitalDeps } from '../index.js';
import { inviteOperation } from './invite-operation.js';
import { opinionOperation } from './opinion-operation.js';
import { responseOperations } from './response-operations.js';
import { worklistOperation } from './worklist-operation.js';
import { teleconsultWriteRule } from './write-rules.js';

export { consultRelationships } from './access.js';

export function teleconsultOperations(deps: HospitalDeps): ModuleOperation[] {
  return [inviteOperation(deps), ...responseOperations(deps), opinionOperation(deps), worklistOperation(deps)];
}

export function teleconsultWriteRules(): WriteRule[] {
  return [teleconsultWriteRule];
}
