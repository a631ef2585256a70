// Hospice care at home (issue 9 item 4; DOMAIN.md HO-02): enrolment with a multidisciplinary team
// and care plan, symptom assessments, the team's worklist, advance directives (Consent scope adr)
// and, after the death, bereavement follow-up. docs/HOSPICE.md describes the API.
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { advanceDirectiveOperation } from './advance-directive.js';
import { recordDeathOperation } from './death.js';
import { enrolOperation } from './enrol.js';
import type { HospiceDeps } from './hospice-deps.js';
import { assessSymptomsOperation } from './symptoms.js';
import { hospiceWorklistOperation } from './worklist.js';

export type { HospiceDeps } from './hospice-deps.js';

export function hospiceOperations(deps: HospiceDeps): ModuleOperation[] {
  return [enrolOperation(deps), assessSymptomsOperation(deps), hospiceWorklistOperation(deps), advanceDirectiveOperation(deps), recordDeathOperation(deps)];
}
