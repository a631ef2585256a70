// Who is signed in, for the internet hospital pages: the token's fhirUser says it —
// Patient/… is a resident, Practitioner/… a clinician (a pharmacist when the account's role is
// 'pharmacist'); anyone else has no hospital pages. The hub checks every request itself.
export type HospitalRole = 'resident' | 'clinician' | 'pharmacist';

export function hospitalRole(fhirUser: string | undefined, accountRole?: string): HospitalRole | undefined {
  if (!fhirUser) return undefined;
  if (/^Patient\/[A-Za-z0-9.-]{1,64}$/.test(fhirUser)) return 'resident';
  if (/^Practitioner\/[A-Za-z0-9.-]{1,64}$/.test(fhirUser)) return accountRole === 'pharmacist' ? 'pharmacist' : 'clinician';
  return undefined;
}

/** Residents and pharmacists open on the hospital pages; clinicians on the image worklist. */
export function homeIsHospital(role: HospitalRole | undefined): boolean {
  return role === 'resident' || role === 'pharmacist';
}

/** Who is signed in, for the home-nursing pages: a resident, a nurse (account role nurse) or another clinician (doctor). */
export type NursingRole = 'resident' | 'nurse' | 'doctor';

export function nursingRole(fhirUser: string | undefined, accountRole?: string): NursingRole | undefined {
  const role = hospitalRole(fhirUser, accountRole);
  if (role === 'resident') return 'resident';
  if (role !== 'clinician') return undefined;
  return accountRole === 'nurse' ? 'nurse' : 'doctor';
}
