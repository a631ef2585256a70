import fs from 'node:fs';
import path from 'node:path';
import { inflateRawSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import dicomParser, { type DataSet } from 'dicom-parser';
import jpeg from 'jpeg-js';
import {
  decodeFrame,
  encodeJpeg,
  encodePng,
  fitWithin,
  FrameNotFound,
  linearWindow,
  RenderError,
  renderFrame,
  toDisplay,
  type DisplayImage,
} from '../../server/src/imaging/render/index.js';
import { decodeRleFrame } from '../../server/src/imaging/render/rle.js';
import { readImageInfo } from '../../server/src/imaging/render/image-info.js';
import { DICOM_DATA } from '../helpers/dicom.js';

const DATA = DICOM_DATA;
const TS = {
  implicit: '1.2.840.10008.1.2',
  explicit: '1.2.840.10008.1.2.1',
  rle: '1.2.840.10008.1.2.5',
};

// ---------- loading real files ----------

/** dicom-parser hands us the raw bytes and where the deflated stream starts; we return header + inflated body. */
function inflater(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(bytes.subarray(position));
  const out = new Uint8Array(position + inflated.length);
  out.set(bytes.subarray(0, position));
  out.set(inflated, position);
  return out;
}

interface Loaded {
  dataSet: DataSet;
  transferSyntax: string;
}

/** Part 10 first; files without the DICM preamble are tried as bare implicit little endian data sets. */
function parse(bytes: Uint8Array): Loaded | undefined {
  try {
    const dataSet = dicomParser.parseDicom(bytes, { inflater: inflater as never });
    return { dataSet, transferSyntax: dataSet.string('x00020010') ?? '' };
  } catch {
    if (bytes.length > 132 && Buffer.from(bytes.subarray(128, 132)).toString('latin1') === 'DICM') return undefined;
    try {
      return { dataSet: dicomParser.parseDicom(bytes, { TransferSyntaxUID: TS.implicit }), transferSyntax: TS.implicit };
    } catch {
      return undefined;
    }
  }
}

function load(relative: string): Loaded {
  const loaded = parse(new Uint8Array(fs.readFileSync(path.join(DATA, relative))));
  if (!loaded) throw new Error(`test file ${relative} does not parse`);
  return loaded;
}

function render(relative: string, frame = 0, extra: { windowCenter?: number; windowWidth?: number } = {}): DisplayImage {
  return renderFrame({ ...load(relative), frame, ...extra });
}

function maxDifference(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function stats(data: Uint8Array): { mean: number; sd: number } {
  let sum = 0;
  let squares = 0;
  for (const v of data) {
    sum += v;
    squares += v * v;
  }
  const mean = sum / data.length;
  return { mean, sd: Math.sqrt(squares / data.length - mean * mean) };
}

/** Runs fn and returns what it threw (fails the test if nothing was thrown). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an exception');
}

// ---------- hand-built Part 10 objects (explicit VR little endian) ----------

type Tag = [group: number, element: number];
const LONG_VRS = new Set(['OB', 'OW', 'SQ', 'UN', 'UT']);

function element([group, elem]: Tag, vr: string, value: Buffer): Buffer {
  const padded = value.length % 2 ? Buffer.concat([value, Buffer.from([vr === 'UI' ? 0 : vr === 'OB' ? 0 : 0x20])]) : value;
  const long = LONG_VRS.has(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elem, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(padded.length, 8);
  else head.writeUInt16LE(padded.length, 6);
  return Buffer.concat([head, padded]);
}
const us = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16LE(v, i * 2));
  return b;
};
const text = (value: string): Buffer => Buffer.from(value, 'latin1');

/** Encapsulated Pixel Data: undefined length, empty Basic Offset Table item, one item per fragment, delimiter. */
function encapsulated(fragments: Buffer[]): Buffer {
  const item = (data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt16LE(0xfffe, 0);
    head.writeUInt16LE(0xe000, 2);
    head.writeUInt32LE(data.length, 4);
    return Buffer.concat([head, data]);
  };
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write('OB', 4, 'latin1');
  head.writeUInt32LE(0xffffffff, 8);
  const end = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([head, item(Buffer.alloc(0)), ...fragments.map(item), end]);
}

interface ImageSpec {
  rows: number;
  columns: number;
  photometric?: string;
  samples?: number;
  bitsAllocated?: number;
  bitsStored?: number;
  highBit?: number;
  signed?: boolean;
  planar?: number;
  frames?: number;
  /** Extra elements that sort between (0028,0103) and (7FE0,0010), already encoded, in tag order. */
  extra?: Buffer[];
  pixelData: Buffer;
  transferSyntax?: string;
}

/** Builds and parses a minimal image; `pixelData` is the value (native) or a full element (encapsulated). */
function build(spec: ImageSpec): Loaded {
  const ts = spec.transferSyntax ?? TS.explicit;
  const bitsAllocated = spec.bitsAllocated ?? 16;
  const bitsStored = spec.bitsStored ?? bitsAllocated;
  const meta = element([0x0002, 0x0010], 'UI', text(ts));
  const parts = [
    Buffer.alloc(128),
    text('DICM'),
    meta,
    element([0x0028, 0x0002], 'US', us(spec.samples ?? 1)),
    element([0x0028, 0x0004], 'CS', text(spec.photometric ?? 'MONOCHROME2')),
    ...(spec.planar !== undefined ? [element([0x0028, 0x0006], 'US', us(spec.planar))] : []),
    ...(spec.frames !== undefined ? [element([0x0028, 0x0008], 'IS', text(String(spec.frames)))] : []),
    element([0x0028, 0x0010], 'US', us(spec.rows)),
    element([0x0028, 0x0011], 'US', us(spec.columns)),
    element([0x0028, 0x0100], 'US', us(bitsAllocated)),
    element([0x0028, 0x0101], 'US', us(bitsStored)),
    element([0x0028, 0x0102], 'US', us(spec.highBit ?? bitsStored - 1)),
    element([0x0028, 0x0103], 'US', us(spec.signed ? 1 : 0)),
    ...(spec.extra ?? []),
    ts === TS.rle ? spec.pixelData : element([0x7fe0, 0x0010], bitsAllocated > 8 ? 'OW' : 'OB', spec.pixelData),
  ];
  const dataSet = dicomParser.parseDicom(new Uint8Array(Buffer.concat(parts)));
  return { dataSet, transferSyntax: ts };
}

const int16s = (values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeInt16LE(v, i * 2));
  return b;
};
const windowElements = (center: string, width: string, intercept = '0', slope = '1'): Buffer[] => [
  element([0x0028, 0x1050], 'DS', text(center)),
  element([0x0028, 0x1051], 'DS', text(width)),
  element([0x0028, 0x1052], 'DS', text(intercept)),
  element([0x0028, 0x1053], 'DS', text(slope)),
];

// ---------- tests ----------

describe('decodeFrame / renderFrame on real files', () => {
  const ctVariants = [
    'CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm',
    'CTImage.dcm_LittleEndianImplicitTransferSyntax_1.2.840.10008.1.2.dcm',
    'CTImage.dcm_BigEndianExplicitTransferSyntax_1.2.840.10008.1.2.2.dcm',
    'CTImage.dcm_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm',
    'CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm',
  ];

  it('renders the same CT slice identically from explicit LE, implicit LE, big endian, deflate and RLE', () => {
    const images = ctVariants.map((name) => render(`syntaxes/cornerstone/${name}`));
    const reference = images[0];
    expect([reference.width, reference.height, reference.channels]).toEqual([512, 512, 1]);
    // A meaningful comparison needs a real image, not a flat one.
    expect(stats(reference.data).sd).toBeGreaterThan(30);
    const transferSyntaxes = ctVariants.map((name) => load(`syntaxes/cornerstone/${name}`).transferSyntax);
    expect(new Set(transferSyntaxes).size).toBe(5);
    for (const image of images.slice(1)) expect(maxDifference(reference.data, image.data)).toBeLessThanOrEqual(1);
  });

  it('decodes identical stored values from every lossless variant, including later frames of multi-frame data', () => {
    const groups: Array<{ files: string[]; frame: number }> = [
      { files: ['MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_RLE.dcm'], frame: 0 },
      { files: ['emri_small.dcm', 'emri_small_big_endian.dcm', 'emri_small_RLE.dcm'], frame: 9 },
      { files: ['liver.dcm', 'liver_rle.dcm'], frame: 2 }, // 1-bit, frames not byte aligned after RLE
      { files: ['rtdose_1frame.dcm', 'rtdose_expb_1frame.dcm', 'rtdose_rle_1frame.dcm'], frame: 0 }, // 32-bit
      { files: ['SC_rgb_2frame.dcm', 'SC_rgb_expb_16bit_2frame.dcm'], frame: 1 }, // 8 vs 16-bit RGB → same 8-bit
    ];
    for (const { files, frame } of groups) {
      const decoded = files.map((f) => {
        const { dataSet, transferSyntax } = load(`syntaxes/pydicom/${f}`);
        return decodeFrame(dataSet, transferSyntax, frame);
      });
      if (files[0].startsWith('SC_rgb')) {
        const rendered = files.map((f) => render(`syntaxes/pydicom/${f}`, frame));
        expect(maxDifference(rendered[0].data, rendered[1].data)).toBe(0);
        continue;
      }
      for (const other of decoded.slice(1)) expect(Array.from(other.values)).toEqual(Array.from(decoded[0].values));
    }
    const frames = ['CT0012.explicit_little_endian.dcm', 'CT0012.not_fragmented_bot_rle.dcm', 'CT0012.not_fragmented_no_bot_rle.dcm'];
    const second = frames.map((f) => render(`parser/encapsulated/multi-frame/${f}`, 1).data);
    expect(maxDifference(second[0], second[1])).toBe(0);
    expect(maxDifference(second[0], second[2])).toBe(0);
    expect(maxDifference(second[0], render('parser/encapsulated/multi-frame/CT0012.explicit_little_endian.dcm', 0).data)).toBeGreaterThan(10);
  });

  it('decodes JPEG baseline to the right size with statistics close to the lossless original', () => {
    const lossless = render(`syntaxes/cornerstone/${ctVariants[0]}`);
    const jpegImage = render('syntaxes/cornerstone/CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm');
    expect([jpegImage.width, jpegImage.height, jpegImage.channels]).toEqual([512, 512, 1]);
    const a = stats(lossless.data);
    const b = stats(jpegImage.data);
    expect(Math.abs(a.mean - b.mean)).toBeLessThan(8);
    expect(Math.abs(a.sd - b.sd)).toBeLessThan(8);

    // Multi-frame colour JPEG with 44 fragments and no offset table: frames found by their EOI markers.
    for (const frame of [0, 7]) {
      const native = render('parser/encapsulated/multi-frame/IM00001.implicit_little_endian.dcm', frame);
      const compressed = render('parser/encapsulated/multi-frame/IM00001.fragmented_no_bot_jpeg_baseline.50.dcm', frame);
      expect([compressed.width, compressed.height, compressed.channels]).toEqual([320, 240, 3]);
      let total = 0;
      for (let i = 0; i < native.data.length; i++) total += Math.abs(native.data[i] - compressed.data[i]);
      expect(total / native.data.length).toBeLessThan(4); // lossy, but the same picture
    }
  });

  it('converts YBR_FULL and subsampled YBR_FULL_422 to RGB and maps PALETTE COLOR', () => {
    const rgb = render('syntaxes/pydicom/SC_rgb_2frame.dcm');
    const ybr = render('syntaxes/pydicom/SC_ybr_full_uncompressed.dcm');
    expect(maxDifference(rgb.data, ybr.data)).toBeLessThanOrEqual(6); // the file was converted with rounding
    const [r, g, b] = ybr.data; // top-left is pure red
    expect([r >= 253, g <= 2, b <= 2]).toEqual([true, true, true]);

    const us = render('syntaxes/cornerstone/US-YBR_FULL_422-EVRLE.dcm');
    expect([us.width, us.height, us.channels]).toEqual([800, 555, 3]);
    expect(stats(us.data).sd).toBeGreaterThan(10);

    const native = render('syntaxes/pydicom/OBXXXX1A_2frame.dcm', 1);
    const rle = render('syntaxes/pydicom/OBXXXX1A_rle_2frame.dcm', 1);
    expect(native.channels).toBe(3);
    expect(maxDifference(native.data, rle.data)).toBe(0);
    expect(stats(render('syntaxes/pydicom/OT-PAL-8-face.dcm').data).sd).toBeGreaterThan(20);
  });

  it('throws FrameNotFound (404) for a frame that does not exist', () => {
    const { dataSet, transferSyntax } = load('syntaxes/pydicom/emri_small.dcm');
    for (const frame of [10, -1, 1.5]) {
      const error = thrown(() => decodeFrame(dataSet, transferSyntax, frame));
      expect(error).toBeInstanceOf(FrameNotFound);
      expect((error as FrameNotFound).status).toBe(404);
    }
  });

  it('refuses unsupported transfer syntaxes with 415 naming the syntax', () => {
    const error = thrown(() => render('syntaxes/pydicom/MR_small_jp2klossless.dcm'));
    expect(error).toBeInstanceOf(RenderError);
    expect((error as RenderError).status).toBe(415);
    expect((error as RenderError).message).toContain('1.2.840.10008.1.2.4.90');
  });
});

describe('hostile headers and pixel data', () => {
  it('refuses Rows = Columns = 65535 with 10 bytes of pixel data without a big allocation', () => {
    const before = process.memoryUsage().arrayBuffers;
    const { dataSet, transferSyntax } = build({ rows: 65535, columns: 65535, pixelData: Buffer.alloc(10) });
    const error = thrown(() => renderFrame({ dataSet, transferSyntax, frame: 0 }));
    expect(error).toBeInstanceOf(RenderError);
    expect((error as RenderError).status).toBe(422);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses a header that claims more pixels or frames than the data holds (422), below the size limit', () => {
    const cases: ImageSpec[] = [
      { rows: 8000, columns: 8000, pixelData: Buffer.alloc(10) }, // under every size limit: the data check must catch it
      { rows: 16384, columns: 16384, bitsAllocated: 8, pixelData: Buffer.alloc(10) }, // over the per-frame sample cap
      { rows: 4, columns: 4, frames: 1_000_000, pixelData: Buffer.alloc(32) },
      { rows: 4, columns: 4, samples: 3, photometric: 'RGB', bitsAllocated: 8, pixelData: Buffer.alloc(46) },
      { rows: 2, columns: 2, bitsStored: 17, pixelData: Buffer.alloc(8) },
      { rows: 2, columns: 2, bitsAllocated: 12, pixelData: Buffer.alloc(8) },
      { rows: 2, columns: 2, photometric: 'RGB', pixelData: Buffer.alloc(8) },
    ];
    for (const spec of cases) {
      const error = thrown(() => renderFrame({ ...build(spec), frame: 0 }));
      expect(error).toBeInstanceOf(RenderError);
      expect((error as RenderError).status).toBe(422);
    }
    const real = thrown(() => render('malformed/oob-rows-65535.dcm'));
    expect((real as RenderError).status).toBe(422);
  });

  it('refuses unsupported photometric interpretations with 415', () => {
    const spec = { rows: 2, columns: 2, samples: 3, bitsAllocated: 8, photometric: 'YBR_PARTIAL_420', pixelData: Buffer.alloc(12) };
    const error = thrown(() => renderFrame({ ...build(spec), frame: 0 }));
    expect((error as RenderError).status).toBe(415);
    expect((error as RenderError).message).toContain('YBR_PARTIAL_420');
  });
});

/** RLE header: segment count then 15 offsets. */
function rleHeader(count: number, offsets: number[]): Buffer {
  const header = Buffer.alloc(64);
  header.writeUInt32LE(count, 0);
  offsets.forEach((offset, i) => header.writeUInt32LE(offset, 4 + i * 4));
  return header;
}

describe('RLE Lossless decoder', () => {
  // 2×3 image, 16-bit: values chosen to exercise literal runs, replicate runs and the −128 no-op.
  const values = [0x0102, 0x0102, 0x0102, 0x0304, 0xff05, 0x0006];
  const high = Buffer.from([0xfe, 0x01, 0x80, 0x02, 0x03, 0xff, 0x00]); // replicate 3×01, no-op, literal 03 ff 00
  const low = Buffer.from([0x05, 0x02, 0x02, 0x02, 0x04, 0x05, 0x06]); // literal of 6 bytes
  const infoFor = (data: Buffer): ReturnType<typeof readImageInfo> =>
    readImageInfo(build({ rows: 2, columns: 3, transferSyntax: TS.rle, pixelData: encapsulated([data]) }).dataSet);

  it('decodes a hand-encoded frame exactly', () => {
    const frame = Buffer.concat([rleHeader(2, [64, 64 + high.length]), high, low]);
    const loaded = build({ rows: 2, columns: 3, transferSyntax: TS.rle, pixelData: encapsulated([frame]) });
    expect(Array.from(decodeFrame(loaded.dataSet, loaded.transferSyntax, 0).values)).toEqual(values);
  });

  it('refuses bad headers, offsets and truncated or bomb-like segments with RenderError 422', () => {
    const body = Buffer.concat([high, low]);
    const bad: Buffer[] = [
      Buffer.concat([rleHeader(0, []), body]), // no segments
      Buffer.concat([rleHeader(16, [64]), body]), // more than 15
      Buffer.concat([rleHeader(3, [64, 70, 72]), body]), // wrong count for 16-bit mono
      Buffer.concat([rleHeader(2, [64, 5000]), body]), // offset past the end
      Buffer.concat([rleHeader(2, [64, 0xffffffff]), body]), // offset near 4 GiB
      Buffer.concat([rleHeader(2, [70, 64]), body]), // out of order
      Buffer.concat([rleHeader(2, [64, 64 + high.length]), high, low.subarray(0, 4)]), // segment ends early
      Buffer.concat([rleHeader(2, [64, 66]), Buffer.from([0x80, 0x80]), Buffer.alloc(20, 0x80)]), // only no-ops
      Buffer.from([1, 0, 0, 0]), // shorter than the header
    ];
    for (const data of bad) {
      const loaded = build({ rows: 2, columns: 3, transferSyntax: TS.rle, pixelData: encapsulated([data]) });
      const error = thrown(() => decodeFrame(loaded.dataSet, loaded.transferSyntax, 0));
      expect(error).toBeInstanceOf(RenderError);
      expect((error as RenderError).status).toBe(422);
    }
  });

  it('refuses a tiny segment that claims to expand to a huge plane before allocating it', () => {
    // 8000×8000 8-bit needs at least 1 MB of replicate runs; a 2-byte segment cannot be honest.
    const data = Buffer.concat([rleHeader(1, [64]), Buffer.from([0x81, 0x00])]);
    const loaded = build({ rows: 8000, columns: 8000, bitsAllocated: 8, transferSyntax: TS.rle, pixelData: encapsulated([data]) });
    const before = process.memoryUsage().arrayBuffers;
    const error = thrown(() => decodeFrame(loaded.dataSet, loaded.transferSyntax, 0));
    expect((error as RenderError).status).toBe(422);
    expect((error as RenderError).message).toMatch(/too few to decode/);
    // The 64 MB plane was never allocated.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    // Direct call: bounded output even for a segment longer than needed.
    const info = infoFor(Buffer.alloc(0));
    const long = Buffer.concat([rleHeader(2, [64, 64 + 40]), Buffer.alloc(40, 0xff), Buffer.alloc(40, 0x81)]);
    expect(decodeRleFrame(new Uint8Array(long), info)).toHaveLength(6);
  });
});

describe('display mapping (window.ts)', () => {
  // Stored = HU + 1024 with Rescale Intercept −1024, so the Modality LUT matters.
  const hu = [-1000, 0, 20, 40, 60, 79, 80, 1000];
  const image = (photometric: string, extra: Buffer[]): Loaded =>
    build({ rows: 2, columns: 4, photometric, signed: true, pixelData: int16s(hu.map((v) => v + 1024)), extra });

  it('applies the PS3.3 C.11.2.1.2.1 linear window, computed by hand', () => {
    // c = 40, w = 80: x ≤ 0 → 0; x > 79 → 255; else round(((x − 39.5) / 79 + 0.5) · 255).
    expect(linearWindow(20, 40, 80)).toBe(65); // (−19.5/79 + 0.5)·255 = 64.56
    expect(linearWindow(40, 40, 80)).toBe(129); // (0.5/79 + 0.5)·255 = 129.11
    expect(linearWindow(60, 40, 80)).toBe(194); // (20.5/79 + 0.5)·255 = 193.67
    const mono2 = renderFrame({ ...image('MONOCHROME2', windowElements('40', '80', '-1024')), frame: 0 });
    expect(Array.from(mono2.data)).toEqual([0, 0, 65, 129, 194, 255, 255, 255]);
    // The x = 79 boundary: (39.5/79 + 0.5)·255 = 255 exactly, x = 0 is the lower bound → 0.
  });

  it('uses explicit options over the dataset window, and min/max when there is no window', () => {
    const withWindow = image('MONOCHROME2', windowElements('40', '80', '-1024'));
    const wide = renderFrame({ ...withWindow, frame: 0, windowCenter: 0, windowWidth: 2001 });
    // c = 0, w = 2001: round(((x + 0.5) / 2000 + 0.5) · 255) for the inner values.
    expect(Array.from(wide.data)).toEqual(hu.map((x) => Math.round(((x + 0.5) / 2000 + 0.5) * 255)));
    const noWindow = build({ rows: 2, columns: 4, signed: true, pixelData: int16s(hu), extra: [] });
    const stretched = renderFrame({ ...noWindow, frame: 0 });
    expect(stretched.data[0]).toBe(0);
    expect(stretched.data[7]).toBe(255);
    expect(stretched.data[1]).toBe(Math.round((1000 / 2000) * 255));
  });

  it('inverts MONOCHROME1', () => {
    const mono2 = renderFrame({ ...image('MONOCHROME2', windowElements('40', '80', '-1024')), frame: 0 });
    const mono1 = renderFrame({ ...image('MONOCHROME1', windowElements('40', '80', '-1024')), frame: 0 });
    expect(Array.from(mono1.data)).toEqual(Array.from(mono2.data, (v) => 255 - v));
    expect(mono1.data[0]).toBe(255); // lowest value is white in MONOCHROME1
  });

  it('keeps only Bits Stored at High Bit and sign-extends', () => {
    // 12 bits stored in bits 11…0, top nibble holds garbage (e.g. overlay bits).
    const raw = Buffer.alloc(4);
    raw.writeUInt16LE(0xf800, 0); // stored 0x800 → −2048 signed
    raw.writeUInt16LE(0xa7ff, 2); // stored 0x7ff → 2047
    const loaded = build({ rows: 1, columns: 2, bitsStored: 12, highBit: 11, signed: true, pixelData: raw });
    expect(Array.from(decodeFrame(loaded.dataSet, loaded.transferSyntax, 0).values)).toEqual([-2048, 2047]);
  });

  it('reads Planar Configuration 1 colour data into interleaved RGB', () => {
    const planes = Buffer.from([10, 20, 30, 40, 50, 60]); // R R, G G, B B
    const loaded = build({ rows: 1, columns: 2, samples: 3, photometric: 'RGB', bitsAllocated: 8, planar: 1, pixelData: planes });
    expect(Array.from(renderFrame({ ...loaded, frame: 0 }).data)).toEqual([10, 30, 50, 20, 40, 60]);
  });

  it('maps PALETTE COLOR through bounds-checked tables', () => {
    const descriptor = element([0x0028, 0x1101], 'US', us(4, 1, 16));
    const table = (values: number[]): Buffer => us(...values.map((v) => v * 257));
    const extra = (dataLength: number): Buffer[] => [
      descriptor,
      element([0x0028, 0x1102], 'US', us(4, 1, 16)),
      element([0x0028, 0x1103], 'US', us(4, 1, 16)),
      element([0x0028, 0x1201], 'OW', table([10, 20, 30, 40]).subarray(0, dataLength)),
      element([0x0028, 0x1202], 'OW', table([0, 0, 0, 0])),
      element([0x0028, 0x1203], 'OW', table([1, 2, 3, 4])),
    ];
    const pixels = Buffer.from([0, 2, 4, 9]); // 0 is below the first mapped value, 9 past the last entry
    const spec = { rows: 1, columns: 4, bitsAllocated: 8, photometric: 'PALETTE COLOR', pixelData: pixels };
    const out = renderFrame({ ...build({ ...spec, extra: extra(8) }), frame: 0 });
    expect(Array.from(out.data)).toEqual([10, 0, 1, 20, 0, 2, 40, 0, 4, 40, 0, 4]);
    const error = thrown(() => renderFrame({ ...build({ ...spec, extra: extra(4) }), frame: 0 }));
    expect((error as RenderError).status).toBe(422);
  });
});

describe('fitWithin', () => {
  it('averages boxes, keeps the aspect ratio and never upscales', () => {
    const image: DisplayImage = { width: 4, height: 2, channels: 1, data: Uint8Array.from([0, 10, 20, 30, 40, 50, 60, 70]) };
    const half = fitWithin(image, 2, 2);
    expect([half.width, half.height]).toEqual([2, 1]);
    expect(Array.from(half.data)).toEqual([25, 45]); // (0+10+40+50)/4, (20+30+60+70)/4
    expect(fitWithin(image, 100, 100)).toBe(image);
    const ct = render('syntaxes/pydicom/MR2_UNCR.dcm');
    const thumb = renderFrame({ ...load('syntaxes/pydicom/MR2_UNCR.dcm'), frame: 0, maxSize: { width: 128, height: 64 } });
    expect([thumb.width, thumb.height]).toEqual([64, 64]);
    expect(Math.abs(stats(thumb.data).mean - stats(ct.data).mean)).toBeLessThan(1);
  });
});

// ---------- PNG checking, written independently of the encoder ----------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Reads chunks (checking every CRC), inflates IDAT and undoes filters 0/1; returns header fields and pixels. */
function decodePng(png: Buffer): { width: number; height: number; colourType: number; pixels: Uint8Array } {
  expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: Array<{ type: string; data: Buffer }> = [];
  for (let pos = 8; pos < png.length; ) {
    const length = png.readUInt32BE(pos);
    const typeAndData = png.subarray(pos + 4, pos + 8 + length);
    expect(png.readUInt32BE(pos + 8 + length)).toBe(crc(typeAndData));
    chunks.push({ type: typeAndData.subarray(0, 4).toString('latin1'), data: typeAndData.subarray(4) });
    pos += 12 + length;
  }
  expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  const ihdr = chunks[0].data;
  const [width, height, depth, colourType] = [ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9]];
  expect(depth).toBe(8);
  expect(Array.from(ihdr.subarray(10, 13))).toEqual([0, 0, 0]);
  const channels = colourType === 2 ? 3 : 1;
  const raw = inflateSync(chunks[1].data);
  const stride = width * channels;
  expect(raw.length).toBe((stride + 1) * height);
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    expect([0, 1]).toContain(filter);
    for (let i = 0; i < stride; i++) {
      const left = filter === 1 && i >= channels ? pixels[y * stride + i - channels] : 0;
      pixels[y * stride + i] = (raw[y * (stride + 1) + 1 + i] + left) & 0xff;
    }
  }
  return { width, height, colourType, pixels };
}

describe('encoders', () => {
  it('writes PNGs that decode back to the input (grey and RGB)', () => {
    const grey = render(`syntaxes/cornerstone/CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm`);
    const colour = render('syntaxes/pydicom/US1_UNCR.dcm');
    const noise: DisplayImage = { width: 7, height: 5, channels: 3, data: Uint8Array.from({ length: 105 }, (_, i) => (i * 97) % 256) };
    for (const image of [grey, colour, noise]) {
      const decoded = decodePng(encodePng(image));
      expect([decoded.width, decoded.height, decoded.colourType]).toEqual([image.width, image.height, image.channels === 3 ? 2 : 0]);
      expect(Buffer.from(decoded.pixels).equals(Buffer.from(image.data))).toBe(true);
    }
  });

  it('writes JPEGs that jpeg-js reads back at the same size and close values', () => {
    const grey = render('syntaxes/pydicom/CT_small.dcm');
    const encoded = encodeJpeg(grey, 95);
    expect(Array.from(encoded.subarray(0, 2))).toEqual([0xff, 0xd8]);
    const back = jpeg.decode(encoded, { useTArray: true, formatAsRGBA: false });
    expect([back.width, back.height]).toEqual([grey.width, grey.height]);
    let total = 0;
    for (let p = 0; p < grey.data.length; p++) total += Math.abs(back.data[p * 3] - grey.data[p]);
    expect(total / grey.data.length).toBeLessThan(4);
  });
});

// ---------- sweep over every test file ----------

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Renders frame 0 and classifies the outcome; anything other than success or RenderError is a bug. */
function attempt(loaded: Loaded): 'ok' | 415 | 422 | string {
  try {
    const image = renderFrame({ ...loaded, frame: 0 });
    return image.data.length === image.width * image.height * image.channels ? 'ok' : 'bad image size';
  } catch (error) {
    if (error instanceof RenderError) return error.status;
    return `unexpected ${String(error)}`;
  }
}

describe('sweep', () => {
  // No wall-clock bound here (a loaded machine would fail it): a hang ends in the test's timeout,
  // and what keeps each render short is tested above as bounded allocation and early refusal.
  it('renders or refuses (RenderError) every test file', () => {
    const files = walk(DATA).filter((f) => path.extname(f) === '.dcm' || path.extname(f) === '');
    const outcomes = new Map<string, string | number>();
    for (const file of files) {
      const loaded = parse(new Uint8Array(fs.readFileSync(file)));
      if (!loaded) continue; // not parseable as DICOM: not the renderer's business
      outcomes.set(path.relative(DATA, file), attempt(loaded));
    }
    const unexpected = [...outcomes].filter(([, outcome]) => typeof outcome === 'string' && outcome !== 'ok');
    expect(unexpected).toEqual([]);
    const counts = { ok: 0, 415: 0, 422: 0 };
    for (const outcome of outcomes.values()) counts[outcome as keyof typeof counts]++;
    expect(counts.ok).toBeGreaterThanOrEqual(180);
    expect(outcomes.get('malformed/oob-rows-65535.dcm')).toBe(422);
    expect(outcomes.get('syntaxes/pydicom/JPEG-LL.dcm')).toBe(415);
  });

  it('survives random corruption of real files: only RenderError, FrameNotFound or parse failures', () => {
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return Math.floor((seed / 0x80000000) * n); // high bits: the low bits of this generator cycle quickly
    };
    const sources = [
      'syntaxes/pydicom/MR_small_RLE.dcm',
      'syntaxes/pydicom/SC_rgb_rle.dcm',
      'syntaxes/pydicom/rtdose_rle_1frame.dcm',
      'syntaxes/pydicom/emri_small_RLE.dcm',
      'syntaxes/pydicom/MR_small.dcm',
      'syntaxes/pydicom/OBXXXX1A_rle_2frame.dcm',
      'syntaxes/cornerstone/CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm',
    ];
    let attempts = 0;
    for (const source of sources) {
      const original = fs.readFileSync(path.join(DATA, source));
      for (let round = 0; round < 40; round++) {
        const bytes = new Uint8Array(original);
        const truncate = round % 5 === 0;
        const mutated = truncate ? bytes.subarray(0, 200 + random(bytes.length - 200)) : bytes;
        if (!truncate) {
          // Mostly hit the tail (pixel data, RLE headers, JPEG markers), sometimes anywhere after the meta header.
          for (let k = 0; k < 1 + random(8); k++) {
            const at = random(4) === 0 ? 300 + random(bytes.length - 300) : bytes.length - 1 - random(Math.min(bytes.length - 300, 4000));
            bytes[at] = random(256);
          }
        }
        const loaded = parse(mutated);
        if (!loaded) continue;
        attempts++;
        const outcome = attempt(loaded);
        if (typeof outcome === 'string' && outcome !== 'ok') expect(`${source} round ${round}: ${outcome}`).toBe('');
      }
    }
    expect(attempts).toBeGreaterThan(100);
  });
});
