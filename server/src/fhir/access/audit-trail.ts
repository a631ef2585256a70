// The port through which the FHIR layer reports what happened, for the audit trail. The layer
// above (server/src/audit/) turns each record into an IHE BALP AuditEvent and stores it.
import type { Resource } from '@medplum/fhirtypes';
import type { AccessKind, Actor } from './access-control.js';

export interface AuditRecord {
  kind: AccessKind;
  type?: string;
  id?: string;
  versionId?: string;
  outcome: 'success' | 'denied' | 'failed';
  /** Why it was denied or failed (no patient data). */
  detail?: string;
  /** Ids of the patients whose data was touched. */
  patients: readonly string[];
  /** For searches: the query string as received. */
  query?: string;
  /** Imaging: the DICOM audit event (PS3.15 A.5) this access also is — instances accessed or transferred, or a query. */
  dicomEvent?: DicomAuditEvent;
}

export type DicomAuditEvent = 'instances-accessed' | 'instances-transferred' | 'query';

export interface AuditTrail {
  /** Records an access (reads, searches, denials): stored soon after, batched. */
  record(actor: Actor, record: AuditRecord): void;
  /** Stores the AuditEvents describing a write with the write, in its transaction `tx`. */
  writeIn(tx: AuditStore, actor: Actor, record: AuditRecord): Promise<void>;
}

/** Where AuditEvents are stored: a FhirRepository, or one of its transactions. */
export interface AuditStore {
  create(resource: Resource, assignedId?: string, options?: { trusted?: boolean }): Promise<unknown>;
  /** One resource per value, `template` with `slot` replaced by it (FhirRepository.createFamily). */
  createFamily(template: Resource, slot: string, values: readonly string[], options?: { trusted?: boolean }): Promise<void>;
}
