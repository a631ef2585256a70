// What the insurance part writes, built here so the operations stay about rules: the Coverage of a
// credential (MI-02/03), the Claim of a finished online visit and the ClaimResponse of its
// settlement (MI-01), and the Invoice of a self-paid visit. Amounts are CNY.
import type { Claim, ClaimResponse, CodeableConcept, Coding, Coverage, Encounter, Invoice, Money } from '@medplum/fhirtypes';
import { INTERNET_HOSPITAL_SOURCE } from '../scheduling/booking.js';
import {
  ADJUDICATION, ADMIN_DIVISION_SYSTEM, CREDENTIAL_EXTENSION, CREDENTIAL_TYPE_SYSTEM, CREDENTIAL_TYPES, INSURANCE_TAG, INSURED_AREA_EXTENSION,
  PATIENT_SHARE, PROFESSIONAL_CLAIM, PUBLIC_POLICY, SETTLEMENT_SYSTEM, VISIT_CHARGE_SYSTEM, type CredentialType,
} from './codes.js';
import type { SettlementResult } from './settlement.js';

const META = { source: INTERNET_HOSPITAL_SOURCE, tag: [INSURANCE_TAG] };
const cny = (value: number): Money => ({ value, currency: 'CNY' });
const payor = (area: string) => ({ identifier: { system: ADMIN_DIVISION_SYSTEM, value: area }, display: `Medical insurance of area ${area}` });

/** The credential as stored: type, masked display, digest — never an e-voucher token in clear; ID and card numbers as subscriberId. */
export function newCoverage(patient: string, type: CredentialType, value: string, masked: string, digest: string, area: string): Coverage {
  return {
    resourceType: 'Coverage',
    meta: META,
    extension: [
      {
        url: CREDENTIAL_EXTENSION,
        extension: [
          { url: 'type', valueCoding: { system: CREDENTIAL_TYPE_SYSTEM, code: type, display: CREDENTIAL_TYPES[type] } },
          { url: 'masked', valueString: masked },
          { url: 'sha256', valueString: digest },
        ],
      },
      { url: INSURED_AREA_EXTENSION, valueCode: area },
    ],
    status: 'active',
    type: { coding: [PUBLIC_POLICY] },
    subscriberId: type === '01' ? masked : value,
    beneficiary: { reference: `Patient/${patient}` },
    relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscriber-relationship', code: 'self' }] },
    payor: [payor(area)],
  };
}

export interface ClaimInput {
  encounter: Encounter;
  patient: string;
  provider: string;
  doctor?: string;
  coverage: Coverage;
  service: Coding;
  diagnoses: CodeableConcept[];
  fee: number;
  now: Date;
}

export function newClaim(input: ClaimInput): Claim {
  const { encounter, fee } = input;
  return {
    resourceType: 'Claim',
    meta: META,
    identifier: [{ system: VISIT_CHARGE_SYSTEM, value: encounter.id }],
    status: 'active',
    type: { coding: [PROFESSIONAL_CLAIM] },
    use: 'claim',
    patient: { reference: `Patient/${input.patient}` },
    created: input.now.toISOString(),
    provider: { reference: input.provider },
    priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/processpriority', code: 'normal' }] },
    ...(input.doctor ? { careTeam: [{ sequence: 1, provider: { reference: input.doctor }, role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claimcareteamrole', code: 'primary' }] } }] } : {}),
    ...(input.diagnoses.length ? { diagnosis: input.diagnoses.map((d, i) => ({ sequence: i + 1, diagnosisCodeableConcept: d })) } : {}),
    insurance: [{ sequence: 1, focal: true, coverage: { reference: `Coverage/${input.coverage.id}` } }],
    item: [
      {
        sequence: 1,
        ...(input.doctor ? { careTeamSequence: [1] } : {}),
        ...(input.diagnoses.length ? { diagnosisSequence: input.diagnoses.map((_, i) => i + 1) } : {}),
        productOrService: { coding: [input.service] },
        servicedDate: (encounter.period?.end ?? input.now.toISOString()).slice(0, 10),
        quantity: { value: 1 },
        unitPrice: cny(fee),
        net: cny(fee),
        encounter: [{ reference: `Encounter/${encounter.id}` }],
      },
    ],
    total: cny(fee),
  };
}

export function newClaimResponse(claim: Claim, coverage: Coverage, area: string | undefined, result: SettlementResult, now: Date): ClaimResponse {
  const total = claim.total?.value ?? 0;
  return {
    resourceType: 'ClaimResponse',
    meta: META,
    identifier: claim.identifier,
    status: 'active',
    type: claim.type,
    use: 'claim',
    patient: claim.patient,
    created: now.toISOString(),
    insurer: area ? payor(area) : { display: 'Medical insurance' },
    requestor: claim.provider,
    request: { reference: `Claim/${claim.id}` },
    outcome: result.outcome,
    disposition: result.disposition,
    ...(result.reference ? { preAuthRef: result.reference } : {}),
    insurance: [{ sequence: 1, focal: true, coverage: { reference: `Coverage/${coverage.id}` } }],
    total: [
      { category: { coding: [{ system: ADJUDICATION, code: 'submitted' }] }, amount: cny(total) },
      { category: { coding: [{ system: ADJUDICATION, code: 'benefit' }] }, amount: cny(result.insurerPays) },
      { category: { coding: [PATIENT_SHARE] }, amount: cny(result.patientPays) },
    ],
    ...(result.outcome === 'complete'
      ? { payment: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/ex-paymenttype', code: 'complete' }] }, date: now.toISOString().slice(0, 10), amount: cny(result.insurerPays), ...(result.reference ? { identifier: { value: result.reference } } : {}) } }
      : { error: [{ code: { coding: [{ system: SETTLEMENT_SYSTEM, code: result.code }], text: result.disposition } }] }),
    processNote: [{ number: 1, type: 'display', text: result.route ? `${result.code} (${result.route})` : result.code }],
  };
}

/** Self-pay (no active Coverage, or the patient's choice): the full amount due from the patient. */
export function newSelfPayInvoice(encounter: Encounter, patient: string, provider: string, service: Coding, fee: number, now: Date): Invoice {
  return {
    resourceType: 'Invoice',
    meta: META,
    identifier: [{ system: VISIT_CHARGE_SYSTEM, value: encounter.id }],
    status: 'issued',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-selfpay', code: 'pay', display: 'Pay' }] },
    subject: { reference: `Patient/${patient}` },
    recipient: { reference: `Patient/${patient}` },
    date: now.toISOString(),
    issuer: { reference: provider },
    lineItem: [{ sequence: 1, chargeItemCodeableConcept: { coding: [service] }, priceComponent: [{ type: 'base', amount: cny(fee) }] }],
    totalGross: cny(fee),
    totalNet: cny(fee),
    paymentTerms: `Self-pay: the full amount of ${fee.toFixed(2)} CNY is due from the patient`,
    note: [{ text: `Online visit Encounter/${encounter.id}` }],
  };
}
