// Who may do what, per request: the token's SMART scopes ∩ the role's policy ∩ the patients the
// caller may see (their own compartment for a resident; for clinicians, the patients they have a
// care relationship with). Implements the FHIR layer's AccessControl port.
//
//   role         interactions                       patients visible
//   admin        all                                all
//   institution  scopes (system/...)                all; writes only to records it is the source of
//   app (system) scopes                             all
//   resident     scopes (patient/ or user/)         own compartment, and their children under 14 (PI-03)
//   doctor/nurse/pharmacist  scopes (user/)         encounter, appointment, care team, episode of care
//                                                   (family-doctor contract) or open task links (a Task
//                                                   they own; an accepted teleconsultation), plus
//                                                   Consent permits, minus Consent denies (PI-02);
//                                                   all when breaking the glass (doctor, nurse; audited)
//   regulator    read and search only               none (supervision data is outside patient compartments)
//   (institutions and apps: minus patients whose Consent denies their Organization)
import type { PractitionerRole } from '@medplum/fhirtypes';
import { PATIENTLESS_TYPES, type Actor, type AccessControl, type AccessKind, type Visibility, type WriteCheck } from '../fhir/access/access-control.js';
import type { PatientCompartment } from '../fhir/access/compartment.js';
import { Forbidden } from '../fhir/errors.js';
import type { FhirRepository, PatientLink } from '../fhir/repository.js';
import { parseSearchRequest } from '../fhir/search/parse.js';
import { consentDecisions, PURPOSE } from './consent.js';
import { wardsOf } from './guardianship.js';
import type { Caller } from './guard.js';
import { grantsFor, parseScopes, permissionFor, type ParsedScopes, type ScopeContext } from './scopes.js';

/** Task statuses after which a Task no longer ties its owner to the patient. */
export const CLOSED_TASK_STATUSES = ['completed', 'cancelled', 'rejected', 'failed', 'entered-in-error'] as const;

/**
 * Resources that tie a clinician to a patient: (type, parameter pointing at the clinician). A Task
 * counts while it is open and only for the person who owns it (a Practitioner or their
 * PractitionerRole): a Task queued to an institution (a teleconsultation invitation not yet
 * accepted) opens the patient to none of its staff, and a closed one (opinion filed, cancelled,
 * declined) to nobody any more.
 */
export const CARE_LINKS: readonly PatientLink[] = [
  { type: 'Encounter', param: 'participant' },
  { type: 'Encounter', param: 'practitioner' },
  { type: 'Appointment', param: 'actor' },
  // A care team stops opening the record once it is inactive (a hospice team after bereavement, say).
  { type: 'CareTeam', param: 'participant', closedStatuses: ['inactive', 'entered-in-error'] },
  { type: 'EpisodeOfCare', param: 'care-manager' },
  { type: 'Task', param: 'owner', actorTypes: ['Practitioner', 'PractitionerRole'], closedStatuses: CLOSED_TASK_STATUSES },
];

/** A care relationship a module derives (an accepted teleconsultation), with the purpose its accesses are audited under. */
export interface DerivedRelationship {
  patient: string;
  purpose: { code: string; reason: string };
}

const CLINICIANS = new Set(['doctor', 'nurse', 'pharmacist']);
const PRESCRIPTION_TYPES: ReadonlySet<string> = new Set(['MedicationRequest', 'MedicationDispense', 'MedicationAdministration', 'MedicationStatement']);
/** Parameters by which the resources in CARE_LINKS name their patient. */
const PATIENT_PARAMS = ['subject', 'patient', 'actor', 'for', 'beneficiary'];
const UNRESTRICTED = new Set(['admin', 'institution', 'app']);

export interface PolicyDeps {
  repo: FhirRepository;
  compartment: PatientCompartment;
  /** The verified identity document an account is bound to (residents). */
  identityOf: (userId: string) => Promise<{ system: string; value: string } | undefined>;
  /**
   * The master patient index: these Patients with every other record of the same people
   * (golden record and the records of other sources). Whoever may see a person's record at one
   * institution may see the person's longitudinal record.
   */
  samePerson?: (patientIds: readonly string[]) => Promise<string[]>;
  /**
   * Care relationships that modules derive for a clinician (`actors`: they, their roles and
   * institutions) — the hospital's accepted teleconsultations — beyond CARE_LINKS. Their patients
   * are visible, and accesses to them are audited with the relationship's purpose.
   */
  relationships?: (actors: string[]) => Promise<DerivedRelationship[]>;
}

export class CallerAccess implements AccessControl {
  readonly actor: Actor;
  private readonly scopes: ParsedScopes;
  private visible?: Promise<Visibility>;

  constructor(
    private readonly caller: Caller,
    private readonly deps: PolicyDeps,
  ) {
    const { claims } = caller;
    this.scopes = parseScopes(claims.scope);
    this.actor = {
      clientId: claims.client_id,
      user: claims.fhirUser,
      account: claims.fhirUser ? claims.sub : undefined,
      role: claims.role,
      tokenId: claims.jti,
      address: caller.address,
      organization: claims.organization,
      source: claims.role === 'institution' ? institutionSource(claims.client_id) : undefined,
      purpose: caller.purpose,
    };
  }

  check(kind: AccessKind, type: string | undefined): void {
    const role = this.caller.claims.role;
    const permission = permissionFor(kind === 'history-instance' || kind === 'vread' ? 'read' : kind);
    if (role === 'regulator' && permission !== 'r' && permission !== 's') throw new Forbidden('The regulator has read-only access');
    // IH-06: no prescription statistics for commerce. A third-party system acting for no person
    // and no patient (an app's client_credentials token) gets no prescriptions or dispenses at all
    // — not one, not a search, not an export; institutions keep their own patients' records.
    if (role === 'app' && !this.caller.claims.fhirUser && !this.caller.claims.patient && type && PRESCRIPTION_TYPES.has(type)) {
      throw new Forbidden(`IH-06: prescriptions are not available to third-party systems (no prescription statistics); ${type} is refused to this client`);
    }
    const grants = grantsFor(this.scopes, type ?? '*', permission, this.contexts()).filter((g) => g.constraints.length === 0);
    if (!grants.length) {
      throw new Forbidden(`The access token's scopes (${this.caller.claims.scope}) do not allow ${kind}${type ? ` on ${type}` : ''}`);
    }
  }

  visiblePatients(): Promise<Visibility> {
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
    // A source writes its own records even about patients who keep theirs from it (Consent deny).
    if (!Array.isArray(visible)) return;
    if (!this.deps.compartment.includes(write.type)) {
      if (role === 'resident') throw new Forbidden(`Residents may not ${kind} ${write.type} resources`);
      return;
    }
    const touched = [...(write.previousPatients ?? []), ...(kind === 'delete' ? [] : write.nextPatients ?? [])];
    // A doctor's own calendar names no patient (Schedule is in the compartment only through an
    // actor that may be a Patient); clinicians keep theirs, residents have none to keep.
    if (!touched.length && PATIENTLESS_TYPES.has(write.type) && role !== 'resident') return;
    if (kind !== 'delete' && !(write.nextPatients ?? []).length) {
      throw new Forbidden(`A ${write.type} written by this caller must refer to a patient they may see (subject, patient, ...)`);
    }
    const outside = touched.filter((p) => !visible.includes(p));
    if (outside.length) throw new Forbidden(`The ${write.type} concerns patients outside those this caller may see`);
  }

  async actingAs(): Promise<string[]> {
    const { role, fhirUser, organization } = this.caller.claims;
    const own = [fhirUser, organization].filter((r): r is string => !!r);
    return CLINICIANS.has(role) && fhirUser ? [...new Set([...(await this.clinicianActors(fhirUser)), ...own])] : own;
  }

  private async samePerson(ids: string[]): Promise<string[]> {
    return this.deps.samePerson && ids.length ? this.deps.samePerson(ids) : ids;
  }

  /** Which scope contexts count for this caller. */
  private contexts(): ScopeContext[] {
    const { role, patient } = this.caller.claims;
    if (UNRESTRICTED.has(role)) return ['system', 'user'];
    if (role === 'resident' || patient) return ['patient', 'user'];
    return ['user'];
  }

  private async computeVisible(): Promise<Visibility> {
    const { role, fhirUser, patient, organization } = this.caller.claims;
    if (role === 'admin' && !patient) return 'all';
    if (UNRESTRICTED.has(role) && !patient) {
      // PI-02: an institution or app sees all, except patients whose Consent denies its Organization.
      const { deny } = await consentDecisions(this.deps.repo, organization ? [organization] : [], PURPOSE.treatment);
      return deny.size ? { allExcept: await this.samePerson([...deny]) } : 'all';
    }
    if (role === 'resident' || patient) {
      const own = patient ?? (fhirUser?.startsWith('Patient/') ? fhirUser.slice('Patient/'.length) : undefined);
      // PI-03: and the children under 14 they are parent or guardian of.
      const identity = role === 'resident' ? await this.deps.identityOf(this.caller.claims.sub) : undefined;
      const wards = identity ? await wardsOf(this.deps.repo, identity) : [];
      return this.samePerson([...new Set([...(own ? [own] : []), ...wards])]);
    }
    if (CLINICIANS.has(role) && fhirUser) {
      if (this.caller.purpose?.code === PURPOSE.breakTheGlass) return 'all'; // emergency: audited with its reason
      const actors = await this.clinicianActors(fhirUser);
      const related = await this.deps.repo.patientsLinkedTo(actors, CARE_LINKS, PATIENT_PARAMS);
      const derived = (await this.deps.relationships?.(actors)) ?? [];
      const { permit, deny } = await consentDecisions(this.deps.repo, actors, PURPOSE.treatment);
      // A Consent that denies names one record; the person's other records are denied with it.
      const denied = new Set(await this.samePerson([...deny]));
      if (derived.length) this.actor.purposeByPatient = await this.purposesOf(derived);
      return (await this.samePerson([...new Set([...related, ...permit, ...derived.map((d) => d.patient)])])).filter((p) => !denied.has(p));
    }
    return [];
  }

  /** The purpose of each derived relationship, for every record of its patient (audited per patient). */
  private async purposesOf(derived: DerivedRelationship[]): Promise<Record<string, { code: string; reason: string }>> {
    const purposes: Record<string, { code: string; reason: string }> = {};
    for (const { patient, purpose } of derived) for (const id of await this.samePerson([patient])) purposes[id] ??= purpose;
    return purposes;
  }

  /** The clinician, their roles and the institutions they work for: whom a care link or a Consent may name. */
  private async clinicianActors(fhirUser: string): Promise<string[]> {
    const request = parseSearchRequest('PractitionerRole', [['practitioner', fhirUser]], this.deps.repo.registry, { defaultCount: 100, maxCount: 100, defaultTotal: 'none' });
    const roles = (await this.deps.repo.search(request)).resources as PractitionerRole[];
    const organizations = roles.map((r) => r.organization?.reference).filter((ref): ref is string => !!ref);
    return [...new Set([fhirUser, ...roles.map((r) => `PractitionerRole/${r.id}`), ...organizations])];
  }
}

/** The meta.source the hub stamps on an institution's writes. */
export function institutionSource(clientId: string): string {
  return `urn:suhe:client:${clientId}`;
}
