// The image attributes the loader needs, read from an instance's DICOM JSON metadata and checked
// before anything is allocated from them (a header can say anything).
import { number, numbers, text, type DicomJson } from '../dicomweb/dicom-json.js';
import { Undisplayable } from './errors.js';

export interface ImageInfo {
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 1: two's complement. */
  pixelRepresentation: number;
  /** 1: colour planes (RRR…GGG…BBB…), for native pixel data. */
  planarConfiguration: number;
  photometric: string;
  slope: number;
  intercept: number;
  windowCenter?: number;
  windowWidth?: number;
  /** Pixel Spacing (0028,0030): between rows (vertical), between columns (horizontal), in mm. */
  rowSpacing?: number;
  columnSpacing?: number;
}

const MAX_DIMENSION = 16384;

export function readImageInfo(ds: DicomJson): ImageInfo {
  const rows = number(ds, '00280010') ?? 0;
  const columns = number(ds, '00280011') ?? 0;
  const bitsAllocated = number(ds, '00280100') ?? 0;
  const bitsStored = number(ds, '00280101') ?? bitsAllocated;
  const samplesPerPixel = number(ds, '00280002') ?? 1;
  if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows < 1 || columns < 1 || rows > MAX_DIMENSION || columns > MAX_DIMENSION) {
    throw new Undisplayable('unsupportedPixels', { detail: `${rows}×${columns}` });
  }
  if (![1, 8, 16, 32].includes(bitsAllocated)) throw new Undisplayable('unsupportedPixels', { detail: `Bits Allocated ${bitsAllocated}` });
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) throw new Undisplayable('unsupportedPixels', { detail: `Samples per Pixel ${samplesPerPixel}` });
  if (!(bitsStored >= 1 && bitsStored <= bitsAllocated)) throw new Undisplayable('unsupportedPixels', { detail: `Bits Stored ${bitsStored}` });
  const [rowSpacing, columnSpacing] = spacing(ds);
  const center = number(ds, '00281050');
  const width = number(ds, '00281051');
  return {
    rows,
    columns,
    frames: Math.max(1, Math.floor(number(ds, '00280008') ?? 1)),
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit: number(ds, '00280102') ?? bitsStored - 1,
    pixelRepresentation: number(ds, '00280103') === 1 ? 1 : 0,
    planarConfiguration: number(ds, '00280006') === 1 ? 1 : 0,
    photometric: (text(ds, '00280004') ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')).trim().toUpperCase(),
    slope: number(ds, '00281053') || 1,
    intercept: number(ds, '00281052') ?? 0,
    windowCenter: center,
    windowWidth: width !== undefined && width >= 1 ? width : undefined,
    rowSpacing,
    columnSpacing,
  };
}

/** Pixel Spacing, or Imager Pixel Spacing (projection radiographs) when that is all there is. */
function spacing(ds: DicomJson): [number | undefined, number | undefined] {
  for (const tag of ['00280030', '00181164']) {
    const [row, column] = numbers(ds, tag);
    if (row > 0 && column > 0) return [row, column];
  }
  return [undefined, undefined];
}
