// The demo district's community-care catalogue, so the family-doctor and home-nursing pages work
// out of the box: a city hospital (the "1+1+1" choice, FD-05), the family-doctor service packages
// (one basic, two personalised; FD-02) and the home-nursing service items (NU-05) with prices.
// Static content: no randomness, so the demo stays the same for a seed.
import type { ActivityDefinition, Organization, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { BASIC_PACKAGE, FAMILY_DOCTOR_SYSTEM, INSTITUTION_CATEGORY, PACKAGE_PRICE_EXTENSION, PERSONALISED_PACKAGE } from '../modules/family-doctor/contract-codes.js';
import { CATALOGUE_CODES, HN, INSTITUTION_LICENCE, PRICE_EXTENSION } from '../modules/home-nursing/codes.js';

const cny = (value: number) => ({ value, currency: 'CNY' as const });

/** A city hospital outside the district, as residents choose one (FD-05). */
export const CITY_HOSPITAL: Organization = {
  resourceType: 'Organization',
  active: true,
  identifier: [{ system: INSTITUTION_LICENCE, value: 'PDY31000042510011' }],
  type: [{ coding: [{ system: INSTITUTION_CATEGORY, code: 'city-hospital', display: '市级医院' }], text: '市级医院' }],
  name: '上海市第一人民医院',
  address: [{ use: 'work', type: 'physical', text: '上海市虹口区海宁路 100 号', city: '上海市', district: '虹口区', country: 'CN' }],
};

const PACKAGES: readonly { code: string; title: string; price: number; actions: string[] }[] = [
  { code: BASIC_PACKAGE, title: '基础服务包', price: 0, actions: ['建立健康档案', '年度健康评估', '慢病随访', '健康咨询', '预约转诊'] },
  { code: PERSONALISED_PACKAGE, title: '高血压个性化服务包', price: 120, actions: ['每季度面对面随访', '家庭血压监测指导', '用药调整'] },
  { code: PERSONALISED_PACKAGE, title: '糖尿病个性化服务包', price: 150, actions: ['每季度面对面随访', '空腹血糖检测', '足部检查', '营养指导'] },
];

const NURSING_PRICES: Record<string, number> = {
  injection: 60, 'blood-sampling': 50, 'dressing-change': 80, 'catheter-care': 120, 'stitch-removal': 70,
  'stoma-care': 120, 'chronic-disease-care': 100, 'maternal-infant-care': 150, 'hospice-care': 150,
  'pressure-injury-care': 120, 'nasogastric-tube-care': 120,
};

export function communityCatalogue(): Resource[] {
  const packages = PACKAGES.map((p): PlanDefinition => ({
    resourceType: 'PlanDefinition',
    status: 'active',
    title: p.title,
    type: { coding: [{ system: FAMILY_DOCTOR_SYSTEM, code: p.code }] },
    extension: [{ url: PACKAGE_PRICE_EXTENSION, valueMoney: cny(p.price) }],
    action: p.actions.map((title) => ({ title })),
  }));
  const nursing = Object.entries(CATALOGUE_CODES).map(([code, display]): ActivityDefinition => ({
    resourceType: 'ActivityDefinition',
    status: 'active',
    kind: 'ServiceRequest',
    title: display,
    code: { coding: [{ system: HN, code, display }] },
    extension: [{ url: PRICE_EXTENSION, valueMoney: cny(NURSING_PRICES[code] ?? 100) }],
  }));
  return [CITY_HOSPITAL, ...packages, ...nursing];
}
