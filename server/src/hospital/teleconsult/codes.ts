// The codes and extension URLs of teleconsultation (TM-03..TM-07), in one place: how a consult
// ServiceRequest and its Task, a cooperation agreement (Contract), the patient's consent and the
// filed opinion are recognised, and the states a consult Task moves through.
import type { Coding, Task } from '@medplum/fhirtypes';

/** The hub's teleconsultation code system: what is a consult, an agreement, an opinion, an overdue response. */
export const TELECONSULT_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/teleconsult';
export const CONSULT_CODE: Coding = { system: TELECONSULT_SYSTEM, code: 'teleconsultation', display: '远程会诊 Teleconsultation' };
/** Contract.type of a cooperation agreement between two institutions (TM-03). */
export const AGREEMENT_TYPE: Coding = { system: TELECONSULT_SYSTEM, code: 'cooperation-agreement', display: '远程医疗合作协议 Telemedicine cooperation agreement' };
/** DiagnosticReport.category and DocumentReference.category of a consult opinion (TM-07). */
export const OPINION_CATEGORY: Coding = { system: TELECONSULT_SYSTEM, code: 'consult-opinion', display: '会诊意见 Consult opinion' };
/** Task.businessStatus shown (computed, never stored) while the response is past its deadline (TM-06). */
export const OVERDUE_STATUS: Coding = { system: TELECONSULT_SYSTEM, code: 'response-overdue', display: '应答超时 Response overdue' };
/** LOINC Consult note: DiagnosticReport.code of the opinion. */
export const CONSULT_NOTE: Coding = { system: 'http://loinc.org', code: '11488-4', display: 'Consult note' };

/** ServiceRequest.orderDetail: the consult's purpose (TM-05). */
export const PURPOSE_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/consult-purpose';
export const PURPOSES = ['diagnosis', 'treatment-plan', 'second-opinion', 'surgery-assessment', 'rehabilitation', 'other'] as const;
/** ServiceRequest.orderDetail: the professional title wanted (TM-05), the 职称 ranks of physicians. */
export const TITLE_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/professional-title';
export const TITLES = ['chief-physician', 'associate-chief-physician', 'attending-physician', 'resident-physician'] as const;

/** Task extensions: when the response is due (set at invitation) and when it came (accept/decline). */
export const RESPONSE_DUE_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/consult-response-due';
export const RESPONDED_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/consult-responded';

export const CONSENT_SCOPE_TREATMENT = { system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' };
export const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/** Consult Task states: waiting for the invited institution, under way with a consultant, over. */
export const AWAITING_RESPONSE: Task['status'][] = ['requested', 'received'];
export const UNDER_WAY: Task['status'][] = ['accepted', 'in-progress', 'on-hold'];

export const isConsultCode = (codings: Coding[] | undefined): boolean => !!codings?.some((c) => c.system === CONSULT_CODE.system && c.code === CONSULT_CODE.code);
export const hasCoding = (codings: Coding[] | undefined, wanted: Coding): boolean => !!codings?.some((c) => c.system === wanted.system && c.code === wanted.code);
