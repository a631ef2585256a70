// The hub side of the viewer benchmark, set up over the hub's own HTTP API with the bootstrap
// admin client's token, as test/helpers/reading-hub.ts does for the browser tests: the CT series
// stored by STOW-RS, a doctor (a Practitioner with an account and no care relationship), and the
// study shared with that Practitioner — the imaging cloud's way of letting a remote reader read it.
import { readFile } from 'node:fs/promises';
import type { BootstrapClient } from '../../test/helpers/auth.js';
import { clientCredentialsToken } from '../../test/helpers/auth.js';
import { newPassword } from '../../test/helpers/people.js';
import { call, stowBody, stowOutcome } from './dicom-http.js';
import type { SeriesFiles } from './dicom-series.js';

const STOW_BATCH = 20;

export interface Doctor {
  username: string;
  password: string;
  /** As the viewer's top bar shows it once it has read the Practitioner. */
  displayName: string;
}

async function adminPost(url: string, token: string, body: unknown, contentType = 'application/json'): Promise<Record<string, unknown>> {
  const reply = await call(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: [Buffer.from(JSON.stringify(body))], keepBody: true }, [200, 201]);
  return JSON.parse(reply.text || '{}') as Record<string, unknown>;
}

/** Stores the series by STOW-RS, STOW_BATCH instances per request; fails unless every instance is stored. */
export async function storeSeries(hubUrl: string, admin: BootstrapClient, series: SeriesFiles): Promise<void> {
  const token = await clientCredentialsToken(hubUrl, admin);
  for (let i = 0; i < series.paths.length; i += STOW_BATCH) {
    const objects = await Promise.all(series.paths.slice(i, i + STOW_BATCH).map((p) => readFile(p)));
    const { body, contentType } = stowBody(objects);
    const reply = await call(`${hubUrl}/dicomweb/studies`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType, accept: 'application/dicom+json' }, body, keepBody: true });
    const outcome = stowOutcome(reply.text);
    if (outcome.stored !== objects.length) throw new Error(`STOW-RS stored ${outcome.stored} of ${objects.length} (${outcome.failed} failed; ${outcome.firstFailure ?? 'no reason given'})`);
  }
}

/** A reading doctor with an account, and the study shared with them. */
export async function createDoctor(hubUrl: string, admin: BootstrapClient, studyUid: string): Promise<Doctor> {
  const token = await clientCredentialsToken(hubUrl, admin);
  const name = { family: 'Bench', given: ['Reader'] };
  const practitioner = await adminPost(`${hubUrl}/fhir/Practitioner`, token, { resourceType: 'Practitioner', name: [name] }, 'application/fhir+json');
  const practitionerId = String(practitioner.id);
  const doctor = { username: 'bench-reader', password: newPassword(), displayName: 'Reader Bench' };
  await adminPost(`${hubUrl}/oauth2/users`, token, { username: doctor.username, password: doctor.password, role: 'doctor', fhirUser: `Practitioner/${practitionerId}` });
  await adminPost(`${hubUrl}/imaging/studies/${studyUid}/shares`, token, { kind: 'practitioner', recipient: `Practitioner/${practitionerId}` });
  return doctor;
}
