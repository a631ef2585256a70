// IH-07: a child under `rules.guardianUnderAge` needs a guardian and a relevant doctor present.
// FHIR birth dates may be partial (YYYY or YYYY-MM); a rule that protects children must not let a
// child through because the day is unknown, so the age counted is the youngest the patient can
// be: a partial date is read as its last possible day.
export function youngestAge(birthDate: string, today: Date): number {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(birthDate);
  if (!m) throw new Error(`'${birthDate}' is not a FHIR date`);
  const year = Number(m[1]);
  const month = m[2] ? Number(m[2]) : 12;
  const day = m[3] ? Number(m[3]) : new Date(Date.UTC(year, month, 0)).getUTCDate();
  let age = today.getUTCFullYear() - year;
  const monthNow = today.getUTCMonth() + 1;
  if (monthNow < month || (monthNow === month && today.getUTCDate() < day)) age--;
  return age;
}

/** Whether a patient born on `birthDate` is younger than `underAge` years today. */
export function needsGuardian(birthDate: string, underAge: number, today: Date): boolean {
  return youngestAge(birthDate, today) < underAge;
}
