// Teleconsultation as a care relationship, for the access policy (auth/policy.ts, wired in
// app.ts): while a consult Task is under way (accepted, in progress, on hold), the consultant who
// owns it (their Practitioner or PractitionerRole) sees the patient's record and imaging; reads
// are audited with purpose TREAT and the reason "teleconsultation Task/<id>". Before acceptance
// the Task is owned by the invited institution, which opens the record to nobody; once the
// consult is completed, cancelled or declined, the relationship is gone at the next request.
import type { Task } from '@medplum/fhirtypes';
import type { FhirRepository } from '../../fhir/repository.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { CONSULT_CODE, UNDER_WAY } from './codes.js';
import { patientOf } from './consult-store.js';

export interface ConsultRelationship {
  patient: string;
  purpose: { code: string; reason: string };
}

/** The patients of the consults under way that these actors (a clinician, their roles) own. */
export async function consultRelationships(repo: FhirRepository, actors: string[]): Promise<ConsultRelationship[]> {
  const people = actors.filter((a) => /^(Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/.test(a));
  if (!people.length) return [];
  const query: [string, string][] = [
    ['owner', people.join(',')],
    ['code', `${CONSULT_CODE.system}|${CONSULT_CODE.code}`],
    ['status', UNDER_WAY.join(',')],
  ];
  const out: ConsultRelationship[] = [];
  for (const task of await searchAll<Task>(repo, 'Task', query)) {
    const patient = patientOf(task);
    if (patient) out.push({ patient, purpose: { code: 'TREAT', reason: `teleconsultation Task/${task.id}` } });
  }
  return out;
}
