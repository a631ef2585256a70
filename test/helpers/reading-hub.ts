// A hub ready for the viewer's browser tests: DICOM files stored over STOW-RS, and a remote
// reading doctor (a Practitioner with an account, no care relationship) to whom every stored
// study is shared — the imaging cloud's way of giving a remote reader access.
import { expect } from '@jest/globals';
import { stowBody } from './dicom.js';
import { startTestHub, type TestHub } from './hub.js';
import { createAccount, newPassword } from './people.js';

export interface ReadingDoctor {
  username: string;
  password: string;
  practitionerId: string;
}

export async function storeStudies(t: TestHub, files: string[]): Promise<void> {
  const { body, contentType } = stowBody(files);
  const stored = await t.fetch(`${t.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) });
  expect(stored.status).toBe(200);
}

export async function createReadingDoctor(t: TestHub, username: string, name: { family: string; given: string[] } = { family: '林', given: ['影像'] }): Promise<ReadingDoctor> {
  const practitioner = await t.fetch(`${t.base}/Practitioner`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Practitioner', name: [name] }),
  });
  const practitionerId = ((await practitioner.json()) as { id: string }).id;
  const doctor = { username, password: newPassword(), practitionerId };
  await createAccount(t, { username, password: doctor.password, role: 'doctor', fhirUser: `Practitioner/${practitionerId}` });
  return doctor;
}

/** Shares every study on the hub with the practitioner; answers the study UIDs. */
export async function shareAllStudiesWith(t: TestHub, practitionerId: string): Promise<string[]> {
  const studies = (await (await t.fetch(`${t.url}/dicomweb/studies`)).json()) as Record<string, { Value: string[] }>[];
  const uids = studies.map((s) => s['0020000D'].Value[0]);
  for (const uid of uids) {
    const share = await t.fetch(`${t.url}/imaging/studies/${uid}/shares`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'practitioner', recipient: `Practitioner/${practitionerId}` }),
    });
    expect(share.status).toBe(201);
  }
  return uids;
}

/**
 * A hub on PGlite with these DICOM files stored and a remote reading doctor (created with
 * `username`) to whom every study is shared: the start of each viewer browser suite.
 */
export async function startReadingHub(files: string[], username: string): Promise<{ t: TestHub; reader: ReadingDoctor }> {
  const t = await startTestHub('pglite');
  await storeStudies(t, files);
  const reader = await createReadingDoctor(t, username);
  await shareAllStudiesWith(t, reader.practitionerId);
  return { t, reader };
}
