// How the prescription pages read a MedicationRequest: the drug, the dose, and the state a
// resident sees (awaiting review, approved, rejected, dispensed, delivery), and what $trace says
// of the doctor's signature (the hub re-checks it; the page only shows its verdict).
import type { MessageKey } from '../i18n/messages.js';
import type { FhirResource } from './hospital-api.js';

export const PRESCRIPTION_TAG = 'https://suhe.example.cn/fhir/CodeSystem/prescription|internet-hospital';
export const REVIEW_TASK = 'https://suhe.example.cn/fhir/CodeSystem/task|prescription-review';

type CodeableConcept = { text?: string; coding?: { system?: string; code?: string; display?: string }[] };

export interface MedicationRequest extends FhirResource {
  status?: string;
  statusReason?: { text?: string };
  subject?: { reference?: string };
  requester?: { reference?: string };
  authoredOn?: string;
  medicationCodeableConcept?: CodeableConcept;
  medicationReference?: { reference?: string; display?: string };
  dosageInstruction?: { text?: string }[];
  dispenseRequest?: { quantity?: { value?: number; unit?: string } };
}

export interface MedicationDispense extends FhirResource {
  status?: string;
  whenHandedOver?: string;
}

export function drugOf(request: MedicationRequest): string {
  const concept = request.medicationCodeableConcept;
  return concept?.text ?? concept?.coding?.[0]?.display ?? concept?.coding?.[0]?.code ?? request.medicationReference?.display ?? request.medicationReference?.reference ?? '';
}

export function doseOf(request: MedicationRequest): string {
  const dose = (request.dosageInstruction ?? []).map((d) => d.text).filter(Boolean).join('; ');
  const quantity = request.dispenseRequest?.quantity;
  return [dose, quantity?.value !== undefined ? `× ${quantity.value}${quantity.unit ?? ''}` : ''].filter(Boolean).join(' ');
}

export type PrescriptionState = 'review' | 'approved' | 'rejected' | 'delivering' | 'deliveryFailed' | 'dispensed' | 'draft' | 'other';

/** The state a resident sees, from the prescription and its latest dispense. */
export function prescriptionState(request: MedicationRequest, dispense?: MedicationDispense): PrescriptionState {
  switch (request.status) {
    case 'on-hold':
      return 'review';
    case 'cancelled':
      return 'rejected';
    case 'completed':
      return 'dispensed';
    case 'draft':
      return 'draft';
    case 'active':
      if (dispense?.status === 'in-progress' || dispense?.status === 'preparation') return 'delivering';
      if (dispense?.status === 'stopped') return 'deliveryFailed';
      if (dispense?.status === 'completed') return 'dispensed';
      return 'approved';
    default:
      return 'other';
  }
}

export const prescriptionStateKey = (state: PrescriptionState) => `prescriptionStatus_${state}` as MessageKey;

export interface SignatureCheck {
  state: 'valid' | 'invalid' | 'unknown';
  /** The hub's own words. */
  detail: string;
  signedAt?: string;
}

export interface TraceBundle {
  entry?: { resource?: FhirResource & { issue?: { severity?: string; diagnostics?: string }[]; signature?: { when?: string; sigFormat?: string }[]; recorded?: string } }[];
}

/** The signature verdict and signing time from a $trace Bundle. */
export function signatureOf(trace: TraceBundle): SignatureCheck {
  const resources = (trace.entry ?? []).map((e) => e.resource).filter((r) => r !== undefined);
  const signing = resources.find((r) => r.resourceType === 'Provenance' && r.signature?.some((s) => s.sigFormat === 'application/jose'));
  const signedAt = signing?.signature?.find((s) => s.sigFormat === 'application/jose')?.when ?? signing?.recorded;
  const outcome = [...resources].reverse().find((r) => r.resourceType === 'OperationOutcome');
  const issues = outcome?.issue ?? [];
  const detail = issues.map((i) => i.diagnostics).filter(Boolean).join(' ');
  if (!issues.length) return { state: 'unknown', detail, signedAt };
  const failed = issues.some((i) => i.severity === 'error' || i.severity === 'fatal' || i.severity === 'warning');
  return { state: failed ? 'invalid' : 'valid', detail, signedAt };
}
