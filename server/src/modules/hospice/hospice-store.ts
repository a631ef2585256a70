// Reading a patient's hospice care: the active (or any) hospice EpisodeOfCare, its CareTeam and
// CarePlan, and who is on the team.
import type { CarePlan, CareTeam, EpisodeOfCare } from '@medplum/fhirtypes';
import { NotFound } from '../../fhir/errors.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { searchAll } from '../../fhir/search/search-all.js';
import { isHospice } from './hospice-codes.js';

export interface HospiceCare {
  episode: EpisodeOfCare;
  team: CareTeam;
  plan: CarePlan;
}

/** The hospice care of an episode (its team and plan). */
export async function careOf(repo: FhirRepository, episode: EpisodeOfCare): Promise<HospiceCare> {
  const teamId = episode.team?.[0]?.reference?.split('/')[1];
  const team = (await repo.read('CareTeam', teamId ?? '')) as CareTeam;
  const [plan] = (await searchAll<CarePlan>(repo, 'CarePlan', [['subject', episode.patient.reference!], ['care-team', `CareTeam/${team.id}`]]));
  if (!plan) throw new NotFound(`No hospice care plan for EpisodeOfCare/${episode.id}`);
  return { episode, team, plan };
}

/** The patient's hospice care under way, if any. */
export async function activeCare(repo: FhirRepository, patientId: string): Promise<HospiceCare | undefined> {
  const [episode] = (await searchAll<EpisodeOfCare>(repo, 'EpisodeOfCare', [['patient', `Patient/${patientId}`], ['status', 'active']])).filter((e) => isHospice(e.type));
  return episode ? careOf(repo, episode) : undefined;
}

/** Whether `actors` (a clinician, their roles) include a member of the team. */
export function onTeam(team: CareTeam, actors: readonly string[]): boolean {
  return !!team.participant?.some((p) => p.member?.reference && actors.includes(p.member.reference));
}
