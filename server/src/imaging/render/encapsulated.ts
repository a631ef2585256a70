/**
 * Pulls the bytes of one frame out of encapsulated pixel data (PS3.5 A.4) using dicom-parser's helpers.
 * Those helpers throw bare strings and trust fragment lengths, so fragments are checked against the
 * buffer first and every failure becomes a RenderError.
 */
import dicomParser, { type DataSet, type Fragment } from 'dicom-parser';
import { malformed } from './errors.js';
import type { ImageInfo } from './image-info.js';

/** Runs a dicom-parser call, turning whatever it throws (often a string) into a 422. */
function guarded<T>(what: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw malformed(`${what}: ${detail.replace(/^dicomParser\.\w+: /, '')}`);
  }
}

function checkedFragments(dataSet: DataSet, info: ImageInfo): Fragment[] {
  const element = info.pixelData;
  if (!element.encapsulatedPixelData || !element.fragments || !element.basicOffsetTable) {
    throw malformed('the transfer syntax is compressed but the pixel data is not encapsulated in fragments');
  }
  const fragments = element.fragments;
  if (fragments.length === 0) throw malformed('encapsulated pixel data has no fragments');
  for (const [i, fragment] of fragments.entries()) {
    if (fragment.length < 0 || fragment.position + fragment.length > dataSet.byteArray.length) {
      throw malformed(`pixel data fragment ${i + 1} claims ${fragment.length} bytes that extend past the end of the data`);
    }
  }
  return fragments;
}

/**
 * Returns the compressed bytes of `frame` (0-based). With an empty Basic Offset Table the frame → fragment
 * mapping is inferred: one frame = all fragments; as many fragments as frames = one each; otherwise JPEG
 * frames are found by their end-of-image markers. RLE requires one fragment per frame (PS3.5 G.2).
 */
export function readEncapsulatedFrame(dataSet: DataSet, info: ImageInfo, frame: number, isJpeg: boolean): Uint8Array {
  const element = info.pixelData;
  const fragments = checkedFragments(dataSet, info);
  const offsets = element.basicOffsetTable ?? [];
  const frames = info.numberOfFrames;

  let bytes: Uint8Array;
  if (offsets.length > 0) {
    if (frame >= offsets.length) {
      throw malformed(`the Basic Offset Table lists ${offsets.length} frame(s), not enough for frame ${frame}`);
    }
    bytes = guarded('cannot locate the frame in the pixel data', () =>
      dicomParser.readEncapsulatedImageFrame(dataSet, element, frame, offsets, fragments),
    );
  } else if (frames === 1) {
    bytes = guarded('cannot join the pixel data fragments', () =>
      dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, 0, fragments.length, fragments),
    );
  } else if (fragments.length === frames) {
    bytes = guarded('cannot read the frame fragment', () =>
      dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, frame, 1, fragments),
    );
  } else if (isJpeg) {
    const table = guarded('cannot find the JPEG frames', () =>
      dicomParser.createJPEGBasicOffsetTable(dataSet, element, fragments),
    );
    if (frame >= table.length) {
      throw malformed(`found ${table.length} JPEG image(s) in the pixel data, not enough for frame ${frame}`);
    }
    bytes = guarded('cannot locate the JPEG frame', () =>
      dicomParser.readEncapsulatedImageFrame(dataSet, element, frame, table, fragments),
    );
  } else {
    throw malformed(`${fragments.length} fragments for ${frames} frames and no offset table: cannot tell where frames start`);
  }
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}
