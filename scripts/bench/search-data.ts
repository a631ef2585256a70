// Deterministic synthetic data for the search benchmark (search.ts): a regional population of
// patients, each with ~250 clinical resources shaped like the Synthea bundles in
// ../shared/testdata/fhir/synthea/smart (Encounters with vital signs every visit, lab panels with
// DiagnosticReports, Conditions, MedicationRequests, Procedures, Immunizations), but Chinese:
// Chinese and pinyin names, resident ID numbers (GB 11643, valid check character), ICD-10
// diagnoses, Shanghai addresses and a +08:00 clock.
//
// Deterministic: every value comes from a seeded PRNG, and patient i draws from its own stream
// (seed, i), so patient i is the same whatever the population size: a database loaded with N
// patients can be described again later from (seed, N) alone, without reading it back.
// Nothing reads the clock; dates are relative to AS_OF.
//
// Bundles are produced lazily (one transaction Bundle per patient, ~250 entries), so half a
// million resources never sit in memory at once. The shared Practitioners and Organizations come
// first, in their own Bundle, with PUT and fixed ids: the patients' bundles reference them as
// `Practitioner/<id>`, as a regional feed would reference its already registered staff.
import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  Condition,
  DiagnosticReport,
  Encounter,
  HumanName,
  Immunization,
  MedicationRequest,
  Observation,
  ObservationComponent,
  Organization,
  Patient,
  Practitioner,
  Procedure,
  Quantity,
  Resource,
} from '@medplum/fhirtypes';
import { makeResidentId } from '../../server/src/fhir/identity/resident-id.js';

export const DEFAULT_SEED = 20251201;
/** Bump when a change here changes what (seed, i) generates: a database loaded earlier no longer matches. */
export const DATA_VERSION = 1;
/** The resident ID system (HL7 China FHIR IG OID) every generated Patient carries. */
export const RESIDENT_ID_SYSTEM = 'urn:oid:2.16.840.1.113883.2.23.1.19.1';
export const LOINC = 'http://loinc.org';
/** The population's "today": nothing depends on the clock. */
export const AS_OF = '2025-06-30';

const CN_PATIENT_PROFILE = 'http://suhe.example.cn/fhir/StructureDefinition/cn-patient';
const UCUM = 'http://unitsofmeasure.org';
const SNOMED = 'http://snomed.info/sct';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const CVX = 'http://hl7.org/fhir/sid/cvx';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const SID = 'http://suhe.example.cn/fhir/sid';
/** Marks the pinyin HumanName as the syllabic rendering of the ideographic one. */
const EN_REPRESENTATION = 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation';

export const ORGANIZATION_COUNT = 10;
export const PRACTITIONER_COUNT = 50;

// ---------------------------------------------------------------------------------------------
// PRNG: a Weyl sequence through a 32-bit avalanche mix. Cheap, seedable per patient, and plenty
// random for synthetic records (not for anything secret).

export class Prng {
  private state: number;
  constructor(...seeds: number[]) {
    // Fold all seed parts in, so (seed, i) and (seed, j) start far apart.
    let s = 0x2545f491;
    for (const part of seeds) s = mix32(s ^ Math.imul(part | 0, 0x9e3779b1));
    this.state = s;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    return (mix32(this.state) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  /** A value from `items`, where item k has weight weights[k]. */
  weighted<T>(items: readonly T[], cumulative: readonly number[]): T {
    const x = this.next() * cumulative[cumulative.length - 1];
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return items[lo];
  }
  /** Roughly normal (sum of three uniforms), mean m, standard deviation about sd. */
  around(m: number, sd: number): number {
    return m + (this.next() + this.next() + this.next() - 1.5) * 2 * sd;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
  /** `k` distinct items of `items` (k ≤ items.length), in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const copy = [...items];
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.next() * (copy.length - i));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, k);
  }
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}

function cumulative(weights: number[]): number[] {
  let sum = 0;
  return weights.map((w) => (sum += w));
}

// ---------------------------------------------------------------------------------------------
// Vocabularies. Surnames are weighted roughly by how common they are (王 and 李 each ~5% of
// patients), so a name search hits anything from a handful to a hundred patients, as in a real
// district. Several surnames share a pinyin (徐/许 Xu, 蒋/江/姜 Jiang): a pinyin search is wider.

const SURNAMES: [string, string][] = [
  ['王', 'Wang'], ['李', 'Li'], ['张', 'Zhang'], ['刘', 'Liu'], ['陈', 'Chen'], ['杨', 'Yang'], ['黄', 'Huang'], ['赵', 'Zhao'],
  ['吴', 'Wu'], ['周', 'Zhou'], ['徐', 'Xu'], ['孙', 'Sun'], ['马', 'Ma'], ['朱', 'Zhu'], ['胡', 'Hu'], ['郭', 'Guo'],
  ['何', 'He'], ['林', 'Lin'], ['罗', 'Luo'], ['高', 'Gao'], ['郑', 'Zheng'], ['梁', 'Liang'], ['谢', 'Xie'], ['宋', 'Song'],
  ['唐', 'Tang'], ['许', 'Xu'], ['韩', 'Han'], ['冯', 'Feng'], ['邓', 'Deng'], ['曹', 'Cao'], ['彭', 'Peng'], ['曾', 'Zeng'],
  ['肖', 'Xiao'], ['田', 'Tian'], ['董', 'Dong'], ['袁', 'Yuan'], ['潘', 'Pan'], ['于', 'Yu'], ['蒋', 'Jiang'], ['蔡', 'Cai'],
  ['余', 'Yu'], ['杜', 'Du'], ['叶', 'Ye'], ['程', 'Cheng'], ['苏', 'Su'], ['魏', 'Wei'], ['吕', 'Lyu'], ['丁', 'Ding'],
  ['任', 'Ren'], ['沈', 'Shen'], ['姚', 'Yao'], ['卢', 'Lu'], ['姜', 'Jiang'], ['崔', 'Cui'], ['钟', 'Zhong'], ['谭', 'Tan'],
  ['陆', 'Lu'], ['汪', 'Wang'], ['范', 'Fan'], ['金', 'Jin'], ['石', 'Shi'], ['廖', 'Liao'], ['贾', 'Jia'], ['夏', 'Xia'],
  ['韦', 'Wei'], ['方', 'Fang'], ['白', 'Bai'], ['邹', 'Zou'], ['孟', 'Meng'], ['熊', 'Xiong'], ['秦', 'Qin'], ['邱', 'Qiu'],
  ['江', 'Jiang'], ['尹', 'Yin'], ['薛', 'Xue'], ['段', 'Duan'], ['雷', 'Lei'], ['侯', 'Hou'], ['龙', 'Long'], ['史', 'Shi'],
  ['陶', 'Tao'], ['黎', 'Li'], ['贺', 'He'], ['顾', 'Gu'], ['毛', 'Mao'], ['郝', 'Hao'], ['龚', 'Gong'], ['邵', 'Shao'],
  ['万', 'Wan'], ['钱', 'Qian'], ['严', 'Yan'], ['武', 'Wu'], ['戴', 'Dai'], ['莫', 'Mo'], ['孔', 'Kong'], ['欧阳', 'Ouyang'],
];
/** Zipf-like weights: rank r gets 1 / r^0.9. */
const SURNAME_WEIGHTS = cumulative(SURNAMES.map((_, r) => 1 / (r + 1) ** 0.9));

/** Given-name characters with their pinyin, by the sex they are usual for. */
const GIVEN_CHARS: Record<'male' | 'female', [string, string][]> = {
  male: [
    ['伟', 'wei'], ['强', 'qiang'], ['磊', 'lei'], ['军', 'jun'], ['勇', 'yong'], ['杰', 'jie'], ['涛', 'tao'], ['明', 'ming'],
    ['超', 'chao'], ['华', 'hua'], ['建', 'jian'], ['国', 'guo'], ['志', 'zhi'], ['俊', 'jun'], ['浩', 'hao'], ['宇', 'yu'],
    ['鹏', 'peng'], ['辉', 'hui'], ['斌', 'bin'], ['刚', 'gang'], ['平', 'ping'], ['东', 'dong'], ['文', 'wen'], ['海', 'hai'],
  ],
  female: [
    ['芳', 'fang'], ['娜', 'na'], ['敏', 'min'], ['静', 'jing'], ['丽', 'li'], ['艳', 'yan'], ['娟', 'juan'], ['霞', 'xia'],
    ['秀', 'xiu'], ['英', 'ying'], ['玲', 'ling'], ['婷', 'ting'], ['雪', 'xue'], ['慧', 'hui'], ['琳', 'lin'], ['欣', 'xin'],
    ['怡', 'yi'], ['佳', 'jia'], ['梅', 'mei'], ['颖', 'ying'], ['红', 'hong'], ['燕', 'yan'], ['萍', 'ping'], ['兰', 'lan'],
  ],
};

/** Shanghai district codes (GB/T 2260) for resident ID numbers and addresses. */
const DISTRICTS: [string, string][] = [
  ['310101', '黄浦区'], ['310104', '徐汇区'], ['310105', '长宁区'], ['310106', '静安区'], ['310107', '普陀区'], ['310109', '虹口区'],
  ['310110', '杨浦区'], ['310112', '闵行区'], ['310113', '宝山区'], ['310114', '嘉定区'], ['310115', '浦东新区'], ['310116', '金山区'],
  ['310117', '松江区'], ['310118', '青浦区'], ['310120', '奉贤区'], ['310151', '崇明区'],
];
const STREETS = ['江宁路', '长寿路', '武宁路', '曹杨路', '中山北路', '石门二路', '西康路', '南京西路', '延安中路', '淮海中路', '四平路', '天目西路'];

const ORGANIZATION_NAMES = [
  '苏河区中心医院', '苏河区中医医院', '苏河区妇幼保健院', '江宁路街道社区卫生服务中心', '长寿路街道社区卫生服务中心',
  '曹杨新村街道社区卫生服务中心', '石门二路街道社区卫生服务中心', '宜川路街道社区卫生服务中心', '苏河仁和门诊部', '苏河康健门诊部',
];

type Coding3 = [code: string, display: string, unit?: string];

interface VitalSign {
  code: string;
  display: string;
  unit: string;
  /** Typical value and spread for an adult. */
  mean: number;
  sd: number;
  decimals: number;
  /** Fraction of encounters that record it. */
  p: number;
}

const VITALS: VitalSign[] = [
  { code: '8302-2', display: 'Body height', unit: 'cm', mean: 165, sd: 8, decimals: 1, p: 0.35 },
  { code: '29463-7', display: 'Body weight', unit: 'kg', mean: 64, sd: 10, decimals: 1, p: 1 },
  { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2', mean: 23.5, sd: 3, decimals: 1, p: 1 },
  { code: '8867-4', display: 'Heart rate', unit: '/min', mean: 76, sd: 9, decimals: 0, p: 1 },
  { code: '9279-1', display: 'Respiratory rate', unit: '/min', mean: 16, sd: 2, decimals: 0, p: 0.9 },
  { code: '8310-5', display: 'Body temperature', unit: 'Cel', mean: 36.7, sd: 0.35, decimals: 1, p: 0.9 },
  { code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry', unit: '%', mean: 97.5, sd: 1, decimals: 0, p: 0.3 },
];
/** The blood-pressure panel: one Observation with systolic and diastolic components. */
const BP = { code: '85354-9', display: 'Blood pressure panel with all children optional', systolic: ['8480-6', 'Systolic blood pressure'], diastolic: ['8462-4', 'Diastolic blood pressure'] } as const;
const SMOKING = { code: '72166-2', display: 'Tobacco smoking status' } as const;

interface LabPanel {
  code: string;
  display: string;
  /** [code, display, unit, mean, sd, decimals] */
  tests: [string, string, string, number, number, number][];
  weight: number;
}

const LAB_PANELS: LabPanel[] = [
  {
    code: '57698-3', display: 'Lipid panel with direct LDL - Serum or Plasma', weight: 3,
    tests: [
      ['2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma', 'mg/dL', 190, 30, 0],
      ['2571-8', 'Triglyceride [Mass/volume] in Serum or Plasma', 'mg/dL', 140, 45, 0],
      ['18262-6', 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay', 'mg/dL', 110, 25, 0],
      ['2085-9', 'Cholesterol in HDL [Mass/volume] in Serum or Plasma', 'mg/dL', 52, 10, 0],
    ],
  },
  {
    code: '51990-0', display: 'Basic metabolic panel - Blood', weight: 3,
    tests: [
      ['2339-0', 'Glucose [Mass/volume] in Blood', 'mg/dL', 98, 18, 0],
      ['6299-2', 'Urea nitrogen [Mass/volume] in Blood', 'mg/dL', 14, 4, 1],
      ['38483-4', 'Creatinine [Mass/volume] in Blood', 'mg/dL', 0.95, 0.2, 2],
      ['49765-1', 'Calcium [Mass/volume] in Blood', 'mg/dL', 9.4, 0.4, 1],
      ['2947-0', 'Sodium [Moles/volume] in Blood', 'mmol/L', 140, 2.5, 0],
      ['6298-4', 'Potassium [Moles/volume] in Blood', 'mmol/L', 4.2, 0.35, 1],
      ['2069-3', 'Chloride [Moles/volume] in Blood', 'mmol/L', 103, 2.5, 0],
      ['20565-8', 'Carbon dioxide, total [Moles/volume] in Blood', 'mmol/L', 25, 2.5, 0],
    ],
  },
  {
    code: '58410-2', display: 'CBC panel - Blood by Automated count', weight: 3,
    tests: [
      ['6690-2', 'Leukocytes [#/volume] in Blood by Automated count', '10*3/uL', 6.8, 1.6, 1],
      ['789-8', 'Erythrocytes [#/volume] in Blood by Automated count', '10*6/uL', 4.7, 0.45, 2],
      ['718-7', 'Hemoglobin [Mass/volume] in Blood', 'g/dL', 14, 1.4, 1],
      ['4544-3', 'Hematocrit [Volume Fraction] of Blood by Automated count', '%', 42, 4, 1],
      ['787-2', 'MCV [Entitic volume] by Automated count', 'fL', 90, 5, 1],
      ['777-3', 'Platelets [#/volume] in Blood by Automated count', '10*3/uL', 250, 55, 0],
    ],
  },
  {
    code: '24325-3', display: 'Hepatic function panel - Serum or Plasma', weight: 2,
    tests: [
      ['1742-6', 'Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma', 'U/L', 24, 9, 0],
      ['1920-8', 'Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma', 'U/L', 23, 7, 0],
      ['1975-2', 'Bilirubin.total [Mass/volume] in Serum or Plasma', 'mg/dL', 0.7, 0.25, 1],
      ['1751-7', 'Albumin [Mass/volume] in Serum or Plasma', 'g/dL', 4.3, 0.3, 1],
      ['6768-6', 'Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma', 'U/L', 75, 20, 0],
    ],
  },
  {
    code: '24356-8', display: 'Urinalysis complete panel - Urine', weight: 1,
    tests: [
      ['5811-5', 'Specific gravity of Urine by Test strip', '{SG}', 1.018, 0.006, 3],
      ['5803-2', 'pH of Urine by Test strip', '[pH]', 6, 0.7, 1],
      ['2888-6', 'Protein [Mass/volume] in Urine', 'mg/dL', 8, 5, 0],
    ],
  },
  { code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', weight: 2, tests: [['4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', '%', 5.9, 0.9, 1]] },
  { code: '3016-3', display: 'Thyrotropin [Units/volume] in Serum or Plasma', weight: 1, tests: [['3016-3', 'Thyrotropin [Units/volume] in Serum or Plasma', 'm[IU]/L', 2.1, 0.9, 2]] },
];
const LAB_WEIGHTS = cumulative(LAB_PANELS.map((p) => p.weight));

/** Every LOINC code an Observation's `code` may carry (38 in all), for query generation and docs. */
export const OBSERVATION_CODES: readonly string[] = [
  ...VITALS.map((v) => v.code),
  BP.code,
  SMOKING.code,
  ...LAB_PANELS.flatMap((p) => p.tests.map((t) => t[0])),
];

const ENCOUNTER_TYPES: [cls: string, Coding3][] = [
  ['AMB', ['185349003', 'Encounter for check up (procedure)']],
  ['AMB', ['390906007', 'Follow-up encounter (procedure)']],
  ['AMB', ['185345009', 'Encounter for symptom (procedure)']],
  ['AMB', ['410620009', 'Well child visit (procedure)']],
  ['EMER', ['50849002', 'Emergency room admission (procedure)']],
  ['IMP', ['183452005', 'Emergency hospital admission (procedure)']],
];
const ENCOUNTER_WEIGHTS = cumulative([30, 35, 25, 3, 5, 2]);

const CONDITIONS: Coding3[] = [
  ['I10', '特发性(原发性)高血压'], ['E11.9', '2型糖尿病,不伴有并发症'], ['J06.9', '急性上呼吸道感染'], ['E78.5', '高脂血症'],
  ['K29.7', '胃炎'], ['M54.5', '下背痛'], ['J45.9', '哮喘'], ['I25.1', '动脉硬化性心脏病'], ['N18.9', '慢性肾脏病'],
  ['E66.9', '肥胖症'], ['J44.9', '慢性阻塞性肺病'], ['F32.9', '抑郁发作'], ['K21.9', '胃食管反流病'], ['M17.9', '膝关节病'],
  ['I48.9', '心房颤动'], ['J18.9', '肺炎'], ['N39.0', '泌尿道感染'], ['E03.9', '甲状腺功能减退症'],
];

const MEDICATIONS: Coding3[] = [
  ['314076', 'lisinopril 10 MG Oral Tablet'], ['860975', '24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet'],
  ['617314', 'atorvastatin 10 MG Oral Tablet'], ['197361', 'amlodipine 5 MG Oral Tablet'], ['310965', 'Ibuprofen 200 MG Oral Tablet'],
  ['313782', 'Acetaminophen 325 MG Oral Tablet'], ['866924', 'metoprolol succinate 25 MG Extended Release Oral Tablet'],
  ['198211', 'Simvastatin 40 MG Oral Tablet'], ['308136', 'amlodipine 2.5 MG Oral Tablet'], ['562251', 'Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet'],
  ['1049630', 'diphenhydramine hydrochloride 25 MG Oral Tablet'], ['849574', 'Naproxen sodium 220 MG Oral Tablet'],
  ['243670', 'aspirin 81 MG Oral Tablet'], ['834061', 'Penicillin V Potassium 250 MG Oral Tablet'],
];

const PROCEDURES: Coding3[] = [
  ['430193006', 'Medication Reconciliation (procedure)'], ['710824005', 'Assessment of health and social care needs (procedure)'],
  ['171207006', 'Depression screening (procedure)'], ['29303009', 'Electrocardiographic procedure (procedure)'],
  ['399208008', 'Plain chest X-ray (procedure)'], ['73761001', 'Colonoscopy (procedure)'], ['76601001', 'Intramuscular injection (procedure)'],
  ['268556000', 'Urine screening for glucose (procedure)'], ['45595009', 'Ultrasonography of abdomen (procedure)'],
  ['386516004', 'Anticipatory guidance (procedure)'],
];

const VACCINES: Coding3[] = [
  ['140', 'Influenza, seasonal, injectable, preservative free'], ['133', 'Pneumococcal conjugate PCV 13'],
  ['33', 'pneumococcal polysaccharide vaccine, 23 valent'], ['43', 'Hep B, adult'], ['08', 'Hep B, adolescent or pediatric'],
  ['115', 'Tdap'], ['113', 'Td (adult) preservative free'], ['62', 'HPV, quadrivalent'], ['121', 'zoster'], ['03', 'MMR'],
  ['21', 'varicella'], ['10', 'IPV'], ['83', 'Hep A, ped/adol, 2 dose'], ['208', 'SARS-COV-2 (COVID-19) vaccine, mRNA'],
];

// ---------------------------------------------------------------------------------------------
// Shared resources

export const organizationId = (k: number) => `bench-org-${String(k + 1).padStart(2, '0')}`;
export const practitionerId = (k: number) => `bench-pract-${String(k + 1).padStart(2, '0')}`;
/** Practitioner k works at Organization k mod 10: five per institution. */
const organizationOf = (practitioner: number) => practitioner % ORGANIZATION_COUNT;

/** The first Bundle: 10 Organizations and 50 Practitioners with fixed ids (PUT: loading twice is harmless). */
export function sharedBundle(seed = DEFAULT_SEED): Bundle {
  const rng = new Prng(seed, -1);
  const entry: BundleEntry[] = [];
  for (let k = 0; k < ORGANIZATION_COUNT; k++) {
    const organization: Organization = {
      resourceType: 'Organization',
      id: organizationId(k),
      identifier: [{ system: 'urn:oid:2.16.156.10011.1.5', value: `4253100${String(k + 1).padStart(2, '0')}` }],
      active: true,
      type: [cc('http://terminology.hl7.org/CodeSystem/organization-type', 'prov', 'Healthcare Provider')],
      name: ORGANIZATION_NAMES[k],
      telecom: [{ system: 'phone', value: `021-6${rng.digits(7)}` }],
      address: [{ text: `上海市苏河区${rng.pick(STREETS)}${rng.int(1, 999)}号`, city: '上海市', district: '苏河区', country: 'CN' }],
    };
    entry.push(putEntry(organization, k));
  }
  for (let k = 0; k < PRACTITIONER_COUNT; k++) {
    const gender = rng.chance(0.5) ? 'male' : 'female';
    const [family, familyPinyin] = rng.weighted(SURNAMES, SURNAME_WEIGHTS);
    const [given, givenPinyin] = givenName(rng, gender);
    const practitioner: Practitioner = {
      resourceType: 'Practitioner',
      id: practitionerId(k),
      identifier: [{ system: `${SID}/practitioner-licence`, value: `1103100${rng.digits(8)}` }],
      active: true,
      name: names(family, familyPinyin, given, givenPinyin),
      telecom: [{ system: 'phone', value: `021-6${rng.digits(7)}`, use: 'work' }],
      gender,
      address: [{ use: 'work', text: `上海市苏河区 ${ORGANIZATION_NAMES[organizationOf(k)]}`, city: '上海市', country: 'CN' }],
    };
    entry.push(putEntry(practitioner, ORGANIZATION_COUNT + k));
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

function putEntry(resource: Organization | Practitioner, n: number): BundleEntry {
  return { fullUrl: urn(0xffffffff, n), resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } };
}

// ---------------------------------------------------------------------------------------------
// One patient

/** What the benchmark needs to know about a generated patient to build queries. */
export interface PatientSummary {
  index: number;
  residentId: string;
  /** Chinese surname, e.g. 王, and its pinyin, e.g. Wang. */
  family: string;
  familyPinyin: string;
  /** Resources in the patient's bundle, the Patient included. */
  resources: number;
  observations: number;
  /** Distinct LOINC codes of the patient's Observations (their `code`, not components). */
  observationCodes: string[];
}

export interface PatientBundle {
  bundle: Bundle;
  summary: PatientSummary;
}

/**
 * Patient `index` of the population with `seed`, as one transaction Bundle: the Patient first
 * (entry 0, so its id is the first location of the response), then its records.
 */
export function patientBundle(seed: number, index: number): PatientBundle {
  const rng = new Prng(seed, index);
  const entry: BundleEntry[] = [];
  const add = <T extends Resource>(resource: T): string => {
    const fullUrl = urn(index, entry.length);
    entry.push({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType } });
    return fullUrl;
  };

  // Who: age skews old, as the patients of a district hub do (chronic care).
  const asOfYear = Number(AS_OF.slice(0, 4));
  const age = Math.min(95, Math.floor(rng.next() ** 0.8 * 90) + rng.int(0, 5));
  const birthYear = asOfYear - age - 1;
  const birthMonth = rng.int(1, 12);
  const birthDate = `${birthYear}-${pad(birthMonth)}-${pad(rng.int(1, daysIn(birthYear, birthMonth)))}`;
  const gender: 'male' | 'female' = rng.chance(0.49) ? 'male' : 'female';
  const [family, familyPinyin] = rng.weighted(SURNAMES, SURNAME_WEIGHTS);
  const [given, givenPinyin] = givenName(rng, gender);
  // The resident ID: area by index and a sequence counting within the area, so numbers never
  // repeat below 8,000 patients (and rarely above: the birth date differs too).
  const [areaCode, district] = DISTRICTS[index % DISTRICTS.length];
  const sequence = ((Math.floor(index / DISTRICTS.length) % 500) * 2 + (gender === 'male' ? 1 : 0)) % 1000;
  const residentId = makeResidentId(areaCode, birthDate, sequence);
  const gp = rng.int(0, PRACTITIONER_COUNT - 1);
  const home = organizationOf(gp);
  const street = rng.pick(STREETS);
  const line = `${street}${rng.int(1, 999)}弄${rng.int(1, 40)}号${rng.int(1, 20)}0${rng.int(1, 4)}室`;

  const patient: Patient = {
    resourceType: 'Patient',
    meta: { profile: [CN_PATIENT_PROFILE] },
    identifier: [
      { use: 'official', type: { coding: [{ system: V2_0203, code: 'NI', display: 'National unique individual identifier' }], text: '居民身份证号码' }, system: RESIDENT_ID_SYSTEM, value: residentId },
      { use: 'usual', type: { coding: [{ system: V2_0203, code: 'MR', display: 'Medical record number' }], text: '病案号' }, system: `${SID}/mrn/${organizationId(home)}`, value: `MR${rng.digits(8)}` },
    ],
    active: true,
    name: names(family, familyPinyin, given, givenPinyin),
    telecom: [{ system: 'phone', value: `1${rng.pick(['35', '36', '38', '39', '58', '59', '86', '88'])}${rng.digits(8)}`, use: 'mobile' }],
    gender,
    birthDate,
    address: [{ use: 'home', type: 'physical', text: `上海市${district}${line}`, line: [line], city: '上海市', district, state: '上海市', postalCode: `200${rng.digits(3)}`, country: 'CN' }],
    maritalStatus: age >= 25 && rng.chance(0.8)
      ? cc('http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', 'M', 'Married')
      : cc('http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', 'S', 'Never Married'),
    communication: [{ language: cc('urn:ietf:bcp:47', 'zh-CN', 'Chinese (China)'), preferred: true }],
    generalPractitioner: [{ reference: `Practitioner/${practitionerId(gp)}` }],
    managingOrganization: { reference: `Organization/${organizationId(home)}` },
  };
  const subject = { reference: add(patient) };

  // When: 8-30 visits over the last years (older patients come more often), in time order.
  const encounterCount = rng.int(8, 30) + (age >= 60 ? rng.int(0, 8) : 0);
  const firstDay = Math.max(dayNumber(birthDate) + 30, dayNumber(AS_OF) - 12 * 365);
  const days = Array.from({ length: encounterCount }, () => rng.int(firstDay, dayNumber(AS_OF) - 1)).sort((a, b) => a - b);

  let observations = 0;
  const codes = new Set<string>();
  const encounters: { ref: string; at: string; doctor: number }[] = [];
  for (const day of days) {
    const [cls, [typeCode, typeDisplay]] = rng.weighted(ENCOUNTER_TYPES, ENCOUNTER_WEIGHTS);
    // Mostly the family doctor; sometimes another doctor of the same or another institution.
    const doctor = rng.chance(0.7) ? gp : rng.int(0, PRACTITIONER_COUNT - 1);
    const start = instant(day, rng.int(8 * 60, 17 * 60));
    const minutes = cls === 'IMP' ? rng.int(2, 7) * 24 * 60 : rng.int(10, 60);
    const encounter: Encounter = {
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: cls },
      type: [cc(SNOMED, typeCode, typeDisplay)],
      subject,
      participant: [{ individual: { reference: `Practitioner/${practitionerId(doctor)}` } }],
      period: { start, end: instantPlus(start, minutes) },
      serviceProvider: { reference: `Organization/${organizationId(organizationOf(doctor))}` },
    };
    const ref = add(encounter);
    encounters.push({ ref, at: start, doctor });
    const context = { subject, encounter: { reference: ref }, effectiveDateTime: start, issued: instantPlus(start, 5) };

    // Vital signs at every visit, blood pressure always.
    for (const v of VITALS) {
      if (!rng.chance(v.p)) continue;
      add(observation(context, 'vital-signs', v.code, v.display, quantity(round(rng.around(v.mean, v.sd), v.decimals), v.unit)));
      observations++;
      codes.add(v.code);
    }
    const systolic = Math.round(rng.around(age > 55 ? 138 : 120, 12));
    const components: ObservationComponent[] = [
      { code: loinc(BP.systolic[0], BP.systolic[1]), valueQuantity: quantity(systolic, 'mm[Hg]') },
      { code: loinc(BP.diastolic[0], BP.diastolic[1]), valueQuantity: quantity(Math.round(systolic * 0.62 + rng.around(0, 5)), 'mm[Hg]') },
    ];
    add({ ...observation(context, 'vital-signs', BP.code, BP.display), component: components });
    observations++;
    codes.add(BP.code);
    if (rng.chance(0.08)) {
      const smoker = rng.chance(0.25);
      add({
        ...observation(context, 'social-history', SMOKING.code, SMOKING.display),
        valueCodeableConcept: smoker ? cc(SNOMED, '449868002', 'Smokes tobacco daily (finding)') : cc(SNOMED, '266919005', 'Never smoked tobacco (finding)'),
      });
      observations++;
      codes.add(SMOKING.code);
    }

    // A lab panel at about half the visits, reported by a DiagnosticReport.
    if (rng.chance(0.5)) {
      const panel = rng.weighted(LAB_PANELS, LAB_WEIGHTS);
      const results: { reference: string; display: string }[] = [];
      for (const [code, display, unit, mean, sd, decimals] of panel.tests) {
        results.push({ reference: add(observation(context, 'laboratory', code, display, quantity(round(Math.max(0, rng.around(mean, sd)), decimals), unit))), display });
        observations++;
        codes.add(code);
      }
      const report: DiagnosticReport = {
        resourceType: 'DiagnosticReport',
        status: 'final',
        category: [cc('http://terminology.hl7.org/CodeSystem/v2-0074', 'LAB', 'Laboratory')],
        code: loinc(panel.code, panel.display),
        subject,
        encounter: { reference: ref },
        effectiveDateTime: start,
        issued: instantPlus(start, 240),
        performer: [{ reference: `Organization/${organizationId(organizationOf(doctor))}` }],
        result: results,
      };
      add(report);
    }
  }

  // Diagnoses, prescriptions, procedures and vaccinations, each at one of the visits.
  const atVisit = () => rng.pick(encounters);
  for (const [code, display] of rng.sample(CONDITIONS, rng.int(2, 8))) {
    const visit = atVisit();
    const resolved = code.startsWith('J06') || code.startsWith('J18') || code.startsWith('N39') ? rng.chance(0.9) : rng.chance(0.1);
    const condition: Condition = {
      resourceType: 'Condition',
      clinicalStatus: cc('http://terminology.hl7.org/CodeSystem/condition-clinical', resolved ? 'resolved' : 'active'),
      verificationStatus: cc('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed'),
      category: [cc('http://terminology.hl7.org/CodeSystem/condition-category', 'encounter-diagnosis', 'Encounter Diagnosis')],
      code: cc(ICD10, code, display),
      subject,
      encounter: { reference: visit.ref },
      onsetDateTime: visit.at,
      recordedDate: visit.at,
      ...(resolved ? { abatementDateTime: instantPlus(visit.at, rng.int(5, 60) * 24 * 60) } : {}),
    };
    add(condition);
  }
  for (let k = rng.int(3, 15); k > 0; k--) {
    const visit = atVisit();
    const [code, display] = rng.pick(MEDICATIONS);
    const request: MedicationRequest = {
      resourceType: 'MedicationRequest',
      status: rng.pick(['active', 'completed', 'stopped'] as const),
      intent: 'order',
      medicationCodeableConcept: cc(RXNORM, code, display),
      subject,
      encounter: { reference: visit.ref },
      authoredOn: visit.at,
      requester: { reference: `Practitioner/${practitionerId(visit.doctor)}` },
      dosageInstruction: [{ sequence: 1, text: '每日一次，每次一片', timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 1, unit: '片', system: UCUM, code: '{tbl}' } }] }],
    };
    add(request);
  }
  for (let k = rng.int(3, 12); k > 0; k--) {
    const visit = atVisit();
    const [code, display] = rng.pick(PROCEDURES);
    const procedure: Procedure = {
      resourceType: 'Procedure',
      status: 'completed',
      code: cc(SNOMED, code, display),
      subject,
      encounter: { reference: visit.ref },
      performedPeriod: { start: visit.at, end: instantPlus(visit.at, rng.int(10, 45)) },
      performer: [{ actor: { reference: `Practitioner/${practitionerId(visit.doctor)}` } }],
    };
    add(procedure);
  }
  for (let k = rng.int(5, 15); k > 0; k--) {
    const visit = atVisit();
    const [code, display] = rng.pick(VACCINES);
    const immunization: Immunization = {
      resourceType: 'Immunization',
      status: 'completed',
      vaccineCode: cc(CVX, code, display),
      patient: subject,
      encounter: { reference: visit.ref },
      occurrenceDateTime: visit.at,
      primarySource: true,
      lotNumber: `L${rng.digits(6)}`,
      performer: [{ actor: { reference: `Practitioner/${practitionerId(visit.doctor)}` } }],
    };
    add(immunization);
  }

  return {
    bundle: { resourceType: 'Bundle', type: 'transaction', entry },
    summary: { index, residentId, family, familyPinyin, resources: entry.length, observations, observationCodes: [...codes].sort() },
  };
}

/** The whole population, lazily: the shared Bundle, then one Bundle per patient from `from` on. */
export function* searchData(options: { seed?: number; patients: number; from?: number }): Generator<{ bundle: Bundle; summary?: PatientSummary }> {
  const seed = options.seed ?? DEFAULT_SEED;
  if (!options.from) yield { bundle: sharedBundle(seed) };
  for (let i = options.from ?? 0; i < options.patients; i++) yield patientBundle(seed, i);
}

/** The summaries alone (for a database loaded earlier): generates and drops each Bundle. */
export function describePatients(seed: number, patients: number): PatientSummary[] {
  return Array.from({ length: patients }, (_, i) => patientBundle(seed, i).summary);
}

// ---------------------------------------------------------------------------------------------
// Small builders

/** The name in characters, then in pinyin (marked as the syllabic rendering, as HL7 China does). */
function names(family: string, familyPinyin: string, given: string, givenPinyin: string): HumanName[] {
  return [
    { use: 'official', text: family + given, family, given: [given] },
    {
      extension: [{ url: EN_REPRESENTATION, valueCode: 'SYL' }],
      use: 'official',
      text: `${familyPinyin} ${givenPinyin}`,
      family: familyPinyin,
      given: [givenPinyin],
    },
  ];
}

/** One or two characters, as Chinese given names are. */
function givenName(rng: Prng, gender: 'male' | 'female'): [string, string] {
  const chars = rng.chance(0.8) ? [rng.pick(GIVEN_CHARS[gender]), rng.pick(GIVEN_CHARS[gender])] : [rng.pick(GIVEN_CHARS[gender])];
  const pinyin = chars.map(([, p]) => p).join('');
  return [chars.map(([c]) => c).join(''), pinyin[0].toUpperCase() + pinyin.slice(1)];
}

function observation(
  context: Pick<Observation, 'subject' | 'encounter' | 'effectiveDateTime' | 'issued'>,
  category: string,
  code: string,
  display: string,
  value?: Quantity,
): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [cc(OBS_CATEGORY, category, category === 'vital-signs' ? 'Vital Signs' : category === 'laboratory' ? 'Laboratory' : 'Social History')],
    code: loinc(code, display),
    ...context,
    ...(value ? { valueQuantity: value } : {}),
  };
}

function cc(system: string, code: string, display?: string): CodeableConcept {
  return { coding: [{ system, code, ...(display ? { display } : {}) }], ...(display ? { text: display } : {}) };
}

function loinc(code: string, display: string): CodeableConcept {
  return cc(LOINC, code, display);
}

function quantity(value: number, unit: string): Quantity {
  return { value, unit, system: UCUM, code: unit };
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** A deterministic, bundle-unique urn:uuid: patient index and entry number, in hex. */
function urn(index: number, entry: number): string {
  const hex = (n: number, width: number) => (n >>> 0).toString(16).padStart(width, '0');
  return `urn:uuid:${hex(index, 8)}-5eac-4000-8000-${hex(entry, 12)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const DAY_MS = 86_400_000;

function dayNumber(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

/** A dateTime on day `day` at `minute` past midnight, China Standard Time. */
function instant(day: number, minute: number): string {
  return `${new Date(day * DAY_MS + minute * 60_000).toISOString().slice(0, 16)}:00+08:00`;
}

/** `at` (an instant as `instant` writes it) plus `minutes`, in the same form. */
function instantPlus(at: string, minutes: number): string {
  const local = Date.parse(`${at.slice(0, 19)}Z`) + minutes * 60_000;
  return `${new Date(local).toISOString().slice(0, 19)}+08:00`;
}
