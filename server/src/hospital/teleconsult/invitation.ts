// TM-05: what an invitation states, read from the ServiceRequest the inviting doctor sends. Each
// item is a standard element where R4 has one:
//   reason          reasonCode or reasonReference
//   purpose         orderDetail coded in …/consult-purpose (diagnosis, treatment-plan, …)
//   time            occurrenceDateTime or occurrencePeriod (when the consult should take place)
//   record summary  note (the summary's text) or supportingInfo naming records (not the Consent)
//   specialty       performerType (the kind of specialist wanted)
//   title           orderDetail coded in …/professional-title (主任医师 … 住院医师)
// plus the patient (subject), the invited institution (performer: one Organization) and the
// patient's consent (supportingInfo → Consent, TM-04). Every missing or malformed item is named
// in one 400, so the doctor fixes them all at once.
import type { CodeableConcept, OperationOutcomeIssue, Reference, ServiceRequest } from '@medplum/fhirtypes';
import { Invalid } from '../../fhir/errors.js';
import { CONSULT_CODE, isConsultCode, PURPOSE_SYSTEM, PURPOSES, TITLE_SYSTEM, TITLES } from './codes.js';

const ID = '[A-Za-z0-9\\-.]{1,64}';
const REF = (type: string) => new RegExp(`^${type}/(${ID})$`);

export interface Invitation {
  request: ServiceRequest;
  patient: string;
  /** Organization/{id} */
  invited: string;
  consentIds: string[];
  /** The requester as sent: Practitioner/{id} or PractitionerRole/{id}, if any. */
  requester?: string;
}

/** The ServiceRequest of an $invite-consult call: the body itself, or Parameters.parameter[name=request]. */
export function requestOf(body: unknown): ServiceRequest {
  let resource = body as { resourceType?: string; parameter?: { name?: string; resource?: unknown }[] } | undefined;
  if (resource?.resourceType === 'Parameters') resource = resource.parameter?.find((p) => p.name === 'request')?.resource as typeof resource;
  if (!resource || typeof resource !== 'object' || Array.isArray(resource) || resource.resourceType !== 'ServiceRequest') {
    throw new Invalid('$invite-consult takes a ServiceRequest (the body, or Parameters with parameter "request")', ['ServiceRequest']);
  }
  return resource as ServiceRequest;
}

/** The invitation's parts when it states everything TM-05 asks; Invalid naming each item missing. */
export function checkInvitation(request: ServiceRequest): Invitation {
  const issues: OperationOutcomeIssue[] = [];
  const missing = (item: string, how: string, expression: string) =>
    issues.push({ severity: 'error', code: 'required', diagnostics: `TM-05: the invitation must state the ${item}: ${how}`, expression: [expression] });
  const bad = (diagnostics: string, expression: string) => issues.push({ severity: 'error', code: 'value', diagnostics, expression: [expression] });

  const patient = REF('Patient').exec(request.subject?.reference ?? '')?.[1];
  if (!patient) bad('subject must be the patient (Patient/<id>)', 'ServiceRequest.subject');
  const performers = (request.performer ?? []).map((p) => p.reference ?? '');
  const invited = performers.length === 1 && REF('Organization').test(performers[0]) ? performers[0] : undefined;
  if (!invited) bad('performer must be the one invited institution (a single Organization/<id>)', 'ServiceRequest.performer');
  if (request.code && !isConsultCode(request.code.coding)) bad(`code, when given, must be ${CONSULT_CODE.system}|${CONSULT_CODE.code}`, 'ServiceRequest.code');
  const requester = request.requester?.reference;
  if (requester !== undefined && !REF('Practitioner').test(requester) && !REF('PractitionerRole').test(requester)) {
    bad('requester, when given, must be the inviting doctor (Practitioner/<id>) or their role at the inviting institution (PractitionerRole/<id>)', 'ServiceRequest.requester');
  }

  if (!hasConcept(request.reasonCode) && !(request.reasonReference ?? []).some((r) => r.reference)) {
    missing('reason', 'reasonCode or reasonReference (e.g. the Condition)', 'ServiceRequest.reasonCode');
  }
  const purposes = codesIn(request.orderDetail, PURPOSE_SYSTEM);
  if (!purposes.length) missing('purpose', `orderDetail coded in ${PURPOSE_SYSTEM} (${PURPOSES.join(', ')})`, 'ServiceRequest.orderDetail');
  for (const code of purposes) if (!(PURPOSES as readonly string[]).includes(code)) bad(`TM-05: purpose '${code}' is not one of ${PURPOSES.join(', ')}`, 'ServiceRequest.orderDetail');
  const time = request.occurrenceDateTime ?? request.occurrencePeriod?.start ?? request.occurrencePeriod?.end;
  if (!time) missing('time', 'occurrenceDateTime or occurrencePeriod (when the consult should take place)', 'ServiceRequest.occurrence[x]');
  const consentIds = referencesTo(request.supportingInfo, 'Consent');
  const records = (request.supportingInfo ?? []).filter((r) => r.reference && !REF('Consent').test(r.reference));
  if (!(request.note ?? []).some((n) => n.text?.trim()) && !records.length) {
    missing('record summary', "note (the summary of the patient's record) or supportingInfo naming the records", 'ServiceRequest.note');
  }
  if (!hasConcept(request.performerType ? [request.performerType] : [])) missing('specialty', 'performerType (the specialty wanted, coded or as text)', 'ServiceRequest.performerType');
  const titles = codesIn(request.orderDetail, TITLE_SYSTEM);
  if (!titles.length) missing('professional title', `orderDetail coded in ${TITLE_SYSTEM} (${TITLES.join(', ')})`, 'ServiceRequest.orderDetail');
  for (const code of titles) if (!(TITLES as readonly string[]).includes(code)) bad(`TM-05: professional title '${code}' is not one of ${TITLES.join(', ')}`, 'ServiceRequest.orderDetail');

  if (issues.length) throw new Invalid(issues.map((i) => i.diagnostics).join('; '), undefined, issues);
  return { request, patient: patient!, invited: invited!, consentIds, requester };
}

function hasConcept(concepts: CodeableConcept[] | undefined): boolean {
  return (concepts ?? []).some((c) => c.text?.trim() || c.coding?.some((x) => x.code));
}

function codesIn(concepts: CodeableConcept[] | undefined, system: string): string[] {
  return (concepts ?? []).flatMap((c) => c.coding ?? []).filter((c) => c.system === system && c.code).map((c) => c.code!);
}

function referencesTo(references: Reference[] | undefined, type: string): string[] {
  return (references ?? []).map((r) => REF(type).exec(r.reference ?? '')?.[1]).filter((id): id is string => !!id);
}
