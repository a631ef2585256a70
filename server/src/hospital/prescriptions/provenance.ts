// The Provenance of each step of a prescription (IH-13: the whole process is traceable): who did
// what to which versions, when, for whom. The signing step carries the doctor's own JWS (IH-05);
// the others record the pharmacist's authenticated act (their access token's audit trail holds
// the rest). Each targets the versions the step wrote, and names the prescription as the source
// entity when the step did not change it, so `Provenance?target=` over the chain finds them all.
import type { Provenance, ProvenanceAgent, Reference } from '@medplum/fhirtypes';
import { AUTHOR_SIGNATURE, PARTICIPANT_TYPE, PRESCRIPTION_TAG, STEP_CODES, WITNESS, type Step } from './codes.js';

const STEP_DISPLAY: Record<Step, string> = {
  sign: 'Signed by the prescribing doctor',
  approve: 'Approved by a pharmacist',
  reject: 'Rejected by a pharmacist',
  dispense: 'Dispensed by a pharmacist',
  deliver: 'Delivery state recorded',
};

export interface StepInput {
  step: Step;
  /** Versioned references of what the step wrote. */
  targets: string[];
  /** The practitioner acting, Practitioner/{id}. */
  who: string;
  /** Their institution. */
  onBehalfOf?: string;
  agentType: 'author' | 'verifier' | 'performer';
  /** The prescription, when the step used it without changing it. */
  source?: string;
  reason?: string;
  when: string;
}

export function stepProvenance(input: StepInput, extra: { signature?: string; guardian?: string } = {}): Provenance {
  const agent: ProvenanceAgent[] = [
    {
      type: { coding: [{ system: PARTICIPANT_TYPE, code: input.agentType }] },
      who: { reference: input.who },
      ...(input.onBehalfOf ? { onBehalfOf: { reference: input.onBehalfOf } } : {}),
    },
  ];
  if (extra.guardian) agent.push({ type: { coding: [WITNESS] }, who: { reference: extra.guardian } });
  return {
    resourceType: 'Provenance',
    meta: { tag: [PRESCRIPTION_TAG] },
    target: input.targets.map((reference): Reference => ({ reference })),
    recorded: input.when,
    activity: { coding: [{ system: STEP_CODES, code: input.step, display: STEP_DISPLAY[input.step] }] },
    ...(input.reason ? { reason: [{ text: input.reason }] } : {}),
    agent,
    ...(input.source ? { entity: [{ role: 'source', what: { reference: input.source } }] } : {}),
    ...(extra.signature
      ? {
          signature: [{
            type: [AUTHOR_SIGNATURE],
            when: input.when,
            who: { reference: input.who },
            targetFormat: 'application/fhir+json',
            sigFormat: 'application/jose',
            data: Buffer.from(extra.signature).toString('base64'),
          }],
        }
      : {}),
  };
}
