// DICOMweb and the imaging API against input built to hurt (found by fuzzing them): each answers
// a clear 4xx OperationOutcome, never a 500, and a refused request leaves nothing changed behind.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { splitMultipart, stowBody, syntheticInstance } from '../helpers/dicom.js';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('dicomweb-hostile-input');
const ROOT = '1.2.826.0.1.3680043.8.498.7070';
const STUDY = `${ROOT}.1`;
const SERIES = `${ROOT}.1.1`;
const INSTANCE = `${ROOT}.1.1.1`;

/** A small synthetic MR instance with `frames` frames of 4×4 pixels. */
function instance(ids: { study: string; series: string; instance: string; patientId: string }, frames = 1): Buffer {
  const { head, pixelBytes } = syntheticInstance(ids, 4, 4, frames);
  return Buffer.concat([head, Buffer.alloc(pixelBytes, 7)]);
}

describe.each(backends)('hostile imaging requests on %s', (backend) => {
  const t = useTestHub(backend);
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await t.fetch(`${t.url}${path}`, init);
    const text = await res.text();
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    return { status: res.status, body, headers: res.headers };
  };
  const stow = (files: Buffer[]) => {
    const { body, contentType } = stowBody(files);
    return call('/dicomweb/studies', { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body: new Uint8Array(body) });
  };
  const json = (method: string, body: unknown) => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const expectOutcome = (what: string, res: { status: number; body: any }, status: number, says: string) => {
    const outcome = res.body as OperationOutcome | undefined;
    expect({ what, status: res.status, type: outcome?.resourceType, text: JSON.stringify(outcome?.issue ?? res.body ?? null) })
      .toEqual({ what, status, type: 'OperationOutcome', text: expect.stringContaining(says) });
  };
  const studyAttributes = async (uid: string) => {
    const studies = (await call(`/dicomweb/studies?StudyInstanceUID=${uid}`)).body as any[];
    return studies.map((s) => ({ patientId: s['00100020']?.Value?.[0], instances: s['00201208']?.Value?.[0] }));
  };

  beforeAll(async () => {
    expect((await stow([instance({ study: STUDY, series: SERIES, instance: INSTANCE, patientId: 'HOSTILE-1' }, 3)])).status).toBe(200);
  });

  it('a NUL character in a QIDO value or a share id is a 4xx, not a database error', async () => {
    expectOutcome('QIDO value', await call('/dicomweb/studies?PatientID=%00'), 400, 'NUL character');
    expectOutcome('QIDO key', await call('/dicomweb/instances?Patient%00ID=x'), 400, 'NUL character');
    expectOutcome('share id', await call('/imaging/shares/%00', { method: 'DELETE' }), 404, 'No share');
    expectOutcome('share id', await call('/imaging/shares/not-a-share', { method: 'DELETE' }), 404, 'No share');
  });

  it('a list key with no values (PatientSex=,) is universal matching', async () => {
    const all = (await call('/dicomweb/instances')).body as unknown[];
    for (const key of ['PatientSex', 'Modality', 'BodyPartExamined', 'ModalitiesInStudy', 'StudyInstanceUID', 'SOPInstanceUID']) {
      const res = await call(`/dicomweb/instances?${key}=,`);
      expect({ key, status: res.status, found: Array.isArray(res.body) ? res.body.length : res.body }).toEqual({ key, status: 200, found: all.length });
    }
  });

  it('at most 32 matching keys per query; a key with thousands of alternatives is one key', async () => {
    const keys = (n: number) => Array.from({ length: n }, (_v, i) => `PatientName=A*${i}*`).join('&');
    expect((await call(`/dicomweb/instances?${keys(32)}`)).status).toBe(200);
    expectOutcome('33 keys', await call(`/dicomweb/instances?${keys(33)}`), 400, 'at most 32 matching keys');
    const alternatives = await call(`/dicomweb/instances?Modality=${Array.from({ length: 3000 }, (_v, i) => `M${i}`).join(',')},MR`);
    expect({ status: alternatives.status, found: alternatives.body.length }).toEqual({ status: 200, found: 1 });
  });

  it('dates and times that are not on the calendar or the clock are a 400', async () => {
    for (const query of ['StudyDate=99999999', 'StudyDate=20231399-', 'StudyDate=-20230230', 'StudyTime=25', 'StudyTime=1261']) {
      expectOutcome(query, await call(`/dicomweb/studies?${query}`), 400, 'is not a');
    }
    for (const query of ['StudyDate=20240229', 'StudyDate=20261130-', 'StudyTime=235959.999', 'StudyTime=10-11']) {
      expect({ query, status: (await call(`/dicomweb/studies?${query}`)).status }).toEqual({ query, status: 200 });
    }
  });

  it('control characters in an ignored query key reach the Warning header only as printable text', async () => {
    const res = await call('/dicomweb/studies?%01odd%0Akey=1');
    expect(res.status).toBe(200);
    expect(res.headers.get('warning')).toContain('?odd?key');
  });

  it('a STOW refused with 409 changes nothing: no empty study, no rewritten patient', async () => {
    const intruderStudy = `${ROOT}.2`;
    // The stored instance's SOP Instance UID again, in another study's series, for another patient.
    const reused = await stow([instance({ study: intruderStudy, series: `${ROOT}.2.1`, instance: INSTANCE, patientId: 'INTRUDER' })]);
    expect(reused.status).toBe(409);
    expect(await studyAttributes(intruderStudy)).toEqual([]);
    // Within the same study, in another series: refused, and the study keeps its patient.
    const sameStudy = await stow([instance({ study: STUDY, series: `${ROOT}.1.2`, instance: INSTANCE, patientId: 'INTRUDER' })]);
    expect(sameStudy.status).toBe(409);
    expect(await studyAttributes(STUDY)).toEqual([{ patientId: 'HOSTILE-1', instances: 1 }]);
  });

  it('a frame list naming one frame 7,500 times sends it once; a list of frames keeps its order', async () => {
    const path = `/dicomweb/studies/${STUDY}/series/${SERIES}/instances/${INSTANCE}/frames`;
    const parts = async (list: string) => {
      const res = await t.fetch(`${t.url}${path}/${list}`, { headers: { accept: 'multipart/related; type="application/octet-stream"' } });
      expect(res.status).toBe(200);
      return splitMultipart(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type')!);
    };
    const repeated = await parts(Array(7500).fill('1').join(','));
    expect(repeated.map((p) => p.headers['content-location'].split('/').pop())).toEqual(['1']);
    expect(repeated[0].body.length).toBe(4 * 4 * 2);
    const several = await parts('3,1,3,2');
    expect(several.map((p) => p.headers['content-location'].split('/').pop())).toEqual(['3', '1', '2']);
    expect(several.every((p) => p.body.length === 32 && p.body.every((b) => b === 7))).toBe(true);
  });

  it('a recognition the ImagingStudy cannot carry is refused and not saved; wrong JSON types are 400s', async () => {
    const recognition = `/imaging/studies/${STUDY}/recognition`;
    expectOutcome('no mark yet', await call(recognition), 404, 'no recognition mark');
    expectOutcome('control character', await call(recognition, json('PUT', { region: 'S\u0001', qcStatus: 'passed' })), 400, 'region');
    expectOutcome('series null', await call(recognition, json('PUT', { region: '沪', qcStatus: 'passed', series: null })), 400, 'series');
    expectOutcome('series list', await call(recognition, json('PUT', { region: '沪', qcStatus: 'passed', series: [SERIES] })), 400, 'series');
    expectOutcome('still no mark', await call(recognition), 404, 'no recognition mark');
    // The study still takes new instances (its ImagingStudy is refreshed without trouble) and a good mark.
    expect((await stow([instance({ study: STUDY, series: SERIES, instance: `${ROOT}.1.1.2`, patientId: 'HOSTILE-1' })])).status).toBe(200);
    expect((await call(recognition, json('PUT', { region: '沪', qcStatus: 'passed' }))).status).toBe(200);
    expect((await call(recognition)).body.mark).toBe('沪HR');
  });

  it('a share with fields of the wrong JSON type is a 400 naming the field', async () => {
    const shares = `/imaging/studies/${STUDY}/shares`;
    for (const [what, body, says] of [
      ['recipient a number', { kind: 'practitioner', recipient: 123 }, 'recipient must be a string'],
      ['kind an object', { kind: { toString: 1 } }, 'kind must be organization, practitioner or link'],
      ['kind missing', {}, 'kind must be organization, practitioner or link'],
      ['access code a number', { kind: 'link', expiresInHours: 1, accessCode: 123456 }, 'accessCode must be a string'],
    ] as const) {
      expectOutcome(what, await call(shares, json('POST', body)), 400, says);
    }
    expect(((await call(shares)).body as unknown[]).length).toBe(0);
  });
});
