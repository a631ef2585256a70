// Family-doctor contracts and panels (issue 9; DOMAIN.md FD-01/02/04/05/07/08/09): signing a
// contract ($sign-contract), the doctor's panel with priority groups and worklist of what is due
// ($panel, $worklist), recording a follow-up ($record-follow-up), the district's indicators
// ($report); the contract as the care
// relationship that lets the family doctor see the patient's record; and a write rule keeping
// contracts and service packages out of plain writes. docs/FAMILY-DOCTOR.md describes the API.
import type { Resource } from '@medplum/fhirtypes';
import { Forbidden } from '../../fhir/errors.js';
import type { ModuleOperation, WriteRule } from '../../fhir/module-operations.js';
import type { DerivedRelationship } from '../../auth/policy.js';
import { hasCoding } from './care-codes.js';
import { BASIC_PACKAGE, FAMILY_DOCTOR_SYSTEM, isFamilyDoctorContract, PERSONALISED_PACKAGE } from './contract-codes.js';
import type { FamilyDoctorDeps } from './family-doctor-deps.js';
import { panelContracts } from './panel-records.js';
import { panelOperations } from './panel-operations.js';
import { recordFollowUpOperation } from './record-follow-up.js';
import { findForContractOperation } from './find-resident.js';
import { referralOperations } from './referrals.js';
import { reportOperation } from './report.js';
import { signContractOperation } from './sign-contract.js';

export type { FamilyDoctorDeps } from './family-doctor-deps.js';

export function familyDoctorOperations(deps: FamilyDoctorDeps): ModuleOperation[] {
  return [signContractOperation(deps), ...panelOperations(deps), recordFollowUpOperation(deps), reportOperation(deps), ...referralOperations(deps), findForContractOperation(deps)];
}

const isPackage = (r: Resource | undefined) =>
  r?.resourceType === 'PlanDefinition' && (hasCoding(r.type, FAMILY_DOCTOR_SYSTEM, BASIC_PACKAGE) || hasCoding(r.type, FAMILY_DOCTOR_SYSTEM, PERSONALISED_PACKAGE));

/** Contracts come from $sign-contract only; service packages are the administrators' catalogue. */
export function familyDoctorWriteRules(): WriteRule[] {
  return [
    (_kind, { previous, next, actor }) => {
      const contract = (r: Resource | undefined) => r?.resourceType === 'Contract' && isFamilyDoctorContract(r);
      if (contract(previous) || contract(next)) {
        throw new Forbidden('FD-02: family-doctor contracts are signed with Patient/{id}/$sign-contract, not written directly');
      }
      if ((isPackage(previous) || isPackage(next)) && actor?.role && actor.role !== 'admin') {
        throw new Forbidden('Family-doctor service packages are kept by administrators');
      }
    },
  ];
}

/** FD-02: the family doctor sees the record of each patient whose contract with them is in force. */
export async function familyDoctorRelationships(deps: FamilyDoctorDeps, actors: string[]): Promise<DerivedRelationship[]> {
  const roles = actors.filter((a) => /^PractitionerRole\/[A-Za-z0-9\-.]{1,64}$/.test(a));
  if (!roles.length) return [];
  return (await panelContracts(deps, roles, deps.clock.now())).map((c) => ({
    patient: c.subject![0].reference!.slice('Patient/'.length),
    purpose: { code: 'TREAT', reason: `FD-02: family-doctor Contract/${c.id}` },
  }));
}
