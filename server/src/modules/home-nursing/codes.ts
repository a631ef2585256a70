// How home nursing ordered online ("Internet + nursing", DOMAIN.md NU-02..NU-08) is written in
// FHIR. One place for the codes, so the operations, the write rule and the tests agree.
import type { CodeableConcept, Coding, Resource } from '@medplum/fhirtypes';

/** Catalogue codes (NU-05), Task codes (assessment, visit, complaint), the alarm Flag and the ServiceRequest category. */
export const HN = 'https://suhe.example.cn/fhir/CodeSystem/home-nursing';
export const ORDER_CATEGORY: Coding = { system: HN, code: 'home-nursing', display: '互联网+护理服务' };
export const ASSESSMENT_TASK = 'assessment';
export const VISIT_TASK = 'visit';
export const COMPLAINT_TASK = 'complaint';
export const NURSE_ALARM = 'nurse-alarm';
export const RATING_CODE = 'service-rating';
/** meta.tag on every resource of an order's chain: they change only through the operations. */
export const CHAIN_TAG: Coding = { system: HN, code: 'order-chain' };

/** NU-05: the low-risk service items a catalogue ActivityDefinition may be coded with. */
export const CATALOGUE_CODES: Record<string, string> = {
  injection: '注射',
  'blood-sampling': '采血',
  'dressing-change': '换药',
  'catheter-care': '导管护理',
  'stitch-removal': '拆线',
  'stoma-care': '造口护理',
  'chronic-disease-care': '慢病护理',
  'maternal-infant-care': '母婴护理',
  'hospice-care': '安宁疗护',
  'pressure-injury-care': '压疮护理',
  'nasogastric-tube-care': '鼻饲管护理',
};

/** NU-04: who may order home nursing (ServiceRequest.reasonCode). */
export const ELIGIBILITY_CODES: Record<string, string> = {
  elderly: '高龄老人',
  disabled: '失能',
  rehabilitation: '康复期',
  'end-stage': '终末期',
  'limited-mobility': '行动不便',
  'maternal-infant': '母婴',
};

export const PRICE_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/service-price';
/** ServiceRequest extension: where the nurse goes (valueAddress). */
export const SERVICE_ADDRESS_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/service-address';
/** Task extension, one per event: parts `event` (valueCode check-in | check-out | alarm), `time` (valueDateTime), `latitude`, `longitude` (valueDecimal). */
export const NURSE_POSITION_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/nurse-position';
/** Flag extension: the order (valueReference ServiceRequest) and the visit Task the alarm was raised in. */
export const ALARM_ORDER_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/home-nursing-order';
export const ALARM_TASK_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/home-nursing-visit';
/** Flag extension: how the duty desk resolved the alarm (valueString). */
export const ALARM_RESOLUTION_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/alarm-resolution';

/** NU-02 */
export const INSTITUTION_CATEGORY = 'http://suhe.example.cn/fhir/CodeSystem/institution-category';
export const PROVIDER_CATEGORIES = ['district-hospital', 'city-hospital', 'community-health-centre'];
export const INSTITUTION_LICENCE = 'https://suhe.example.cn/fhir/sid/medical-institution-licence';

/** The hub's assessment Questionnaire (NU-06) and the items every assessment answers. */
export const ASSESSMENT_QUESTIONNAIRE = 'https://suhe.example.cn/fhir/Questionnaire/home-nursing-assessment';
export const ASSESSMENT_ITEMS: { linkId: string; text: string; type: 'choice' | 'boolean' | 'text' }[] = [
  { linkId: 'mobility', text: '活动能力', type: 'choice' },
  { linkId: 'cognition', text: '认知状况', type: 'choice' },
  { linkId: 'home-safety', text: '居家环境安全', type: 'choice' },
  { linkId: 'fall-risk', text: '跌倒风险', type: 'choice' },
  { linkId: 'caregiver-present', text: '服务时有照护者在场', type: 'boolean' },
  { linkId: 'conclusion', text: '评估结论', type: 'text' },
];

export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const FLAG_CATEGORY = 'http://terminology.hl7.org/CodeSystem/flag-category';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';

export const hnConcept = (code: string, display?: string): CodeableConcept => ({ coding: [{ system: HN, code, ...(display ? { display } : {}) }] });

export function hasCoding(concept: CodeableConcept | undefined, system: string, code: string): boolean {
  return (concept?.coding ?? []).some((c) => c.system === system && c.code === code);
}

export function isChainResource(r: Resource | undefined): boolean {
  return !!r?.meta?.tag?.some((t) => t.system === CHAIN_TAG.system && t.code === CHAIN_TAG.code);
}

export function isCatalogueItem(r: Resource | undefined): boolean {
  return r?.resourceType === 'ActivityDefinition' && !!r.code?.coding?.some((c) => c.system === HN);
}

/** The catalogue code of an ActivityDefinition (undefined when it is not a home-nursing item). */
export function catalogueCodeOf(r: { code?: CodeableConcept }): string | undefined {
  return r.code?.coding?.find((c) => c.system === HN && c.code && c.code in CATALOGUE_CODES)?.code;
}

/** Adds the chain tag to a resource about to be written. */
export function tagged<T extends Resource>(resource: T): T {
  const tags = (resource.meta?.tag ?? []).filter((t) => !(t.system === CHAIN_TAG.system && t.code === CHAIN_TAG.code));
  return { ...resource, meta: { ...resource.meta, tag: [...tags, CHAIN_TAG] } };
}

export const taskKindOf = (task: { code?: CodeableConcept }): string | undefined => task.code?.coding?.find((c) => c.system === HN)?.code;
