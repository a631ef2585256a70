// Reading reports and reading assignments: an administrator assigns a study to a remote reader
// (who can then read it), the reader drafts a report, signs it (final, with a Provenance whose JWS
// verifies and binds the content), amends it (a new signed version; the old one kept), and the
// signing completes the assignment. Plain FHIR writes can neither create, change nor delete a
// reading report, so no signed text changes without a new signature.
import { createPublicKey, createVerify } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, DiagnosticReport, ImagingStudy, Provenance, Task } from '@medplum/fhirtypes';
import { contentHash } from '../../server/src/fhir/content-hash.js';
import { dicomFiles, stowBody } from '../helpers/dicom.js';
import { availableBackends } from '../helpers/parts.js';
import { createAccount, newPassword, registerPublicApp, signIn } from '../helpers/people.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('reading reports');
const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';
const READING_TAG = 'https://suhe.example.cn/fhir/CodeSystem/report|reading';

/** Verifies a compact RS256 JWS with the public key in its own header; answers its claims. */
function verifyJws(jws: string): { header: Record<string, any>; claims: Record<string, any> } {
  const [h, p, s] = jws.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, any>;
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${h}.${p}`);
  if (!verifier.verify(createPublicKey({ key: header.jwk, format: 'jwk' }), Buffer.from(s, 'base64url'))) throw new Error('signature does not verify');
  return { header, claims: JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, any> };
}

describe.each(backends)('reading reports and assignments on %s', (backend) => {
  const t = useTestHub(backend);
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let imagingStudy: ImagingStudy;
  let reportId = '';
  const as = (who: string, path: string, init: RequestInit = {}) =>
    fetch(`${t.url}${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>), authorization: `Bearer ${tokens[who]}` } });
  const send = (who: string, method: string, path: string, body: unknown, headers: Record<string, string> = {}) => as(who, path, { method, body: JSON.stringify(body), headers });
  const create = async (resource: Record<string, unknown>) =>
    ((await (await t.fetch(`${t.base}/${resource.resourceType}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) })).json()) as { id: string }).id;
  const diagnostics = async (res: Response) => JSON.stringify(await res.json());

  beforeAll(async () => {
    tokens.admin = t.token;
    const { body, contentType } = stowBody(dicomFiles('series/ct-10'));
    expect((await t.fetch(`${t.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) })).status).toBe(200);
    imagingStudy = ((await (await t.fetch(`${t.base}/ImagingStudy?identifier=urn:oid:${CT_STUDY}`)).json()) as Bundle).entry![0].resource as ImagingStudy;
    await registerPublicApp(t, 'reading-app', 'openid fhirUser user/*.cruds');
    for (const [name, role] of [['reader', 'doctor'], ['colleague', 'doctor'], ['nurse', 'nurse']]) {
      ids[name] = await create({ resourceType: 'Practitioner', name: [{ family: name }] });
      const password = newPassword();
      await createAccount(t, { username: name, password, role, fhirUser: `Practitioner/${ids[name]}` });
      tokens[name] = (await signIn(t, { clientId: 'reading-app', username: name, password, scope: 'openid fhirUser user/*.cruds' })).access_token;
    }
  }, 120_000);

  it('assigning a study to a remote reader shares it with them and lists it among their assignments', async () => {
    expect((await as('reader', `/dicomweb/studies/${CT_STUDY}/metadata`)).status).toBe(404);
    expect((await as('reader', '/imaging/assignments')).status).toBe(200);
    expect(((await (await as('reader', '/imaging/assignments')).json()) as any).assignments).toEqual([]);
    // Who may assign, and what an assignment must name.
    expect((await send('nurse', 'POST', `/imaging/studies/${CT_STUDY}/assignments`, { reader: `Practitioner/${ids.reader}` })).status).toBe(403);
    expect((await send('admin', 'POST', `/imaging/studies/${CT_STUDY}/assignments`, { reader: 'Patient/1' })).status).toBe(400);
    expect((await send('admin', 'POST', `/imaging/studies/${CT_STUDY}/assignments`, { reader: 'Practitioner/nobody' })).status).toBe(400);
    const res = await send('admin', 'POST', `/imaging/studies/${CT_STUDY}/assignments`, { reader: `Practitioner/${ids.reader}`, priority: 'urgent', note: '请今日内阅片' });
    expect(res.status).toBe(201);
    const task = (await res.json()) as Task;
    expect(task).toMatchObject({ status: 'requested', priority: 'urgent', focus: { reference: `ImagingStudy/${imagingStudy.id}` }, owner: { reference: `Practitioner/${ids.reader}` }, for: imagingStudy.subject });
    ids.task = task.id!;
    expect((await as('reader', `/dicomweb/studies/${CT_STUDY}/metadata`)).status).toBe(200);
    const listed = ((await (await as('reader', '/imaging/assignments')).json()) as any).assignments;
    expect(listed.map((a: any) => [a.studyUid, a.task.id])).toEqual([[CT_STUDY, task.id]]);
    expect(((await (await as('colleague', '/imaging/assignments')).json()) as any).assignments).toEqual([]);
  });

  it('a reader drafts a report of a study they can read; one open draft per reader and study', async () => {
    expect((await send('colleague', 'POST', `/imaging/studies/${CT_STUDY}/reports`, { findings: 'x' })).status).toBe(404); // cannot read the study
    expect((await send('nurse', 'POST', `/imaging/studies/${CT_STUDY}/reports`, { findings: 'x' })).status).toBe(403);
    // Bad input: a clear 400, and nothing written.
    expect((await send('reader', 'POST', `/imaging/studies/${CT_STUDY}/reports`, { findings: 42 })).status).toBe(400);
    expect((await send('reader', 'POST', `/imaging/studies/${CT_STUDY}/reports`, { findings: ' ', impression: '' })).status).toBe(400);
    expect((await as('reader', `/imaging/studies/${CT_STUDY}/reports`, { method: 'POST', body: '{"findings": "unterminated' })).status).toBe(400);
    expect((await send('reader', 'POST', `/imaging/studies/${CT_STUDY}/reports`, { findings: 'x'.repeat(20_001) })).status).toBe(400);
    expect(((await (await as('reader', `/imaging/studies/${CT_STUDY}/reports`)).json()) as any).reports).toEqual([]);

    const res = await send('reader', 'POST', `/imaging/studies/${CT_STUDY}/reports`, { findings: '纵隔淋巴结肿大。', impression: '考虑淋巴瘤。', language: 'zh-CN' });
    expect(res.status).toBe(201);
    const draft = (await res.json()) as DiagnosticReport;
    reportId = draft.id!;
    expect(draft).toMatchObject({
      status: 'preliminary',
      subject: imagingStudy.subject,
      imagingStudy: [{ reference: `ImagingStudy/${imagingStudy.id}` }],
      resultsInterpreter: [{ reference: `Practitioner/${ids.reader}` }],
      conclusion: '考虑淋巴瘤。',
      code: { coding: [{ system: 'http://loinc.org', code: '18748-4' }] },
    });
    expect(Buffer.from(draft.presentedForm![0].data!, 'base64').toString()).toBe('纵隔淋巴结肿大。');
    const second = await send('reader', 'POST', `/imaging/studies/${CT_STUDY}/reports`, { findings: 'again' });
    expect(second.status).toBe(409);
    expect(await diagnostics(second)).toContain(`DiagnosticReport/${reportId}`);
  });

  it('only the draft\'s reader changes it, and a stale version is refused', async () => {
    await send('admin', 'POST', `/imaging/studies/${CT_STUDY}/shares`, { kind: 'practitioner', recipient: `Practitioner/${ids.colleague}` });
    expect((await send('colleague', 'PUT', `/imaging/reports/${reportId}`, { findings: 'mine now' })).status).toBe(403);
    expect((await send('colleague', 'POST', `/imaging/reports/${reportId}/sign`, {})).status).toBe(403);
    const updated = await send('reader', 'PUT', `/imaging/reports/${reportId}`, { findings: '纵隔多发淋巴结肿大，最大约 2.1 cm。', impression: '考虑淋巴瘤。' }, { 'if-match': 'W/"1"' });
    expect(updated.status).toBe(200);
    expect(((await updated.json()) as DiagnosticReport).meta?.versionId).toBe('2');
    expect((await send('reader', 'PUT', `/imaging/reports/${reportId}`, { findings: 'lost update' }, { 'if-match': 'W/"1"' })).status).toBe(412);
  });

  it('plain FHIR writes cannot create, change or delete a reading report', async () => {
    const current = (await (await t.fetch(`${t.base}/DiagnosticReport/${reportId}`)).json()) as DiagnosticReport;
    const put = await t.fetch(`${t.base}/DiagnosticReport/${reportId}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...current, status: 'final' }) });
    expect(put.status).toBe(403);
    expect(await diagnostics(put)).toContain('/imaging/reports/');
    expect((await t.fetch(`${t.base}/DiagnosticReport/${reportId}`, { method: 'DELETE' })).status).toBe(403);
    const { id, meta, ...rest } = current;
    void id;
    const forged = await t.fetch(`${t.base}/DiagnosticReport`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...rest, meta: { tag: meta?.tag }, status: 'final' }) });
    expect(forged.status).toBe(403);
    // Removing the tag is a change of a reading report too.
    const untagged = await t.fetch(`${t.base}/DiagnosticReport/${reportId}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...current, meta: {}, conclusion: 'forged' }) });
    expect(untagged.status).toBe(403);
    const after = (await (await t.fetch(`${t.base}/DiagnosticReport/${reportId}`)).json()) as DiagnosticReport;
    expect(after.meta?.versionId).toBe('2');
    expect(after.conclusion).toBe('考虑淋巴瘤。');
    // Other DiagnosticReports (a lab report from a source, say) are written as usual.
    const lab = await t.fetch(`${t.base}/DiagnosticReport`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'DiagnosticReport', status: 'final', code: { text: 'CBC' }, subject: imagingStudy.subject }) });
    expect(lab.status).toBe(201);
  });

  it('signing makes the report final with a Provenance whose JWS verifies and binds the content, and completes the assignment', async () => {
    const res = await send('reader', 'POST', `/imaging/reports/${reportId}/sign`, {});
    expect([res.status, res.status === 200 ? '' : await diagnostics(res.clone())]).toEqual([200, '']);
    const { report, provenance } = (await res.json()) as { report: DiagnosticReport; provenance: Provenance };
    expect(report).toMatchObject({ status: 'final', resultsInterpreter: [{ reference: `Practitioner/${ids.reader}` }] });
    expect(report.issued).toBeDefined();
    expect(provenance.target).toEqual([{ reference: `DiagnosticReport/${reportId}/_history/3` }]);
    expect(provenance.signature![0]).toMatchObject({ who: { reference: `Practitioner/${ids.reader}` }, sigFormat: 'application/jose', type: [{ code: '1.2.840.10065.1.12.1.1' }] });
    const { header, claims } = verifyJws(Buffer.from(provenance.signature![0].data!, 'base64').toString());
    expect(header.alg).toBe('RS256');
    expect(header.jwk.d).toBeUndefined(); // only the public key travels
    expect(claims).toMatchObject({ sub: `Practitioner/${ids.reader}`, target: `DiagnosticReport/${reportId}/_history/3` });
    const stored = (await (await t.fetch(`${t.base}/DiagnosticReport/${reportId}/_history/3`)).json()) as DiagnosticReport;
    expect(claims.sha256).toBe(contentHash(stored));

    const task = (await (await t.fetch(`${t.base}/Task/${ids.task}`)).json()) as Task;
    expect(task.status).toBe('completed');
    expect(task.output?.[0].valueReference?.reference).toBe(`DiagnosticReport/${reportId}`);
    expect(((await (await as('reader', '/imaging/assignments')).json()) as any).assignments).toEqual([]);

    // Signed: no second signature without a change, no more draft edits.
    expect((await send('reader', 'POST', `/imaging/reports/${reportId}/sign`, {})).status).toBe(409);
    expect((await send('reader', 'PUT', `/imaging/reports/${reportId}`, { findings: 'quietly changed' })).status).toBe(409);
  });

  it('an amendment is a new signed version (amended); every version stays readable with its signature checked', async () => {
    const current = ((await (await as('reader', `/imaging/studies/${CT_STUDY}/reports`)).json()) as any).reports[0] as DiagnosticReport;
    expect((await send('reader', 'POST', `/imaging/reports/${reportId}/sign`, { findings: Buffer.from(current.presentedForm![0].data!, 'base64').toString(), impression: current.conclusion })).status).toBe(400); // changes nothing
    const res = await send('colleague', 'POST', `/imaging/reports/${reportId}/sign`, { findings: '纵隔多发淋巴结肿大，最大约 2.1 cm。', impression: '考虑淋巴瘤，建议活检。' }, { 'if-match': 'W/"3"' });
    expect(res.status).toBe(200);
    const { report } = (await res.json()) as { report: DiagnosticReport };
    expect(report).toMatchObject({ status: 'amended', conclusion: '考虑淋巴瘤，建议活检。', resultsInterpreter: [{ reference: `Practitioner/${ids.colleague}` }] });
    expect(report.meta?.versionId).toBe('4');

    const versions = ((await (await as('reader', `/imaging/reports/${reportId}/versions`)).json()) as any).versions;
    expect(versions.map((v: any) => [v.versionId, v.status, v.signature?.valid])).toEqual([
      ['4', 'amended', true],
      ['3', 'final', true],
      ['2', 'preliminary', undefined],
      ['1', 'preliminary', undefined],
    ]);
    expect(versions[1].content.impression).toBe('考虑淋巴瘤。');
    expect(versions[0].signature.signer).toBe(`Practitioner/${ids.colleague}`);

    // Found through FHIR search by its study, with its history.
    const found = (await (await t.fetch(`${t.base}/DiagnosticReport?imaging-study=ImagingStudy/${imagingStudy.id}&_tag=${encodeURIComponent(READING_TAG)}`)).json()) as Bundle;
    expect(found.entry?.map((e) => e.resource?.id)).toEqual([reportId]);
    expect(((await (await t.fetch(`${t.base}/DiagnosticReport/${reportId}/_history`)).json()) as Bundle).total).toBe(4);
    const provenances = (await (await t.fetch(`${t.base}/Provenance?target=DiagnosticReport/${reportId}`)).json()) as Bundle;
    expect(provenances.entry).toHaveLength(2);
  });

  it('a signed version whose stored content was altered no longer verifies', async () => {
    await t.hub.db.query(`update resource_history set content = jsonb_set(content::jsonb, '{conclusion}', '"无异常。"') where type = 'DiagnosticReport' and id = $1 and version_id = '3'`, [reportId]);
    const versions = ((await (await as('reader', `/imaging/reports/${reportId}/versions`)).json()) as any).versions;
    expect(versions.find((v: any) => v.versionId === '3').signature).toMatchObject({ valid: false, problem: expect.stringContaining('differs') });
    expect(versions.find((v: any) => v.versionId === '4').signature.valid).toBe(true);
  });

  it('saves image measurements as coded Observations on the study\'s instances; lists and withdraws them', async () => {
    const instances = (await (await as('reader', `/dicomweb/studies/${CT_STUDY}/instances`)).json()) as any[];
    const [series, sop] = [instances[0]['0020000E'].Value[0], instances[0]['00080018'].Value[0]];
    const length = { kind: 'length', seriesUid: series, sopInstanceUid: sop, frame: 1, points: [{ x: 100, y: 200 }, { x: 300, y: 200 }], values: [{ name: 'length', value: 140.625, unit: 'mm' }] };
    const roi = {
      kind: 'ellipse', seriesUid: series, sopInstanceUid: sop, frame: 1, points: [{ x: 10, y: 10 }, { x: 50, y: 40 }],
      values: [{ name: 'area', value: 465.2, unit: 'mm2' }, { name: 'mean', value: -998.4, unit: "[hnsf'U]" }, { name: 'stdDev', value: 4.1, unit: "[hnsf'U]" }],
    };
    const post = (who: string, measurements: unknown[]) => send(who, 'POST', `/imaging/studies/${CT_STUDY}/measurements`, { measurements });
    // Bad input: a clear 400 that names the measurement, and nothing saved.
    expect((await post('reader', [{ ...length, points: [{ x: 1, y: 2 }] }])).status).toBe(400);
    const wrongInstance = await post('reader', [length, { ...roi, sopInstanceUid: '1.2.3' }]);
    expect(wrongInstance.status).toBe(400);
    expect(await diagnostics(wrongInstance)).toContain('1.2.3');
    expect((await post('reader', [{ ...length, values: [{ name: 'length', value: 1, unit: 'furlong' }] }])).status).toBe(400);
    expect((await post('nurse', [length])).status).toBe(403);
    expect(((await (await as('reader', `/imaging/studies/${CT_STUDY}/measurements`)).json()) as any).measurements).toEqual([]);

    const res = await post('reader', [length, roi]);
    expect(res.status).toBe(201);
    const saved = ((await res.json()) as any).measurements;
    expect(saved.map((m: any) => [m.kind, m.sopInstanceUid, m.points.length])).toEqual([['length', sop, 2], ['ellipse', sop, 2]]);
    const observation = (await (await t.fetch(`${t.base}/Observation/${saved[0].id}`)).json()) as any;
    expect(observation).toMatchObject({
      status: 'final',
      code: { coding: [{ system: 'http://snomed.info/sct', code: '410668003' }] },
      valueQuantity: { value: 140.625, system: 'http://unitsofmeasure.org', code: 'mm' },
      derivedFrom: [{ reference: `ImagingStudy/${imagingStudy.id}` }],
      subject: imagingStudy.subject,
      performer: [{ reference: `Practitioner/${ids.reader}` }],
    });
    const region = (await (await t.fetch(`${t.base}/Observation/${saved[1].id}`)).json()) as any;
    expect(region.component.map((c: any) => [c.code.coding[0].code, c.valueQuantity.value, c.valueQuantity.code])).toEqual([['42798000', 465.2, 'mm2'], ['373098007', -998.4, "[hnsf'U]"], ['386136009', 4.1, "[hnsf'U]"]]);
    // Found by FHIR search too; not writable through FHIR.
    const found = (await (await t.fetch(`${t.base}/Observation?derived-from=ImagingStudy/${imagingStudy.id}`)).json()) as Bundle;
    expect(found.entry).toHaveLength(2);
    expect((await t.fetch(`${t.base}/Observation/${saved[0].id}`, { method: 'DELETE' })).status).toBe(403);

    expect((await as('colleague', `/imaging/measurements/${saved[0].id}`, { method: 'DELETE' })).status).toBe(403);
    expect((await as('reader', `/imaging/measurements/${saved[0].id}`, { method: 'DELETE' })).status).toBe(204);
    const listed = ((await (await as('reader', `/imaging/studies/${CT_STUDY}/measurements`)).json()) as any).measurements;
    expect(listed.map((m: any) => m.id)).toEqual([saved[1].id]);
    expect(listed[0].values.map((v: any) => v.name)).toEqual(['area', 'mean', 'stdDev']);
    expect(((await (await t.fetch(`${t.base}/Observation/${saved[0].id}`)).json()) as any).status).toBe('entered-in-error');
  });

  it('reports of unknown ids answer 404, and each access is audited', async () => {
    expect((await send('reader', 'PUT', '/imaging/reports/does-not-exist', { findings: 'x' })).status).toBe(404);
    expect((await as('reader', '/imaging/reports/bad%20id/versions')).status).toBe(400);
    await t.hub.audit.flush();
    const events = ((await (await t.fetch(`${t.base}/AuditEvent?entity=DiagnosticReport/${reportId}&_count=100`)).json()) as Bundle).entry ?? [];
    const details = events.map((e) => JSON.stringify(e.resource));
    expect(details.some((d) => d.includes('reading report signed (final'))).toBe(true);
    expect(details.some((d) => d.includes('reading report signed (amended'))).toBe(true);
  });
});
