/**
 * Rendering of one DICOM frame for WADO-RS `rendered` / `thumbnail` and WADO-URI:
 * decode (pixels.ts) → display values (window.ts) → optional downscale (resize.ts) → encode (encode.ts).
 * Failures are RenderError (415 unsupported, 422 malformed) or FrameNotFound (404).
 */
import type { DataSet } from 'dicom-parser';
import { decodeFrame } from './pixels.js';
import { fitWithin } from './resize.js';
import { toDisplay, type DisplayImage } from './window.js';

export { FrameNotFound, RenderError } from './errors.js';
export { decodeFrame, TransferSyntax, type DecodedFrame } from './pixels.js';
export { toDisplay, linearWindow, type DisplayImage, type WindowOptions } from './window.js';
export { fitWithin } from './resize.js';
export { encodeJpeg, encodePng } from './encode.js';
export { MAX_DIMENSION } from './image-info.js';

export interface RenderInput {
  dataSet: DataSet;
  transferSyntax: string;
  /** 0-based frame number. */
  frame: number;
  windowCenter?: number;
  windowWidth?: number;
  /** Downscale (never upscale) to fit inside this box, e.g. for thumbnails or a requested viewport. */
  maxSize?: { width: number; height: number };
}

export function renderFrame(input: RenderInput): DisplayImage {
  const decoded = decodeFrame(input.dataSet, input.transferSyntax, input.frame);
  const image = toDisplay(decoded, input.dataSet, { windowCenter: input.windowCenter, windowWidth: input.windowWidth });
  return input.maxSize ? fitWithin(image, input.maxSize.width, input.maxSize.height) : image;
}
