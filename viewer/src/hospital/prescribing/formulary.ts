// A short list of the drugs online follow-ups prescribe most (chronic-disease repeats), to fill
// the prescription form in one pick. The doctor may type any other drug with its ATC code; the
// hub, not this list, decides what may be prescribed (IH-07's special-control classes).
export interface FormularyDrug {
  name: string;
  /** WHO ATC code (http://www.whocc.no/atc). */
  atc: string;
  dose: string;
  quantity: number;
  unit: string;
}

export const ATC_SYSTEM = 'http://www.whocc.no/atc';

export const COMMON_DRUGS: readonly FormularyDrug[] = [
  { name: '马来酸依那普利片 10mg', atc: 'C09AA02', dose: '每日一次，每次一片，口服', quantity: 28, unit: '片' },
  { name: '苯磺酸氨氯地平片 5mg', atc: 'C08CA01', dose: '每日一次，每次一片，口服', quantity: 28, unit: '片' },
  { name: '缬沙坦胶囊 80mg', atc: 'C09CA03', dose: '每日一次，每次一粒，口服', quantity: 28, unit: '粒' },
  { name: '盐酸二甲双胍片 0.5g', atc: 'A10BA02', dose: '每日三次，每次一片，餐中服', quantity: 84, unit: '片' },
  { name: '阿卡波糖片 50mg', atc: 'A10BF01', dose: '每日三次，每次一片，随第一口饭嚼服', quantity: 84, unit: '片' },
  { name: '阿托伐他汀钙片 20mg', atc: 'C10AA05', dose: '每晚一次，每次一片，口服', quantity: 28, unit: '片' },
  { name: '阿司匹林肠溶片 100mg', atc: 'B01AC06', dose: '每日一次，每次一片，口服', quantity: 28, unit: '片' },
];
