// What plain REST writes may not do to teleconsultation records:
// - a consult ServiceRequest or Task, and a filed opinion (DiagnosticReport or DocumentReference
//   with category consult-opinion), change only through the operations ($invite-consult, $accept-consult,
//   $decline-consult, $cancel-consult, $file-opinion), which check TM-03..TM-07 and keep the
//   Task's owner — and with it who may read the patient's record — as the rules say;
// - a cooperation agreement (Contract of type cooperation-agreement, TM-03) is recorded, changed
//   or removed by an administrator only, and must name the institutions and its validity.
import type { DiagnosticReport, DocumentReference, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { Forbidden, Invalid } from '../../fhir/errors.js';
import type { WriteRule } from '../../fhir/module-operations.js';
import { agreementProblems, isAgreement } from './agreement.js';
import { hasCoding, isConsultCode, OPINION_CATEGORY } from './codes.js';

/** In-process writers (demo loaders, imports) act with full access under this client id. */
const INTERNAL_CLIENT = 'suhe-internal';

function isConsultRecord(resource: Resource | undefined): boolean {
  if (!resource) return false;
  if (resource.resourceType === 'ServiceRequest') return isConsultCode((resource as ServiceRequest).code?.coding);
  if (resource.resourceType === 'Task') return isConsultCode((resource as Task).code?.coding);
  if (resource.resourceType === 'DiagnosticReport') return ((resource as DiagnosticReport).category ?? []).some((c) => hasCoding(c.coding, OPINION_CATEGORY));
  if (resource.resourceType === 'DocumentReference') return ((resource as DocumentReference).category ?? []).some((c) => hasCoding(c.coding, OPINION_CATEGORY));
  return false;
}

export const teleconsultWriteRule: WriteRule = (kind, { type, previous, next, actor }) => {
  if (isConsultRecord(previous) || isConsultRecord(next)) {
    throw new Forbidden(
      `Teleconsultations change only through their operations (ServiceRequest/$invite-consult, Task/{id}/$accept-consult, $decline-consult, $cancel-consult, $file-opinion), which apply TM-03..TM-07; this ${kind} of a ${type} was refused`,
    );
  }
  if (!isAgreement(previous) && !isAgreement(next)) return;
  const internal = actor?.clientId === INTERNAL_CLIENT && !actor.role;
  if (actor?.role !== 'admin' && !internal) throw new Forbidden('TM-03: cooperation agreements between institutions are recorded by an administrator');
  if (next && isAgreement(next)) {
    const issues = agreementProblems(next);
    if (issues.length) throw new Invalid(issues.map((i) => i.diagnostics).join('; '), undefined, issues);
  }
};
