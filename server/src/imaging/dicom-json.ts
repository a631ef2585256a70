// dicom-parser DataSet -> DICOM JSON Model (PS3.18 Annex F.2), the body of DICOMweb WADO-RS
// metadata and QIDO-RS responses; plus helpers that read single attributes as JS strings for
// the SQL index columns.
//
// Choices the standard leaves to us (or that real data forces on us):
// - VR: the element's own in explicit VR (and always in group 0002, which is explicit VR LE
//   in every file); the dictionary's (dictionary.ts) in implicit VR; UN when neither knows.
// - Padding: trailing and leading spaces are dropped, except leading spaces of LT/ST/UT/UR/UC
//   which PS3.5 6.2 calls significant; trailing NULs (a common writer bug) are dropped too.
// - IS/DS: a value that is a number by PS3.5's grammar becomes a JSON number; one that is
//   not (e.g. "1,5" or "n/a") stays a JSON string, so nothing the modality sent is lost.
// - FL/FD NaN and infinities, which JSON cannot carry, become null.
// - UV/SV beyond Number.MAX_SAFE_INTEGER are strings, as PS3.18 F.2.3 asks.
// - Binary values in InlineBinary are little endian: big endian OW/OF/OL/OD/OV are swapped.
import dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { normalizeTag, tagForKeyword, vrOf, type VrContext } from './dictionary.js';
import { decodeText, latin1 } from './charset.js';

export interface PersonNameComponents {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}
export type DicomJsonValue = string | number | PersonNameComponents | DicomJsonDataSet | null;
export interface DicomJsonAttribute {
  vr: string;
  Value?: DicomJsonValue[];
  BulkDataURI?: string;
  InlineBinary?: string;
}
export type DicomJsonDataSet = Record<string, DicomJsonAttribute>;

/**
 * Gives the BulkDataURI for a binary value too large to inline (and for all Pixel Data).
 * Tags are in dicom-parser's spelling ('x7fe00010', as element.tag); `path` names the
 * enclosing sequences as [sequenceTag, itemIndex, ...], empty at the top level: a URI for a
 * nested value must include it, the same tag can occur in many items. Undefined omits the value.
 */
export type BulkDataUriFn = (tag: string, element: Element, path: readonly (string | number)[]) => string | undefined;

export interface DicomJsonOptions {
  implicitVR: boolean;
  littleEndian: boolean;
  bulkDataUri?: BulkDataUriFn;
  /** Largest binary value (bytes) sent as InlineBinary; default 1024. */
  bulkDataThreshold?: number;
  /** Only these top-level attributes (tags in any spelling, or keywords); sequences keep all their content. */
  includeTags?: Set<string>;
  /** Groups left out at the top level; default [0x0002], the File Meta group. */
  excludeGroups?: Iterable<number>;
  /** (0008,0005) to assume when the data set has none, e.g. 'GB18030' for a known sender. */
  defaultCharacterSet?: string;
}

const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);
/** VRs whose text is in the Specific Character Set; the rest are in the default repertoire. */
const CHARSET_VRS = new Set(['LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);
/** Single-valued text: no backslash splitting, leading spaces significant. */
const SINGLE_TEXT_VRS = new Set(['LT', 'ST', 'UT', 'UR']);
const NUMBER_SIZE: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, UV: 8, SV: 8, AT: 4 };
const WORD_SIZE: Record<string, number> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };
/** Pixel Data, Float Pixel Data, Double Float Pixel Data: always bulk data, never inline. */
const PIXEL_DATA = new Set(['7FE00010', '7FE00008', '7FE00009']);
/**
 * Never attributes: FFFE holds item and delimitation tags (dicom-parser keeps an item's
 * delimiter among its elements), 0000 is the DIMSE command group, which a stored object
 * cannot contain, and FFFC is Data Set Trailing Padding, which has no meaning (PS3.10).
 */
const STRUCTURAL_GROUPS = new Set(['FFFE', '0000', 'FFFC']);
const DS_GRAMMAR = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

interface Settings {
  options: DicomJsonOptions;
  threshold: number;
}
interface Inherited {
  charset: string | undefined;
  vrContext: VrContext;
}

export function toDicomJson(dataSet: DataSet, options: DicomJsonOptions): DicomJsonDataSet {
  const excluded = new Set(options.excludeGroups ?? [0x0002]);
  const included = options.includeTags && new Set([...options.includeTags].map((t) => normalizeTag(t) ?? tagForKeyword(t)));
  // With a deflated data set dicom-parser parses the inflated buffer from byte 0, so the
  // preamble and 'DICM' come back as phantom elements. Real ones start after the File Meta group.
  const metaEnds = Object.values(dataSet.elements)
    .filter((e) => e.tag.startsWith('x0002') && Number.isInteger(e.dataOffset) && Number.isInteger(e.length))
    .map((e) => e.dataOffset + e.length);
  const dataStart = Math.max(0, ...metaEnds);
  const keep = (hex: string, element: Element) =>
    !excluded.has(parseInt(hex.slice(0, 4), 16)) && (!included || included.has(hex)) && (hex.startsWith('0002') || element.dataOffset >= dataStart);
  const settings = { options, threshold: options.bulkDataThreshold ?? 1024 };
  const inherited = { charset: options.defaultCharacterSet, vrContext: {} };
  return convertDataSet(dataSet, settings, inherited, [], keep);
}

function convertDataSet(
  dataSet: DataSet,
  settings: Settings,
  inherited: Inherited,
  path: (string | number)[],
  keep: (hex: string, element: Element) => boolean = () => true,
): DicomJsonDataSet {
  const scope = scopeOf(dataSet, settings.options, inherited);
  const out: DicomJsonDataSet = {};
  // dicom-parser appends the File Meta elements after the data set's own; JSON keys in
  // ascending tag order are what every other DICOMweb server (and DCMTK) produces.
  for (const key of Object.keys(dataSet.elements).sort()) {
    const hex = key.slice(1).toUpperCase();
    const element = dataSet.elements[key];
    // Group lengths describe an encoding the JSON does not have (and are retired); DCMTK drops them too.
    if (STRUCTURAL_GROUPS.has(hex.slice(0, 4)) || hex.slice(4) === '0000' || !keep(hex, element)) continue;
    out[hex] = convertElement(dataSet, element, hex, settings, scope, path);
  }
  return out;
}

/** Character set and ambiguous-VR context of a data set or sequence item (items may override). */
function scopeOf(dataSet: DataSet, options: DicomJsonOptions, inherited: Inherited): Inherited {
  const littleEndian = options.littleEndian;
  const charsetElement = dataSet.elements.x00080005;
  const pixelRepresentation = numbers(dataSet, dataSet.elements.x00280103, 'US', littleEndian)[0];
  return {
    charset: charsetElement ? latin1(bytesOf(dataSet, charsetElement)) : inherited.charset,
    vrContext: {
      pixelRepresentation: typeof pixelRepresentation === 'number' ? pixelRepresentation : inherited.vrContext.pixelRepresentation,
    },
  };
}

function convertElement(
  dataSet: DataSet,
  element: Element,
  hex: string,
  settings: Settings,
  scope: Inherited,
  path: (string | number)[],
): DicomJsonAttribute {
  const { options } = settings;
  const vr = vrOfElement(element, hex, options.implicitVR, scope.vrContext);
  if (vr === 'SQ') {
    const items = element.items ?? [];
    if (items.length === 0) return { vr };
    return {
      vr,
      Value: items.map((item, index) =>
        item.dataSet ? convertDataSet(item.dataSet, settings, scope, [...path, `x${hex.toLowerCase()}`, index]) : {},
      ),
    };
  }
  if (!element.length) return { vr };
  if (PIXEL_DATA.has(hex) || element.encapsulatedPixelData) return bulkData(element, hex, vr, settings, path);
  if (TEXT_VRS.has(vr)) {
    const values = textValues(bytesOf(dataSet, element), vr, scope.charset);
    return values.every((v) => v === null) ? { vr } : { vr, Value: values };
  }
  if (vr in NUMBER_SIZE) {
    const values = numbers(dataSet, element, vr, hex.startsWith('0002') || options.littleEndian);
    return values.length ? { vr, Value: values } : { vr };
  }
  // OB OW OF OD OL OV UN, and anything with a VR we do not know, as bytes.
  if (element.length > settings.threshold) return bulkData(element, hex, vr, settings, path);
  const bytes = littleEndianBytes(bytesOf(dataSet, element), vr, hex.startsWith('0002') || options.littleEndian);
  return { vr, InlineBinary: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}

function vrOfElement(element: Element, hex: string, implicitVR: boolean, context: VrContext): string {
  // The File Meta group is explicit VR even in implicit VR files.
  if (element.vr && (!implicitVR || hex.startsWith('0002'))) return element.vr;
  return vrOf(hex, context) ?? 'UN';
}

function bulkData(element: Element, hex: string, vr: string, settings: Settings, path: (string | number)[]): DicomJsonAttribute {
  const uri = settings.options.bulkDataUri?.(`x${hex.toLowerCase()}`, element, path);
  return uri ? { vr, BulkDataURI: uri } : { vr };
}

/** The element's value bytes, clipped to the buffer (truncated files). */
function bytesOf(dataSet: DataSet, element: Element): Uint8Array {
  const end = Math.min(element.dataOffset + element.length, dataSet.byteArray.length);
  return dataSet.byteArray.subarray(element.dataOffset, Math.max(end, element.dataOffset));
}


function decodeFor(bytes: Uint8Array, vr: string, charset: string | undefined): string {
  return CHARSET_VRS.has(vr) ? decodeText(bytes, charset) : latin1(bytes);
}

/** Removes padding: trailing spaces and NULs always, leading spaces where insignificant. */
function trimValue(value: string, vr: string): string {
  const end = value.replace(/[ \0]+$/, '');
  return SINGLE_TEXT_VRS.has(vr) || vr === 'UC' ? end : end.replace(/^ +/, '');
}

function textValues(bytes: Uint8Array, vr: string, charset: string | undefined): DicomJsonValue[] {
  const text = decodeFor(bytes, vr, charset);
  // Split after decoding: in GBK/GB18030 a 0x5C byte can be the second half of a character.
  const raw = SINGLE_TEXT_VRS.has(vr) ? [text] : text.split('\\');
  return raw.map((value) => {
    const trimmed = trimValue(value, vr);
    if (trimmed === '') return null; // PS3.18 F.2.5: an empty value in a multi-valued element
    if (vr === 'PN') return personNameComponents(trimmed);
    if (vr === 'IS' || vr === 'DS') return DS_GRAMMAR.test(trimmed) ? Number(trimmed) : trimmed;
    return trimmed;
  });
}

function personNameComponents(value: string): PersonNameComponents | null {
  // Trailing empty components ('Doe^John^^^') carry nothing (PS3.5 6.2.1); DCMTK drops them too.
  const [alphabetic, ideographic, phonetic] = value.split('=').map((group) => group.replace(/[\s^]+$/, '').trim());
  const name: PersonNameComponents = {};
  if (alphabetic) name.Alphabetic = alphabetic;
  if (ideographic) name.Ideographic = ideographic;
  if (phonetic) name.Phonetic = phonetic;
  return Object.keys(name).length ? name : null;
}

/** Binary numbers (US SS UL SL FL FD UV SV, and AT as 8-hex strings) in the given byte order. */
function numbers(dataSet: DataSet, element: Element | undefined, vr: string, littleEndian: boolean): (number | string | null)[] {
  if (!element || !element.length) return [];
  const bytes = bytesOf(dataSet, element);
  const size = NUMBER_SIZE[vr];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: (number | string | null)[] = [];
  for (let at = 0; at + size <= bytes.byteLength; at += size) {
    switch (vr) {
      case 'US': out.push(view.getUint16(at, littleEndian)); break;
      case 'SS': out.push(view.getInt16(at, littleEndian)); break;
      case 'UL': out.push(view.getUint32(at, littleEndian)); break;
      case 'SL': out.push(view.getInt32(at, littleEndian)); break;
      case 'FL': out.push(finite(shortestFloat32(view.getFloat32(at, littleEndian)))); break;
      case 'FD': out.push(finite(view.getFloat64(at, littleEndian))); break;
      case 'UV': out.push(safeInteger(view.getBigUint64(at, littleEndian))); break;
      case 'SV': out.push(safeInteger(view.getBigInt64(at, littleEndian))); break;
      case 'AT': {
        const group = view.getUint16(at, littleEndian).toString(16).padStart(4, '0');
        const elem = view.getUint16(at + 2, littleEndian).toString(16).padStart(4, '0');
        out.push(`${group}${elem}`.toUpperCase());
        break;
      }
    }
  }
  return out;
}

function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

/** The shortest decimal that reads back as the same float32 (0.1, not 0.10000000149011612). */
function shortestFloat32(n: number): number {
  if (!Number.isFinite(n)) return n;
  for (let digits = 1; digits < 17; digits++) {
    const candidate = Number(n.toPrecision(digits));
    if (Math.fround(candidate) === n) return candidate;
  }
  return n;
}

function safeInteger(n: bigint): number | string {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : n.toString();
}

/** Big endian OW/OF/OL/OD/OV swapped to little endian (a copy); everything else as is. */
function littleEndianBytes(bytes: Uint8Array, vr: string, littleEndian: boolean): Uint8Array {
  const word = WORD_SIZE[vr];
  if (littleEndian || !word) return bytes;
  const swapped = new Uint8Array(bytes.byteLength - (bytes.byteLength % word));
  for (let at = 0; at < swapped.length; at += word) {
    for (let i = 0; i < word; i++) swapped[at + i] = bytes[at + word - 1 - i];
  }
  return swapped;
}

// ---- Single attributes, for the SQL index columns ----

/** Specific Character Set (0008,0005) of a data set, as stored ('ISO_IR 100', '\ISO 2022 IR 58'). */
export function characterSetOf(dataSet: DataSet): string | undefined {
  const element = dataSet.elements.x00080005;
  return element ? latin1(bytesOf(dataSet, element)) : undefined;
}

/**
 * The first value of a text or numeric attribute, decoded with `charset` (the (0008,0005)
 * value; read from the data set when omitted) and without padding. PN comes back as stored,
 * component groups joined by '='. Undefined when absent, empty, binary or a sequence.
 */
export function attributeText(dataSet: DataSet, tag: string, charset?: string): string | undefined {
  const hex = normalizeTag(tag);
  const element = hex ? dataSet.elements[`x${hex.toLowerCase()}`] : undefined;
  if (!hex || !element || !element.length) return undefined;
  // Endianness from the parser dicom-parser chose for this data set; group 0002 is always LE.
  const littleEndian = dataSet.byteArrayParser !== dicomParser.bigEndianByteArrayParser || hex.startsWith('0002');
  const implicit = { implicitVR: true, littleEndian };
  const vr = element.vr ?? vrOf(hex, scopeOf(dataSet, implicit, { charset, vrContext: {} }).vrContext) ?? 'UN';
  if (vr in NUMBER_SIZE) {
    const first = numbers(dataSet, element, vr, littleEndian)[0];
    return first === undefined || first === null ? undefined : String(first);
  }
  if (!TEXT_VRS.has(vr)) return undefined;
  const text = decodeFor(bytesOf(dataSet, element), vr, charset ?? characterSetOf(dataSet));
  const first = trimValue(SINGLE_TEXT_VRS.has(vr) ? text : text.split('\\')[0], vr);
  return first === '' ? undefined : first;
}

/** The first value of a PN attribute as its component groups, or undefined when empty. */
export function personName(dataSet: DataSet, tag: string, charset?: string): PersonNameComponents | undefined {
  const text = attributeText(dataSet, tag, charset);
  return (text && personNameComponents(text)) || undefined;
}
