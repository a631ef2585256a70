// The hub querying and retrieving from a PACS through /imaging/peers, with a second hub as that
// PACS (its own DIMSE SCP: Study Root C-FIND, C-MOVE to the first hub): matches as DICOM JSON, a
// limit that cancels the query (C-CANCEL), a study and a series moved in byte for byte, the
// audit trail; and the ways it goes wrong — a peer that rejects us (502 with the reason), one
// that never answers (504), one that is not there (502), one with no port (409), an unknown one
// (404) — and who may use it (doctors yes, nurses no).
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEvent, Bundle, ImagingStudy } from '@medplum/fhirtypes';
import dicomParser from 'dicom-parser';
import { datasetOf, dicomFiles, sha256, splitMultipart, stowBody } from '../helpers/dicom.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createAccount, newPassword, registerPublicApp, signIn } from '../helpers/people.js';
import { freePort } from '../helpers/ports.js';

const CT = dicomFiles('series/ct-10');
const MR = dicomFiles('series/mr-128').slice(0, 12);
const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';
const MR_STUDY = '1.2.826.0.1.3680043.8.498.23904356067352728123256330845974725175';

describe('querying and retrieving from a PACS (another hub as the PACS)', () => {
  let pacs: TestHub;
  let hub: TestHub;
  let silent: Server;
  const tokens: Record<string, string> = {};
  const post = (path: string, body: unknown, who = 'admin') =>
    fetch(`${hub.url}/imaging/peers/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[who]}` }, body: JSON.stringify(body) });
  const diagnostics = async (res: Response) => ((await res.json()) as any).issue?.[0]?.diagnostics as string;
  const instances = async (t: TestHub, study: string) => {
    const res = await t.fetch(`${t.url}/dicomweb/studies/${study}`, { headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } });
    if (res.status === 404) return new Map<string, string>();
    expect(res.status).toBe(200);
    // SOP Instance UID → hash of the stored data set (the File Meta group differs: each hub writes its own).
    const parts = splitMultipart(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type')!);
    return new Map(parts.map((p) => [dicomParser.parseDicom(p.body, { untilTag: 'x00200013' }).string('x00080018'), sha256(datasetOf(p.body))]));
  };

  beforeAll(async () => {
    const hubPort = await freePort();
    const gonePort = await freePort();
    silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    const silentPort = (silent.address() as { port: number }).port;
    pacs = await startTestHub('pglite', { dimse: { port: 0, aeTitle: 'PACSA', peers: [{ aeTitle: 'SUHE', host: '127.0.0.1', port: hubPort }] } });
    const pacsPort = pacs.hub.dimsePort()!;
    hub = await startTestHub('pglite', {
      dimse: {
        port: hubPort,
        aeTitle: 'SUHE',
        // Short, for the peer that never answers its association request (504). The idle timeout
        // stays roomy: both hubs share this process, and on a loaded machine a C-MOVE's
        // sub-operations once waited more than 3 s (0xA702, the association closed early).
        associationTimeoutSeconds: 2,
        idleTimeoutSeconds: 30,
        peers: [
          { aeTitle: 'PACSA', host: '127.0.0.1', port: pacsPort },
          // The PACS's port under a title it does not answer to: it rejects the association.
          { aeTitle: 'WRONGAE', host: '127.0.0.1', port: pacsPort },
          { aeTitle: 'SILENT', host: '127.0.0.1', port: silentPort },
          { aeTitle: 'GONE', host: '127.0.0.1', port: gonePort },
          { aeTitle: 'MODALITY', host: '127.0.0.1', port: 0 },
        ],
      },
    });
    tokens.admin = hub.token;
    for (const files of [CT, MR]) {
      const { body, contentType } = stowBody(files);
      expect((await pacs.fetch(`${pacs.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) })).status).toBe(200);
    }
    await registerPublicApp(hub, 'pacs-viewer', 'openid fhirUser user/*.cruds');
    for (const role of ['doctor', 'nurse']) {
      const practitioner = ((await (await hub.fetch(`${hub.base}/Practitioner`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Practitioner', name: [{ family: role }] }) })).json()) as { id: string }).id;
      const password = newPassword();
      await createAccount(hub, { username: `pacs-${role}`, password, role, fhirUser: `Practitioner/${practitioner}` });
      tokens[role] = (await signIn(hub, { clientId: 'pacs-viewer', username: `pacs-${role}`, password, scope: 'openid fhirUser user/*.cruds' })).access_token;
    }
  }, 120_000);

  afterAll(async () => {
    await hub?.close();
    await pacs?.close();
    silent?.close();
  });

  it('lists the configured peers to doctors, not to nurses', async () => {
    const res = await fetch(`${hub.url}/imaging/peers`, { headers: { authorization: `Bearer ${tokens.doctor}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any[]).map((p) => p.aeTitle)).toEqual(['PACSA', 'WRONGAE', 'SILENT', 'GONE', 'MODALITY']);
    expect((await fetch(`${hub.url}/imaging/peers`, { headers: { authorization: `Bearer ${tokens.nurse}` } })).status).toBe(403);
    expect((await post('PACSA/find', { query: {} }, 'nurse')).status).toBe(403);
    expect((await fetch(`${hub.url}/imaging/peers`)).status).toBe(401);
  });

  it('finds studies at the PACS as DICOM JSON, at STUDY, SERIES and IMAGE level', async () => {
    const res = await post('PACSA/find', { level: 'STUDY', query: { PatientID: 'Z-Missing-Slices-Lymphoma' } }, 'doctor');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/dicom\+json/);
    const [study, ...more] = (await res.json()) as any[];
    expect(more).toEqual([]);
    expect(study['0020000D']).toEqual({ vr: 'UI', Value: [CT_STUDY] });
    expect(study['00201208']).toEqual({ vr: 'IS', Value: [CT.length] });
    expect(study['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Lymphoma' }] });
    expect(study['00080061']).toEqual({ vr: 'CS', Value: ['CT'] });
    expect(study['00080054']).toEqual({ vr: 'AE', Value: ['PACSA'] });
    const series = (await (await post('PACSA/find', { level: 'SERIES', query: { StudyInstanceUID: MR_STUDY } })).json()) as any[];
    expect(series.map((s) => s['00201209'].Value[0])).toEqual([MR.length]);
    const images = (await (await post('PACSA/find', { level: 'image', query: { StudyInstanceUID: MR_STUDY }, fields: ['Rows', '00280011'] })).json()) as any[];
    expect(images).toHaveLength(MR.length);
    expect(images[0]['00280010'].Value[0]).toBeGreaterThan(0);
    expect(images[0]['00280011'].Value[0]).toBeGreaterThan(0);
  });

  it('cancels a query past its limit and says so', async () => {
    const res = await post('PACSA/find', { level: 'IMAGE', query: { StudyInstanceUID: MR_STUDY }, limit: 5 });
    expect(res.status).toBe(200);
    expect((await res.json()) as any[]).toHaveLength(5);
    expect(res.headers.get('warning')).toMatch(/^299 suhe "More than 5 matches at PACSA/);
    // The PACS's association survived the C-CANCEL and serves the next query.
    expect((await post('PACSA/find', { query: { PatientID: 'PACSMAN1' } })).status).toBe(200);
  });

  it('retrieves a study and a series: the PACS moves them to the hub, byte for byte, and the retrieve is audited', async () => {
    const res = await post('PACSA/retrieve', { studyUid: MR_STUDY }, 'doctor');
    const body = (await res.json()) as any;
    // The hub's reason travels with a failure (a 502 names what the PACS did).
    expect([res.status, res.status === 200 ? '' : JSON.stringify(body)]).toEqual([200, '']);
    expect(body).toMatchObject({ peer: 'PACSA', studyUid: MR_STUDY, outcome: 'success', status: '0x0000', completed: MR.length, failed: 0, warning: 0, instancesOnHub: MR.length });
    expect(body.retrieveUrl).toBe(`${hub.url}/dicomweb/studies/${MR_STUDY}`);
    const atPacs = await instances(pacs, MR_STUDY);
    expect(atPacs.size).toBe(MR.length);
    expect(await instances(hub, MR_STUDY)).toEqual(atPacs);
    const ctSeries = ((await (await post('PACSA/find', { level: 'SERIES', query: { StudyInstanceUID: CT_STUDY } })).json()) as any[])[0]['0020000E'].Value[0];
    const series = (await (await post('PACSA/retrieve', { studyUid: CT_STUDY, seriesUid: ctSeries })).json()) as any;
    expect(series).toMatchObject({ completed: CT.length, seriesUid: ctSeries, instancesOnHub: CT.length });
    expect(await instances(hub, CT_STUDY)).toEqual(await instances(pacs, CT_STUDY));

    const bundle = (await (await hub.fetch(`${hub.base}/ImagingStudy?identifier=${encodeURIComponent(`urn:oid:${MR_STUDY}`)}`)).json()) as Bundle<ImagingStudy>;
    const study = bundle.entry![0].resource!;
    expect(study.numberOfInstances).toBe(MR.length);
    expect(body.imagingStudy).toBe(`ImagingStudy/${study.id}`);
    await hub.hub.audit.flush();
    const events = ((await (await hub.fetch(`${hub.base}/AuditEvent?entity=ImagingStudy/${study.id}&_count=100`)).json()) as Bundle<AuditEvent>).entry!.map((e) => e.resource!);
    const moved = events.find((e) => (e.outcomeDesc ?? '').startsWith('C-MOVE from PACSA to SUHE'));
    expect(moved).toBeDefined();
    expect(JSON.stringify(moved!.entity)).toContain(study.subject.reference);
    expect(JSON.stringify(moved!.agent)).toContain('pacs-viewer');
  });

  it('answers 502 with the reason when the peer rejects the association, 504 when it never answers, 502 when it is not there', async () => {
    const rejected = await post('WRONGAE/find', { query: {} });
    expect(rejected.status).toBe(502);
    expect(await diagnostics(rejected)).toMatch(/WRONGAE rejected the association: called AE title not recognized/);
    const started = Date.now();
    const silentAnswer = await post('SILENT/retrieve', { studyUid: MR_STUDY });
    expect(silentAnswer.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(await diagnostics(silentAnswer)).toMatch(/SILENT/);
    const gone = await post('GONE/find', { query: {} });
    expect(gone.status).toBe(502);
    expect(await diagnostics(gone)).toMatch(/ECONNREFUSED|closed the connection/);
    expect((await post('MODALITY/find', { query: {} })).status).toBe(409);
    expect((await post('NOBODY/find', { query: {} })).status).toBe(404);
    expect((await post('PACSA/retrieve', { studyUid: '1.2.3.999' })).status).toBe(404);
    await hub.hub.audit.flush();
    const failed = ((await (await hub.fetch(`${hub.base}/AuditEvent?outcome=8&_count=100`)).json()) as Bundle<AuditEvent>).entry ?? [];
    expect(JSON.stringify(failed)).toMatch(/C-MOVE from SILENT to SUHE/);
  });

  it('refuses malformed requests with 400 and a message', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['PACSA/find', [], /JSON object/],
      ['PACSA/find', { level: 'PATIENT' }, /Study Root/],
      ['PACSA/find', { query: { StudyDate: '2023-01-01' } }, /not a date/],
      ['PACSA/find', { query: { StudyInstanceUID: '1.2.x' } }, /not a UID/],
      ['PACSA/find', { query: { QueryRetrieveLevel: 'STUDY' } }, /set by the hub/],
      ['PACSA/find', { query: { PixelData: 'x' } }, /cannot be matched/],
      ['PACSA/find', { limit: 0 }, /limit/],
      ['PACSA/find', { fields: 'Rows' }, /fields/],
      ['PACSA/retrieve', {}, /studyUid/],
      ['PACSA/retrieve', { studyUid: MR_STUDY, seriesUid: 7 }, /seriesUid/],
    ];
    for (const [path, body, message] of cases) {
      const res = await post(path, body);
      expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
      expect(await diagnostics(res)).toMatch(message);
    }
  });
});
