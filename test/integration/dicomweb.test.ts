// The imaging cloud over HTTP on both adapters: STOW-RS the real test files, find them with
// QIDO-RS, get them back byte for byte with WADO-RS, and see each study become an ImagingStudy.
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, ImagingStudy, Patient } from '@medplum/fhirtypes';
import { listBlobKeys, type FileBlobStore } from '../../server/src/imaging/blob-store.js';
import { clientCredentialsToken } from '../helpers/auth.js';
import { dicomFiles, sha256, splitMultipart, stowBody, syntheticInstance } from '../helpers/dicom.js';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('dicomweb');
const CT = dicomFiles('series/ct-10');
const MR = dicomFiles('series/mr-128');
const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';
const MR_STUDY = '1.2.826.0.1.3680043.8.498.23904356067352728123256330845974725175';

describe.each(backends)('DICOMweb on %s', (backend) => {
  const t = useTestHub(backend);
  const web = () => `${t.url}/dicomweb`;
  const stow = async (files: (string | Uint8Array)[], path = '/studies') => {
    const { body, contentType } = stowBody(files);
    const res = await t.fetch(`${web()}${path}`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body: new Uint8Array(body) });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
  const json = async (path: string, headers: Record<string, string> = {}) => {
    const res = await t.fetch(`${web()}${path}`, { headers: { accept: 'application/dicom+json', ...headers } });
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    return (await res.json()) as Record<string, any>[];
  };
  const value = (obj: Record<string, any>, tag: string) => obj[tag]?.Value?.[0];

  let residentId: string;

  beforeAll(async () => {
    // The MR study's Patient ID names a resident the hub already knows: the study must join them.
    const created = await t.fetch(`${t.base}/Patient`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: 'urn:example:district-hospital:mrn', value: 'PACSMAN1' }], name: [{ family: 'Pacsman' }] }),
    });
    residentId = ((await created.json()) as Patient).id!;
    const ct = await stow(CT);
    expect(ct.status).toBe(200);
    const mr = await stow(MR);
    expect(mr.status).toBe(200);
  }, 120_000);

  it('STOW-RS answers with every stored instance and its RetrieveURL', async () => {
    const again = await stow(CT.slice(0, 2));
    expect(again.status).toBe(200);
    const referenced = again.json['00081199'].Value as Record<string, any>[];
    expect(referenced).toHaveLength(2);
    for (const item of referenced) expect(value(item, '00081190')).toMatch(new RegExp(`^${web()}/studies/[\\d.]+/series/[\\d.]+/instances/[\\d.]+$`));
    expect(again.json['00081198']).toBeUndefined();
  });

  it('QIDO-RS finds the studies with their attributes and counts', async () => {
    const studies = await json('/studies');
    expect(studies.length).toBeGreaterThanOrEqual(2);
    const ct = studies.find((s) => value(s, '0020000D') === CT_STUDY)!;
    expect(ct).toBeDefined();
    expect(value(ct, '00201208')).toBe(CT.length);
    expect(value(ct, '00201206')).toBe(1);
    expect(ct['00080061'].Value).toEqual(['CT']);
    expect(value(ct, '00081190')).toBe(`${web()}/studies/${CT_STUDY}`);
    const mrStudies = await json('/studies?ModalitiesInStudy=MR');
    expect(mrStudies).toHaveLength(1);
    expect(value(mrStudies[0], '00201208')).toBe(MR.length);
  });

  it('QIDO-RS matching: UID lists, wildcards, ranges, limit/offset, percent-encoded values', async () => {
    const [ct] = await json(`/studies?StudyInstanceUID=${CT_STUDY}`);
    const patientId = value(ct, '00100020') as string;
    expect(await json(`/studies?PatientID=${encodeURIComponent(patientId)}`)).toHaveLength(1);
    expect(await json(`/studies?PatientID=${encodeURIComponent(patientId.slice(0, 4))}%2A`)).toHaveLength(1);
    expect(await json(`/studies?PatientID=${encodeURIComponent(patientId.slice(0, 4))}`)).toHaveLength(0);
    expect(await json(`/studies?00100020=${encodeURIComponent(patientId)}`)).toHaveLength(1);
    expect((await json(`/studies?StudyInstanceUID=${CT_STUDY},${MR_STUDY}`)).map((s) => value(s, '0020000D')).sort()).toEqual([CT_STUDY, MR_STUDY].sort());
    // The MR study was on 2023-10-16; the CT study has no date and matches no range.
    expect((await json('/studies?StudyDate=20231016')).map((s) => value(s, '0020000D'))).toEqual([MR_STUDY]);
    expect((await json('/studies?StudyDate=20231001-20231031')).map((s) => value(s, '0020000D'))).toEqual([MR_STUDY]);
    expect((await json('/studies?StudyDate=20231017-')).map((s) => value(s, '0020000D'))).toEqual([]);
    expect((await json('/studies?StudyDate=-20231016')).map((s) => value(s, '0020000D'))).toEqual([MR_STUDY]);
    const [a] = await json('/studies?limit=1');
    const [b] = await json('/studies?limit=1&offset=1');
    expect(value(a, '0020000D')).not.toBe(value(b, '0020000D'));
    const series = await json(`/studies/${CT_STUDY}/series`);
    expect(series).toHaveLength(1);
    const instances = await json(`/studies/${CT_STUDY}/series/${value(series[0], '0020000E')}/instances`);
    expect(instances).toHaveLength(CT.length);
    expect(value(instances[0], '00280010')).toBe(512);
  });

  it('QIDO-RS matches person names ignoring case, and fuzzily by component start', async () => {
    const all = await json('/studies');
    const named = all.find((s) => s['00100010']?.Value?.[0]?.Alphabetic)!;
    const name = named['00100010'].Value[0].Alphabetic as string;
    const uid = value(named, '0020000D');
    const found = await json(`/studies?PatientName=${encodeURIComponent(name.toLowerCase())}`);
    expect(found.map((s) => value(s, '0020000D'))).toContain(uid);
    const lastComponent = name.split('^').filter(Boolean).pop()!;
    const fuzzy = await json(`/studies?PatientName=${encodeURIComponent(lastComponent.slice(0, 2))}&fuzzymatching=true`);
    expect(fuzzy.map((s) => value(s, '0020000D'))).toContain(uid);
  });

  it('QIDO-RS includefield adds attributes from the stored instances (by keyword, by tag, or all)', async () => {
    const [plain] = await json(`/studies?StudyInstanceUID=${CT_STUDY}`);
    expect(plain['00080070']).toBeUndefined();
    const [withManufacturer] = await json(`/studies?StudyInstanceUID=${CT_STUDY}&includefield=Manufacturer`);
    expect(typeof value(withManufacturer, '00080070')).toBe('string');
    const [instance] = await json(`/studies/${CT_STUDY}/instances?limit=1&includefield=00180050`);
    expect(Number(value(instance, '00180050'))).toBeGreaterThan(0); // Slice Thickness
    const [all] = await json(`/studies/${CT_STUDY}/instances?limit=1&includefield=all`);
    expect(Object.keys(all).length).toBeGreaterThan(40);
    expect(all['7FE00010'].BulkDataURI).toMatch(/^http/);
  });

  it('QIDO-RS warns about keys it ignores and refuses malformed values with 400', async () => {
    const res = await t.fetch(`${web()}/studies?NoSuchKeyword=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('warning')).toMatch(/NoSuchKeyword/);
    const bad = await t.fetch(`${web()}/studies?StudyDate=yesterday`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).issue[0].diagnostics).toMatch(/StudyDate/);
  });

  it('WADO-RS returns each instance byte for byte', async () => {
    const series = await json(`/studies/${CT_STUDY}/series`);
    const res = await t.fetch(`${web()}/studies/${CT_STUDY}/series/${value(series[0], '0020000E')}`, { headers: { accept: 'multipart/related; type="application/dicom"' } });
    expect(res.status).toBe(200);
    const parts = splitMultipart(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type')!);
    expect(parts).toHaveLength(CT.length);
    expect(parts.map((p) => sha256(p.body)).sort()).toEqual(CT.map((f) => sha256(readFileSync(f))).sort());
    expect(parts[0].headers['content-type']).toMatch(/^application\/dicom; transfer-syntax=1\.2\.840\.10008\.1\.2/);
  });

  it('WADO-RS: ETag revalidation, single-part instances with byte ranges, 406 for a transfer syntax it cannot produce', async () => {
    const [instance] = await json(`/studies/${CT_STUDY}/instances?limit=1`);
    const url = value(instance, '00081190') as string;
    const whole = await t.fetch(url, { headers: { accept: 'application/dicom' } });
    expect(whole.status).toBe(200);
    const bytes = Buffer.from(await whole.arrayBuffer());
    const etag = whole.headers.get('etag')!;
    expect(etag).toMatch(/^"/);
    expect((await t.fetch(url, { headers: { accept: 'application/dicom', 'if-none-match': etag } })).status).toBe(304);
    const ranged = await t.fetch(url, { headers: { accept: 'application/dicom', range: 'bytes=128-131' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).toString()).toBe('DICM');
    expect(ranged.headers.get('content-range')).toBe(`bytes 128-131/${bytes.length}`);
    const storedSyntax = /transfer-syntax=([\d.]+)/.exec(whole.headers.get('content-type')!)![1];
    const other = storedSyntax === '1.2.840.10008.1.2.4.50' ? '1.2.840.10008.1.2.4.70' : '1.2.840.10008.1.2.4.50';
    const refused = await t.fetch(url, { headers: { accept: `multipart/related; type="application/dicom"; transfer-syntax=${other}` } });
    expect(refused.status).toBe(406);
  });

  it('metadata is DICOM JSON for every instance, bulk data by URI', async () => {
    const metadata = await json(`/studies/${CT_STUDY}/metadata`);
    expect(metadata).toHaveLength(CT.length);
    for (const m of metadata) {
      expect(value(m, '0020000D')).toBe(CT_STUDY);
      expect(m['7FE00010'].BulkDataURI).toMatch(new RegExp(`^${web()}/studies/${CT_STUDY}/series/[\\d.]+/instances/[\\d.]+/bulk/7FE00010$`));
      expect(m['7FE00010'].InlineBinary).toBeUndefined();
    }
  });

  it('each study is an ImagingStudy, searchable by its DICOM UID, with a subject and a DICOMweb endpoint', async () => {
    const res = await t.fetch(`${t.base}/ImagingStudy?identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${CT_STUDY}`)}&_include=ImagingStudy:endpoint&_include=ImagingStudy:subject`);
    const bundle = (await res.json()) as Bundle;
    const study = bundle.entry!.find((e) => e.resource!.resourceType === 'ImagingStudy')!.resource as ImagingStudy;
    expect(study.numberOfInstances).toBe(CT.length);
    expect(study.series![0].instance).toHaveLength(CT.length);
    expect(study.modality![0].code).toBe('CT');
    const endpoint = bundle.entry!.find((e) => e.resource!.resourceType === 'Endpoint')!.resource as any;
    expect(endpoint.connectionType.code).toBe('dicom-wado-rs');
    expect(endpoint.address).toBe(web());
    const patient = bundle.entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource as Patient;
    const [qido] = await json(`/studies?StudyInstanceUID=${CT_STUDY}`);
    expect(patient.identifier![0].value).toBe(value(qido, '00100020'));
  });

  it('links a study to the existing Patient whose identifier is the DICOM Patient ID', async () => {
    const res = await t.fetch(`${t.base}/ImagingStudy?identifier=${encodeURIComponent(`urn:oid:${MR_STUDY}`)}`);
    const study = ((await res.json()) as Bundle).entry![0].resource as ImagingStudy;
    expect(study.subject.reference).toBe(`Patient/${residentId}`);
    // ... and made no second Patient for the same ID.
    const patients = ((await (await t.fetch(`${t.base}/Patient?identifier=PACSMAN1`)).json()) as Bundle).entry!;
    expect(patients).toHaveLength(1);
  });

  it('refuses every malformed file with a reason, keeping nothing of it', async () => {
    const store = t.hub.imaging.blobs as FileBlobStore;
    const before = (await listBlobKeys(store.root)).length;
    const rowsBefore = await t.hub.db.query('select count(*)::int as n from dicom_instance');
    for (const file of dicomFiles('malformed')) {
      const { status, json: response } = await stow([file]);
      expect({ file, status }).toEqual({ file, status: 409 });
      const failure = response['00081198'].Value[0];
      expect(failure['00081197'].Value[0]).toBeGreaterThan(0);
      expect(failure['0040A160'].Value[0].length).toBeGreaterThan(10);
    }
    expect((await listBlobKeys(store.root)).length).toBe(before);
    expect(await t.hub.db.query('select count(*)::int as n from dicom_instance')).toEqual(rowsBefore);
    expect(await readdir(join(store.root, 'staging'))).toEqual([]);
  });

  it('a mixed request stores the good instances and answers 202 with the failures', async () => {
    const { status, json: response } = await stow([CT[0], dicomFiles('malformed')[0]]);
    expect(status).toBe(202);
    expect(response['00081199'].Value).toHaveLength(1);
    expect(response['00081198'].Value).toHaveLength(1);
  });

  it('STOW-RS to /studies/{uid} refuses instances of another study', async () => {
    const { status, json: response } = await stow([MR[0]], `/studies/${CT_STUDY}`);
    expect(status).toBe(409);
    expect(response['00081198'].Value[0]['0040A160'].Value[0]).toMatch(/belongs to study/);
  });

  it('needs a token, and one whose scopes cover ImagingStudy', async () => {
    expect((await fetch(`${web()}/studies`)).status).toBe(401);
    const narrow = await clientCredentialsToken(t.url, t.admin, 'system/Patient.rs');
    const res = await fetch(`${web()}/studies`, { headers: { authorization: `Bearer ${narrow}` } });
    expect(res.status).toBe(403);
    const store = await fetch(`${web()}/studies`, { method: 'POST', headers: { authorization: `Bearer ${narrow}`, 'content-type': 'multipart/related; type="application/dicom"; boundary=x' }, body: '--x--' });
    expect(store.status).toBe(403);
  });

  it('concurrent stores of new studies of one new patient all succeed and make one Patient', async () => {
    const uid = (n: number) => `1.2.826.0.1.3680043.10.4321.${n}`;
    const objects = Array.from({ length: 8 }, (_, n) => {
      const { head, pixelBytes } = syntheticInstance({ study: uid(100 + n), series: uid(200 + n), instance: uid(300 + n), patientId: 'RACE-1' }, 8, 8, 1);
      return Buffer.concat([head, Buffer.alloc(pixelBytes)]);
    });
    const statuses = await Promise.all(objects.map(async (o) => (await stow([o])).status));
    expect(statuses).toEqual(objects.map(() => 200));
    const patients = ((await (await t.fetch(`${t.base}/Patient?identifier=RACE-1`)).json()) as Bundle).entry ?? [];
    expect(patients).toHaveLength(1);
    const studies = ((await (await t.fetch(`${t.base}/ImagingStudy?subject=Patient/${patients[0].resource!.id}`)).json()) as Bundle).entry ?? [];
    expect(studies).toHaveLength(8);
  });

  it('concurrent stores into one series are all indexed and counted, and a replaced copy leaves no blob', async () => {
    const uid = (n: number) => `1.2.826.0.1.3680043.10.4322.${n}`;
    const instance = (n: number, fill = 0) => {
      const { head, pixelBytes } = syntheticInstance({ study: uid(1), series: uid(2), instance: uid(100 + n), patientId: 'GROUP-1' }, 8, 8, 1);
      return Buffer.concat([head, Buffer.alloc(pixelBytes, fill)]);
    };
    const store = t.hub.imaging.blobs as FileBlobStore;
    const blobsBefore = (await listBlobKeys(store.root)).length;
    // Eight requests at once (their index writes may share commits). Instance 0 is sent by two of
    // them with different pixels; instance 50 twice in one request: each keeps only its last blob.
    const requests = Array.from({ length: 8 }, (_, r) => [instance(r * 3 + 1), instance(r * 3 + 2), instance(r * 3 + 3)]);
    requests[0].push(instance(0, 1));
    requests[7].push(instance(0, 2));
    requests[3].push(instance(50, 1), instance(50, 2));
    const statuses = await Promise.all(requests.map(async (files) => (await stow(files)).status));
    expect(statuses).toEqual(requests.map(() => 200));
    expect(await t.hub.db.query('select instance_count from dicom_series where series_uid = $1', [uid(2)])).toEqual([{ instance_count: 26 }]);
    expect(await t.hub.db.query('select instance_count, series_count from dicom_study where study_uid = $1', [uid(1)])).toEqual([{ instance_count: 26, series_count: 1 }]);
    const instances = await t.hub.db.query<{ blob_key: string }>('select blob_key from dicom_instance where series_uid = $1', [uid(2)]);
    expect(instances).toHaveLength(26);
    expect((await listBlobKeys(store.root)).length).toBe(blobsBefore + 26);
  });

  it('rejects a body that is not multipart/related with 415', async () => {
    const res = await t.fetch(`${web()}/studies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as any).resourceType).toBe('OperationOutcome');
  });

  it('audits retrievals as AuditEvents naming the patient', async () => {
    const [ct] = await json(`/studies?StudyInstanceUID=${CT_STUDY}`);
    await t.fetch(`${web()}/studies/${CT_STUDY}/metadata`);
    await t.hub.audit.flush();
    const study = ((await (await t.fetch(`${t.base}/ImagingStudy?identifier=urn:oid:${CT_STUDY}`)).json()) as Bundle).entry![0].resource as ImagingStudy;
    const events = ((await (await t.fetch(`${t.base}/AuditEvent?entity=ImagingStudy/${study.id}&_count=100`)).json()) as Bundle).entry ?? [];
    expect(events.length).toBeGreaterThan(0);
    expect(value(ct, '00100020')).toBeDefined();
    const patients = events.flatMap((e: any) => e.resource.entity.map((x: any) => x.what?.reference)).filter((r: string) => r?.startsWith('Patient/'));
    expect(patients).toContain(study.subject.reference);
    // BALP's RESTful read, and the DICOM audit event (PS3.15 A.5.3.3 DICOM Instances Transferred).
    const subtypes = events.flatMap((e: any) => (e.resource.subtype ?? []).map((s: any) => `${s.system}|${s.code}`));
    expect(subtypes).toContain('http://dicom.nema.org/resources/ontology/DCM|110104');
    expect(subtypes).toContain('http://hl7.org/fhir/restful-interaction|read');
  });
});
