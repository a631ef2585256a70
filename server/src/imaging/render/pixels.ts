/**
 * decodeFrame: one frame of a parsed DICOM instance → stored pixel values (before any LUT), with every
 * header value validated first (image-info.ts) so nothing is allocated from unchecked numbers.
 */
import type { DataSet } from 'dicom-parser';
import { FrameNotFound, unsupported } from './errors.js';
import { readImageInfo } from './image-info.js';
import { decodeJpegBaseline } from './jpeg-baseline.js';
import { readEncapsulatedFrame } from './encapsulated.js';
import { readNativeFrame } from './native.js';
import { decodeRleFrame } from './rle.js';

export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  RLELossless: '1.2.840.10008.1.2.5',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
} as const;

/** Names for the 415 message, so the client learns which syntax we could not handle. */
const KNOWN_UNSUPPORTED: Record<string, string> = {
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.8.1': 'Deflated Image Frame Compression',
};

/** One frame of stored values, pixel-interleaved, full resolution (YBR_FULL_422 already upsampled). */
export interface DecodedFrame {
  width: number;
  height: number;
  samplesPerPixel: 1 | 3;
  values: Int32Array | Float32Array | Uint8Array;
  photometric: string;
  bitsStored: number;
  isSigned: boolean;
}

/** Decodes frame `frame` (0-based). Throws RenderError (415/422) or FrameNotFound (404); nothing else by design. */
export function decodeFrame(dataSet: DataSet, transferSyntax: string, frame: number): DecodedFrame {
  const syntax = transferSyntax.trim().replace(/\0+$/, '');
  const isNative =
    syntax === TransferSyntax.ImplicitVRLittleEndian ||
    syntax === TransferSyntax.ExplicitVRLittleEndian ||
    syntax === TransferSyntax.DeflatedExplicitVRLittleEndian || // the parser has already inflated it
    syntax === TransferSyntax.ExplicitVRBigEndian;
  if (!isNative && syntax !== TransferSyntax.RLELossless && syntax !== TransferSyntax.JPEGBaseline8Bit) {
    const name = KNOWN_UNSUPPORTED[syntax];
    throw unsupported(`cannot render transfer syntax ${syntax}${name ? ` (${name})` : ''}`);
  }

  const info = readImageInfo(dataSet);
  if (!Number.isInteger(frame) || frame < 0 || frame >= info.numberOfFrames) {
    throw new FrameNotFound(frame, info.numberOfFrames);
  }
  const base = { width: info.columns, height: info.rows, samplesPerPixel: info.samplesPerPixel };

  if (isNative) {
    const values = readNativeFrame(dataSet, info, frame, syntax === TransferSyntax.ExplicitVRBigEndian);
    return { ...base, values, photometric: info.photometric, bitsStored: info.bitsStored, isSigned: info.isSigned };
  }
  if (syntax === TransferSyntax.RLELossless) {
    const values = decodeRleFrame(readEncapsulatedFrame(dataSet, info, frame, false), info);
    return { ...base, values, photometric: info.photometric, bitsStored: info.bitsStored, isSigned: info.isSigned };
  }
  const values = decodeJpegBaseline(readEncapsulatedFrame(dataSet, info, frame, true), info);
  // jpeg-js has already converted YCbCr to RGB (see jpeg-baseline.ts), so the values are RGB now.
  const photometric = info.samplesPerPixel === 3 ? 'RGB' : info.photometric;
  return { ...base, values, photometric, bitsStored: 8, isSigned: false };
}
