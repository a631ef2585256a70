// The internet hospital's prescription pages in real headless Chromium: over the API a doctor
// registers their key and signs two prescriptions for a resident (a JWS made in Node, as in
// prescriptions.test.ts); the institution's pharmacist sees both in the review queue with the
// hub's signature check, is stopped by the page when rejecting without a reason, approves one and
// rejects the other with a reason; FHIR then shows the MedicationRequests active and cancelled,
// and the resident's "my prescriptions" shows one approved and one rejected with the reason.
import { generateKeyPairSync, sign } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MedicationRequest, Parameters, Task } from '@medplum/fhirtypes';
import { contentHash } from '../../server/src/fhir/content-hash.js';
import { type Browser, HANG_BOUND_MS, readableScreenshot, signedInBrowser } from '../helpers/browser.js';
import { asPerson, createClinician, createOrganization, createResident, createResource, type Person } from '../helpers/clinicians.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { chromiumUnavailable, REQUIRE_ALL } from '../helpers/parts.js';
import { viewerBuilt } from '../helpers/viewer-build.js';

const missing = await chromiumUnavailable();
if (missing && REQUIRE_ALL) throw new Error(`prescription pages: SUHE_TEST_REQUIRE_ALL=1 but ${missing}`);
if (missing) process.stdout.write(`SKIPPED (prescription pages): ${missing}\n`);
const suite = missing ? describe.skip : describe;

const SCREENSHOTS = resolve(new URL('../../docs/screenshots', import.meta.url).pathname);
const ATC = 'http://www.whocc.no/atc';
const ENALAPRIL = { coding: [{ system: ATC, code: 'C09AA02', display: 'enalapril' }], text: '依那普利片 10mg' };
const AMLODIPINE = { coding: [{ system: ATC, code: 'C08CA01', display: 'amlodipine' }], text: '苯磺酸氨氯地平片 5mg' };
const REJECT_REASON = '与患者正在服用的药物重复，请调整。';
const diagnostics = (body: unknown) => ((body as { issue?: { diagnostics?: string }[] })?.issue ?? []).map((i) => i.diagnostics).join(' | ');
const param = (body: Parameters, name: string) => body.parameter?.find((p) => p.name === name);

suite('the prescription pages (headless Chromium)', () => {
  let t: TestHub;
  let doctor: Person;
  let pharmacist: Person;
  let resident: Person;
  const prescriptions: { approve: string; reject: string; approveTask: string; rejectTask: string } = { approve: '', reject: '', approveTask: '', rejectTask: '' };
  const browsers: Browser[] = [];
  const read = async <T>(path: string) => (await (await t.fetch(`${t.base}/${path}`)).json()) as T;
  const signedIn = (person: Person, route = '') => signedInBrowser(t.url, person, browsers, route);

  beforeAll(async () => {
    await viewerBuilt();
    t = await startTestHub('pglite');
    const hospital = await createOrganization(t, '苏河区中心医院互联网医院');
    doctor = await createClinician(t, { username: 'rx-pages-doctor', organization: hospital, name: { family: '王', given: ['建国'] } });
    pharmacist = await createClinician(t, { username: 'rx-pages-pharmacist', role: 'pharmacist', organization: hospital, name: { family: '李', given: ['药师'] } });
    resident = await createResident(t, { username: 'rx-pages-resident', name: { family: '张', given: ['伟'] } });
    // The online visit that makes the doctor a treating doctor of the resident (IH-05).
    await createResource(t, {
      resourceType: 'Encounter', status: 'in-progress',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' },
      subject: { reference: resident.reference }, participant: [{ individual: { reference: doctor.reference } }],
      serviceProvider: { reference: `Organization/${hospital}` },
    });
    // The doctor's device: a key pair whose private half never leaves it; the hub gets the public JWK.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const as = asPerson(t, doctor);
    const registered = await as('POST', `Practitioner/${doctor.id}/$register-signing-key`, { resourceType: 'Parameters', parameter: [{ name: 'key', valueString: JSON.stringify(publicKey.export({ format: 'jwk' })) }] });
    expect([registered.status, diagnostics(registered.body)]).toEqual([200, '']);
    const kid = param(registered.body, 'kid')?.valueString;
    const signedPrescription = async (medication: typeof ENALAPRIL, dose: string) => {
      const drafted = await as('POST', 'MedicationRequest', {
        resourceType: 'MedicationRequest', status: 'draft', intent: 'order', medicationCodeableConcept: medication,
        subject: { reference: resident.reference }, requester: { reference: doctor.reference },
        authoredOn: new Date().toISOString().slice(0, 10), dosageInstruction: [{ text: dose }], dispenseRequest: { quantity: { value: 28, unit: '片' } },
      });
      expect([drafted.status, diagnostics(drafted.body)]).toEqual([201, '']);
      const request = drafted.body as MedicationRequest;
      const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ sub: doctor.reference, target: `MedicationRequest/${request.id}/_history/${request.meta!.versionId}`, sha256: contentHash(request), iat: Math.floor(Date.now() / 1000) })).toString('base64url');
      const jws = `${header}.${payload}.${sign('sha256', Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
      const signed = await as('POST', `MedicationRequest/${request.id}/$sign`, { resourceType: 'Parameters', parameter: [{ name: 'signature', valueString: jws }] });
      expect([signed.status, diagnostics(signed.body)]).toEqual([200, '']);
      return { id: request.id!, task: (param(signed.body, 'task')?.resource as Task).id! };
    };
    const first = await signedPrescription(ENALAPRIL, '每日一次，每次一片，口服');
    const second = await signedPrescription(AMLODIPINE, '每日一次，每次半片，口服');
    Object.assign(prescriptions, { approve: first.id, approveTask: first.task, reject: second.id, rejectTask: second.task });
  }, 180_000);

  afterAll(async () => {
    for (const browser of browsers) await browser.close();
    await t?.close();
  });

  it('the pharmacist sees both signed prescriptions in the review queue, approves one, and rejects the other only with a reason; FHIR shows them active and cancelled', async () => {
    const browser = await signedIn(pharmacist);
    const page = browser.page;
    await page.locator('[data-testid="hospital-link"]').click();
    await page.locator('[data-testid="review-queue"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="hospital"]').getAttribute('data-role')).toBe('pharmacist');
    const approveRow = page.locator(`[data-testid="review-row"][data-task="${prescriptions.approveTask}"]`);
    const rejectRow = page.locator(`[data-testid="review-row"][data-task="${prescriptions.rejectTask}"]`);
    expect(await page.locator('[data-testid="review-row"]').count()).toBe(2);
    for (const [row, drug] of [[approveRow, '依那普利片'], [rejectRow, '苯磺酸氨氯地平片']] as const) {
      const text = (await row.textContent()) ?? '';
      expect(text).toContain(drug);
      expect(text).toContain('张伟'); // the patient
      expect(text).toContain('王建国'); // the doctor
      expect(text).toContain('每日一次');
      expect(await row.locator('[data-testid="signature-state"]').getAttribute('data-state')).toBe('valid');
    }
    expect(await approveRow.getAttribute('data-prescription')).toBe(`MedicationRequest/${prescriptions.approve}`);

    // Rejecting without a reason is stopped on the page: nothing reaches the hub.
    await rejectRow.locator('[data-testid="reject"]').click();
    await rejectRow.locator('[data-testid="review-error"][data-i18n="hospitalRejectReasonMissing"]').waitFor({ timeout: HANG_BOUND_MS });
    expect((await read<Task>(`Task/${prescriptions.rejectTask}`)).status).toBe('requested');

    await rejectRow.locator('[data-testid="reject-reason"]').fill(REJECT_REASON);
    await rejectRow.locator('[data-testid="reject"]').click();
    await page.locator(`[data-testid="review-row"][data-task="${prescriptions.rejectTask}"][data-decided="reject"]`).waitFor({ timeout: HANG_BOUND_MS });
    await approveRow.locator('[data-testid="approve"]').click();
    await page.locator(`[data-testid="review-row"][data-task="${prescriptions.approveTask}"][data-decided="approve"]`).waitFor({ timeout: HANG_BOUND_MS });
    await readableScreenshot(page, `${SCREENSHOTS}/hospital-pharmacist.png`);

    const approved = await read<MedicationRequest>(`MedicationRequest/${prescriptions.approve}`);
    const rejected = await read<MedicationRequest>(`MedicationRequest/${prescriptions.reject}`);
    expect(approved.status).toBe('active');
    expect(rejected.status).toBe('cancelled');
    expect(rejected.statusReason?.text).toContain(REJECT_REASON);
    expect((await read<Task>(`Task/${prescriptions.approveTask}`)).status).toBe('completed');
    expect((await read<Task>(`Task/${prescriptions.rejectTask}`)).status).toBe('rejected');

    // A reload shows an empty queue: nothing is left to review.
    await page.reload();
    await page.locator('[data-testid="review-queue"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="review-row"]').count()).toBe(0);
    expect(browser.pageErrors).toEqual([]);
  });

  it('the resident\'s "my prescriptions" shows one approved and one rejected with the pharmacist\'s reason', async () => {
    const browser = await signedIn(resident);
    const page = browser.page;
    await page.locator('[data-testid="hospital-tab-hospitalMyPrescriptions"]').click();
    await page.locator('[data-testid="my-prescriptions"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="prescription-row"]').count()).toBe(2);
    const approved = page.locator(`[data-testid="prescription-row"][data-prescription="${prescriptions.approve}"]`);
    const rejected = page.locator(`[data-testid="prescription-row"][data-prescription="${prescriptions.reject}"]`);
    expect(await approved.locator('[data-testid="prescription-state"]').getAttribute('data-state')).toBe('approved');
    expect(await approved.textContent()).toContain('依那普利片');
    expect(await rejected.locator('[data-testid="prescription-state"]').getAttribute('data-state')).toBe('rejected');
    expect(await rejected.locator('[data-testid="prescription-reason"]').textContent()).toContain(REJECT_REASON);
    expect(await page.locator('[data-testid="prescription-row"] button, [data-testid="prescription-row"] input').count()).toBe(0); // read-only
    expect(browser.pageErrors).toEqual([]);
  });
});
