// DICOM JSON Model (PS3.18 F.2) from dicom-parser data sets: checked attribute by attribute
// against DCMTK's dcm2json on the shared test files (every native transfer syntax, bare data
// sets, encapsulated pixel data), plus hand-built data sets for the rules DCMTK cannot show:
// GB18030/GBK and ISO 2022 names, bulk data, padding, invalid numbers.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import dicomParser, { type DataSet } from 'dicom-parser';
import { decodeText } from '../../server/src/imaging/charset.js';
import { attributeText, personName, toDicomJson, type DicomJsonDataSet, type DicomJsonOptions } from '../../server/src/imaging/dicom-json.js';
import { implicitSequenceVr, keywordOf, tagForKeyword, vrOf } from '../../server/src/imaging/dictionary.js';
import { DICOM_DATA } from '../helpers/dicom.js';

const REQUIRE_ALL = process.env.SUHE_TEST_REQUIRE_ALL === '1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const BIG_ENDIAN = '1.2.840.10008.1.2.2';

/** Parses a Part 10 file (inflating deflated ones), or a bare implicit/explicit LE data set. */
function parse(bytes: Uint8Array): { dataSet: DataSet; options: DicomJsonOptions } {
  const bare = Buffer.from(bytes.subarray(128, 132)).toString('latin1') !== 'DICM';
  const explicitBare = /^[A-Z]{2}$/.test(Buffer.from(bytes.subarray(4, 6)).toString('latin1'));
  const dataSet = dicomParser.parseDicom(bytes, {
    inflater: (all: Uint8Array, at: number) => Buffer.concat([all.subarray(0, at), inflateRawSync(all.subarray(at))]),
    ...(bare ? { TransferSyntaxUID: explicitBare ? '1.2.840.10008.1.2.1' : IMPLICIT_LE } : {}),
  });
  const ts = bare ? (explicitBare ? '' : IMPLICIT_LE) : dataSet.string('x00020010');
  return { dataSet, options: { implicitVR: ts === IMPLICIT_LE, littleEndian: ts !== BIG_ENDIAN } };
}

const convertFile = (file: string, extra: Partial<DicomJsonOptions> = {}) => {
  const { dataSet, options } = parse(readFileSync(file));
  return toDicomJson(dataSet, { ...options, bulkDataUri: (tag) => `bulk/${tag}`, ...extra });
};

// ---- Comparison with DCMTK ----

function dcmtkMissing(): string | undefined {
  const missing = ['dcm2json', 'dcmconv', 'dcmodify'].filter((tool) => spawnSync(tool, ['--version']).status !== 0);
  return missing.length ? `DCMTK's ${missing.join(', ')} not installed` : undefined;
}
const MISSING = dcmtkMissing();
if (MISSING && !REQUIRE_ALL) process.stdout.write(`SKIPPED (dicom-json vs DCMTK): ${MISSING}\n`);
const itWithDcmtk = MISSING && !REQUIRE_ALL ? it.skip : it;
const requireDcmtk = () => {
  if (MISSING) throw new Error(`SUHE_TEST_REQUIRE_ALL=1 but ${MISSING}`);
};

function dcm2json(file: string): DicomJsonDataSet {
  const run = spawnSync('dcm2json', ['-fc', file], { maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`dcm2json ${file}: ${run.stderr.toString()}`);
  return JSON.parse(run.stdout.toString('utf8')) as DicomJsonDataSet;
}

/**
 * Differences between our JSON and DCMTK's, as readable lines. Known, deliberate differences:
 * - (0008,0005): dcm2json converts text to UTF-8 and says 'ISO_IR 192'; we keep the stored value.
 * - Private elements of implicit VR data: DCMTK takes VRs from its private dictionary, we say UN.
 * - Bulk data: we give a BulkDataURI (DCMTK inlines everything), so only the VR is compared.
 * - Data Set Trailing Padding (FFFC,FFFC) has no meaning (PS3.10 7.2): DCMTK keeps it, we don't.
 */
function differences(ours: DicomJsonDataSet, theirs: DicomJsonDataSet, implicitVR: boolean, path = ''): string[] {
  const out: string[] = [];
  for (const tag of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    const a = ours[tag];
    const b = theirs[tag];
    const where = `${path}${tag}`;
    if (tag === 'FFFCFFFC' && !a) continue;
    if (!a || !b) {
      out.push(`${where}: only in ${a ? 'ours' : 'DCMTK'}`);
      continue;
    }
    const privateUN = implicitVR && /^.{3}[13579BDF]/.test(tag) && a.vr === 'UN';
    if (a.vr !== b.vr && !privateUN) out.push(`${where}: VR ${a.vr} vs ${b.vr}`);
    if (privateUN || a.BulkDataURI || tag === '00080005') continue;
    if (a.InlineBinary !== b.InlineBinary) out.push(`${where}: InlineBinary differs`);
    if ('Value' in a !== 'Value' in b) out.push(`${where}: Value ${'Value' in a ? 'only in ours' : 'only in DCMTK'}`);
    const va = a.Value ?? [];
    const vb = b.Value ?? [];
    if (va.length !== vb.length) out.push(`${where}: ${JSON.stringify(va)} vs ${JSON.stringify(vb)}`);
    else
      va.forEach((x, i) => {
        const y = vb[i];
        if (a.vr === 'SQ') out.push(...differences(x as DicomJsonDataSet, y as DicomJsonDataSet, implicitVR, `${where}[${i}].`));
        else if (typeof x === 'number' && typeof y === 'number') {
          const tolerance = a.vr === 'FL' ? 1e-6 : 1e-12; // DCMTK prints FL with fewer digits
          if (Math.abs(x - y) > tolerance * Math.max(1, Math.abs(x))) out.push(`${where}[${i}]: ${x} vs ${y}`);
        } else if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${where}[${i}]: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
      });
  }
  return out;
}

function compareWithDcmtk(file: string, dcmtkFile = file) {
  requireDcmtk();
  const { dataSet, options } = parse(readFileSync(file));
  const ours = toDicomJson(dataSet, { ...options, bulkDataUri: (tag) => `bulk/${tag}` });
  expect(Object.keys(ours).length).toBeGreaterThan(10);
  expect(differences(ours, dcm2json(dcmtkFile), options.implicitVR)).toEqual([]);
  return ours;
}

const D = (path: string) => join(DICOM_DATA, path);
const AS_STORED = {
  'implicit VR LE': ['parser/CT1_UNC.implicit_little_endian.dcm', 'syntaxes/pydicom/MR_small_implicit.dcm', 'syntaxes/pydicom/rtdose.dcm', 'syntaxes/cornerstone/CTImage.dcm'],
  'explicit VR LE': ['series/ct-10/CT2.dcm', 'series/mr-128/slice0.dcm', 'syntaxes/pydicom/CT_small.dcm', 'syntaxes/pydicom/test-SR.dcm', 'syntaxes/pydicom/waveform_ecg.dcm', 'syntaxes/pydicom/MR-SIEMENS-DICOM-WithOverlays.dcm', 'syntaxes/pydicom/SC_rgb_2frame.dcm', 'syntaxes/pydicom/US1_UNCR.dcm', 'syntaxes/cornerstone/no-pixel-data.dcm'],
  'explicit VR BE': ['parser/CT1_UNC.explicit_big_endian.dcm', 'syntaxes/pydicom/MR_small_bigendian.dcm', 'syntaxes/pydicom/rtdose_expb_1frame.dcm', 'syntaxes/pydicom/SC_rgb_expb_16bit_2frame.dcm', 'syntaxes/pydicom/ExplVR_BigEnd.dcm'],
  'deflated explicit VR LE': ['parser/deflate/report_dfl', 'parser/deflate/image_dfl', 'parser/deflate/wave_dfl', 'syntaxes/cornerstone/CTImage.dcm_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm'],
  'bare data set (no File Meta)': ['syntaxes/pydicom/rtstruct.dcm', 'syntaxes/pydicom/OT-PAL-8-face.dcm'],
};

describe('toDicomJson matches DCMTK dcm2json', () => {
  for (const [kind, files] of Object.entries(AS_STORED)) {
    for (const file of files) itWithDcmtk(`${kind}: ${file}`, () => void compareWithDcmtk(D(file)));
  }

  // dcm2json refuses encapsulated pixel data, so DCMTK sees a copy without it (dcmodify -ea);
  // ours is converted from the original and must give the pixel data as bulk data.
  for (const file of ['parser/encapsulated/multi-frame/CT0012.not_fragmented_bot_rle.dcm', 'parser/encapsulated/single-frame/CT1_UNC.fragmented_no_bot_jpeg_ls.80.dcm']) {
    itWithDcmtk(`encapsulated: ${file}`, () => {
      requireDcmtk();
      const dir = mkdtempSync(join(tmpdir(), 'suhe-dicom-json-'));
      try {
        const stripped = join(dir, basename(file));
        copyFileSync(D(file), stripped);
        expect(spawnSync('dcmodify', ['-nb', '-q', '-ea', '(7fe0,0010)', stripped]).status).toBe(0);
        const theirs = dcm2json(stripped);
        const ours = convertFile(D(file), { bulkDataThreshold: 1 << 30 });
        expect(ours['7FE00010']).toEqual({ vr: 'OB', BulkDataURI: 'bulk/x7fe00010' });
        delete ours['7FE00010'];
        expect(differences(ours, theirs, false)).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  // Implicit VR copies (dcmconv +ti) of sequence-heavy and 8-bit/overlay objects: every VR
  // comes from the dictionary, including OB-or-OW Pixel/Overlay Data and SR content trees.
  for (const file of ['syntaxes/pydicom/test-SR.dcm', 'parser/deflate/report_dfl', 'syntaxes/pydicom/rtstruct.dcm', 'syntaxes/pydicom/MR-SIEMENS-DICOM-WithOverlays.dcm', 'syntaxes/pydicom/SC_rgb_2frame.dcm', 'syntaxes/pydicom/OT-PAL-8-face.dcm', 'syntaxes/pydicom/waveform_ecg.dcm']) {
    itWithDcmtk(`converted to implicit VR: ${file}`, () => {
      requireDcmtk();
      const dir = mkdtempSync(join(tmpdir(), 'suhe-dicom-json-'));
      try {
        const implicit = join(dir, 'implicit.dcm');
        expect(spawnSync('dcmconv', ['-q', '+ti', D(file), implicit]).status).toBe(0);
        const ours = compareWithDcmtk(implicit);
        if (file.includes('SC_rgb')) expect(ours['7FE00010'].vr).toBe('OW'); // 8-bit, yet OW (PS3.5 A.1)
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('toDicomJson across transfer syntaxes', () => {
  const publicOnly = (json: DicomJsonDataSet) => Object.fromEntries(Object.entries(json).filter(([tag]) => !/^.{3}[13579BDF]/.test(tag)));
  it('big endian, deflated and implicit encodings of one object give the same JSON as explicit LE', () => {
    const base = 'syntaxes/cornerstone/CTImage.dcm_';
    const explicit = convertFile(D(`${base}LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm`));
    expect(convertFile(D(`${base}BigEndianExplicitTransferSyntax_1.2.840.10008.1.2.2.dcm`))).toEqual(explicit);
    expect(convertFile(D(`${base}DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm`))).toEqual(explicit);
    expect(publicOnly(convertFile(D(`${base}LittleEndianImplicitTransferSyntax_1.2.840.10008.1.2.dcm`)))).toEqual(publicOnly(explicit));
  });

  it('reads index columns with attributeText/personName in either byte order', () => {
    for (const file of ['parser/CT1_UNC.explicit_little_endian.dcm', 'parser/CT1_UNC.explicit_big_endian.dcm', 'parser/CT1_UNC.implicit_little_endian.dcm']) {
      const { dataSet } = parse(readFileSync(D(file)));
      const columns = ['x00280010', 'x00280100', 'x00200013', 'x00080060', 'x00080020'].map((tag) => attributeText(dataSet, tag));
      expect([file, columns]).toEqual([file, ['512', '16', '1', 'CT', expect.stringMatching(/^\d{8}$/)]]);
      expect(personName(dataSet, 'x00100010')?.Alphabetic).toBeTruthy();
    }
  });

  it('leaves out the File Meta group unless asked, and filters top-level tags', () => {
    const file = D('series/ct-10/CT2.dcm');
    expect(Object.keys(convertFile(file)).some((tag) => tag.startsWith('0002'))).toBe(false);
    expect(convertFile(file, { excludeGroups: [] })['00020010']).toEqual({ vr: 'UI', Value: ['1.2.840.10008.1.2.1'] });
    const some = convertFile(file, { includeTags: new Set(['x00100010', '(0008,0060)', '0020000D', 'SeriesInstanceUID']) });
    expect(Object.keys(some).sort()).toEqual(['00080060', '00100010', '0020000D', '0020000E']);
  });
});

// ---- Hand-built data sets ----

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const u16 = (...v: number[]) => Buffer.from(Uint16Array.from(v).buffer);
const hex = (h: string) => Buffer.from(h, 'hex');

/** One explicit VR little endian element; values are padded to even length as PS3.5 requires. */
function el(tag: string, vr: string, value: Buffer | string): Buffer {
  let bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const text = /^(AE|AS|CS|DA|DS|DT|IS|LO|LT|PN|SH|ST|TM|UC|UR|UT)$/.test(vr);
  if (bytes.length % 2) bytes = Buffer.concat([bytes, Buffer.from([text ? 0x20 : 0])]);
  const head = Buffer.alloc(LONG_VRS.has(vr) ? 12 : 8);
  head.writeUInt16LE(parseInt(tag.slice(0, 4), 16), 0);
  head.writeUInt16LE(parseInt(tag.slice(4), 16), 2);
  head.write(vr, 4, 'latin1');
  if (LONG_VRS.has(vr)) head.writeUInt32LE(bytes.length, 8);
  else head.writeUInt16LE(bytes.length, 6);
  return Buffer.concat([head, bytes]);
}
/** One implicit VR little endian element: tag and a 32-bit length, no VR. */
function implicitEl(tag: string, value: Buffer | string): Buffer {
  let bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  if (bytes.length % 2) bytes = Buffer.concat([bytes, Buffer.from(' ')]);
  const head = Buffer.alloc(8);
  head.writeUInt16LE(parseInt(tag.slice(0, 4), 16), 0);
  head.writeUInt16LE(parseInt(tag.slice(4), 16), 2);
  head.writeUInt32LE(bytes.length, 4);
  return Buffer.concat([head, bytes]);
}
/** A sequence of defined length; its items are defined length too. */
function sq(tag: string, items: Buffer[][], implicit = false): Buffer {
  const body = items.map((elements) => {
    const content = Buffer.concat(elements);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(0xe000fffe, 0);
    head.writeUInt32LE(content.length, 4);
    return Buffer.concat([head, content]);
  });
  return implicit ? implicitEl(tag, Buffer.concat(body)) : el(tag, 'SQ', Buffer.concat(body));
}
function part10(elements: Buffer[], transferSyntax = '1.2.840.10008.1.2.1'): DataSet {
  const meta = Buffer.concat([el('00020001', 'OB', hex('0001')), el('00020010', 'UI', transferSyntax)]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(meta.length);
  return parse(Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), el('00020000', 'UL', length), meta, ...elements])).dataSet;
}

describe('toDicomJson value rules', () => {
  const fd = Buffer.alloc(16);
  fd.writeDoubleLE(1 / 3, 0);
  fd.writeDoubleLE(-2.5e-300, 8);
  const dataSet = part10([
    el('00080005', 'CS', 'GB18030'),
    el('00080008', 'CS', 'ORIGINAL\\PRIMARY\\\\ AXIAL '),
    el('00080018', 'UI', '1.2.3.4'),
    el('00080050', 'SH', ''),
    sq('00081110', []),
    sq('00081140', [[el('00081155', 'UI', '1.2.3.5')], [el('00290010', 'LO', 'SUHE'), el('00291001', 'OB', Buffer.alloc(2000, 1))]]),
    el('00081030', 'LO', Buffer.concat([Buffer.from('  '), hex('cdb7b2bf875c'), Buffer.from(' ')])),
    el('00090010', 'LO', 'SUHE'),
    el('00091003', 'OB', hex('01020304')),
    el('00091004', 'OB', Buffer.alloc(2000)),
    el('00091005', 'FL', Buffer.from(Float32Array.from([0.1, -1.5]).buffer)),
    el('00091006', 'FD', fd),
    el('00100010', 'PN', hex('cdf55ed0a1c3f7')),
    el('00101001', 'PN', hex('57616e675e5869616f6d696e673dcdf55ed0a1c3f75c875c5e41')),
    el('00101030', 'DS', '7.25E+1\\ 80 \\n/a\\'),
    el('00189219', 'SS', u16(0xfffb)),
    el('00200013', 'IS', ' +12'),
    el('00204000', 'LT', '  indented text  '),
    el('00209165', 'AT', u16(0x0020, 0x0032)),
    el('00280010', 'US', u16(512)),
    el('7FE00010', 'OW', u16(1, 2)),
  ]);
  const uris: unknown[][] = [];
  const json = toDicomJson(dataSet, {
    implicitVR: false,
    littleEndian: true,
    bulkDataUri: (tag, _element, path) => (uris.push([tag, path]), tag === 'x00091004' ? undefined : `bulk/${tag}`),
  });

  it('decodes GB18030 text, also where a character ends in the byte 0x5C (backslash)', () => {
    expect(json['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: '王^小明' }] });
    expect(json['00101001'].Value).toEqual([{ Alphabetic: 'Wang^Xiaoming', Ideographic: '王^小明' }, { Alphabetic: '嘰^A' }]);
    expect(json['00081030'].Value).toEqual(['头部嘰']);
    expect(attributeText(dataSet, 'x00100010')).toBe('王^小明');
    expect(personName(dataSet, 'x00101001')).toEqual({ Alphabetic: 'Wang^Xiaoming', Ideographic: '王^小明' });
  });

  it('splits, trims and types values as PS3.18 F.2 says', () => {
    expect(json['00080008'].Value).toEqual(['ORIGINAL', 'PRIMARY', null, 'AXIAL']);
    expect(json['00080018'].Value).toEqual(['1.2.3.4']);
    expect(json['00080050']).toEqual({ vr: 'SH' });
    expect(json['00101030'].Value).toEqual([72.5, 80, 'n/a', null]); // not a number: kept as text
    expect(json['00200013'].Value).toEqual([12]);
    expect(json['00204000'].Value).toEqual(['  indented text']);
    expect(json['00189219'].Value).toEqual([-5]);
    expect(json['00209165'].Value).toEqual(['00200032']);
    expect(json['00280010'].Value).toEqual([512]);
    expect(json['00091005'].Value).toEqual([0.1, -1.5]);
    expect(json['00091006'].Value).toEqual([1 / 3, -2.5e-300]);
    expect(attributeText(dataSet, 'x00280010')).toBe('512');
    expect(attributeText(dataSet, 'x00080008')).toBe('ORIGINAL');
    expect(attributeText(dataSet, 'x00080050')).toBeUndefined();
  });

  it('inlines small binary values, gives bulk data for large ones and always for Pixel Data', () => {
    expect(json['00091003']).toEqual({ vr: 'OB', InlineBinary: 'AQIDBA==' });
    expect(json['00091004']).toEqual({ vr: 'OB' }); // the callback gave no URI
    expect(json['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: 'bulk/x7fe00010' });
    expect(json['00081110']).toEqual({ vr: 'SQ' });
    expect(json['00081140'].Value).toEqual([
      { '00081155': { vr: 'UI', Value: ['1.2.3.5'] } },
      { '00290010': { vr: 'LO', Value: ['SUHE'] }, '00291001': { vr: 'OB', BulkDataURI: 'bulk/x00291001' } },
    ]);
    expect(uris).toContainEqual(['x00291001', ['x00081140', 1]]);
  });
});

describe('toDicomJson on implicit VR data', () => {
  // dicom-parser 1.8 reads UV/SV/OV with a 16-bit length in explicit VR, so they are tested here.
  const uv = Buffer.alloc(16);
  uv.writeBigUInt64LE(2n ** 60n + 1n, 0);
  uv.writeBigUInt64LE(7n, 8);
  const dataSet = part10(
    [
      implicitEl('00090010', 'SUHE'),
      implicitEl('00091001', 'ab'),
      implicitEl('00280000', hex('0c000000')),
      implicitEl('00280103', u16(1)),
      implicitEl('00280106', u16(0xfffb)),
      sq('0040A730', [[implicitEl('0040A040', 'TEXT'), implicitEl('0040A160', 'Findings ')]], true),
      implicitEl('00720081', hex('0102030405060708')),
      implicitEl('00720082', Buffer.from(new BigInt64Array([-3n]).buffer)),
      implicitEl('00720083', uv),
      implicitEl('7FE00010', u16(1, 2)),
    ],
    IMPLICIT_LE,
  );
  const json = toDicomJson(dataSet, { implicitVR: true, littleEndian: true });

  it('takes VRs from the dictionary: private creator LO, private data UN, group lengths left out', () => {
    expect(json).toEqual({
      '00090010': { vr: 'LO', Value: ['SUHE'] },
      '00091001': { vr: 'UN', InlineBinary: 'YWI=' },
      '00280103': { vr: 'US', Value: [1] },
      '00280106': { vr: 'SS', Value: [-5] }, // 'US or SS', signed by PixelRepresentation
      '0040A730': { vr: 'SQ', Value: [{ '0040A040': { vr: 'CS', Value: ['TEXT'] }, '0040A160': { vr: 'UT', Value: ['Findings'] } }] },
      '00720081': { vr: 'OV', InlineBinary: 'AQIDBAUGBwg=' },
      '00720082': { vr: 'SV', Value: [-3] },
      '00720083': { vr: 'UV', Value: ['1152921504606846977', 7] }, // beyond 2^53: a string
      '7FE00010': { vr: 'OW' }, // Pixel Data is never inline; no URI without a callback
    });
    expect(attributeText(dataSet, 'x00280106')).toBe('-5');
  });
});

describe('character sets', () => {
  it('decodes ISO 2022 Japanese, Chinese and Korean names (PS3.5 Annexes H, J, K)', () => {
    const jp = Buffer.concat([Buffer.from('Yamada^Tarou='), hex('1b24423b3345441b2842'), Buffer.from('^'), hex('1b244242404f3a1b2842')]);
    expect(decodeText(jp, '\\ISO 2022 IR 87')).toBe('Yamada^Tarou=山田^太郎');
    const cn = Buffer.concat([Buffer.from('Zhang^XiaoDong='), hex('1b242941d5c55e1b242941d0a1b6ab')]);
    expect(decodeText(cn, '\\ISO 2022 IR 58')).toBe('Zhang^XiaoDong=张^小东');
    const kr = Buffer.concat([Buffer.from('Hong^Gildong='), hex('1b242943fbf35e1b242943d1ced4d7')]);
    expect(decodeText(kr, '\\ISO 2022 IR 149')).toBe('Hong^Gildong=洪^吉洞');
  });

  it('decodes Latin-1, UTF-8 and 4-byte GB18030, and falls back to Latin-1 for unknown sets', () => {
    expect(decodeText(hex('4dfc6c6c6572'), 'ISO_IR 100')).toBe('Müller');
    expect(decodeText(hex('4dfc6c6c6572'), 'ISO-IR 100')).toBe('Müller');
    expect(decodeText(Buffer.from('Müller 王', 'utf8'), 'ISO_IR 192')).toBe('Müller 王');
    expect(decodeText(hex('95328236'), 'GB18030')).toBe('𠀀');
    expect(decodeText(hex('cdf5'), 'GBK')).toBe('王');
    expect(decodeText(hex('4dfc'), 'NO SUCH SET')).toBe('Mü');
  });
});

describe('dictionary', () => {
  it('gives VRs, including repeating groups, group lengths, private tags and ambiguous VRs', () => {
    expect(vrOf('x00100010')).toBe('PN');
    expect(vrOf('(6002,3000)')).toBe('OW');
    expect(vrOf('x50020005')).toBe('US');
    expect(vrOf('x00280000')).toBe('UL');
    expect(vrOf('x00090010')).toBe('LO');
    expect(vrOf('x00091001')).toBe('UN');
    expect(vrOf('x60013000')).toBe('UN'); // odd group: private, not an overlay
    expect(vrOf('x00280106')).toBe('US');
    expect(vrOf('x00280106', { pixelRepresentation: 1 })).toBe('SS');
    expect(vrOf('x7fe00010')).toBe('OW');
    expect(vrOf('x00041200')).toBe('UL');
    expect(vrOf('xfffee000')).toBeUndefined();
    expect(implicitSequenceVr('x0040a730')).toBe('SQ');
    expect(implicitSequenceVr('x00100010')).toBeUndefined();
  });

  it('gives keywords without the retired prefix, and tags for keywords', () => {
    expect(keywordOf('x00100010')).toBe('PatientName');
    expect(keywordOf('(0008,0005)')).toBe('SpecificCharacterSet');
    expect(keywordOf('x60003000')).toBe('OverlayData');
    expect(keywordOf('x00080040')).toBe('DataSetType');
    expect(keywordOf('x00020000')).toBe('FileMetaInformationGroupLength');
    expect(keywordOf('x00280000')).toBe('GenericGroupLength');
    expect(tagForKeyword('PatientName')).toBe('00100010');
    expect(tagForKeyword('DataSetType')).toBe('00080040');
    expect(tagForKeyword('patientname')).toBeUndefined();
    // Names every object inherits are not keywords (a QIDO includefield=constructor was a 500).
    for (const inherited of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) expect(tagForKeyword(inherited)).toBeUndefined();
  });
});
