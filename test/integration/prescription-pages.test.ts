// The internet hospital's prescription pages in real headless Chromium. In an online visit the
// doctor's page makes a signing key on the device (WebCrypto; only the public half goes to the
// hub), drafts two prescriptions and signs each (IH-05: the hub verifies the JWS and queues the
// review); a special-control drug is refused as the hub words it (IH-07) and leaves nothing
// behind. The institution's pharmacist (whose home page is the review queue) sees both with the
// hub's signature check, is stopped by the page when rejecting without a reason, approves one and
// rejects the other with a reason; FHIR then shows the MedicationRequests active and cancelled,
// and the resident's "my prescriptions" shows one approved and one rejected with the reason.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, MedicationRequest, Provenance, Task } from '@medplum/fhirtypes';
import { type Browser, HANG_BOUND_MS, readableScreenshot, signedInBrowser } from '../helpers/browser.js';
import { createClinician, createOrganization, createResident, createResource, type Person } from '../helpers/clinicians.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { chromiumUnavailable, REQUIRE_ALL } from '../helpers/parts.js';
import { viewerBuilt } from '../helpers/viewer-build.js';

const missing = await chromiumUnavailable();
if (missing && REQUIRE_ALL) throw new Error(`prescription pages: SUHE_TEST_REQUIRE_ALL=1 but ${missing}`);
if (missing) process.stdout.write(`SKIPPED (prescription pages): ${missing}\n`);
const suite = missing ? describe.skip : describe;

const SCREENSHOTS = resolve(new URL('../../docs/screenshots', import.meta.url).pathname);
const REJECT_REASON = '与患者正在服用的药物重复，请调整。';

suite('the prescription pages (headless Chromium)', () => {
  let t: TestHub;
  let doctor: Person;
  let pharmacist: Person;
  let resident: Person;
  const prescriptions: { approve: string; reject: string; approveTask: string; rejectTask: string } = { approve: '', reject: '', approveTask: '', rejectTask: '' };
  const browsers: Browser[] = [];
  const read = async <T>(path: string) => (await (await t.fetch(`${t.base}/${path}`)).json()) as T;
  const signedIn = (person: Person, route = '') => signedInBrowser(t.url, person, browsers, route);

  let appointment = '';
  let encounter = '';

  beforeAll(async () => {
    await viewerBuilt();
    t = await startTestHub('pglite');
    const hospital = await createOrganization(t, '苏河区中心医院互联网医院');
    doctor = await createClinician(t, { username: 'rx-pages-doctor', organization: hospital, name: { family: '王', given: ['建国'] } });
    pharmacist = await createClinician(t, { username: 'rx-pages-pharmacist', role: 'pharmacist', organization: hospital, name: { family: '李', given: ['药师'] } });
    resident = await createResident(t, { username: 'rx-pages-resident', name: { family: '张', given: ['伟'] } });
    // The online visit under way that makes the doctor a treating doctor of the resident (IH-05).
    appointment = (await createResource(t, {
      resourceType: 'Appointment', status: 'arrived', start: new Date().toISOString(), end: new Date(Date.now() + 600_000).toISOString(),
      participant: [{ actor: { reference: resident.reference }, status: 'accepted' }, { actor: { reference: doctor.reference }, status: 'accepted' }],
    })).id;
    encounter = (await createResource(t, {
      resourceType: 'Encounter', status: 'in-progress', appointment: [{ reference: `Appointment/${appointment}` }],
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' },
      subject: { reference: resident.reference }, participant: [{ individual: { reference: doctor.reference } }],
      serviceProvider: { reference: `Organization/${hospital}` },
    })).id;
  }, 180_000);

  afterAll(async () => {
    for (const browser of browsers) await browser.close();
    await t?.close();
  });

  it('IH-05/IH-06/IH-07: in the visit the doctor signs two prescriptions with a key made on the device; a special-control drug is refused as the hub says', async () => {
    const browser = await signedIn(doctor, `#/hospital/visit/${appointment}`);
    const page = browser.page;
    const form = page.locator('[data-testid="prescribe-form"]');
    await page.locator('[data-testid="prescribe-form"][data-loaded="true"]').waitFor({ timeout: HANG_BOUND_MS });
    const prescribe = async (pick: string) => {
      await form.locator('[data-testid="rx-common"]').selectOption(pick);
      await form.locator('[data-testid="rx-sign"]').click();
      await page.locator('[data-testid="prescribe-form"][data-outcome="sent"]').waitFor({ timeout: HANG_BOUND_MS });
      await page.evaluate(() => delete (document.querySelector('[data-testid="prescribe-form"]') as HTMLElement).dataset.outcome);
    };
    await prescribe('0'); // enalapril, from the common list
    await prescribe('1'); // amlodipine
    await page.locator('[data-testid="rx-row"][data-state="review"]').nth(1).waitFor({ timeout: HANG_BOUND_MS });
    expect(await page.locator('[data-testid="rx-row"]').count()).toBe(2);

    // A special-control drug (diazepam, ATC N05BA01): the hub refuses it and the page says why.
    await form.locator('[data-testid="rx-drug"]').fill('地西泮片 2.5mg');
    await form.locator('[data-testid="rx-atc"]').fill('N05BA01');
    await form.locator('[data-testid="rx-dose"]').fill('每晚一次，每次一片');
    await form.locator('[data-testid="rx-quantity"]').fill('14');
    await form.locator('[data-testid="rx-sign"]').click();
    await page.locator('[data-testid="prescribe-form"][data-outcome="refused"]').waitFor({ timeout: HANG_BOUND_MS });
    expect(await form.locator('[data-testid="rx-outcome"]').textContent()).toContain('IH-07');
    await readableScreenshot(page, `${SCREENSHOTS}/hospital-prescribing.png`);

    // What the hub holds: two signed prescriptions on hold, each with the doctor's JWS that
    // verifies (the $trace re-check), and a review Task each; nothing of the refused drug.
    const held = (await read<Bundle<MedicationRequest>>(`MedicationRequest?encounter=Encounter/${encounter}&_count=10`)).entry!.map((e) => e.resource!);
    expect(held.map((r) => r.status)).toEqual(['on-hold', 'on-hold']);
    expect(held.map((r) => r.medicationCodeableConcept?.coding?.[0]?.code).sort()).toEqual(['C08CA01', 'C09AA02']);
    for (const request of held) {
      const trace = await read<Bundle>(`MedicationRequest/${request.id}/$trace`);
      const signing = trace.entry!.map((e) => e.resource!).find((r): r is Provenance => r.resourceType === 'Provenance' && !!r.signature?.some((x) => x.sigFormat === 'application/jose'));
      expect(signing?.agent?.[0]?.who?.reference).toBe(doctor.reference);
      const check = trace.entry!.map((e) => e.resource!).reverse().find((r) => r.resourceType === 'OperationOutcome') as { issue: { severity: string }[] };
      expect(check.issue.map((i) => i.severity)).toEqual(check.issue.map(() => 'information'));
      const task = (await read<Bundle<Task>>(`Task?focus=MedicationRequest/${request.id}`)).entry![0].resource!;
      expect(task.status).toBe('requested');
      if (request.medicationCodeableConcept?.coding?.[0]?.code === 'C09AA02') Object.assign(prescriptions, { approve: request.id, approveTask: task.id });
      else Object.assign(prescriptions, { reject: request.id, rejectTask: task.id });
    }
    // The private key stayed in the browser: the hub holds one public key for the doctor.
    const keys = await t.hub.db.query<{ public_jwk: object }>('select public_jwk from practitioner_signing_key where practitioner = $1', [doctor.reference]);
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0].public_jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(browser.pageErrors).toEqual([]);
  });

  it('the pharmacist sees both signed prescriptions in the review queue, approves one, and rejects the other only with a reason; FHIR shows them active and cancelled', async () => {
    const browser = await signedIn(pharmacist);
    const page = browser.page;
    // A pharmacist's home page is the review queue (no click needed).
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
