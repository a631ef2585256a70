// A small, fully synthetic demo district (苏河区) as one FHIR R4 transaction Bundle:
// 3 institutions, 6 practitioners with their roles, 20 residents, and for each resident one
// outpatient Encounter with a Condition (ICD-10) and 1-3 Observations.
//
// Deterministic: everything random comes from a seeded PRNG (no Math.random, no clock), so two
// calls return deep-equal bundles. Every resource validates against base R4 (@medplum/core
// validateResource) and every Patient against the cn-patient profile; every resident ID number
// is valid (ID-01) and agrees with the Patient's gender and birthDate.
import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  Condition,
  Encounter,
  HumanName,
  Identifier,
  Observation,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Quantity,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { RESIDENT_ID_SYSTEMS, makeResidentId } from '../fhir/identity/resident-id.js';
import { INSTITUTION_LICENCE } from '../modules/home-nursing/codes.js';
import { communityCatalogue } from './community-catalogue.js';

export const CN_PATIENT_PROFILE_URL = 'http://suhe.example.cn/fhir/StructureDefinition/cn-patient';

/** Default PRNG seed; another seed gives another (equally valid) district. */
export const DEMO_SEED = 20250630;
/** The demo's "today": ages and visit dates are relative to this fixed day, never to the clock. */
export const DEMO_AS_OF = '2025-06-30';
export const DEMO_RESIDENT_COUNT = 20;

export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';
export const LOINC_SYSTEM = 'http://loinc.org';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';

/** LOINC codes used by the demo observations. */
export const DEMO_LOINC = {
  bloodPressurePanel: '85354-9',
  systolic: '8480-6',
  diastolic: '8462-4',
  /** Fasting glucose [Moles/volume] in Serum or Plasma: the mmol/L code (1558-6 is the mg/dL one). */
  fastingGlucoseMolar: '14771-0',
  bodyTemperature: '8310-5',
} as const;

/** ICD-10 diagnoses used by the demo (GB/T 14396 national clinical edition, 3/4-char level). */
export const DEMO_DIAGNOSES = {
  hypertension: { code: 'I10', display: '特发性(原发性)高血压' },
  type2Diabetes: { code: 'E11.9', display: '2型糖尿病,不伴有并发症' },
  acuteUri: { code: 'J06.9', display: '急性上呼吸道感染' },
} as const;
type DiagnosisKey = keyof typeof DEMO_DIAGNOSES;

const SID = 'http://suhe.example.cn/fhir/sid';
const CS = 'http://suhe.example.cn/fhir/CodeSystem';
const [WS_T500_SYSTEM, HL7_CN_SYSTEM] = RESIDENT_ID_SYSTEMS;

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32) and helpers

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
  /** Decimal in [min, max] rounded to `places`. */
  decimal(min: number, max: number, places: number): number {
    const f = 10 ** places;
    return Math.round((min + this.next() * (max - min)) * f) / f;
  }
  /** RFC 4122 version-4-shaped UUID built from the PRNG. */
  uuid(): string {
    const hex: string[] = [];
    for (let i = 0; i < 16; i++) {
      let byte = this.int(0, 255);
      if (i === 6) byte = (byte & 0x0f) | 0x40;
      if (i === 8) byte = (byte & 0x3f) | 0x80;
      hex.push(byte.toString(16).padStart(2, '0'));
    }
    const h = hex.join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Dates (computed on UTC Date objects that stand for Beijing local time; output carries +08:00)

function parseDay(day: string): Date {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}
const pad2 = (n: number): string => String(n).padStart(2, '0');
function formatDay(d: Date): string {
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}
function formatLocalDateTime(d: Date): string {
  return `${formatDay(d)}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:00+08:00`;
}
function addMinutes(d: Date, minutes: number): Date {
  return new Date(d.getTime() + minutes * 60_000);
}
function addDays(d: Date, days: number): Date {
  return addMinutes(d, days * 1440);
}
function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

// ---------------------------------------------------------------------------------------------
// Static demo content

interface InstitutionSpec {
  key: string;
  name: string;
  alias: string;
  code: string;
  category: { code: string; display: string };
  phone: string;
  line: string;
}

const INSTITUTIONS: readonly InstitutionSpec[] = [
  {
    key: 'district-hospital',
    name: '苏河区中心医院',
    alias: '区中心医院',
    code: 'SH-SH-H001',
    category: { code: 'district-hospital', display: '区级综合医院' },
    phone: '021-62500100',
    line: '长寿路 288 号',
  },
  {
    key: 'community-centre',
    name: '苏河区江宁路街道社区卫生服务中心',
    alias: '江宁路社区卫生服务中心',
    code: 'SH-SH-C011',
    category: { code: 'community-health-centre', display: '社区卫生服务中心' },
    phone: '021-62500211',
    line: '江宁路 905 号',
  },
  {
    key: 'private-clinic',
    name: '苏河仁和门诊部',
    alias: '仁和门诊部',
    code: 'SH-SH-P031',
    category: { code: 'private-clinic', display: '民营诊所' },
    phone: '021-62500388',
    line: '西康路 66 号',
  },
];

type Profession = 'doctor' | 'nurse';
interface PractitionerSpec {
  key: string;
  family: string;
  given: string;
  gender: 'male' | 'female';
  institution: string;
  profession: Profession;
  title: { code: string; display: string };
  specialty: string;
  licensedSince: string;
  /** Diagnoses this doctor typically handles at a multi-department institution. */
  handles: readonly DiagnosisKey[];
}

const PRACTITIONERS: readonly PractitionerSpec[] = [
  {
    key: 'chen-zhiming',
    family: '陈',
    given: '志明',
    gender: 'male',
    institution: 'district-hospital',
    profession: 'doctor',
    title: { code: 'chief-physician', display: '主任医师' },
    specialty: '心血管内科',
    licensedSince: '1998-09-01',
    handles: ['hypertension', 'acuteUri'],
  },
  {
    key: 'liu-huimin',
    family: '刘',
    given: '慧敏',
    gender: 'female',
    institution: 'district-hospital',
    profession: 'doctor',
    title: { code: 'associate-chief-physician', display: '副主任医师' },
    specialty: '内分泌科',
    licensedSince: '2006-08-15',
    handles: ['type2Diabetes', 'acuteUri'],
  },
  {
    key: 'sun-li',
    family: '孙',
    given: '丽',
    gender: 'female',
    institution: 'district-hospital',
    profession: 'nurse',
    title: { code: 'nurse-in-charge', display: '主管护师' },
    specialty: '门诊部',
    licensedSince: '2009-07-01',
    handles: [],
  },
  {
    key: 'wang-jianhua',
    family: '王',
    given: '建华',
    gender: 'male',
    institution: 'community-centre',
    profession: 'doctor',
    title: { code: 'attending-physician', display: '主治医师' },
    specialty: '全科医学科',
    licensedSince: '2011-10-10',
    handles: ['hypertension', 'type2Diabetes', 'acuteUri'],
  },
  {
    key: 'zhou-ting',
    family: '周',
    given: '婷',
    gender: 'female',
    institution: 'community-centre',
    profession: 'nurse',
    title: { code: 'nurse', display: '护师' },
    specialty: '社区护理',
    licensedSince: '2015-06-20',
    handles: [],
  },
  {
    key: 'wu-junjie',
    family: '吴',
    given: '俊杰',
    gender: 'male',
    institution: 'private-clinic',
    profession: 'doctor',
    title: { code: 'attending-physician', display: '主治医师' },
    specialty: '全科医学科',
    licensedSince: '2013-03-01',
    handles: ['hypertension', 'type2Diabetes', 'acuteUri'],
  },
];

const FAMILY_NAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '高', '罗'];
/** Given names by sex and generation (born before 1975 / from 1975). */
const GIVEN_NAMES = {
  male: {
    older: ['建国', '国华', '德明', '永庆', '志强', '文斌', '建军', '海峰'],
    younger: ['浩然', '子轩', '俊杰', '宇航', '博文', '磊', '伟', '一鸣'],
  },
  female: {
    older: ['秀英', '玉兰', '桂英', '凤英', '美玲', '雪梅', '淑珍', '丽华'],
    younger: ['欣怡', '梓涵', '佳慧', '婷', '静', '敏', '思琪', '雨桐'],
  },
} as const;
/** Birth-registration area codes: mostly Shanghai urban districts, a few from elsewhere. */
const AREA_CODES = ['310101', '310104', '310104', '310105', '310106', '310106', '310107', '320102', '330106', '110105'];
const STREETS = ['江宁路', '昌平路', '西康路', '武定路', '康定路', '长寿路', '常德路', '胶州路'];
/** Age bands cycled over residents so the demo always has children, adults and 65+ (FD-01/04). */
const AGE_BANDS: readonly [number, number][] = [
  [65, 92],
  [35, 64],
  [45, 70],
  [18, 34],
  [0, 14],
];

// ---------------------------------------------------------------------------------------------
// Builders

interface Entry {
  fullUrl: string;
  resource: Resource;
}

function cc(text: string, ...coding: { system: string; code: string; display?: string }[]): CodeableConcept {
  return coding.length ? { coding, text } : { text };
}

function ucum(value: number, unit: string, code: string): Quantity {
  return { value, unit, system: UCUM_SYSTEM, code };
}

function humanName(family: string, given: string): HumanName {
  return { use: 'official', text: family + given, family, given: [given] };
}

/**
 * Builds the demo district as a FHIR transaction Bundle (entries `POST <Type>` with `urn:uuid:`
 * fullUrls, referencing each other by those fullUrls). Same seed, same bundle.
 */
export function buildDemoDistrict(seed: number = DEMO_SEED): Bundle {
  const rng = new Rng(seed);
  const entries: Entry[] = [];
  const add = <T extends Resource>(resource: T): Reference<T> => {
    const fullUrl = `urn:uuid:${rng.uuid()}`;
    entries.push({ fullUrl, resource });
    return { reference: fullUrl } as Reference<T>;
  };

  // Institutions
  const orgRefs = new Map<string, Reference<Organization>>();
  for (const inst of INSTITUTIONS) {
    const org: Organization = {
      resourceType: 'Organization',
      active: true,
      identifier: [
        { use: 'official', system: `${SID}/institution`, value: inst.code },
        // NU-02: the practice licence (医疗机构执业许可证) home nursing asks of a provider.
        { system: INSTITUTION_LICENCE, value: `PDY${inst.code.replace(/\W/g, '')}` },
      ],
      type: [
        cc(
          inst.category.display,
          { system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' },
          { system: `${CS}/institution-category`, code: inst.category.code, display: inst.category.display },
        ),
      ],
      name: inst.name,
      alias: [inst.alias],
      telecom: [{ system: 'phone', value: inst.phone, use: 'work' }],
      address: [
        {
          use: 'work',
          type: 'physical',
          text: `上海市苏河区${inst.line}`,
          line: [inst.line],
          city: '上海市',
          district: '苏河区',
          state: '上海市',
          country: 'CN',
        },
      ],
    };
    orgRefs.set(inst.key, add(org));
  }

  // Practitioners and their roles
  const practitionerRefs = new Map<string, Reference<Practitioner>>();
  for (const p of PRACTITIONERS) {
    const doctor = p.profession === 'doctor';
    const practitioner: Practitioner = {
      resourceType: 'Practitioner',
      active: true,
      identifier: [
        {
          use: 'official',
          system: `${SID}/${doctor ? 'physician' : 'nurse'}-practising-certificate`,
          value: rng.digits(doctor ? 15 : 12),
        },
      ],
      name: [humanName(p.family, p.given)],
      telecom: [{ system: 'phone', value: `021-625${rng.digits(5)}`, use: 'work' }],
      gender: p.gender,
      qualification: [
        {
          code: cc(
            doctor ? '执业医师' : '注册护士',
            doctor
              ? { system: 'http://terminology.hl7.org/CodeSystem/v2-0360', code: 'MD', display: 'Doctor of Medicine' }
              : { system: 'http://terminology.hl7.org/CodeSystem/v2-0360', code: 'RN', display: 'Registered Nurse' },
            {
              system: `${CS}/practitioner-licence`,
              code: doctor ? 'licensed-physician' : 'registered-nurse',
              display: doctor ? '执业医师' : '注册护士',
            },
          ),
          period: { start: p.licensedSince },
        },
        { code: cc(p.title.display, { system: `${CS}/professional-title`, code: p.title.code, display: p.title.display }) },
      ],
    };
    const ref = add(practitioner);
    practitionerRefs.set(p.key, ref);
    const role: PractitionerRole = {
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: ref,
      organization: orgRefs.get(p.institution),
      code: [
        cc(doctor ? '医生' : '护士', {
          system: 'http://terminology.hl7.org/CodeSystem/practitioner-role',
          code: p.profession,
          display: doctor ? 'Doctor' : 'Nurse',
        }),
      ],
      specialty: [cc(p.specialty)],
    };
    add(role);
  }

  // Residents and their records
  const asOf = parseDay(DEMO_AS_OF);
  const asOfYear = asOf.getUTCFullYear();
  const usedIds = new Set<string>();
  const usedNames = new Set<string>();
  for (let i = 0; i < DEMO_RESIDENT_COUNT; i++) {
    // Sex alternates and the age band cycles (period 5), so every band has both sexes.
    const gender: 'male' | 'female' = i % 2 === 0 ? 'female' : 'male';
    const [minAge, maxAge] = AGE_BANDS[i % AGE_BANDS.length];
    const age = rng.int(minAge, maxAge);
    const birthYear = asOfYear - age - 1;
    const birthMonth = rng.int(1, 12);
    const birthDate = `${birthYear}-${pad2(birthMonth)}-${pad2(rng.int(1, daysInMonth(birthYear, birthMonth)))}`;

    let family: string;
    let given: string;
    do {
      family = rng.pick(FAMILY_NAMES);
      given = rng.pick(GIVEN_NAMES[gender][birthYear < 1975 ? 'older' : 'younger']);
    } while (usedNames.has(family + given));
    usedNames.add(family + given);

    let residentId: string;
    do {
      const sequence = rng.int(0, 499) * 2 + (gender === 'male' ? 1 : 0);
      residentId = makeResidentId(rng.pick(AREA_CODES), birthDate, sequence);
    } while (usedIds.has(residentId));
    usedIds.add(residentId);

    // Where and why the resident was seen
    const adult = age >= 35;
    const r = rng.next();
    const diagnosis: DiagnosisKey = !adult ? 'acuteUri' : r < 0.5 ? 'hypertension' : r < 0.85 ? 'type2Diabetes' : 'acuteUri';
    const institution = rng.pick(
      diagnosis === 'acuteUri'
        ? ['community-centre', 'private-clinic', 'district-hospital']
        : ['community-centre', 'community-centre', 'district-hospital', 'private-clinic'],
    );
    const doctors = PRACTITIONERS.filter(
      (p) => p.institution === institution && p.profession === 'doctor' && p.handles.includes(diagnosis),
    );
    const doctor = rng.pick(doctors);
    const doctorRef = practitionerRefs.get(doctor.key)!;
    const orgRef = orgRefs.get(institution)!;

    const street = rng.pick(STREETS);
    const line = `${street}${rng.int(1, 999)}弄${rng.int(1, 40)}号${rng.int(1, 6)}0${rng.int(1, 4)}室`;
    const identifier: Identifier[] = [
      {
        use: 'official',
        type: { text: '居民身份证号码' },
        // ID-02: both OIDs are in use; every fourth resident comes from a WS/T 500 (CDA) source.
        system: i % 4 === 3 ? WS_T500_SYSTEM : HL7_CN_SYSTEM,
        value: residentId,
      },
      {
        use: 'usual',
        type: cc('病案号', { system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical record number' }),
        system: `${SID}/mrn/${institution}`,
        value: `MR${rng.digits(8)}`,
      },
    ];
    const patient: Patient = {
      resourceType: 'Patient',
      meta: { profile: [CN_PATIENT_PROFILE_URL] },
      active: true,
      identifier,
      name: [humanName(family, given)],
      telecom: [{ system: 'phone', value: `1${rng.pick(['35', '36', '37', '38', '39', '58', '59', '86', '88'])}${rng.digits(8)}`, use: 'mobile' }],
      gender,
      birthDate,
      address: [
        {
          use: 'home',
          type: 'physical',
          text: `上海市苏河区${line}`,
          line: [line],
          city: '上海市',
          district: '苏河区',
          state: '上海市',
          postalCode: '200040',
          country: 'CN',
        },
      ],
      communication: [
        { language: cc('中文', { system: 'urn:ietf:bcp:47', code: 'zh-CN', display: 'Chinese (China)' }), preferred: true },
      ],
    };
    const patientRef = add(patient);

    // One outpatient visit within the year before DEMO_AS_OF
    const visitDay = addDays(asOf, -rng.int(10, 360));
    const start = addMinutes(visitDay, 8 * 60 + rng.int(0, 17) * 30);
    const end = addMinutes(start, rng.int(10, 40));
    const encounterUrl = `urn:uuid:${rng.uuid()}`;
    const conditionUrl = `urn:uuid:${rng.uuid()}`;
    const encounterRef = { reference: encounterUrl } as Reference<Encounter>;
    const encounter: Encounter = {
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
      type: [cc('门诊')],
      subject: patientRef,
      participant: [
        {
          type: [
            cc('接诊医生', {
              system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
              code: 'ATND',
              display: 'attender',
            }),
          ],
          individual: doctorRef,
        },
      ],
      period: { start: formatLocalDateTime(start), end: formatLocalDateTime(end) },
      diagnosis: [{ condition: { reference: conditionUrl }, rank: 1 }],
      serviceProvider: orgRef,
    };
    entries.push({ fullUrl: encounterUrl, resource: encounter });

    const dx = DEMO_DIAGNOSES[diagnosis];
    const chronic = diagnosis !== 'acuteUri';
    const condition: Condition = {
      resourceType: 'Condition',
      clinicalStatus: cc(chronic ? '活动' : '已痊愈', {
        system: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
        code: chronic ? 'active' : 'resolved',
      }),
      verificationStatus: cc('已确诊', {
        system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
        code: 'confirmed',
      }),
      category: [
        cc('就诊诊断', {
          system: 'http://terminology.hl7.org/CodeSystem/condition-category',
          code: 'encounter-diagnosis',
          display: 'Encounter Diagnosis',
        }),
      ],
      code: cc(dx.display, { system: ICD10_SYSTEM, code: dx.code, display: dx.display }),
      subject: patientRef,
      encounter: encounterRef,
      recordedDate: formatLocalDateTime(end),
      recorder: doctorRef,
    };
    if (chronic) {
      // Diagnosed some years ago, never before age 30 (the residents here are all 35+).
      const years = Math.min(rng.int(0, 12), age - 30);
      condition.onsetDateTime = `${visitDay.getUTCFullYear() - years}`;
    } else {
      condition.onsetDateTime = formatDay(addDays(visitDay, -rng.int(1, 4)));
      condition.abatementDateTime = formatDay(addDays(visitDay, rng.int(5, 10)));
    }
    entries.push({ fullUrl: conditionUrl, resource: condition });

    // Observations taken at the visit
    const effective = formatLocalDateTime(addMinutes(start, 5));
    const observationBase = {
      resourceType: 'Observation' as const,
      status: 'final' as const,
      subject: patientRef,
      encounter: encounterRef,
      effectiveDateTime: effective,
      performer: [doctorRef],
    };
    const vitalSigns = cc('生命体征', {
      system: 'http://terminology.hl7.org/CodeSystem/observation-category',
      code: 'vital-signs',
      display: 'Vital Signs',
    });
    const laboratory = cc('检验', {
      system: 'http://terminology.hl7.org/CodeSystem/observation-category',
      code: 'laboratory',
      display: 'Laboratory',
    });
    const bloodPressure = (): Observation => {
      const high = diagnosis === 'hypertension';
      const systolic = high ? rng.int(135, 172) : rng.int(100, 134);
      const diastolic = Math.min(high ? rng.int(82, 104) : rng.int(62, 86), systolic - 25);
      return {
        ...observationBase,
        category: [vitalSigns],
        code: cc('血压', {
          system: LOINC_SYSTEM,
          code: DEMO_LOINC.bloodPressurePanel,
          display: 'Blood pressure panel with all children optional',
        }),
        component: [
          {
            code: cc('收缩压', { system: LOINC_SYSTEM, code: DEMO_LOINC.systolic, display: 'Systolic blood pressure' }),
            valueQuantity: ucum(systolic, 'mmHg', 'mm[Hg]'),
          },
          {
            code: cc('舒张压', { system: LOINC_SYSTEM, code: DEMO_LOINC.diastolic, display: 'Diastolic blood pressure' }),
            valueQuantity: ucum(diastolic, 'mmHg', 'mm[Hg]'),
          },
        ],
      };
    };
    const fastingGlucose = (): Observation => ({
      ...observationBase,
      category: [laboratory],
      code: cc('空腹血糖', {
        system: LOINC_SYSTEM,
        code: DEMO_LOINC.fastingGlucoseMolar,
        display: 'Fasting glucose [Moles/volume] in Serum or Plasma',
      }),
      valueQuantity: ucum(diagnosis === 'type2Diabetes' ? rng.decimal(6.4, 11.8, 1) : rng.decimal(4.2, 6.0, 1), 'mmol/L', 'mmol/L'),
      referenceRange: [{ low: ucum(3.9, 'mmol/L', 'mmol/L'), high: ucum(6.1, 'mmol/L', 'mmol/L'), text: '3.9-6.1 mmol/L' }],
    });
    const bodyTemperature = (): Observation => ({
      ...observationBase,
      category: [vitalSigns],
      code: cc('体温', { system: LOINC_SYSTEM, code: DEMO_LOINC.bodyTemperature, display: 'Body temperature' }),
      valueQuantity: ucum(rng.decimal(37.3, 38.9, 1), '°C', 'Cel'),
    });

    const observations: Observation[] =
      diagnosis === 'hypertension'
        ? [bloodPressure(), ...(rng.next() < 0.4 ? [fastingGlucose()] : [])]
        : diagnosis === 'type2Diabetes'
          ? [fastingGlucose(), ...(rng.next() < 0.7 ? [bloodPressure()] : [])]
          : [bodyTemperature(), ...(age >= 14 && rng.next() < 0.5 ? [bloodPressure()] : [])];
    for (const observation of observations) add(observation);
  }

  // The community-care catalogue: a city hospital, family-doctor packages, home-nursing items.
  for (const resource of communityCatalogue()) add(resource);

  const entry: BundleEntry[] = entries.map(({ fullUrl, resource }) => ({
    fullUrl,
    resource,
    request: { method: 'POST', url: resource.resourceType },
  }));
  return { resourceType: 'Bundle', type: 'transaction', entry };
}
