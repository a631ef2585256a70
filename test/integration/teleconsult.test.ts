// Teleconsultation between institutions (TM-03..TM-07), through the real sign-in and API: two
// institutions with a cooperation agreement, a doctor of one inviting a doctor of the other about
// a patient with records and a CT study. No consult without an agreement in force (TM-03), the
// patient's consent (TM-04) and the invitation's content (TM-05); the invited side accepts or
// declines with a reason, late answers show as overdue (TM-06); the consultant sees the patient's
// records and images only while the consult is under way, audited as such; the opinion is filed
// into the inviting institution's record (TM-07).
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, CapabilityStatement, DiagnosticReport, DocumentReference, ImagingStudy, ServiceRequest, Task } from '@medplum/fhirtypes';
import { DEFAULT_RULES, loadRules } from '../../server/src/hospital/rules.js';
import { asPerson, createClinician, createOrganization, createResident, createResource, type Person } from '../helpers/clinicians.js';
import { dicomFiles, stowBody } from '../helpers/dicom.js';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('teleconsult');
const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';
const TELECONSULT = 'https://suhe.example.cn/fhir/CodeSystem/teleconsult';
const PURPOSE = 'https://suhe.example.cn/fhir/CodeSystem/consult-purpose';
const TITLE = 'https://suhe.example.cn/fhir/CodeSystem/professional-title';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
/** 3.6 seconds: an answer is overdue that soon in this suite (TM-06, a rule parameter). */
const RESPONSE_HOURS = 0.001;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const year = new Date().getUTCFullYear();
const params = (...parameter: Record<string, unknown>[]) => ({ resourceType: 'Parameters', parameter });
const text = (body: unknown) => JSON.stringify(body);

describe.each(backends)('teleconsultation between institutions on %s', (backend) => {
  const t = useTestHub(backend, { rules: { consultResponseHours: RESPONSE_HOURS }, auth: { rateLimit: { capacity: 1000, perSecond: 100 } } });
  const org: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let inviter: Person; // a doctor of the inviting hospital (A)
  let consultant: Person; // a doctor of the invited hospital (B), who will accept
  let colleague: Person; // another doctor of B, who does not take the consult
  let outsider: Person; // a doctor of a third hospital (C)
  let resident: Person;
  let patient = '';

  const as = (p: Person) => asPerson(t, p);
  const agreement = (a: string, b: string, applies: Record<string, string>, status = 'executed') => ({
    resourceType: 'Contract',
    status,
    type: { coding: [{ system: TELECONSULT, code: 'cooperation-agreement' }] },
    title: '远程医疗合作协议',
    applies,
    signer: [a, b].map((o) => ({
      type: { system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.1', display: "Author's Signature" },
      party: { reference: `Organization/${o}` },
      signature: [{ type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.1' }], when: `${year - 1}-01-01T00:00:00Z`, who: { reference: `Organization/${o}` } }],
    })),
  });
  const consent = (invited: string, extra: Record<string, unknown> = {}) => ({
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patient}` },
    dateTime: new Date().toISOString(),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    sourceAttachment: { contentType: 'application/pdf', title: '远程会诊知情同意书（患者签名）', data: Buffer.from('%PDF-1.4 signed consent').toString('base64') },
    provision: {
      type: 'permit',
      period: { start: `${year - 1}-01-01` },
      actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference: `Organization/${invited}` } }],
      purpose: [{ system: ACT_REASON, code: 'TREAT' }],
    },
    ...extra,
  });
  /** A complete invitation to `invited`, with the given consent; `without` drops named items. */
  const invitation = (invited: string, consentId: string, without: string[] = []): Record<string, unknown> => {
    const sr: Record<string, unknown> = {
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      subject: { reference: `Patient/${patient}` },
      performer: [{ reference: `Organization/${invited}` }],
      reasonReference: [{ reference: `Condition/${ids.condition}` }],
      orderDetail: [
        { coding: [{ system: PURPOSE, code: 'treatment-plan', display: '制定治疗方案' }] },
        { coding: [{ system: TITLE, code: 'chief-physician', display: '主任医师' }] },
      ],
      occurrenceDateTime: new Date(Date.now() + 2 * 86_400_000).toISOString(),
      note: [{ text: '男，66岁，胸闷三月，CT 示纵隔淋巴结肿大，拟明确诊断。' }],
      performerType: { coding: [{ system: 'https://suhe.example.cn/fhir/CodeSystem/department', code: 'oncology', display: '肿瘤科' }] },
      supportingInfo: [{ reference: `Consent/${consentId}` }],
    };
    const drop: Record<string, () => void> = {
      reason: () => delete sr.reasonReference,
      purpose: () => (sr.orderDetail = (sr.orderDetail as any[]).filter((d) => d.coding[0].system !== PURPOSE)),
      time: () => delete sr.occurrenceDateTime,
      'record summary': () => delete sr.note,
      specialty: () => delete sr.performerType,
      'professional title': () => (sr.orderDetail = (sr.orderDetail as any[]).filter((d) => d.coding[0].system !== TITLE)),
    };
    for (const item of without) drop[item]();
    if (Array.isArray(sr.orderDetail) && !sr.orderDetail.length) delete sr.orderDetail;
    return sr;
  };
  const invite = async (body: unknown, who = inviter) => as(who)('POST', 'ServiceRequest/$invite-consult', body);
  /** Invites B with the standing consent; the Task and ServiceRequest created. */
  const invited = async (extra: Record<string, unknown> = {}): Promise<{ task: Task; request: ServiceRequest }> => {
    const res = await invite({ ...invitation(org.B, ids.consent), ...extra });
    expect(res.status).toBe(201);
    const out = Object.fromEntries(res.body.parameter.map((p: any) => [p.name, p.resource]));
    return { task: out.task, request: out.serviceRequest };
  };
  const worklist = async (who: Person): Promise<{ tasks: Task[]; requests: ServiceRequest[] }> => {
    const res = await as(who)('GET', 'Task/$consult-worklist');
    expect(res.status).toBe(200);
    const entries = (res.body as Bundle).entry ?? [];
    return { tasks: entries.filter((e) => e.search?.mode === 'match').map((e) => e.resource as Task), requests: entries.filter((e) => e.search?.mode === 'include').map((e) => e.resource as ServiceRequest) };
  };
  const dicom = (who: Person, path: string) => fetch(`${t.url}/dicomweb${path}`, { headers: { authorization: `Bearer ${who.token}` } });
  /** What a clinician sees of the patient: Observation and Patient reads, a search, the study's metadata and QIDO. */
  const sees = async (who: Person) => {
    const searched = ((await as(who)('GET', `Observation?patient=Patient/${patient}`)).body as Bundle).entry ?? [];
    const studies = (await (await dicom(who, '/studies')).json()) as any[];
    return {
      observation: (await as(who)('GET', `Observation/${ids.observation}`)).status,
      patient: (await as(who)('GET', `Patient/${patient}`)).status,
      search: searched.map((e) => e.resource!.id),
      metadata: (await dicom(who, `/studies/${CT_STUDY}/metadata`)).status,
      qido: studies.map((s) => s['0020000D'].Value[0]),
    };
  };
  const NOTHING = { observation: 404, patient: 404, search: [], metadata: 404, qido: [] };

  beforeAll(async () => {
    // The patient's CT study (STOW-RS), their Patient record as imaging created it, and records.
    const { body, contentType } = stowBody(dicomFiles('series/ct-10').slice(0, 2));
    expect((await t.fetch(`${t.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) })).status).toBe(200);
    const study = ((await (await t.fetch(`${t.base}/ImagingStudy?identifier=urn:oid:${CT_STUDY}`)).json()) as Bundle).entry![0].resource as ImagingStudy;
    patient = study.subject.reference!.split('/')[1];
    ids.observation = (await createResource(t, { resourceType: 'Observation', status: 'final', code: { text: '血压' }, subject: { reference: `Patient/${patient}` }, valueString: '150/95 mmHg' })).id;
    ids.condition = (
      await createResource(t, {
        resourceType: 'Condition',
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'provisional' }] },
        code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'R59.0', display: '局部淋巴结肿大' }] },
        subject: { reference: `Patient/${patient}` },
      })
    ).id;

    org.A = await createOrganization(t, '苏河区中心医院');
    org.B = await createOrganization(t, '市第一人民医院');
    org.C = await createOrganization(t, '某民营医院');
    org.D = await createOrganization(t, '邻区人民医院');
    inviter = await createClinician(t, { username: 'dr-inviter', organization: org.A });
    consultant = await createClinician(t, { username: 'dr-consultant', organization: org.B });
    colleague = await createClinician(t, { username: 'dr-colleague', organization: org.B });
    outsider = await createClinician(t, { username: 'dr-outsider', organization: org.C });
    resident = await createResident(t, { username: 'resident-consult' });
    // The inviting doctor treats the patient (an Encounter); the other doctors do not.
    await createResource(t, { resourceType: 'Encounter', status: 'in-progress', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${patient}` }, participant: [{ individual: { reference: inviter.reference } }] });
    // TM-03: A–B in force; A–D ended last month.
    await createResource(t, agreement(org.A, org.B, { start: `${year - 1}-01-01`, end: `${year + 2}-12-31` }));
    const lastMonth = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
    await createResource(t, agreement(org.A, org.D, { start: `${year - 3}-01-01`, end: lastMonth }));
    // TM-04: the inviting doctor records the patient's signed consent to a consult with B.
    const recorded = await as(inviter)('POST', 'Consent', consent(org.B));
    expect(recorded.status).toBe(201);
    ids.consent = recorded.body.id;
  }, 120_000);

  it('TM-06: the response deadline is a rule parameter, 24 hours by default', () => {
    expect(DEFAULT_RULES.consultResponseHours).toBe(24);
    expect(loadRules(undefined, { consultResponseHours: 2.5 }).consultResponseHours).toBe(2.5);
    expect(() => loadRules(undefined, { consultResponseHours: -1 })).toThrow(/consultResponseHours/);
  });

  it('TM-03: a cooperation agreement is recorded by an administrator and names both institutions and its validity', async () => {
    const byDoctor = await as(inviter)('POST', 'Contract', agreement(org.A, org.C, { start: `${year}-01-01` }));
    expect(byDoctor.status).toBe(403);
    expect(text(byDoctor.body)).toContain('TM-03');
    const oneParty = { ...agreement(org.A, org.C, { start: `${year}-01-01` }) };
    oneParty.signer = oneParty.signer.slice(0, 1);
    const refused = await t.fetch(`${t.base}/Contract`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(oneParty) });
    expect(refused.status).toBe(400);
    expect(text(await refused.json())).toMatch(/TM-03.*two/);
    const noPeriod = { ...agreement(org.A, org.C, {}) } as Record<string, unknown>;
    delete noPeriod.applies;
    const undated = await t.fetch(`${t.base}/Contract`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(noPeriod) });
    expect(undated.status).toBe(400);
    expect(text(await undated.json())).toMatch(/TM-03.*applies/);
  });

  it('TM-03: no consult without a cooperation agreement on file', async () => {
    const consentC = await as(inviter)('POST', 'Consent', consent(org.C));
    const res = await invite(invitation(org.C, consentC.body.id));
    expect(res.status).toBe(422);
    expect(text(res.body)).toContain(`TM-03: no cooperation agreement between Organization/${org.A} and Organization/${org.C} on file`);
    expect((await worklist(outsider)).tasks).toEqual([]);
  });

  it('TM-03: an agreement that has expired does not count', async () => {
    const consentD = await as(inviter)('POST', 'Consent', consent(org.D));
    const res = await invite(invitation(org.D, consentD.body.id));
    expect(res.status).toBe(422);
    expect(text(res.body)).toMatch(/TM-03: the cooperation agreement between .* is not in force now/);
  });

  it('TM-05: the invitation must state reason, purpose, time, record summary, specialty and title — each missing item is named', async () => {
    const items = ['reason', 'purpose', 'time', 'record summary', 'specialty', 'professional title'];
    const none = await invite(invitation(org.B, ids.consent, items));
    expect(none.status).toBe(400);
    expect(none.body.issue).toHaveLength(items.length);
    for (const item of items) expect(text(none.body)).toContain(`TM-05: the invitation must state the ${item}`);
    for (const item of items) {
      const res = await invite(invitation(org.B, ids.consent, [item]));
      expect(res.status).toBe(400);
      expect(res.body.issue).toHaveLength(1);
      expect(res.body.issue[0].diagnostics).toContain(`TM-05: the invitation must state the ${item}`);
    }
    // Coded items must use known codes.
    const odd = invitation(org.B, ids.consent);
    odd.orderDetail = [{ coding: [{ system: PURPOSE, code: 'sightseeing' }] }, { coding: [{ system: TITLE, code: 'professor' }] }];
    const res = await invite(odd);
    expect(res.status).toBe(400);
    expect(text(res.body)).toMatch(/purpose 'sightseeing' is not one of/);
    expect(text(res.body)).toMatch(/professional title 'professor' is not one of/);
    expect((await worklist(consultant)).tasks).toEqual([]); // nothing was written
  });

  it("TM-04: no consult without the patient's consent to it", async () => {
    const without = invitation(org.B, ids.consent);
    delete without.supportingInfo;
    const none = await invite(without);
    expect(none.status).toBe(422);
    expect(text(none.body)).toContain('TM-04: the invitation refers to no consent of the patient');
    const tryConsent = async (extra: Record<string, unknown>, invitedOrg = org.B) => {
      const created = await as(inviter)('POST', 'Consent', consent(invitedOrg, extra));
      expect(created.status).toBe(201);
      const res = await invite(invitation(org.B, created.body.id));
      expect(res.status).toBe(422);
      expect(text(res.body)).toContain('TM-04');
      // Withdrawn again (a standing privacy permit would otherwise open the record to all of B).
      expect((await as(inviter)('DELETE', `Consent/${created.body.id}`)).status).toBe(204);
      return text(res.body);
    };
    // A standing privacy permit is not consent to this consult (it would open the record to all of B for good).
    expect(await tryConsent({ scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] } })).toContain('scope');
    // Neither the signed form nor a verification.
    expect(await tryConsent({ sourceAttachment: undefined })).toContain('signed form');
    // Consent to a consult with another institution.
    expect(await tryConsent({}, org.C)).toContain(`does not permit Organization/${org.B}`);
    // Withdrawn.
    expect(await tryConsent({ status: 'inactive' })).toContain('not active');
    // A verification (verified) instead of the scanned form will do.
    const verified = await as(inviter)('POST', 'Consent', consent(org.B, { sourceAttachment: undefined, verification: [{ verified: true, verificationDate: new Date().toISOString() }] }));
    const ok = await invite(invitation(org.B, verified.body.id));
    expect(ok.status).toBe(201);
    const task = ok.body.parameter.find((p: any) => p.name === 'task').resource as Task;
    expect((await as(inviter)('POST', `Task/${task.id}/$cancel-consult`, params({ name: 'reason', valueString: '重复申请' }))).status).toBe(200);
  });

  it('bad input is refused with a clear 4xx, never a 500', async () => {
    const cases: [string, Promise<{ status: number; body: any }>, number][] = [
      ['not a ServiceRequest', invite({ resourceType: 'Patient' }), 400],
      ['Parameters without request', invite(params({ name: 'other', valueString: 'x' })), 400],
      ['no patient', invite({ ...invitation(org.B, ids.consent), subject: { reference: 'Group/1' } }), 400],
      ['two institutions', invite({ ...invitation(org.B, ids.consent), performer: [{ reference: `Organization/${org.B}` }, { reference: `Organization/${org.C}` }] }), 400],
      ['a practitioner as performer', invite({ ...invitation(org.B, ids.consent), performer: [{ reference: consultant.reference }] }), 400],
      ['an unknown institution', invite({ ...invitation(org.B, ids.consent), performer: [{ reference: 'Organization/nowhere' }] }), 400],
      ['another code', invite({ ...invitation(org.B, ids.consent), code: { coding: [{ system: 'http://loinc.org', code: '1234-5' }] } }), 400],
      ["in another doctor's name", invite({ ...invitation(org.B, ids.consent), requester: { reference: consultant.reference } }), 403],
      ['its own institution', invite({ ...invitation(org.A, ids.consent) }), 422],
      ['a patient not in the doctor\'s care', invite({ ...invitation(org.B, ids.consent), subject: { reference: resident.reference } }), 403],
      ['a resident inviting', invite(invitation(org.B, ids.consent), resident), 403],
      ['a doctor of the invited side inviting about a patient they do not treat', invite(invitation(org.A, ids.consent), consultant), 403],
      ['GET $invite-consult', as(inviter)('GET', 'ServiceRequest/$invite-consult'), 405],
      ['accept an unknown Task', as(consultant)('POST', 'Task/no-such-task/$accept-consult', params()), 404],
      ['decline with a Patient for Parameters', as(consultant)('POST', 'Task/no-such-task/$decline-consult', { resourceType: 'Patient' }), 400],
      ['opinion without Parameters', as(consultant)('POST', 'Task/no-such-task/$file-opinion', { conclusion: 'x' }), 400],
      ['opinion on an unknown Task', as(consultant)('POST', 'Task/no-such-task/$file-opinion', params({ name: 'conclusion', valueString: 'x' })), 404],
      ['a worklist for a resident', as(resident)('GET', 'Task/$consult-worklist'), 403],
    ];
    for (const [label, pending, status] of cases) {
      const res = await pending;
      expect([label, res.status]).toEqual([label, status]);
      expect(res.body?.resourceType).toBe('OperationOutcome');
    }
  });

  it('TM-06: the invited institution sees the invitation and declines it — only with a reason; a late answer shows as overdue', async () => {
    const { task, request } = await invited();
    expect(task).toMatchObject({ status: 'requested', owner: { reference: `Organization/${org.B}` }, focus: { reference: `ServiceRequest/${request.id}` }, for: { reference: `Patient/${patient}` } });
    expect(request).toMatchObject({ status: 'active', intent: 'order', code: { coding: [{ system: TELECONSULT, code: 'teleconsultation' }] } });
    expect(request.requester?.reference).toMatch(/^PractitionerRole\//);
    const due = task.extension!.find((e) => e.url.endsWith('consult-response-due'))!.valueDateTime!;
    expect(Date.parse(due) - Date.parse(task.authoredOn!)).toBe(RESPONSE_HOURS * 3_600_000);

    // Both sides have it on their worklist, with the invitation's content; not overdue yet.
    const theirs = await worklist(consultant);
    const listed = theirs.tasks.find((x) => x.id === task.id)!;
    expect(listed.businessStatus).toBeUndefined();
    expect(theirs.requests.map((r) => r.id)).toContain(request.id);
    expect((await worklist(inviter)).tasks.map((x) => x.id)).toContain(task.id);
    expect((await worklist(outsider)).tasks.map((x) => x.id)).not.toContain(task.id);

    // Past the deadline it shows as overdue, to both sides.
    await sleep(Math.max(0, Date.parse(due) - Date.now()) + 300);
    for (const who of [consultant, inviter]) {
      const late = (await worklist(who)).tasks.find((x) => x.id === task.id)!;
      expect(late.businessStatus?.coding?.[0]).toMatchObject({ system: TELECONSULT, code: 'response-overdue' });
    }

    // A decline carries a reason; only the invited institution declines.
    for (const body of [params(), params({ name: 'reason', valueString: '   ' }), undefined]) {
      const res = await as(consultant)('POST', `Task/${task.id}/$decline-consult`, body);
      expect(res.status).toBe(400);
      expect(text(res.body)).toContain('TM-06: a decline carries a reason');
    }
    expect((await as(outsider)('POST', `Task/${task.id}/$decline-consult`, params({ name: 'reason', valueString: '无相关专科' }))).status).toBe(404);
    const declined = await as(consultant)('POST', `Task/${task.id}/$decline-consult`, params({ name: 'reason', valueString: '本院肿瘤科本周无主任医师出诊' }));
    expect(declined.status).toBe(200);
    expect(declined.body).toMatchObject({ status: 'rejected', statusReason: { text: '本院肿瘤科本周无主任医师出诊' } });
    const responded = declined.body.extension.find((e: any) => e.url.endsWith('consult-responded')).valueDateTime;
    expect(Date.parse(responded)).toBeGreaterThan(Date.parse(due)); // answered late: on record
    expect((await as(consultant)('POST', `Task/${task.id}/$decline-consult`, params({ name: 'reason', valueString: 'again' }))).status).toBe(409);
    expect((await as(consultant)('POST', `Task/${task.id}/$accept-consult`, params())).status).toBe(409);
    expect((await as(inviter)('GET', `ServiceRequest/${request.id}`)).body.status).toBe('revoked');
    expect((await worklist(consultant)).tasks.map((x) => x.id)).not.toContain(task.id);
    // Declining opened nothing.
    expect(await sees(consultant)).toEqual(NOTHING);
  });

  describe('a consult accepted, under way and completed', () => {
    let task: Task;
    let request: ServiceRequest;

    it('the invited doctors cannot read the patient before acceptance — the Task is queued to their institution, not to them', async () => {
      ({ task, request } = await invited());
      for (const who of [consultant, colleague, outsider]) {
        expect(await sees(who)).toEqual(NOTHING);
        expect((await as(who)('GET', `Task/${task.id}`)).status).toBe(404);
        expect((await as(who)('GET', `ServiceRequest/${request.id}`)).status).toBe(404);
      }
      expect((await sees(inviter)).observation).toBe(200); // the inviting doctor treats the patient
    });

    it('TM-06: an eligible doctor of the invited institution accepts and becomes the consultant', async () => {
      expect((await as(outsider)('POST', `Task/${task.id}/$accept-consult`, params())).status).toBe(404);
      expect((await as(resident)('POST', `Task/${task.id}/$accept-consult`, params())).status).toBe(404);
      const unlicensed = await createClinician(t, { username: 'dr-b-unlicensed', organization: org.B, licensedSince: null });
      const refused = await as(unlicensed)('POST', `Task/${task.id}/$accept-consult`, params());
      expect(refused.status).toBe(403);
      expect(text(refused.body)).toContain('IH-09');
      const accepted = await as(consultant)('POST', `Task/${task.id}/$accept-consult`, params({ name: 'note', valueString: '已接受，将于约定时间会诊' }));
      expect(accepted.status).toBe(200);
      expect(accepted.body.status).toBe('accepted');
      expect(accepted.body.owner.reference).toMatch(/^PractitionerRole\//);
      expect(accepted.body.extension.some((e: any) => e.url.endsWith('consult-responded'))).toBe(true);
      expect((await as(colleague)('POST', `Task/${task.id}/$accept-consult`, params())).status).toBe(409);
      expect((await as(consultant)('POST', `Task/${task.id}/$accept-consult`, params())).status).toBe(409);
      task = accepted.body;
    });

    it("during the consult the consultant reads the patient's records and images, audited as a teleconsultation; colleagues do not", async () => {
      const seen = await sees(consultant);
      expect(seen).toMatchObject({ observation: 200, patient: 200, metadata: 200 });
      expect(seen.search).toContain(ids.observation);
      expect(seen.qido).toContain(CT_STUDY);
      expect((await as(consultant)('GET', `Condition/${ids.condition}`)).status).toBe(200);
      expect((await as(consultant)('GET', `ServiceRequest/${request.id}`)).status).toBe(200);
      expect(await sees(colleague)).toEqual(NOTHING);
      expect(await sees(outsider)).toEqual(NOTHING);

      // The patient's audit trail shows the consultant's reads with their purpose.
      let marked: any[] = [];
      for (const deadline = Date.now() + 5000; !marked.length && Date.now() < deadline; await sleep(150)) {
        const events = (((await (await t.fetch(`${t.base}/AuditEvent?patient=Patient/${patient}&_count=500`)).json()) as Bundle<any>).entry ?? []).map((e) => e.resource);
        marked = events.filter((e) => e.agent?.some((a: any) => a.who?.reference === consultant.reference && a.purposeOfUse?.some((p: any) => p.text === `teleconsultation Task/${task.id}`)));
      }
      expect(marked.length).toBeGreaterThan(0);
      expect(marked.some((e) => e.entity?.some((x: any) => x.what?.reference === `Observation/${ids.observation}`))).toBe(true);
    });

    it("TM-07: the consultant files the opinion into the inviting institution's record, and the consult — with the access — ends", async () => {
      const opinion = params({ name: 'conclusion', valueString: '考虑淋巴瘤可能性大，建议行纵隔淋巴结穿刺活检明确病理。' }, { name: 'conclusionCode', valueCodeableConcept: { text: '疑似淋巴瘤' } });
      expect((await as(colleague)('POST', `Task/${task.id}/$file-opinion`, opinion)).status).toBe(403);
      const empty = await as(consultant)('POST', `Task/${task.id}/$file-opinion`, params({ name: 'conclusion', valueString: ' ' }));
      expect(empty.status).toBe(400);
      expect(text(empty.body)).toContain('TM-07');
      const posted = await as(consultant)('POST', `Task/${task.id}/$file-opinion`, opinion);
      expect(posted.status).toBe(201);
      const report = posted.body as DiagnosticReport;
      expect(report).toMatchObject({ status: 'final', subject: { reference: `Patient/${patient}` }, basedOn: [{ reference: `ServiceRequest/${request.id}` }], resultsInterpreter: [{ reference: consultant.reference }] });
      expect(report.code.coding?.[0]).toMatchObject({ system: 'http://loinc.org', code: '11488-4' });

      // The inviting institution's doctor finds it by the invitation and by the patient.
      const byRequest = await as(inviter)('GET', `DiagnosticReport?based-on=ServiceRequest/${request.id}`);
      expect(byRequest.body.entry.map((e: any) => e.resource.id)).toEqual([report.id]);
      const byPatient = await as(inviter)('GET', `DiagnosticReport?subject=Patient/${patient}`);
      expect(byPatient.body.entry.map((e: any) => e.resource.id)).toContain(report.id);
      // … and in its record: a DocumentReference whose custodian is the inviting institution.
      const filed = (await as(inviter)('GET', `DocumentReference?custodian=Organization/${org.A}&patient=Patient/${patient}`)).body as Bundle;
      expect(filed.entry).toHaveLength(1);
      const document = filed.entry![0].resource as DocumentReference;
      expect(document).toMatchObject({ status: 'current', custodian: { reference: `Organization/${org.A}` }, subject: { reference: `Patient/${patient}` } });
      expect(document.author?.map((a) => a.reference)).toEqual([consultant.reference, `Organization/${org.B}`]);
      expect(document.context?.related?.map((r) => r.reference)).toEqual([`DiagnosticReport/${report.id}`, `ServiceRequest/${request.id}`]);
      expect(Buffer.from(document.content[0].attachment.data!, 'base64').toString('utf8')).toContain('纵隔淋巴结穿刺活检');
      const done = (await as(inviter)('GET', `Task/${task.id}`)).body as Task;
      expect(done.status).toBe('completed');
      expect(done.output?.[0].valueReference?.reference).toBe(`DiagnosticReport/${report.id}`);
      expect((await as(inviter)('GET', `ServiceRequest/${request.id}`)).body.status).toBe('completed');

      // The consult is over: so is the consultant's access, at once.
      expect(await sees(consultant)).toEqual(NOTHING);
      expect((await as(consultant)('GET', `DiagnosticReport/${report.id}`)).status).toBe(404);
      expect((await as(consultant)('POST', `Task/${task.id}/$file-opinion`, opinion)).status).toBe(409);
    });
  });

  it("cancelling a consult under way ends the consultant's access at once", async () => {
    // (The inviting doctor may name their role at the inviting institution as requester.)
    const roles = ((await (await t.fetch(`${t.base}/PractitionerRole?practitioner=${inviter.reference}`)).json()) as Bundle).entry!;
    const role = `PractitionerRole/${roles[0].resource!.id}`;
    const { task, request } = await invited({ requester: { reference: role } });
    expect(request.requester?.reference).toBe(role);
    expect((await as(consultant)('POST', `Task/${task.id}/$accept-consult`, params())).status).toBe(200);
    expect((await sees(consultant)).observation).toBe(200);
    expect((await as(inviter)('POST', `Task/${task.id}/$cancel-consult`, params())).status).toBe(400);
    expect((await as(consultant)('POST', `Task/${task.id}/$cancel-consult`, params({ name: 'reason', valueString: 'x' }))).status).toBe(404);
    const cancelled = await as(inviter)('POST', `Task/${task.id}/$cancel-consult`, params({ name: 'reason', valueString: '患者转院，取消会诊' }));
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(await sees(consultant)).toEqual(NOTHING);
    expect((await as(inviter)('POST', `Task/${task.id}/$cancel-consult`, params({ name: 'reason', valueString: 'again' }))).status).toBe(409);
  });

  it('consult records change only through the operations, not plain writes', async () => {
    const { task, request } = await invited();
    const put = await as(inviter)('PUT', `Task/${task.id}`, { ...task, owner: { reference: inviter.reference } });
    expect(put.status).toBe(403);
    expect(text(put.body)).toContain('$accept-consult');
    expect((await t.fetch(`${t.base}/Task/${task.id}`, { method: 'DELETE' })).status).toBe(403);
    const { id: _id, meta: _meta, ...copy } = request;
    expect((await as(inviter)('POST', 'ServiceRequest', copy)).status).toBe(403);
    const report = { resourceType: 'DiagnosticReport', status: 'final', category: [{ coding: [{ system: TELECONSULT, code: 'consult-opinion' }] }], code: { text: 'forged opinion' }, subject: { reference: `Patient/${patient}` } };
    expect((await as(inviter)('POST', 'DiagnosticReport', report)).status).toBe(403);
    expect((await as(inviter)('POST', `Task/${task.id}/$cancel-consult`, params({ name: 'reason', valueString: '测试结束' }))).status).toBe(200);
  });

  it('the CapabilityStatement lists the teleconsultation operations', async () => {
    const capability = (await (await fetch(`${t.base}/metadata`)).json()) as CapabilityStatement;
    const ops = (type: string) => capability.rest![0].resource!.find((r) => r.type === type)?.operation?.map((o) => o.name) ?? [];
    expect(ops('ServiceRequest')).toContain('invite-consult');
    expect(ops('Task')).toEqual(expect.arrayContaining(['accept-consult', 'decline-consult', 'cancel-consult', 'file-opinion', 'consult-worklist']));
  });
});
