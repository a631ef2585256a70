// Reads a DICOM Part 10 object with dicom-parser and decides whether the hub can keep it: the
// identifying UIDs are present and well formed, the data set parses to its end, and the pixel
// data is as long as its own header says. Anything else is refused with a reason a sender can
// act on — before a byte is committed to the blob store. Nothing here allocates from header
// values: lengths are compared, never used to size a buffer.
import { inflateRawSync } from 'node:zlib';
import dicomParser, { type DataSet } from 'dicom-parser';

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflatedLE: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
} as const;
const NATIVE = new Set<string>([TS.implicitLE, TS.explicitLE, TS.deflatedLE, TS.explicitBE]);

/** An object refused; `code` is the DICOM failure reason (PS3.4 Annex B / PS3.18 STOW). */
export class DicomRejected extends Error {
  constructor(
    message: string,
    readonly code: number = FAILURE.cannotUnderstand,
  ) {
    super(message);
  }
}

export const FAILURE = {
  // PS3.7 C.4.2 "Refused: Not Authorized".
  notAuthorized: 0x0124,
  outOfResources: 0xa700,
  dataSetMismatch: 0xa900,
  cannotUnderstand: 0xc000,
  transferSyntaxNotSupported: 0xc122,
  studyMismatch: 0xc409,
} as const;

export interface ParsedInstance {
  dataSet: DataSet;
  transferSyntax: string;
  sopClassUid: string;
  sopInstanceUid: string;
  studyUid: string;
  seriesUid: string;
  pixels?: PixelDataInfo;
}

export interface PixelDataInfo {
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  encapsulated: boolean;
  /** Where the pixel data value starts in the (inflated, for deflate) object, and its length. */
  offset: number;
  length: number;
  /** Native pixel data: bytes per frame when frames start on byte boundaries (not for packed 1-bit frames). */
  frameLength?: number;
}

// Deflated objects are inflated in memory: bound it so that a small "zip bomb" cannot exhaust it.
const MAX_INFLATED_BYTES = 1024 * 1024 * 1024;
const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;

/**
 * Parses and checks a Part 10 object. Throws DicomRejected. `totalSize` larger than `bytes` means
 * only the object's head was read (very large objects): it is parsed up to the Pixel Data
 * element, whose length is then checked against the whole object's size.
 */
export function parseInstance(bytes: Uint8Array, totalSize = bytes.length): ParsedInstance {
  let dataSet: DataSet;
  const partial = totalSize > bytes.length;
  try {
    dataSet = dicomParser.parseDicom(bytes, partial ? { inflater, untilTag: 'x7fe00010' } : { inflater });
  } catch (err) {
    throw new DicomRejected(`Not a readable DICOM Part 10 object: ${describeParseError(err)}`);
  }
  const transferSyntax = uid(dataSet, 'x00020010', 'Transfer Syntax UID (0002,0010)');
  for (const warning of dataSet.warnings) {
    // dicom-parser reports a missing delimiter when the data ends inside a sequence or pixel data.
    if (/missing|past end|truncat/i.test(warning)) throw new DicomRejected(`The object is truncated or malformed: ${warning}`);
  }
  const parsed: ParsedInstance = {
    dataSet,
    transferSyntax,
    sopClassUid: uid(dataSet, 'x00080016', 'SOP Class UID (0008,0016)'),
    sopInstanceUid: uid(dataSet, 'x00080018', 'SOP Instance UID (0008,0018)'),
    studyUid: uid(dataSet, 'x0020000d', 'Study Instance UID (0020,000D)'),
    seriesUid: uid(dataSet, 'x0020000e', 'Series Instance UID (0020,000E)'),
  };
  // (0002,0003) is not compared with (0008,0018): real modalities write different values there
  // (the ct-10 test series does), and the data set's own UID is the one that identifies it.
  parsed.pixels = pixelDataInfo(dataSet, transferSyntax, totalSize);
  return parsed;
}

export function isNativeSyntax(transferSyntax: string): boolean {
  return NATIVE.has(transferSyntax);
}

function pixelDataInfo(dataSet: DataSet, transferSyntax: string, totalSize: number): PixelDataInfo | undefined {
  const element = dataSet.elements.x7fe00010;
  if (!element) return undefined;
  const rows = requiredCount(dataSet, 'x00280010', 'Rows (0028,0010)');
  const columns = requiredCount(dataSet, 'x00280011', 'Columns (0028,0011)');
  const bitsAllocated = requiredCount(dataSet, 'x00280100', 'Bits Allocated (0028,0100)');
  const samplesPerPixel = dataSet.elements.x00280002 ? requiredCount(dataSet, 'x00280002', 'Samples per Pixel (0028,0002)') : 1;
  const frames = integerString(dataSet, 'x00280008', 'Number of Frames (0028,0008)') ?? 1;
  if (frames < 1) throw new DicomRejected(`Number of Frames (0028,0008) is ${frames}; it must be at least 1`);
  if (![1, 8, 16, 32, 64].includes(bitsAllocated)) throw new DicomRejected(`Bits Allocated (0028,0100) is ${bitsAllocated}; expected 1, 8, 16, 32 or 64`);
  // Parsed only up to Pixel Data (very large objects), an undefined length marks it encapsulated.
  const encapsulated = !!element.encapsulatedPixelData || element.length === 0xffffffff;
  if (isNativeSyntax(transferSyntax)) {
    if (encapsulated) throw new DicomRejected(`Pixel Data is encapsulated but the transfer syntax ${transferSyntax} is native`);
    // Exact arithmetic: the product of header values can exceed 2^53 only in the absurd cases we refuse.
    const samples = nativeSamples(dataSet, samplesPerPixel);
    const bits = BigInt(rows) * BigInt(columns) * BigInt(samples) * BigInt(bitsAllocated) * BigInt(frames);
    const needed = (bits + 7n) / 8n;
    if (BigInt(element.length) < needed) {
      throw new DicomRejected(
        `Pixel Data holds ${element.length} bytes but Rows×Columns×Samples×BitsAllocated×Frames (${rows}×${columns}×${samples}×${bitsAllocated}×${frames}) needs ${needed}`,
        FAILURE.dataSetMismatch,
      );
    }
  } else {
    if (!encapsulated) throw new DicomRejected(`Transfer syntax ${transferSyntax} requires encapsulated Pixel Data, but it is native`);
    const headOnly = totalSize > dataSet.byteArray.length;
    if (!headOnly && !element.fragments?.length) throw new DicomRejected('Encapsulated Pixel Data has no fragments');
  }
  if (element.dataOffset + (encapsulated ? 0 : element.length) > Math.max(totalSize, dataSet.byteArray.length)) {
    throw new DicomRejected('Pixel Data runs past the end of the object: it is truncated');
  }
  const frameBits = rows * columns * nativeSamples(dataSet, samplesPerPixel) * bitsAllocated;
  const frameLength = !encapsulated && frameBits % 8 === 0 ? frameBits / 8 : undefined;
  return { rows, columns, frames, samplesPerPixel, bitsAllocated, encapsulated, offset: element.dataOffset, length: element.length, frameLength };
}

/** Samples stored per pixel: YBR_FULL_422 keeps two whatever Samples per Pixel says (4:2:2). */
function nativeSamples(dataSet: DataSet, samplesPerPixel: number): number {
  return dataSet.string('x00280004')?.trim() === 'YBR_FULL_422' ? 2 : samplesPerPixel;
}

function uid(dataSet: DataSet, tag: string, name: string): string {
  const value = dataSet.string(tag)?.replace(/\0+$/, '').trim();
  if (!value) throw new DicomRejected(`${name} is missing`, FAILURE.dataSetMismatch);
  if (value.length > 64 || !UID.test(value)) throw new DicomRejected(`${name} '${value.slice(0, 80)}' is not a valid UID`, FAILURE.dataSetMismatch);
  return value;
}

function requiredCount(dataSet: DataSet, tag: string, name: string): number {
  const value = dataSet.elements[tag]?.length === 2 ? dataSet.uint16(tag) : undefined;
  if (value === undefined) throw new DicomRejected(`${name} is missing or not a 16-bit value, but Pixel Data is present`);
  if (value === 0) throw new DicomRejected(`${name} is 0, but Pixel Data is present`);
  return value;
}

/** An IS value: a decimal integer in text. Present but not an integer → refused (pydicom's badVR.dcm). */
function integerString(dataSet: DataSet, tag: string, name: string): number | undefined {
  if (!dataSet.elements[tag] || dataSet.elements[tag].length === 0) return undefined;
  const text = dataSet.string(tag)?.trim() ?? '';
  if (!/^[+-]?\d{1,12}$/.test(text)) throw new DicomRejected(`${name} is '${text.slice(0, 20)}', not an integer`);
  return Number(text);
}

function inflater(byteArray: Uint8Array, position: number): Uint8Array {
  const deflated = byteArray.subarray(position);
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(deflated, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (err) {
    throw new DicomRejected(`The deflated data set cannot be inflated: ${(err as Error).message}`);
  }
  const whole = new Uint8Array(position + inflated.length);
  whole.set(byteArray.subarray(0, position), 0);
  whole.set(inflated, position);
  return whole;
}

// dicom-parser throws strings, Errors, or { exception, dataSet } objects.
function describeParseError(err: unknown): string {
  if (err instanceof DicomRejected) return err.message;
  if (typeof err === 'string') return err.replace(/invalid value for parameter 'maxPosition'/, 'an element runs past the end of the object (truncated)').replace(/^dicomParser\.\w+: /, '');
  if (err instanceof Error) return err.message.replace(/^dicomParser\.\w+: /, '');
  if (err && typeof err === 'object' && 'exception' in err) return describeParseError((err as { exception: unknown }).exception);
  return 'unknown parse error';
}
