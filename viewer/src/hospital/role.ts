// Who is signed in, for the internet hospital pages: the token's fhirUser says it —
// Patient/… is a resident, Practitioner/… a clinician; anyone else has no hospital pages.
export type HospitalRole = 'resident' | 'clinician';

export function hospitalRole(fhirUser: string | undefined): HospitalRole | undefined {
  if (!fhirUser) return undefined;
  if (/^Patient\/[A-Za-z0-9.-]{1,64}$/.test(fhirUser)) return 'resident';
  if (/^Practitioner\/[A-Za-z0-9.-]{1,64}$/.test(fhirUser)) return 'clinician';
  return undefined;
}
