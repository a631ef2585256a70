// Sharing a study across institutions and result recognition (MR-04): a practitioner or an
// institution gains read access to one study; a link opens it without an account (with its code,
// until it expires or is revoked); every access is audited; recognised studies carry the HR mark.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, ImagingStudy } from '@medplum/fhirtypes';
import { dicomFiles, stowBody } from '../helpers/dicom.js';
import { availableBackends } from '../helpers/parts.js';
import { createAccount, newPassword, registerPublicApp, signIn } from '../helpers/people.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('imaging shares');
const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';
const MR_STUDY = '1.2.826.0.1.3680043.8.498.23904356067352728123256330845974725175';

describe.each(backends)('imaging shares and recognition on %s', (backend) => {
  const t = useTestHub(backend);
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const as = (who: string, path: string, init: RequestInit = {}) =>
    fetch(`${t.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${tokens[who]}` } });
  const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const create = async (resource: Record<string, unknown>) => ((await (await t.fetch(`${t.base}/${resource.resourceType}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) })).json()) as { id: string }).id;
  const sharesOf = async (study: string) => (await (await as('admin', `/imaging/studies/${study}/shares`)).json()) as any[];

  beforeAll(async () => {
    tokens.admin = t.token;
    for (const files of [dicomFiles('series/ct-10'), dicomFiles('series/mr-128').slice(0, 3)]) {
      const { body, contentType } = stowBody(files);
      expect((await t.fetch(`${t.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) })).status).toBe(200);
    }
    ids.hospital = await create({ resourceType: 'Organization', name: '苏河区中心医院' });
    ids.reader = await create({ resourceType: 'Practitioner', name: [{ family: '读片', given: ['医生'] }] });
    ids.colleague = await create({ resourceType: 'Practitioner', name: [{ family: '同事' }] });
    await create({ resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${ids.colleague}` }, organization: { reference: `Organization/${ids.hospital}` } });
    await registerPublicApp(t, 'viewer-app', 'openid fhirUser user/*.cruds');
    for (const [name, practitioner] of [['reader', ids.reader], ['colleague', ids.colleague]]) {
      const password = newPassword();
      await createAccount(t, { username: name, password, role: 'doctor', fhirUser: `Practitioner/${practitioner}` });
      tokens[name] = (await signIn(t, { clientId: 'viewer-app', username: name, password, scope: 'openid fhirUser user/*.cruds' })).access_token;
    }
  }, 120_000);

  it('a doctor with no care relationship sees neither the study in QIDO nor its images', async () => {
    const studies = (await (await as('reader', '/dicomweb/studies')).json()) as any[];
    expect(studies.map((s) => s['0020000D'].Value[0])).not.toContain(CT_STUDY);
    expect((await as('reader', `/dicomweb/studies/${CT_STUDY}/metadata`)).status).toBe(404);
    expect((await as('reader', `/imaging/studies/${CT_STUDY}/shares`, json({ kind: 'link', expiresInHours: 1 }))).status).toBe(404);
  });

  it('a read-only token cannot share or revoke: sharing discloses the study, so it needs write scope on ImagingStudy', async () => {
    const password = newPassword();
    const id = await create({ resourceType: 'Practitioner', name: [{ family: '只读' }] });
    await createAccount(t, { username: 'read-only-doctor', password, role: 'doctor', fhirUser: `Practitioner/${id}` });
    tokens.readOnly = (await signIn(t, { clientId: 'viewer-app', username: 'read-only-doctor', password, scope: 'openid fhirUser user/*.rs' })).access_token;
    expect((await as('admin', `/imaging/studies/${MR_STUDY}/shares`, json({ kind: 'practitioner', recipient: `Practitioner/${id}` }))).status).toBe(201);
    expect((await as('readOnly', `/dicomweb/studies/${MR_STUDY}/metadata`)).status).toBe(200); // it may read the study …
    const refused = await as('readOnly', `/imaging/studies/${MR_STUDY}/shares`, json({ kind: 'link', expiresInHours: 1 }));
    expect(refused.status).toBe(403); // … but not pass it on
    const share = (await sharesOf(MR_STUDY)).find((s) => s.recipient === `Practitioner/${id}`);
    expect((await as('readOnly', `/imaging/shares/${share.id}`, { method: 'DELETE' })).status).toBe(403);
    expect((await sharesOf(MR_STUDY)).some((s) => s.kind === 'link')).toBe(false);
  });

  it('sharing with a practitioner opens that one study to them until it is revoked', async () => {
    const created = await as('admin', `/imaging/studies/${CT_STUDY}/shares`, json({ kind: 'practitioner', recipient: `Practitioner/${ids.reader}` }));
    expect(created.status).toBe(201);
    const share = (await created.json()) as any;
    expect(share).toMatchObject({ kind: 'practitioner', studyUid: CT_STUDY, recipient: `Practitioner/${ids.reader}` });
    expect(share.url ?? share.viewerUrl).toBeUndefined(); // only links have addresses
    const studies = (await (await as('reader', '/dicomweb/studies')).json()) as any[];
    expect(studies.map((s) => s['0020000D'].Value[0])).toEqual([CT_STUDY]);
    expect((await as('reader', `/dicomweb/studies/${CT_STUDY}/metadata`)).status).toBe(200);
    expect((await as('reader', `/dicomweb/studies/${MR_STUDY}/metadata`)).status).toBe(404);
    expect((await as('reader', `/imaging/shares/${share.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await as('reader', `/dicomweb/studies/${CT_STUDY}/metadata`)).status).toBe(404);
    expect((await sharesOf(CT_STUDY)).find((s) => s.id === share.id).revokedAt).toBeDefined();
  });

  it('sharing with an institution opens the study to the doctors who work there', async () => {
    expect((await as('colleague', `/dicomweb/studies/${MR_STUDY}/metadata`)).status).toBe(404);
    expect((await as('admin', `/imaging/studies/${MR_STUDY}/shares`, json({ kind: 'organization', recipient: `Organization/${ids.hospital}`, expiresInHours: 48 }))).status).toBe(201);
    expect((await as('colleague', `/dicomweb/studies/${MR_STUDY}/metadata`)).status).toBe(200);
    expect((await as('reader', `/dicomweb/studies/${MR_STUDY}/metadata`)).status).toBe(404);
  });

  it('a link opens the study without an account, with its access code, read-only, only that study', async () => {
    const res = await as('admin', `/imaging/studies/${CT_STUDY}/shares`, json({ kind: 'link', expiresInHours: 2, accessCode: '246810' }));
    const share = (await res.json()) as any;
    expect(share.url).toMatch(new RegExp(`/imaging/shared/[\\w-]{40,}/dicomweb/studies/${CT_STUDY}$`));
    // The viewer's link carries the same token, in the fragment (never sent to a server).
    const token = /\/imaging\/shared\/([\w-]+)\//.exec(share.url)![1];
    expect(share.viewerUrl).toBe(`${t.url}/viewer/#/shared/${token}/${CT_STUDY}`);
    expect(share.hasAccessCode).toBe(true);
    // Each refusal says why, for a client to act on (ask for the code, or say the link is closed).
    const refusal = async (res: Response) => {
      const outcome = (await res.json()) as any;
      return { status: res.status, reason: outcome.issue[0].details?.coding?.[0]?.code, text: outcome.issue[0].diagnostics };
    };
    await expect(refusal(await fetch(`${share.url}/metadata`))).resolves.toMatchObject({ status: 403, reason: 'code-required', text: expect.stringMatching(/needs its access code/) });
    await expect(refusal(await fetch(`${share.url}/metadata`, { headers: { 'x-share-code': '000000' } }))).resolves.toMatchObject({ status: 403, reason: 'code-wrong', text: 'The access code is wrong' });
    const opened = await fetch(`${share.url}/metadata`, { headers: { 'x-share-code': '246810' } });
    expect(opened.status).toBe(200);
    // Until when the link works, for the viewer's banner.
    expect(Math.abs(Date.parse(opened.headers.get('x-share-expires')!) - (Date.now() + 2 * 3_600_000))).toBeLessThan(60_000);
    const metadata = (await opened.json()) as any[];
    expect(metadata).toHaveLength(dicomFiles('series/ct-10').length);
    // Bulk data URIs stay inside the share.
    expect(metadata[0]['7FE00010'].BulkDataURI.startsWith(share.url.split('/studies/')[0])).toBe(true);
    const series = (await (await fetch(`${share.url}/series?code=246810`)).json()) as any[];
    expect(series).toHaveLength(1);
    const other = share.url.replace(CT_STUDY, MR_STUDY);
    expect((await fetch(`${other}/metadata?code=246810`)).status).toBe(404);
    // A study search through the link finds the shared study and nothing else.
    const all = (await (await fetch(`${share.url.split('/studies/')[0]}/studies?code=246810`)).json()) as any[];
    expect(all.map((s) => s['0020000D'].Value[0])).toEqual([CT_STUDY]);
    expect((await fetch(share.url, { method: 'POST', headers: { 'x-share-code': '246810' } })).status).toBe(403);
    // Expired, then revoked: closed at once.
    await t.hub.db.query("update imaging_share set expires_at = now() - interval '1 minute' where id = $1", [share.id]);
    await expect(refusal(await fetch(`${share.url}/metadata?code=246810`))).resolves.toMatchObject({ status: 403, reason: 'expired' });
    await t.hub.db.query("update imaging_share set expires_at = now() + interval '1 hour' where id = $1", [share.id]);
    expect((await as('admin', `/imaging/shares/${share.id}`, { method: 'DELETE' })).status).toBe(200);
    const revoked = await fetch(`${share.url}/metadata?code=246810`);
    expect(revoked.status).toBe(403);
    await expect(refusal(revoked)).resolves.toMatchObject({ reason: 'revoked', text: expect.stringMatching(/revoked/) });
  });

  it('locks a link after ten wrong codes, and refuses links without an expiry', async () => {
    const share = (await (await as('admin', `/imaging/studies/${CT_STUDY}/shares`, json({ kind: 'link', expiresInHours: 1, accessCode: 'right-code' }))).json()) as any;
    // Asking without a code guesses nothing and does not count (a viewer asks so on every load).
    for (let i = 0; i < 12; i++) expect((await fetch(`${share.url}/metadata`)).status).toBe(403);
    for (let i = 0; i < 9; i++) expect((await fetch(`${share.url}/metadata?code=wrong-${i}`)).status).toBe(403);
    expect((await fetch(`${share.url}/metadata?code=right-code`)).status).toBe(200);
    expect((await fetch(`${share.url}/metadata?code=wrong-9`)).status).toBe(403);
    const locked = await fetch(`${share.url}/metadata?code=right-code`);
    expect(locked.status).toBe(403);
    const outcome = (await locked.json()) as any;
    expect(outcome.issue[0].diagnostics).toMatch(/locked/);
    expect(outcome.issue[0].details.coding[0]).toEqual({ system: 'https://suhe.example.cn/fhir/CodeSystem/share-link-refusal', code: 'locked' });
    expect((await as('admin', `/imaging/studies/${CT_STUDY}/shares`, json({ kind: 'link' }))).status).toBe(400);
    expect((await as('admin', `/imaging/studies/${CT_STUDY}/shares`, json({ kind: 'practitioner', recipient: 'Patient/1' }))).status).toBe(400);
  });

  it('audits access through a share under the share', async () => {
    const share = (await (await as('admin', `/imaging/studies/${CT_STUDY}/shares`, json({ kind: 'link', expiresInHours: 1 }))).json()) as any;
    expect((await fetch(`${share.url}/metadata`)).status).toBe(200);
    await t.hub.audit.flush();
    const study = ((await (await t.fetch(`${t.base}/ImagingStudy?identifier=urn:oid:${CT_STUDY}`)).json()) as Bundle).entry![0].resource as ImagingStudy;
    const events = ((await (await t.fetch(`${t.base}/AuditEvent?entity=ImagingStudy/${study.id}&_count=200`)).json()) as Bundle).entry ?? [];
    expect(events.some((e) => JSON.stringify(e.resource).includes(`share:${share.id}`))).toBe(true);
  });

  it('MR-04: authorised roles mark a study recognised (HR mark, region, QC per item); it shows on the ImagingStudy and survives new instances', async () => {
    const series = ((await (await as('admin', `/dicomweb/studies/${CT_STUDY}/series`)).json()) as any[])[0]['0020000E'].Value[0];
    const put = (who: string, body: unknown) => as(who, `/imaging/studies/${CT_STUDY}/recognition`, { ...json(body), method: 'PUT' });
    expect((await put('admin', { region: '沪', qcStatus: 'maybe' })).status).toBe(400);
    expect((await put('reader', { region: '沪', qcStatus: 'passed' })).status).toBe(404); // cannot even read it
    const res = await put('admin', { region: '沪', qcStatus: 'passed', series: { [series]: 'passed' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).mark).toBe('沪HR');
    const found = (await (await t.fetch(`${t.base}/ImagingStudy?_tag=https://suhe.example.cn/fhir/CodeSystem/result-recognition|HR`)).json()) as Bundle;
    expect(found.entry).toHaveLength(1);
    const study = found.entry![0].resource as ImagingStudy;
    const extension = study.extension!.find((e) => e.url.endsWith('/result-recognition'))!;
    expect(extension.extension!.find((e) => e.url === 'mark')!.valueString).toBe('沪HR');
    expect(extension.extension!.find((e) => e.url === 'qcStatus')!.valueCode).toBe('passed');
    // New instances of the study keep the mark.
    const { body, contentType } = stowBody(dicomFiles('series/ct-10').slice(0, 1));
    await t.fetch(`${t.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) });
    const again = (await (await t.fetch(`${t.base}/ImagingStudy/${study.id}`)).json()) as ImagingStudy;
    expect(again.meta!.versionId).not.toBe(study.meta!.versionId);
    expect(again.extension?.[0].url).toMatch(/result-recognition$/);
    expect(((await (await as('admin', `/imaging/studies/${CT_STUDY}/recognition`)).json()) as any).qcStatus).toBe('passed');
  });
});
