/**
 * Stored values → 8-bit display values.
 * Grey: Modality LUT (Rescale Slope/Intercept), then VOI windowing with the LINEAR function of
 * PS3.3 C.11.2.1.2.1 (explicit window, else the dataset's first window, else the frame's min/max),
 * MONOCHROME1 inverted. Colour: RGB as is, YBR_FULL(_422) converted to RGB, PALETTE COLOR via its LUT.
 */
import type { DataSet } from 'dicom-parser';
import type { DecodedFrame } from './pixels.js';
import { applyPalette, readPalette } from './palette.js';

export interface DisplayImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** Row-major, channel-interleaved 8-bit samples. */
  data: Uint8Array;
}

export interface WindowOptions {
  windowCenter?: number;
  windowWidth?: number;
}

/** Reads a DS value, ignoring anything unreadable or non-finite (a bad optional attribute must not block rendering). */
function decimal(dataSet: DataSet, tag: string): number | undefined {
  try {
    const value = dataSet.floatString(tag, 0);
    return value !== undefined && Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** PS3.3 C.11.2.1.2.1: y = ((x − (c − 0.5)) / (w − 1) + 0.5) · 255, clamped below/above the window. */
export function linearWindow(x: number, center: number, width: number): number {
  const w = Math.max(1, width); // LINEAR requires width ≥ 1
  if (x <= center - 0.5 - (w - 1) / 2) return 0;
  if (x > center - 0.5 + (w - 1) / 2) return 255;
  return Math.round(((x - (center - 0.5)) / (w - 1) + 0.5) * 255);
}

function toGrey(frame: DecodedFrame, dataSet: DataSet, options: WindowOptions): Uint8Array {
  const slope = decimal(dataSet, 'x00281053') || 1; // 0 would flatten the image: treat as absent
  const intercept = decimal(dataSet, 'x00281052') ?? 0;
  const values = frame.values;
  // Modality values are recomputed per pass instead of stored: a float copy of a large frame costs 8 bytes/pixel.
  const modality = (i: number): number => values[i] * slope + intercept;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = modality(i);
    if (v < min) min = v;
    if (v > max) max = v;
  }

  const center = options.windowCenter ?? decimal(dataSet, 'x00281050');
  const width = options.windowWidth ?? decimal(dataSet, 'x00281051');
  const out = new Uint8Array(values.length);
  if (center !== undefined && width !== undefined && Number.isFinite(center) && width >= 1) {
    for (let i = 0; i < out.length; i++) out[i] = linearWindow(modality(i), center, width);
  } else if (max > min) {
    // No usable window: stretch the frame's own range over 0…255.
    const scale = 255 / (max - min);
    for (let i = 0; i < out.length; i++) out[i] = Math.round((modality(i) - min) * scale);
  }
  if (frame.photometric === 'MONOCHROME1') {
    for (let i = 0; i < out.length; i++) out[i] = 255 - out[i];
  }
  return out;
}

/** Rounds and clamps to 0…255 (a Uint8Array store would wrap around, not clamp). */
function byte(value: number): number {
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}

/** Brings colour samples with BitsStored ≠ 8 to 0…255. */
function colourTo8Bit(frame: DecodedFrame): Uint8Array {
  const values = frame.values;
  if (values instanceof Uint8Array && frame.bitsStored === 8) return values;
  const scale = 255 / (2 ** frame.bitsStored - 1);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = byte(values[i] * scale);
  return out;
}

/** PS3.3 C.7.6.3.1.2 YBR_FULL → RGB (full-range ITU-R BT.601). */
function ybrToRgb(ybr: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(ybr.length);
  for (let i = 0; i < ybr.length; i += 3) {
    const y = ybr[i];
    const cb = ybr[i + 1] - 128;
    const cr = ybr[i + 2] - 128;
    rgb[i] = byte(y + 1.402 * cr);
    rgb[i + 1] = byte(y - 0.344136 * cb - 0.714136 * cr);
    rgb[i + 2] = byte(y + 1.772 * cb);
  }
  return rgb;
}

export function toDisplay(frame: DecodedFrame, dataSet: DataSet, options: WindowOptions = {}): DisplayImage {
  const { width, height } = frame;
  switch (frame.photometric) {
    case 'RGB':
      return { width, height, channels: 3, data: colourTo8Bit(frame) };
    case 'YBR_FULL':
    case 'YBR_FULL_422':
      return { width, height, channels: 3, data: ybrToRgb(colourTo8Bit(frame)) };
    case 'PALETTE COLOR':
      return { width, height, channels: 3, data: applyPalette(frame.values, readPalette(dataSet, frame.isSigned)) };
    default:
      return { width, height, channels: 1, data: toGrey(frame, dataSet, options) };
  }
}
