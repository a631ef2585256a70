// Settlement of a visit's Claim goes through an adapter (MI-01: the hub prepares Coverage and
// Claim; the insurer's system, reached through the physical institution, settles). The simulated
// adapter stands in for it in tests and demos, deterministically:
// - a credential whose last four characters are 0000 is unknown to the insurer → refused
//   (like a payment sandbox's decline numbers);
// - insured outside the hub's province and the direct-settlement (Yangtze River Delta) provinces
//   → "settle at the institution" (MI-03): the patient pays and claims at home;
// - a chronic-disease follow-up → approved, the insurer paying `insuranceReimbursementRatio`;
// - anything else (a first visit, no chronic diagnosis) → refused as not covered online.
import { createHash } from 'node:crypto';
import type { Claim, Coverage, Extension } from '@medplum/fhirtypes';
import type { HospitalRules } from '../rules.js';
import { CREDENTIAL_EXTENSION, FOLLOW_UP_SERVICE, INSURED_AREA_EXTENSION, isCredentialType, type CredentialType } from './codes.js';
import { fen, isChronic, settlementRoute, type SettlementRoute } from './credentials.js';

export type SettlementCode = 'settled' | 'unknown-credential' | 'settle-at-institution' | 'not-covered';

export interface SettlementResult {
  /** ClaimResponse.outcome: complete when the insurer settled, error otherwise. */
  outcome: 'complete' | 'error';
  code: SettlementCode;
  route?: SettlementRoute;
  /** What the insurer pays and what the patient pays, in CNY; together the claim's total. */
  insurerPays: number;
  patientPays: number;
  /** Said to the patient and the institution (ClaimResponse.disposition). */
  disposition: string;
  /** The insurer's settlement number, when settled. */
  reference?: string;
}

export interface SettlementAdapter {
  settle(claim: Claim, coverage: Coverage): Promise<SettlementResult>;
}

export interface CoverageCredential {
  type?: CredentialType;
  masked?: string;
  digest?: string;
  area?: string;
}

/** The credential and insured area a Coverage carries (as $register-coverage writes them). */
export function coverageCredential(coverage: Coverage): CoverageCredential {
  const credential = coverage.extension?.find((e) => e.url === CREDENTIAL_EXTENSION)?.extension ?? [];
  const part = (url: string): Extension | undefined => credential.find((e) => e.url === url);
  const type = part('type')?.valueCoding?.code;
  return {
    type: isCredentialType(type) ? type : undefined,
    masked: part('masked')?.valueString,
    digest: part('sha256')?.valueString,
    area: coverage.extension?.find((e) => e.url === INSURED_AREA_EXTENSION)?.valueCode,
  };
}

export class SimulatedSettlementAdapter implements SettlementAdapter {
  constructor(private readonly rules: Pick<HospitalRules, 'insuranceHomeProvince' | 'directSettlementProvinces' | 'insuranceReimbursementRatio' | 'chronicDiseaseCodes'>) {}

  async settle(claim: Claim, coverage: Coverage): Promise<SettlementResult> {
    const total = fen(claim.total?.value ?? 0);
    const refuse = (code: SettlementCode, disposition: string, route?: SettlementRoute): SettlementResult => ({ outcome: 'error', code, ...(route ? { route } : {}), insurerPays: 0, patientPays: total, disposition });
    const credential = coverageCredential(coverage);
    if (!credential.type || !credential.masked || !credential.area || credential.masked.endsWith('0000')) {
      return refuse('unknown-credential', 'The insurer does not know this credential: the visit is paid by the patient in full');
    }
    const route = settlementRoute(credential.area, this.rules);
    if (route === 'at-institution') {
      return refuse('settle-at-institution', `MI-03: insured in area ${credential.area}, outside this province and the direct-settlement provinces (${this.rules.directSettlementProvinces.join(', ')}): settle at the institution — pay the full amount and claim it where insured`, route);
    }
    const followUp = claim.item?.some((i) => i.productOrService.coding?.some((c) => c.system === FOLLOW_UP_SERVICE.system && c.code === FOLLOW_UP_SERVICE.code));
    const chronic = claim.diagnosis?.some((d) => d.diagnosisCodeableConcept?.coding?.some((c) => isChronic(c.code, this.rules.chronicDiseaseCodes)));
    if (!followUp || !chronic) {
      return refuse('not-covered', 'MI-01: only online follow-up visits for chronic diseases are settled with medical insurance; this visit is paid by the patient', route);
    }
    const insurerPays = fen(total * this.rules.insuranceReimbursementRatio);
    const reference = `SIM-${createHash('sha256').update(`${claim.id}:${credential.digest}`).digest('hex').slice(0, 12).toUpperCase()}`;
    return { outcome: 'complete', code: 'settled', route, insurerPays, patientPays: fen(total - insurerPays), disposition: `Settled ${route === 'in-area' ? 'in area' : 'directly (cross-province, MI-03)'}: insurer pays ${insurerPays.toFixed(2)} CNY, patient ${fen(total - insurerPays).toFixed(2)} CNY`, reference };
  }
}
