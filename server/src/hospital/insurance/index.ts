// Insurance for online visits (issue 8 item 6; MI-01, MI-02, MI-03): the resident's Coverage
// ($register-coverage), the visit's Claim settled through a SettlementAdapter or a self-pay Invoice
// ($submit-claim), and a write rule that keeps what these operations write out of plain REST
// writes. docs/INTERNET-HOSPITAL.md ("Insurance") describes the API.
import { Forbidden } from '../../fhir/errors.js';
import type { ModuleOperation, WriteRule } from '../../fhir/module-operations.js';
import type { HospitalDeps } from '../index.js';
import { CREDENTIAL_EXTENSION, INSURANCE_TAG } from './codes.js';
import { registerCoverageOperation } from './register-coverage.js';
import { submitClaimOperation } from './submit-claim.js';

export type { SettlementAdapter, SettlementResult } from './settlement.js';
export { SimulatedSettlementAdapter } from './settlement.js';
export { chargeVisit, selfPayParameter } from './submit-claim.js';

export function insuranceOperations(deps: HospitalDeps): ModuleOperation[] {
  return [registerCoverageOperation(deps), submitClaimOperation(deps)];
}

const TYPES = new Set(['Coverage', 'Claim', 'ClaimResponse', 'Invoice']);
const tagged = (r: { meta?: { tag?: { system?: string; code?: string }[] } } | undefined) => !!r?.meta?.tag?.some((t) => t.system === INSURANCE_TAG.system && t.code === INSURANCE_TAG.code);

/**
 * Plain REST writes neither change what the insurance operations wrote nor pass for it: a Coverage
 * carrying the hub's credential extension (which must hold a digest, never a token) comes from
 * $register-coverage only, charges from $submit-claim only.
 */
export function insuranceWriteRules(): WriteRule[] {
  return [
    (kind, { type, previous, next }) => {
      if (!TYPES.has(type)) return;
      if (tagged(previous) || tagged(next)) throw new Forbidden(`${type} resources of the internet hospital's insurance are written by $register-coverage and $submit-claim only`);
      if (type === 'Coverage' && kind !== 'delete' && (next as { extension?: { url: string }[] } | undefined)?.extension?.some((e) => e.url === CREDENTIAL_EXTENSION)) {
        throw new Forbidden('MI-02: an insurance credential is recorded with Patient/{id}/$register-coverage, which keeps it hashed and masked');
      }
    },
  ];
}
