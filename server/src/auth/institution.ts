// Registering an institution's system (an admin action): the Organization it speaks for — with
// its medical institution practising licence number (医疗机构执业许可证登记号) and unified social
// credit code (统一社会信用代码, GB 32100-2015) as identifiers — and its OAuth client.
import type { Organization } from '@medplum/fhirtypes';

export const LICENCE_SYSTEM = 'https://suhe.example.cn/fhir/sid/medical-institution-licence';
export const USCC_SYSTEM = 'https://suhe.example.cn/fhir/sid/unified-social-credit-code';

// GB 32100-2015: 18 characters from this alphabet (no I, O, S, V, Z); the last is a check character.
const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** Why `code` is not a valid unified social credit code, or undefined. */
export function usccProblem(code: string): string | undefined {
  if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(code)) return 'a unified social credit code has 18 characters (digits and capitals except I, O, S, V, Z)';
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(code[i]) * USCC_WEIGHTS[i];
  const expected = USCC_ALPHABET[(31 - (sum % 31)) % 31];
  return code[17] === expected ? undefined : `the check character of ${code} should be ${expected}`;
}

export interface InstitutionInput {
  name: string;
  licenceNumber: string;
  creditCode: string;
  /** e.g. 'prov' (healthcare provider); kept as Organization.type */
  kind?: string;
}

export function institutionProblems(input: Partial<InstitutionInput>): string[] {
  const problems: string[] = [];
  if (!input.name?.trim()) problems.push('organization.name is required');
  if (!input.licenceNumber?.trim()) problems.push('organization.licenceNumber (医疗机构执业许可证登记号) is required');
  if (!input.creditCode) problems.push('organization.creditCode (统一社会信用代码) is required');
  else {
    const bad = usccProblem(input.creditCode);
    if (bad) problems.push(`organization.creditCode: ${bad}`);
  }
  return problems;
}

export function institutionOrganization(input: InstitutionInput): Organization {
  return {
    resourceType: 'Organization',
    active: true,
    name: input.name.trim(),
    identifier: [
      { system: LICENCE_SYSTEM, value: input.licenceNumber.trim() },
      { system: USCC_SYSTEM, value: input.creditCode },
    ],
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: input.kind ?? 'prov' }] }],
  };
}

/** A valid code for tests and the demo: the check character computed for 17 given characters. */
export function makeUscc(first17: string): string {
  if (!/^[0-9A-HJ-NPQRTUWXY]{17}$/.test(first17)) throw new Error('makeUscc needs the first 17 characters of a unified social credit code');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(first17[i]) * USCC_WEIGHTS[i];
  return first17 + USCC_ALPHABET[(31 - (sum % 31)) % 31];
}
