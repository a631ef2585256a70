import { randomBytes } from 'node:crypto';
import type { Bundle, Encounter, Patient } from '@medplum/fhirtypes';
import type { Hub } from '../app.js';
import { processBundle } from '../fhir/bundle/process.js';
import { isResidentIdSystem } from '../fhir/identity/resident-id.js';
import { buildDemoDistrict } from './district.js';

/** Loads the demo district into an empty database; leaves a database with data alone. */
export async function loadDemoIfEmpty(hub: Hub, base: string, say: (line: string) => void): Promise<void> {
  const [row] = await hub.db.query<{ n: number }>("select count(*)::int as n from resource where type = 'Patient'");
  if (Number(row.n) > 0) {
    say(`Demo data: skipped, the database already holds ${row.n} patients.`);
    return;
  }
  const bundle = buildDemoDistrict();
  const response = await processBundle(hub.context(base), bundle);
  say(`Demo data: loaded ${bundle.entry?.length ?? 0} resources (institutions, practitioners, residents and their records).`);
  await createDemoAccounts(hub, response, say);
}

/**
 * Two accounts to try the sign-in with: a resident and the doctor who saw them. Passwords are
 * random, made for this data directory and printed once; nothing secret is in the repository.
 */
async function createDemoAccounts(hub: Hub, response: Bundle, say: (line: string) => void): Promise<void> {
  const encounter = response.entry?.map((e) => e.resource).find((r): r is Encounter => r?.resourceType === 'Encounter');
  const patientRef = encounter?.subject?.reference;
  const doctorRef = encounter?.participant?.[0]?.individual?.reference;
  if (!patientRef || !doctorRef) return;
  const patient = (await hub.repo.read('Patient', patientRef.split('/')[1])) as Patient;
  const idNumber = patient.identifier?.find((i) => isResidentIdSystem(i.system));
  const password = () => `Demo-${randomBytes(9).toString('base64url')}`;
  const resident = { username: 'resident', password: password() };
  const doctor = { username: 'doctor', password: password() };
  await hub.auth.users.create({ ...resident, role: 'resident', fhirUser: patientRef, identity: idNumber?.system && idNumber.value ? { system: idNumber.system, value: idNumber.value } : undefined });
  await hub.auth.users.create({ ...doctor, role: 'doctor', fhirUser: doctorRef });
  say('Demo accounts (shown once; they exist only in this data directory):');
  say(`  resident  ${resident.username} / ${resident.password}  (${patientRef}, ${patient.name?.[0]?.text ?? ''})`);
  say(`  doctor    ${doctor.username} / ${doctor.password}  (${doctorRef}, who saw that resident)`);
}
