// The viewer's pure parts, in Node: the worklist's QIDO query, the stack order of a series,
// frame bytes → pixels (greyscale and colour), what a compressed frame really is, splitting a
// WADO-RS multipart answer, and lengths in mm. The browser test covers them together; these pin
// the edge cases a browser run would not meet.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import dicomParser from 'dicom-parser';
import { splitMultipart, boundaryOf, headerParameter } from '../../viewer/src/dicomweb/multipart.js';
import type { DicomJson } from '../../viewer/src/dicomweb/dicom-json.js';
import { Undisplayable } from '../../viewer/src/imaging/errors.js';
import { frameCodec } from '../../viewer/src/imaging/frame-codec.js';
import { readImageInfo, type ImageInfo } from '../../viewer/src/imaging/image-info.js';
import { colourPixels, greyscalePixels } from '../../viewer/src/imaging/pixel-data.js';
import { buildStack } from '../../viewer/src/imaging/stack.js';
import { measureLength } from '../../viewer/src/reading/measurements.js';
import { dateRange, NO_FILTERS, studyQuery } from '../../viewer/src/worklist/worklist-query.js';
import { sortRows, type StudyRow } from '../../viewer/src/worklist/study-row.js';
import { DICOM_DATA } from '../helpers/dicom.js';

const info = (over: Partial<ImageInfo> = {}): ImageInfo => ({
  rows: 2, columns: 2, frames: 1, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, highBit: 15, pixelRepresentation: 0,
  planarConfiguration: 0, photometric: 'MONOCHROME2', slope: 1, intercept: 0, ...over,
});
const le16 = (values: number[]) => new Uint8Array(new Uint16Array(values.map((v) => v & 0xffff)).buffer);

describe('worklist query', () => {
  it('turns filters into QIDO-RS keys, one more than a page to learn whether a next page exists', () => {
    const q = studyQuery({ ...NO_FILTERS, patientName: '王', patientId: ' 123 ', modality: 'CT', dateFrom: '2024-01-01', dateTo: '2024-12-31', accession: 'A1' }, { offset: 50, size: 25 });
    expect(Object.fromEntries(q)).toEqual({
      PatientName: '*王*', PatientID: '123', ModalitiesInStudy: 'CT', StudyDate: '20240101-20241231', AccessionNumber: 'A1', limit: '26', offset: '50',
    });
    expect(studyQuery({ ...NO_FILTERS, patientName: 'WANG^*' }, { offset: 0, size: 10 }).get('PatientName')).toBe('WANG^*');
  });

  it.each([
    ['2024-01-01', '', '20240101-'],
    ['', '2024-01-31', '-20240131'],
    ['2024-01-05', '2024-01-05', '20240105'],
    ['', '', undefined],
    ['garbage', '', undefined],
  ])('date range %s … %s → %s', (from, to, expected) => {
    expect(dateRange(from, to)).toBe(expected);
  });

  it('sorts a page by a column, empty values last either way', () => {
    const row = (patientId: string, date: string) => ({ patientId, date, time: '' }) as StudyRow;
    const rows = [row('B', '2024-01-02'), row('', '2024-01-01'), row('A10', ''), row('A9', '2023-12-31')];
    expect(sortRows(rows, { key: 'patientId', descending: false }).map((r) => r.patientId)).toEqual(['A9', 'A10', 'B', '']);
    expect(sortRows(rows, { key: 'date', descending: true }).map((r) => r.date)).toEqual(['2024-01-02', '2024-01-01', '2023-12-31', '']);
  });
});

describe('stack order', () => {
  const slice = (uid: string, z: number | undefined, instanceNumber: number, frames?: number): DicomJson => ({
    '00080018': { vr: 'UI', Value: [uid] },
    '00200013': { vr: 'IS', Value: [instanceNumber] },
    '00280010': { vr: 'US', Value: [512] },
    ...(z === undefined ? {} : { '00200032': { vr: 'DS', Value: [0, 0, z] }, '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] } }),
    ...(frames ? { '00280008': { vr: 'IS', Value: [frames] } } : {}),
  });

  it('sorts along the slice normal, ties by Instance Number then UID, and leaves out objects without pixels', () => {
    const metadata = [slice('1.5', -90, 21), slice('1.3', -245, 83), slice('1.4', -90, 21), slice('1.2', 10, 2), { '00080018': { vr: 'UI', Value: ['9.9'] } } as DicomJson];
    const qido = [{ '00080018': { vr: 'UI', Value: ['1.3'] }, '00083002': { vr: 'UI', Value: ['1.2.840.10008.1.2.4.70'] } } as DicomJson];
    const stack = buildStack(qido, metadata, (uid) => `https://hub/dicomweb/studies/1/series/2/instances/${uid}`);
    expect(stack.map((s) => s.instanceUrl.split('/').pop())).toEqual(['1.3', '1.4', '1.5', '1.2']);
    expect(stack[0].storedSyntax).toBe('1.2.840.10008.1.2.4.70');
    expect(stack[0].imageId).toBe('suhe:https://hub/dicomweb/studies/1/series/2/instances/1.3/frames/1');
  });

  it('falls back to Instance Number without positions, and lists every frame of a multi-frame instance', () => {
    const stack = buildStack([], [slice('1.2', undefined, 2, 3), slice('1.1', undefined, 1)], (uid) => uid);
    expect(stack.map((s) => `${s.instanceUrl}#${s.frame}`)).toEqual(['1.1#1', '1.2#1', '1.2#2', '1.2#3']);
  });
});

describe('pixels', () => {
  it('reads signed 16-bit values and sign-extends from Bits Stored, masking the bits above it', () => {
    const signed = greyscalePixels(le16([-1000, 3000, 0x0fff, 0xf000 | 5]), info({ pixelRepresentation: 1, bitsStored: 12 }));
    expect(Array.from(signed.pixels)).toEqual([-1000, -1096, -1, 5]);
    const unsigned = greyscalePixels(le16([0xf123, 7, 0, 4095]), info({ bitsStored: 12 }));
    expect(Array.from(unsigned.pixels)).toEqual([0x123, 7, 0, 4095]);
    expect([unsigned.min, unsigned.max]).toEqual([0, 4095]);
  });

  it('copies a frame that starts at an odd offset (typed arrays need alignment)', () => {
    const buffer = new Uint8Array(9);
    buffer.set(le16([1, 2, 3, 4]), 1);
    expect(Array.from(greyscalePixels(buffer.subarray(1), info()).pixels)).toEqual([1, 2, 3, 4]);
  });

  it('unpacks 1-bit pixels, least significant bit first', () => {
    expect(Array.from(greyscalePixels(Uint8Array.of(0b0101), info({ bitsAllocated: 1, bitsStored: 1 })).pixels)).toEqual([1, 0, 1, 0]);
  });

  it('refuses a frame shorter than the image', () => {
    expect(() => greyscalePixels(new Uint8Array(6), info())).toThrow(Undisplayable);
  });

  it('turns interleaved and planar RGB, YBR_FULL and native YBR_FULL_422 into RGBA', () => {
    const rgb = info({ samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, rows: 1, columns: 2, photometric: 'RGB' });
    expect(Array.from(colourPixels(Uint8Array.of(255, 0, 0, 0, 0, 255), rgb, 'RGB', false).pixels)).toEqual([255, 0, 0, 255, 0, 0, 255, 255]);
    expect(Array.from(colourPixels(Uint8Array.of(255, 0, 0, 0, 0, 255), rgb, 'RGB', true).pixels)).toEqual([255, 0, 0, 255, 0, 0, 255, 255]);
    // Grey in YCbCr is Cb = Cr = 128.
    expect(Array.from(colourPixels(Uint8Array.of(100, 128, 128, 200, 128, 128), rgb, 'YBR_FULL', false).pixels)).toEqual([100, 100, 100, 255, 200, 200, 200, 255]);
    expect(Array.from(colourPixels(Uint8Array.of(100, 200, 128, 128), rgb, 'YBR_FULL_422', false).pixels)).toEqual([100, 100, 100, 255, 200, 200, 200, 255]);
    expect(() => colourPixels(new Uint8Array(6), rgb, 'PALETTE COLOR', false)).toThrow(Undisplayable);
  });

  it('reads the image attributes from DICOM JSON and refuses impossible sizes', () => {
    const json: DicomJson = {
      '00280010': { vr: 'US', Value: [512] }, '00280011': { vr: 'US', Value: [512] }, '00280100': { vr: 'US', Value: [16] }, '00280101': { vr: 'US', Value: [12] },
      '00280103': { vr: 'US', Value: [1] }, '00281052': { vr: 'DS', Value: ['-1024'] }, '00281053': { vr: 'DS', Value: ['1'] }, '00280030': { vr: 'DS', Value: [0.7, 0.6] },
      '00281050': { vr: 'DS', Value: [40, 300] }, '00281051': { vr: 'DS', Value: [400, 1500] },
    };
    expect(readImageInfo(json)).toMatchObject({ rows: 512, bitsStored: 12, pixelRepresentation: 1, intercept: -1024, rowSpacing: 0.7, columnSpacing: 0.6, windowCenter: 40, windowWidth: 400, photometric: 'MONOCHROME2' });
    expect(() => readImageInfo({ ...json, '00280010': { vr: 'US', Value: [65535] } })).toThrow(Undisplayable);
    expect(() => readImageInfo({ ...json, '00280100': { vr: 'US', Value: [12] } })).toThrow(Undisplayable);
  });
});

describe('frame codec', () => {
  /** The first frame of an encapsulated sample file. */
  const firstFrame = (name: string) => {
    const bytes = new Uint8Array(readFileSync(join(DICOM_DATA, 'syntaxes', name)));
    const ds = dicomParser.parseDicom(bytes);
    const pixel = ds.elements.x7fe00010;
    return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, 0, pixel.fragments!.length);
  };

  it.each([
    ['cornerstone/CTImage.dcm_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm', 'jpeg-lossless'],
    ['cornerstone/CTImage.dcm_JPEGProcess14TransferSyntax_1.2.840.10008.1.2.4.57.dcm', 'jpeg-lossless'],
    ['cornerstone/CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm', 'jpeg-other'],
    ['cornerstone/CTImage.dcm_JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80.dcm', 'jpeg-ls'],
    ['cornerstone/CTImage.dcm_JPEG2000TransferSyntax_1.2.840.10008.1.2.4.91.dcm', 'jpeg2000'],
  ])('%s is %s', (file, codec) => {
    expect(frameCodec(firstFrame(file))).toBe(codec);
  });

  it('says unknown for a truncated or foreign stream, without throwing', () => {
    expect(frameCodec(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0x7f, 0xff))).toBe('unknown');
    expect(frameCodec(new Uint8Array(100))).toBe('unknown');
    expect(frameCodec(Uint8Array.of(1))).toBe('unknown');
  });
});

describe('WADO-RS multipart answers', () => {
  it('splits the parts and reads the transfer syntax of each', () => {
    const type = 'multipart/related; type="application/octet-stream"; boundary=abc123';
    const body = Buffer.concat([
      Buffer.from('--abc123\r\nContent-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1\r\n\r\n'),
      Buffer.from([1, 2, 13, 10, 45, 45, 3]),
      Buffer.from('\r\n--abc123--\r\n'),
    ]);
    const parts = splitMultipart(new Uint8Array(body), boundaryOf(type)!);
    expect(parts).toHaveLength(1);
    expect(Array.from(parts[0].body)).toEqual([1, 2, 13, 10, 45, 45, 3]);
    expect(headerParameter(parts[0].headers['content-type'], 'transfer-syntax')).toBe('1.2.840.10008.1.2.1');
    expect(() => splitMultipart(new Uint8Array(body.subarray(0, body.length - 14)), 'abc123')).toThrow(/not closed/);
  });
});

describe('length measurement', () => {
  it('uses row spacing vertically and column spacing horizontally', () => {
    expect(measureLength({ x: 0, y: 0 }, { x: 100, y: 0 }, 0.5, 0.7).millimetres).toBeCloseTo(70);
    expect(measureLength({ x: 0, y: 0 }, { x: 0, y: 100 }, 0.5, 0.7).millimetres).toBeCloseTo(50);
    expect(measureLength({ x: 0, y: 0 }, { x: 3, y: 4 })).toEqual({ pixels: 5 });
  });
});
