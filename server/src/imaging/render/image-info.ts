/**
 * Reads and validates the Image Pixel module (PS3.3 C.7.6.3) before any pixel is touched.
 * Everything a decoder later allocates is derived from these numbers, so they are checked here:
 * hostile headers (Rows = Columns = 65535, BitsStored > BitsAllocated, ...) stop with a RenderError.
 */
import type { DataSet, Element } from 'dicom-parser';
import { malformed, unsupported } from './errors.js';

/** Largest Rows or Columns we render. */
export const MAX_DIMENSION = 16384;
/**
 * Upper bound on samples in one frame (64 Mi, e.g. 8192² grey or 4729² RGB). RLE can expand 64× and JPEG far
 * more, so a small upload could otherwise make us hold several GB (planes + Int32 values + output).
 * Large single-frame radiographs (≈ 4k × 5k) stay well below it.
 */
export const MAX_SAMPLES_PER_FRAME = 64 * 1024 * 1024;

export type Photometric = 'MONOCHROME1' | 'MONOCHROME2' | 'PALETTE COLOR' | 'RGB' | 'YBR_FULL' | 'YBR_FULL_422';
const SINGLE_SAMPLE: readonly string[] = ['MONOCHROME1', 'MONOCHROME2', 'PALETTE COLOR'];
const THREE_SAMPLES: readonly string[] = ['RGB', 'YBR_FULL', 'YBR_FULL_422'];

export interface ImageInfo {
  rows: number;
  columns: number;
  samplesPerPixel: 1 | 3;
  bitsAllocated: 1 | 8 | 16 | 32;
  bitsStored: number;
  highBit: number;
  isSigned: boolean;
  planarConfiguration: 0 | 1;
  photometric: Photometric;
  numberOfFrames: number;
  pixelData: Element;
}

/** Reads a US attribute without trusting the element's offset/length (dicom-parser would throw a bare string). */
function readUS(dataSet: DataSet, tag: string): number | undefined {
  const element = dataSet.elements[tag];
  if (!element || element.length === 0) return undefined;
  if (element.length < 2 || element.dataOffset + 2 > dataSet.byteArray.length) {
    throw malformed(`attribute ${tag.slice(1)} is too short to hold a 16-bit value`);
  }
  return dataSet.uint16(tag);
}

/** Reads a string attribute; dicom-parser throws a bare string when the value runs past the buffer. */
function readText(dataSet: DataSet, tag: string): string | undefined {
  try {
    return dataSet.string(tag);
  } catch {
    throw malformed(`attribute ${tag.slice(1)} runs past the end of the data`);
  }
}

function requireUS(dataSet: DataSet, tag: string, name: string): number {
  const value = readUS(dataSet, tag);
  if (value === undefined) throw malformed(`${name} is missing`);
  return value;
}

/** Number of Frames is an IS string; anything but a plain positive integer is refused rather than guessed. */
function readNumberOfFrames(dataSet: DataSet): number {
  const text = readText(dataSet, 'x00280008');
  if (text === undefined || text.trim() === '') return 1;
  if (!/^\s*\+?\d{1,10}\s*$/.test(text)) throw malformed(`Number of Frames "${text}" is not a whole number`);
  const frames = Number(text.trim());
  if (frames < 1) throw malformed('Number of Frames is 0');
  return frames;
}

function readPhotometric(dataSet: DataSet, samplesPerPixel: number | undefined): Photometric {
  const text = readText(dataSet, 'x00280004')?.trim().toUpperCase();
  // Old files sometimes omit it; a single sample without a photometric interpretation is grey by convention.
  if (!text) {
    if (samplesPerPixel === undefined || samplesPerPixel === 1) return 'MONOCHROME2';
    throw malformed('Photometric Interpretation is missing');
  }
  if (!SINGLE_SAMPLE.includes(text) && !THREE_SAMPLES.includes(text)) {
    throw unsupported(`cannot render Photometric Interpretation ${text}`);
  }
  return text as Photometric;
}

export function readImageInfo(dataSet: DataSet): ImageInfo {
  const pixelData = dataSet.elements.x7fe00010;
  if (!pixelData) {
    if (dataSet.elements.x7fe00008 || dataSet.elements.x7fe00009) {
      throw unsupported('cannot render Float or Double Float Pixel Data');
    }
    throw unsupported('the instance has no Pixel Data (7FE0,0010), so it is not an image that can be rendered');
  }

  const rows = requireUS(dataSet, 'x00280010', 'Rows');
  const columns = requireUS(dataSet, 'x00280011', 'Columns');
  if (rows === 0 || columns === 0) throw malformed(`image size ${columns}×${rows} is empty`);
  if (rows > MAX_DIMENSION || columns > MAX_DIMENSION) {
    throw malformed(`image size ${columns}×${rows} exceeds the ${MAX_DIMENSION}×${MAX_DIMENSION} limit`);
  }

  const declaredSamples = readUS(dataSet, 'x00280002');
  const photometric = readPhotometric(dataSet, declaredSamples);
  const samplesPerPixel = declaredSamples ?? (SINGLE_SAMPLE.includes(photometric) ? 1 : 3);
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    throw unsupported(`cannot render ${samplesPerPixel} samples per pixel`);
  }
  const expectedSamples = SINGLE_SAMPLE.includes(photometric) ? 1 : 3;
  if (samplesPerPixel !== expectedSamples) {
    throw malformed(`Samples per Pixel ${samplesPerPixel} does not match Photometric Interpretation ${photometric}`);
  }

  const bitsAllocated = requireUS(dataSet, 'x00280100', 'Bits Allocated');
  if (bitsAllocated !== 1 && bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    if (bitsAllocated > 0 && bitsAllocated % 8 === 0) throw unsupported(`cannot render Bits Allocated ${bitsAllocated}`);
    throw malformed(`Bits Allocated ${bitsAllocated} is not allowed (must be 1 or a multiple of 8)`);
  }
  if (bitsAllocated === 1 && samplesPerPixel !== 1) throw malformed('1-bit pixel data must have one sample per pixel');

  const bitsStored = readUS(dataSet, 'x00280101') ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw malformed(`Bits Stored ${bitsStored} does not fit in Bits Allocated ${bitsAllocated}`);
  }
  const highBit = readUS(dataSet, 'x00280102') ?? bitsStored - 1;
  if (highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw malformed(`High Bit ${highBit} is inconsistent with Bits Stored ${bitsStored} / Bits Allocated ${bitsAllocated}`);
  }

  const pixelRepresentation = readUS(dataSet, 'x00280103') ?? 0;
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) {
    throw malformed(`Pixel Representation ${pixelRepresentation} is neither 0 (unsigned) nor 1 (signed)`);
  }
  const planar = samplesPerPixel === 3 ? (readUS(dataSet, 'x00280006') ?? 0) : 0;
  if (planar !== 0 && planar !== 1) throw malformed(`Planar Configuration ${planar} is neither 0 nor 1`);

  if (rows * columns * samplesPerPixel > MAX_SAMPLES_PER_FRAME) {
    throw malformed(
      `a ${columns}×${rows} frame with ${samplesPerPixel} sample(s) per pixel is too large to render (limit ${MAX_SAMPLES_PER_FRAME} samples)`,
    );
  }

  return {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    isSigned: pixelRepresentation === 1,
    planarConfiguration: planar,
    photometric,
    numberOfFrames: readNumberOfFrames(dataSet),
    pixelData,
  };
}
