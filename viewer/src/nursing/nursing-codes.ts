// The home-nursing codes the pages show or send (docs/HOME-NURSING.md), with their dictionary
// keys, and reading what the hub writes: an order's state from its visit Task, the nurse-position
// extension, the service address, the catalogue price.
import type { MessageKey } from '../i18n/messages.js';
import type { FhirResource } from '../hospital/hospital-api.js';

export const HN = 'https://suhe.example.cn/fhir/CodeSystem/home-nursing';
export const ORDER_CATEGORY = `${HN}|home-nursing`;
/** This one system is http, not https. */
export const INSTITUTION_CATEGORY = 'http://suhe.example.cn/fhir/CodeSystem/institution-category';
export const SERVICE_PRICE = 'https://suhe.example.cn/fhir/StructureDefinition/service-price';
export const SERVICE_ADDRESS = 'https://suhe.example.cn/fhir/StructureDefinition/service-address';
export const NURSE_POSITION = 'https://suhe.example.cn/fhir/StructureDefinition/nurse-position';
export const QUALIFICATION = 'https://suhe.example.cn/fhir/CodeSystem/qualification';
export const ASSESSMENT_QUESTIONNAIRE = 'https://suhe.example.cn/fhir/Questionnaire/home-nursing-assessment';

/** NU-04: the six eligibility codes, in the order the select shows them. */
export const ELIGIBILITY = ['elderly', 'disabled', 'rehabilitation', 'end-stage', 'limited-mobility', 'maternal-infant'] as const;
export const eligibilityKey = (code: string) => `nursingEligibility_${code.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}` as MessageKey;

/** NU-05: catalogue item names (the ActivityDefinition's title is shown when it has one). */
export const CATALOGUE: Record<string, string> = {
  injection: '注射', 'blood-sampling': '采血', 'dressing-change': '换药', 'catheter-care': '导管护理', 'stitch-removal': '拆线', 'stoma-care': '造口护理',
  'chronic-disease-care': '慢病护理', 'maternal-infant-care': '母婴护理', 'hospice-care': '安宁疗护', 'pressure-injury-care': '压疮护理', 'nasogastric-tube-care': '鼻饲管护理',
};
export const itemName = (code: string | undefined) => (code ? CATALOGUE[code] ?? code : '');

/** NU-06: the choice items of the assessment Questionnaire and their answers. */
export const ASSESSMENT_CHOICES: { linkId: string; key: MessageKey; options: { code: string; display: string; key: MessageKey }[] }[] = [
  { linkId: 'mobility', key: 'nursingAssessMobility', options: [
    { code: 'independent', display: '自理', key: 'nursingMobility_independent' },
    { code: 'assisted', display: '需协助', key: 'nursingMobility_assisted' },
    { code: 'bedridden', display: '卧床', key: 'nursingMobility_bedridden' },
  ] },
  { linkId: 'cognition', key: 'nursingAssessCognition', options: [
    { code: 'normal', display: '正常', key: 'nursingCognition_normal' },
    { code: 'mild', display: '轻度障碍', key: 'nursingCognition_mild' },
    { code: 'severe', display: '重度障碍', key: 'nursingCognition_severe' },
  ] },
  { linkId: 'home-safety', key: 'nursingAssessHomeSafety', options: [
    { code: 'safe', display: '安全', key: 'nursingSafety_safe' },
    { code: 'hazards', display: '有隐患', key: 'nursingSafety_hazards' },
    { code: 'unsafe', display: '不安全', key: 'nursingSafety_unsafe' },
  ] },
  { linkId: 'fall-risk', key: 'nursingAssessFallRisk', options: [
    { code: 'low', display: '低', key: 'nursingRisk_low' },
    { code: 'medium', display: '中', key: 'nursingRisk_medium' },
    { code: 'high', display: '高', key: 'nursingRisk_high' },
  ] },
];

type Coded = { coding?: { system?: string; code?: string; display?: string }[]; text?: string };
type Ref = { reference?: string; display?: string };
type Extension = { url: string; extension?: Extension[]; valueCode?: string; valueDateTime?: string; valueDecimal?: number; valueAddress?: { text?: string; line?: string[] }; valueMoney?: { value?: number } };

export type Order = FhirResource & {
  status?: string; authoredOn?: string; subject?: Ref; performer?: Ref[]; orderDetail?: Coded[]; reasonCode?: Coded[];
  occurrenceDateTime?: string; note?: { text?: string }[]; extension?: Extension[]; meta?: { lastUpdated?: string };
};
export type Task = FhirResource & {
  status?: string; code?: Coded; owner?: Ref; for?: Ref; basedOn?: Ref[]; focus?: Ref; statusReason?: Coded; businessStatus?: Coded;
  executionPeriod?: { start?: string; end?: string }; extension?: Extension[]; output?: { type?: Coded; valueString?: string }[]; meta?: { lastUpdated?: string };
};

export const codeOf = (concept: Coded | undefined, system = HN) => concept?.coding?.find((c) => c.system === system)?.code;
export const taskKind = (task: Task) => codeOf(task.code);
export const itemsOf = (order: Order) => (order.orderDetail ?? []).map((d) => codeOf(d)).filter((c): c is string => !!c);
export const addressOf = (order: Order) => {
  const address = order.extension?.find((e) => e.url === SERVICE_ADDRESS)?.valueAddress;
  return address?.text ?? (address?.line ?? []).join(' ');
};
export const priceOf = (resource: { extension?: Extension[] }) => resource.extension?.find((e) => e.url === SERVICE_PRICE)?.valueMoney?.value;

/** Each nurse-position event recorded on a visit Task: event, time, latitude, longitude. */
export function positionsOf(task: Task): { event?: string; time?: string; latitude?: number; longitude?: number }[] {
  return (task.extension ?? []).filter((e) => e.url === NURSE_POSITION).map((e) => {
    const part = (name: string) => e.extension?.find((p) => p.url === name);
    return { event: part('event')?.valueCode, time: part('time')?.valueDateTime, latitude: part('latitude')?.valueDecimal, longitude: part('longitude')?.valueDecimal };
  });
}
export const eventTime = (task: Task, event: string) => positionsOf(task).find((p) => p.event === event)?.time;

/** The state a resident sees: on-hold, assessed, dispatched, arrived, completed, revoked. */
export type OrderState = 'on-hold' | 'assessed' | 'dispatched' | 'arrived' | 'completed' | 'revoked';
export function orderState(order: Order, visit: Task | undefined): OrderState {
  if (order.status === 'on-hold') return 'on-hold';
  if (order.status === 'revoked') return 'revoked';
  if (order.status === 'completed') return 'completed';
  if (visit?.status === 'accepted') return 'dispatched';
  if (visit?.status === 'in-progress') return 'arrived';
  if (visit?.status === 'completed') return 'completed';
  return 'assessed';
}
export const stateKey = (state: OrderState) => `nursingState_${state.replace('-', '')}` as MessageKey;

/** The latest of a list of resources by meta.lastUpdated. */
export function latest<T extends { meta?: { lastUpdated?: string } }>(list: T[]): T | undefined {
  return [...list].sort((a, b) => (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? ''))[0];
}

/** A datetime-local value ("2030-01-02T09:00") as an ISO instant in this browser's zone; undefined when empty. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
