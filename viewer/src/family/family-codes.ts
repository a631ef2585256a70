// The family-doctor codes the pages show or send, with their dictionary keys, and reading the
// hub's $panel / $worklist answers (Parameters with repeated `member` / `item` parts).
import type { MessageKey } from '../i18n/messages.js';

export const FD_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/family-doctor';
/** This one system is http, not https. */
export const INSTITUTION_CATEGORY = 'http://suhe.example.cn/fhir/CodeSystem/institution-category';
export const PACKAGE_PRICE = 'https://suhe.example.cn/fhir/StructureDefinition/package-price';
export const ONE_PLUS_ONE_PLUS_ONE = 'https://suhe.example.cn/fhir/StructureDefinition/one-plus-one-plus-one';
/** The resident ID number (居民身份证号). */
export const RESIDENT_ID = 'urn:oid:2.16.156.10011.1.3';

export const GROUPS: Record<string, MessageKey> = {
  'elderly-65': 'familyGroup_elderly65',
  pregnant: 'familyGroup_pregnant',
  child: 'familyGroup_child',
  disabled: 'familyGroup_disabled',
  hypertension: 'familyGroup_hypertension',
  diabetes: 'familyGroup_diabetes',
  tuberculosis: 'familyGroup_tuberculosis',
  'severe-mental-disorder': 'familyGroup_severeMental',
};

export const KINDS: Record<string, MessageKey> = {
  'hypertension-follow-up': 'familyKind_hypertension',
  'diabetes-follow-up': 'familyKind_diabetes',
  'fasting-glucose': 'familyKind_glucose',
  'health-check': 'familyKind_healthCheck',
  'referral-follow-up': 'familyKind_referral',
};

/** What $record-follow-up records (a fasting-glucose item is cleared by any of them with a glucose value). */
export const RECORDABLE_KINDS = ['hypertension-follow-up', 'diabetes-follow-up', 'health-check', 'referral-follow-up'] as const;

export const groupKey = (code: string): MessageKey => GROUPS[code] ?? 'familyUnknown';
export const kindKey = (code: string): MessageKey => KINDS[code] ?? 'familyUnknown';

export interface Part {
  name: string;
  valueReference?: { reference?: string; display?: string };
  valueCode?: string;
  valueDate?: string;
  valueInteger?: number;
  part?: Part[];
}
export interface ParametersBody {
  parameter?: Part[];
}

/** Each repeated parameter `name` as its parts by name (a part may repeat, e.g. group). */
export function entriesOf(body: ParametersBody, name: string): Map<string, Part[]>[] {
  return (body.parameter ?? []).filter((p) => p.name === name).map((p) => {
    const parts = new Map<string, Part[]>();
    for (const part of p.part ?? []) parts.set(part.name, [...(parts.get(part.name) ?? []), part]);
    return parts;
  });
}

export function countOf(body: ParametersBody): number | undefined {
  return body.parameter?.find((p) => p.name === 'count')?.valueInteger;
}

/** A service package's price (CNY) from its package-price extension; undefined when none. */
export function priceOf(resource: { extension?: { url: string; valueMoney?: { value?: number; currency?: string } }[] }): number | undefined {
  return resource.extension?.find((e) => e.url === PACKAGE_PRICE)?.valueMoney?.value;
}
