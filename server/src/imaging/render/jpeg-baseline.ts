/**
 * JPEG Baseline (Process 1, 8-bit) through jpeg-js. Before decoding we walk the JPEG markers to the
 * frame header (SOF) and check precision and size against the DICOM header, so a lying JPEG cannot make
 * jpeg-js allocate more than the dataset announced; jpeg-js's own resolution/memory caps back this up.
 */
import jpeg from 'jpeg-js';
import { malformed, unsupported } from './errors.js';
import type { ImageInfo } from './image-info.js';

/** jpeg-js refuses to go past these (it counts all its internal buffers against the memory cap). */
const MAX_RESOLUTION_MP = 64;
const MAX_MEMORY_MB = 512;

interface FrameHeader {
  marker: number;
  precision: number;
  height: number;
  width: number;
  components: number;
  jfif: boolean;
}

/** Walks marker segments from SOI until a SOFn; bounded by the data length, each step moves forward. */
export function readJpegFrameHeader(bytes: Uint8Array): FrameHeader {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw malformed('JPEG data does not start with SOI');
  let pos = 2;
  let jfif = false;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) throw malformed(`JPEG marker expected at byte ${pos}`);
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    if (length < 2) throw malformed(`JPEG segment at byte ${pos} has invalid length ${length}`);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (pos + 10 > bytes.length) break;
      return {
        marker,
        precision: bytes[pos + 4],
        height: (bytes[pos + 5] << 8) | bytes[pos + 6],
        width: (bytes[pos + 7] << 8) | bytes[pos + 8],
        components: bytes[pos + 9],
        jfif,
      };
    }
    if (marker === 0xe0 && pos + 9 <= bytes.length) {
      jfif = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8)) === 'JFIF';
    }
    pos += 2 + length;
  }
  throw malformed('JPEG data has no frame header (SOF)');
}

/** Decodes one baseline JPEG frame to interleaved 8-bit samples (RGB when three components). */
export function decodeJpegBaseline(bytes: Uint8Array, info: ImageInfo): Uint8Array {
  if (info.bitsAllocated !== 8) {
    throw malformed(`Bits Allocated ${info.bitsAllocated} is inconsistent with JPEG Baseline, which is 8-bit`);
  }
  const header = readJpegFrameHeader(bytes);
  if (header.marker !== 0xc0 && header.marker !== 0xc1) {
    throw unsupported(`cannot render a JPEG of type SOF${header.marker - 0xc0} inside a JPEG Baseline transfer syntax`);
  }
  if (header.precision !== 8) throw unsupported(`cannot render ${header.precision}-bit JPEG data (only 8-bit)`);
  if (header.width !== info.columns || header.height !== info.rows) {
    throw malformed(`JPEG frame is ${header.width}×${header.height} but the dataset says ${info.columns}×${info.rows}`);
  }
  if (header.components !== info.samplesPerPixel) {
    throw malformed(`JPEG frame has ${header.components} component(s) but Samples per Pixel is ${info.samplesPerPixel}`);
  }
  // PS3.5 8.2.1: Photometric RGB means the components were not colour-transformed; a JFIF marker
  // still means YCbCr, which mislabelled files rely on.
  const colorTransform = info.photometric !== 'RGB' || header.jfif;
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      colorTransform,
      tolerantDecoding: true,
      maxResolutionInMP: MAX_RESOLUTION_MP,
      maxMemoryUsageInMB: MAX_MEMORY_MB,
    });
  } catch (error) {
    throw malformed(`JPEG data could not be decoded: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (decoded.width !== info.columns || decoded.height !== info.rows) {
    throw malformed(`decoded JPEG is ${decoded.width}×${decoded.height}, expected ${info.columns}×${info.rows}`);
  }
  // jpeg-js always returns three channels; a single component is replicated, so keep the first.
  if (info.samplesPerPixel === 3) return decoded.data;
  const grey = new Uint8Array(info.rows * info.columns);
  for (let i = 0; i < grey.length; i++) grey[i] = decoded.data[i * 3];
  return grey;
}
