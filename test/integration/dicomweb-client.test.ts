// dicomweb-client (the DICOMweb library the cornerstone/OHIF viewers use) as a real client
// against the hub: it stores, searches with percent-encoded values, and retrieves.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from '@jest/globals';
// @ts-expect-error xhr2 ships no types; it is the XMLHttpRequest dicomweb-client needs outside a browser.
import XMLHttpRequest from 'xhr2';
import { api } from 'dicomweb-client';
import { DICOM_DATA, sha256 } from '../helpers/dicom.js';
import { availableBackends } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';

(globalThis as Record<string, unknown>).XMLHttpRequest = XMLHttpRequest;
// The library's bundled typings mark optional options as required; use it as the JavaScript it is.
const DICOMwebClient = api.DICOMwebClient as unknown as new (options: object) => Record<string, (options?: object) => Promise<unknown>>;
const backends = await availableBackends('dicomweb-client');
const FILE = `${DICOM_DATA}/syntaxes/pydicom/CT_small.dcm`; // PatientName CompressedSamples^CT1

describe.each(backends)('dicomweb-client against the hub on %s', (backend) => {
  const t = useTestHub(backend);
  let client: InstanceType<typeof DICOMwebClient>;

  beforeAll(() => {
    client = new DICOMwebClient({ url: `${t.url}/dicomweb`, headers: { Authorization: `Bearer ${t.token}` } });
  });

  it('stores, finds by a name with ^ (sent as %5E) and a wildcard (sent as %2A), and retrieves the same bytes', async () => {
    const bytes = readFileSync(FILE);
    await client.storeInstances({ datasets: [bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)] });
    const exact = (await client.searchForStudies({ queryParams: { PatientName: 'CompressedSamples^CT1' } })) as any[];
    expect(exact).toHaveLength(1);
    const wildcard = (await client.searchForStudies({ queryParams: { PatientName: 'compressed*', fuzzymatching: 'false' } })) as any[];
    expect(wildcard).toHaveLength(1);
    const studyInstanceUID = exact[0]['0020000D'].Value[0];
    const metadata = (await client.retrieveStudyMetadata({ studyInstanceUID })) as any[];
    expect(metadata).toHaveLength(1);
    const seriesInstanceUID = metadata[0]['0020000E'].Value[0];
    const sopInstanceUID = metadata[0]['00080018'].Value[0];
    const instance = (await client.retrieveInstance({ studyInstanceUID, seriesInstanceUID, sopInstanceUID })) as ArrayBuffer;
    expect(sha256(new Uint8Array(instance))).toBe(sha256(bytes));
    const frames = (await client.retrieveInstanceFrames({ studyInstanceUID, seriesInstanceUID, sopInstanceUID, frameNumbers: [1] })) as ArrayBuffer[];
    expect(frames[0].byteLength).toBe(128 * 128 * 2);
    // A single-part answer comes back as a one-element array of ArrayBuffers.
    const [rendered] = (await client.retrieveInstanceRendered({ studyInstanceUID, seriesInstanceUID, sopInstanceUID, mediaTypes: [{ mediaType: 'image/png' }] })) as ArrayBuffer[];
    expect(Buffer.from(rendered).subarray(1, 4).toString()).toBe('PNG');
  });
});
