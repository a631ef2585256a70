// Who may do what, per request: the token's SMART scopes ∩ the role's policy ∩ the patients the
// caller may see (their own compartment for a resident; for clinicians, the patients they have a
// care relationship with). Implements the FHIR layer's AccessControl port.
//
//   role         interactions                       patients visible
//   admin        all                                all
//   institution  scopes (system/...)                all; writes only to records it is the source of
//   app (system) scopes                             all
//   resident     scopes (patient/ or user/)         own compartment
//   doctor/nurse/pharmacist  scopes (user/)         encounter, appointment, care team, episode of care
//                                                   (family-doctor contract) or task (teleconsult) links
//   regulator    read and search only               none (supervision data is outside patient compartments)
import type { Actor, AccessControl, AccessKind, WriteCheck } from '../fhir/access/access-control.js';
import type { PatientCompartment } from '../fhir/access/compartment.js';
import { Forbidden } from '../fhir/errors.js';
import type { FhirRepository } from '../fhir/repository.js';
import type { Caller } from './guard.js';
import { grantsFor, parseScopes, permissionFor, type ParsedScopes, type ScopeContext } from './scopes.js';

/** Resources that tie a clinician to a patient: (type, parameter pointing at the clinician). */
export const CARE_LINKS = [
  { type: 'Encounter', param: 'participant' },
  { type: 'Encounter', param: 'practitioner' },
  { type: 'Appointment', param: 'actor' },
  { type: 'CareTeam', param: 'participant' },
  { type: 'EpisodeOfCare', param: 'care-manager' },
  { type: 'Task', param: 'owner' },
] as const;

const CLINICIANS = new Set(['doctor', 'nurse', 'pharmacist']);
const UNRESTRICTED = new Set(['admin', 'institution', 'app']);

export interface PolicyDeps {
  repo: FhirRepository;
  compartment: PatientCompartment;
}

export class CallerAccess implements AccessControl {
  readonly actor: Actor;
  private readonly scopes: ParsedScopes;
  private visible?: Promise<readonly string[] | 'all'>;

  constructor(
    private readonly caller: Caller,
    private readonly deps: PolicyDeps,
  ) {
    const { claims } = caller;
    this.scopes = parseScopes(claims.scope);
    this.actor = {
      clientId: claims.client_id,
      user: claims.fhirUser,
      role: claims.role,
      tokenId: claims.jti,
      address: caller.address,
      source: claims.role === 'institution' ? institutionSource(claims.client_id) : undefined,
    };
  }

  check(kind: AccessKind, type: string | undefined): void {
    const role = this.caller.claims.role;
    const permission = permissionFor(kind === 'history-instance' || kind === 'vread' ? 'read' : kind);
    if (role === 'regulator' && permission !== 'r' && permission !== 's') throw new Forbidden('The regulator has read-only access');
    const grants = grantsFor(this.scopes, type ?? '*', permission, this.contexts()).filter((g) => g.constraints.length === 0);
    if (!grants.length) {
      throw new Forbidden(`The access token's scopes (${this.caller.claims.scope}) do not allow ${kind}${type ? ` on ${type}` : ''}`);
    }
  }

  visiblePatients(): Promise<readonly string[] | 'all'> {
    this.visible ??= this.computeVisible();
    return this.visible;
  }

  async checkWrite(kind: 'create' | 'update' | 'patch' | 'delete', write: WriteCheck): Promise<void> {
    const { role } = this.caller.claims;
    if (role === 'regulator') throw new Forbidden('The regulator has read-only access');
    if (role === 'institution' && write.previous) {
      const source = write.previous.meta?.source;
      if (source && source !== this.actor.source) throw new Forbidden(`Only the institution that is the source of ${write.type}/${write.previous.id} may ${kind} it`);
    }
    const visible = await this.visiblePatients();
    if (visible === 'all') return;
    if (!this.deps.compartment.includes(write.type)) {
      if (role === 'resident') throw new Forbidden(`Residents may not ${kind} ${write.type} resources`);
      return;
    }
    const touched = [...(write.previousPatients ?? []), ...(kind === 'delete' ? [] : write.nextPatients ?? [])];
    if (kind !== 'delete' && !(write.nextPatients ?? []).length) {
      throw new Forbidden(`A ${write.type} written by this caller must refer to a patient they may see (subject, patient, ...)`);
    }
    const outside = touched.filter((p) => !visible.includes(p));
    if (outside.length) throw new Forbidden(`The ${write.type} concerns patients outside those this caller may see`);
  }

  /** Which scope contexts count for this caller. */
  private contexts(): ScopeContext[] {
    const { role, patient } = this.caller.claims;
    if (UNRESTRICTED.has(role)) return ['system', 'user'];
    if (role === 'resident' || patient) return ['patient', 'user'];
    return ['user'];
  }

  private async computeVisible(): Promise<readonly string[] | 'all'> {
    const { role, fhirUser, patient } = this.caller.claims;
    if (UNRESTRICTED.has(role) && !patient) return 'all';
    if (role === 'resident' || patient) {
      const own = patient ?? (fhirUser?.startsWith('Patient/') ? fhirUser.slice('Patient/'.length) : undefined);
      return own ? [own] : [];
    }
    if (CLINICIANS.has(role) && fhirUser) {
      const actors = [fhirUser];
      const patientParams = ['subject', 'patient', 'actor', 'for', 'beneficiary'];
      return this.deps.repo.patientsLinkedTo(actors, CARE_LINKS, patientParams);
    }
    return [];
  }
}

/** The meta.source the hub stamps on an institution's writes. */
export function institutionSource(clientId: string): string {
  return `urn:suhe:client:${clientId}`;
}
