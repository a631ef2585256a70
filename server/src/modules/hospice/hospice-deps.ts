// What the hospice module needs from the hub, passed in (app.ts wires it).
import type { FhirRepository } from '../../fhir/repository.js';

export interface HospiceDeps {
  repo: FhirRepository;
  /** Now (tests move it to reach an assessment's due day or a bereavement follow-up). */
  clock: { now(): Date };
}
