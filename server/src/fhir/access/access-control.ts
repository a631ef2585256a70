// The port through which the FHIR layer asks "may this caller do this?". The FHIR layer knows
// interactions, resources and compartments; who the caller is, what their token allows and which
// patients they care for is decided above it (server/src/auth/), which implements this interface
// per request. In-process callers (import, demo loader) use FULL_ACCESS.
import type { Resource } from '@medplum/fhirtypes';

export type AccessKind =
  | 'read'
  | 'vread'
  | 'history-instance'
  | 'search-type'
  | 'history-type'
  | 'search-system'
  | 'history-system'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'operation';

/** Who is acting, as the audit trail records it (never a token or a secret). */
export interface Actor {
  clientId?: string;
  /** e.g. Practitioner/12 or Patient/7 */
  user?: string;
  /** The signed-in user account's id (a token's `sub`), for rules on the account itself (IH-08). */
  account?: string;
  role?: string;
  tokenId?: string;
  address?: string;
  /** The Organization the caller acts for (institution clients, clinicians' employer), e.g. Organization/3. */
  organization?: string;
  /** Set for institution systems: stamped as meta.source on what they write. */
  source?: string;
  /** Break-the-glass or another declared purpose, with the reason given. */
  purpose?: { code: string; reason?: string };
  /**
   * The purpose of accesses to particular patients (by id), when the caller sees them through a
   * relationship with its own purpose (a teleconsultation); `purpose`, when declared, wins.
   */
  purposeByPatient?: Record<string, { code: string; reason?: string }>;
}

export interface AccessControl {
  readonly actor: Actor;
  /** Throws Forbidden when the caller may not do `kind` on `type` at all (scopes, role). */
  check(kind: AccessKind, type: string | undefined): void;
  /**
   * The patients whose compartments the caller may read: all, only some, or all except some
   * (e.g. those whose Consent denies this caller). Resources outside the Patient compartment
   * (Organization, Practitioner, ...) are governed by check() alone.
   */
  visiblePatients(): Promise<Visibility>;
  /**
   * Throws Forbidden when the caller may not store `next` (create/update/patch) or remove
   * `previous` (update/patch/delete). `patients` are the compartments each touches.
   */
  checkWrite(kind: 'create' | 'update' | 'patch' | 'delete', write: WriteCheck): Promise<void>;
  /**
   * Everyone the caller acts as: their own reference, their PractitionerRoles and the
   * Organizations they work for — whom a share or a Consent may name.
   */
  actingAs?(): Promise<string[]>;
}

export type Visibility = 'all' | readonly string[] | { allExcept: readonly string[] };

/** Whether a resource in these patients' compartments is visible. */
/**
 * Patient-compartment types whose resources may name no patient at all — a doctor's Schedule is
 * in the compartment only through an actor that could be a Patient, an agreement between two
 * institutions is a Contract without a subject (compartment.ts). Such a resource is nobody's
 * patient data: whoever may read the type sees it, and clinicians may write it.
 */
export const PATIENTLESS_TYPES: ReadonlySet<string> = new Set(['Schedule', 'Contract']);

export function canSee(visible: Visibility, patients: readonly string[]): boolean {
  if (visible === 'all') return true;
  if (Array.isArray(visible)) return patients.some((p) => visible.includes(p));
  const { allExcept } = visible as { allExcept: readonly string[] };
  return !patients.some((p) => allExcept.includes(p));
}

export interface WriteCheck {
  type: string;
  next?: Resource;
  nextPatients?: string[];
  previous?: Resource;
  previousPatients?: string[];
}

export const FULL_ACCESS: AccessControl = {
  actor: { clientId: 'suhe-internal' },
  check: () => undefined,
  visiblePatients: async () => 'all',
  checkWrite: async () => undefined,
};
