// Pixel data over DICOMweb: frames (as stored and uncompressed), rendered images and thumbnails,
// bulk data, WADO-URI — and the sweep: every file in the test data is stored or refused, then
// rendered or answered 415, never a 500 or a hang.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { dicomFiles, DICOM_DATA, sha256, splitMultipart, stowBody } from '../helpers/dicom.js';
import { availableBackends, bulkLoadBackend } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('dicomweb pixels');
const EMRI = ['emri_small.dcm', 'emri_small_big_endian.dcm', 'emri_small_RLE.dcm'].map((f) => `${DICOM_DATA}/syntaxes/pydicom/${f}`);
const EMRI_JLS = `${DICOM_DATA}/syntaxes/pydicom/emri_small_jpeg_ls_lossless.dcm`;
const CT_LE = `${DICOM_DATA}/syntaxes/cornerstone/CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm`;
const CT_JPEG = `${DICOM_DATA}/syntaxes/cornerstone/CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm`;
const OCTETS = 'multipart/related; type="application/octet-stream"';

/** Width and height from a PNG's IHDR (bytes 16..23), after checking the signature. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe.each(backends)('DICOMweb pixels on %s', (backend) => {
  const t = useTestHub(backend);
  const web = () => `${t.url}/dicomweb`;
  /** Stores one file and returns its instance URL (or the failure status). */
  const store = async (file: string): Promise<{ status: number; url?: string }> => {
    const { body, contentType } = stowBody([file]);
    const res = await t.fetch(`${web()}/studies`, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) });
    const json = (await res.json()) as any;
    return { status: res.status, url: json['00081199']?.Value?.[0]?.['00081190']?.Value?.[0] };
  };
  const get = (url: string, accept: string) => t.fetch(url, { headers: { accept } });
  const parts = async (res: Response) => splitMultipart(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type')!);

  it('frames leave uncompressed and identical whether stored little endian, big endian or RLE', async () => {
    const hashes: string[] = [];
    for (const file of EMRI) {
      const { status, url } = await store(file);
      expect(status).toBe(200);
      const res = await get(`${url}/frames/1,10`, OCTETS);
      expect({ file, status: res.status }).toEqual({ file, status: 200 });
      const frames = await parts(res);
      expect(frames).toHaveLength(2);
      for (const f of frames) {
        expect(f.body.length).toBe(64 * 64 * 2); // rows × columns × 16 bits
        expect(f.headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
      }
      expect(sha256(frames[0].body)).not.toBe(sha256(frames[1].body));
      hashes.push(frames.map((f) => sha256(f.body)).join());
    }
    expect(new Set(hashes).size).toBe(1);
  });

  it('frames it cannot decode are sent as stored, or 406 when asked uncompressed', async () => {
    const { url } = await store(EMRI_JLS);
    expect((await get(`${url}/frames/1`, OCTETS)).status).toBe(406);
    const res = await get(`${url}/frames/2`, `${OCTETS}; transfer-syntax=*`);
    expect(res.status).toBe(200);
    const [frame] = await parts(res);
    expect(frame.headers['content-type']).toBe('image/jls; transfer-syntax=1.2.840.10008.1.2.4.80');
    expect(frame.body.subarray(0, 2).toString('hex')).toBe('ffd8'); // a JPEG-LS codestream starts with SOI
    expect((await get(`${url}/frames/11`, OCTETS)).status).toBe(404);
    expect((await get(`${url}/rendered`, 'image/png')).status).toBe(415);
  });

  it('renders JPEG and PNG, honours window and viewport, and makes thumbnails', async () => {
    const { url } = await store(CT_LE);
    const jpeg = await get(`${url}/rendered`, 'image/jpeg');
    expect(jpeg.status).toBe(200);
    expect(Buffer.from(await jpeg.arrayBuffer()).subarray(0, 3).toString('hex')).toBe('ffd8ff');
    const png = Buffer.from(await (await get(`${url}/rendered`, 'image/png')).arrayBuffer());
    expect(pngSize(png)).toEqual({ width: 512, height: 512 });
    const narrow = Buffer.from(await (await get(`${url}/rendered?window=40,80`, 'image/png')).arrayBuffer());
    expect(sha256(narrow)).not.toBe(sha256(png));
    const small = Buffer.from(await (await get(`${url}/rendered?viewport=128,128`, 'image/png')).arrayBuffer());
    expect(pngSize(small)).toEqual({ width: 128, height: 128 });
    const thumb = Buffer.from(await (await get(`${url}/thumbnail`, 'image/png')).arrayBuffer());
    const size = pngSize(thumb);
    expect(Math.max(size.width, size.height)).toBeLessThanOrEqual(200);
    const study = url!.split('/series/')[0];
    expect((await get(`${study}/thumbnail`, 'image/jpeg')).status).toBe(200);
    expect((await get(`${url}/rendered?window=40`, 'image/png')).status).toBe(400);
    expect((await get(`${url}/rendered`, 'application/pdf')).status).toBe(406);
  });

  it('renders JPEG baseline objects', async () => {
    const { url } = await store(CT_JPEG);
    const png = Buffer.from(await (await get(`${url}/frames/1/rendered`, 'image/png')).arrayBuffer());
    expect(pngSize(png)).toEqual({ width: 512, height: 512 });
  });

  it('bulk data by the URI the metadata gives', async () => {
    const { url } = await store(EMRI[0]);
    const [metadata] = (await (await get(`${url}/metadata`, 'application/dicom+json')).json()) as any[];
    const res = await get(metadata['7FE00010'].BulkDataURI, OCTETS);
    expect(res.status).toBe(200);
    const [pixels] = await parts(res);
    expect(pixels.body.length).toBe(64 * 64 * 2 * 10);
    // The stored object holds the same bytes at its end (explicit VR LE, pixel data last).
    expect(readFileSync(EMRI[0]).subarray(-pixels.body.length).equals(pixels.body)).toBe(true);
  });

  it('WADO-URI returns the object and rendered frames', async () => {
    const { url } = await store(CT_LE);
    const [, study, series, instance] = /studies\/([\d.]+)\/series\/([\d.]+)\/instances\/([\d.]+)/.exec(url!)!;
    const base = `${web()}/wado?requestType=WADO&studyUID=${study}&seriesUID=${series}&objectUID=${instance}`;
    const object = await t.fetch(`${base}&contentType=application/dicom`);
    expect(object.status).toBe(200);
    expect(sha256(Buffer.from(await object.arrayBuffer()))).toBe(sha256(readFileSync(CT_LE)));
    const png = Buffer.from(await (await t.fetch(`${base}&contentType=image/png&rows=64&columns=64`)).arrayBuffer());
    expect(pngSize(png)).toEqual({ width: 64, height: 64 });
    expect((await t.fetch(`${web()}/wado?requestType=WADO&studyUID=${study}`)).status).toBe(400);
  });

  // Two hundred-odd files through the whole pipeline: on one backend (bulkLoadBackend); what it
  // proves is about parsing and rendering, which do not depend on the database.
  if (backend === bulkLoadBackend(backends)) it('every test file is stored or refused, then rendered or answered 415 — never a 500, never a hang', async () => {
    const outcomes: Record<string, string> = {};
    // A hang shows as an aborted request (a generous bound for hangs, not a speed test).
    const hangBound = () => AbortSignal.timeout(60_000);
    for (const file of dicomFiles()) {
      const { body, contentType } = stowBody([file]);
      const res = await t.fetch(`${web()}/studies`, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body), signal: hangBound() });
      const json = (await res.json()) as any;
      expect({ file, storedOrRefused: [200, 409].includes(res.status) }).toEqual({ file, storedOrRefused: true });
      let outcome = res.status === 200 ? 'stored' : 'refused';
      const url = json['00081199']?.Value?.[0]?.['00081190']?.Value?.[0];
      if (url) {
        const rendered = await t.fetch(`${url}/rendered`, { headers: { accept: 'image/png' }, signal: hangBound() });
        outcome += ` ${rendered.status}`;
        expect({ file, renderedOr415: [200, 415].includes(rendered.status) }).toEqual({ file, renderedOr415: true });
      }
      outcomes[file.slice(DICOM_DATA.length + 1)] = outcome;
    }
    expect(Object.values(outcomes).filter((o) => o === 'stored 200').length).toBeGreaterThan(100);
  }, 300_000);
});
