// Community-care fixtures the family-doctor, home-nursing and hospice tests share: institutions of
// a given level (FD-05, NU-02), family-doctor service packages (FD-02), and confirmed diagnoses.
import type { TestHub } from './hub.js';
import { createResource } from './clinicians.js';

const CATEGORY = 'http://suhe.example.cn/fhir/CodeSystem/institution-category';
const LICENCE = 'https://suhe.example.cn/fhir/sid/medical-institution-licence';
const FD = 'https://suhe.example.cn/fhir/CodeSystem/family-doctor';

export type InstitutionCategory = 'community-health-centre' | 'district-hospital' | 'city-hospital' | 'private-clinic';

/** An active Organization of that level; `licensed` adds the practice licence home nursing asks for (NU-02). */
export async function createInstitution(t: TestHub, name: string, category: InstitutionCategory, options: { licensed?: boolean } = {}): Promise<string> {
  return (await createResource(t, {
    resourceType: 'Organization', name, active: true, type: [{ coding: [{ system: CATEGORY, code: category }] }],
    ...(options.licensed ? { identifier: [{ system: LICENCE, value: `PDY-${name}` }] } : {}),
  })).id;
}

/** A family-doctor service package (PlanDefinition) with its yearly price in CNY. */
export async function createPackage(t: TestHub, kind: 'basic-package' | 'personalised-package', title: string, price: number): Promise<string> {
  return (await createResource(t, {
    resourceType: 'PlanDefinition', status: 'active', title, type: { coding: [{ system: FD, code: kind }] },
    extension: [{ url: 'https://suhe.example.cn/fhir/StructureDefinition/package-price', valueMoney: { value: price, currency: 'CNY' } }],
    action: [{ title: '健康评估' }, { title: '慢病随访' }],
  })).id;
}

/** An active, confirmed ICD-10 diagnosis of the patient. */
export async function createDiagnosis(t: TestHub, patient: string, code: string, display?: string, recordedDate?: string): Promise<string> {
  return (await createResource(t, {
    resourceType: 'Condition', subject: { reference: patient }, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code, ...(display ? { display } : {}) }] },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    ...(recordedDate ? { recordedDate } : {}),
  })).id;
}
