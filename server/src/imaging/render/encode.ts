/**
 * Encoders for rendered frames. PNG is written here (lossless, 8-bit grey or RGB, one IDAT); JPEG goes
 * through jpeg-js, which wants RGBA input.
 */
import { crc32, deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import type { DisplayImage } from './window.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOUR_TYPE_GREY = 0;
const COLOUR_TYPE_RGB = 2;
const FILTER_NONE = 0;
const FILTER_SUB = 1;

/** length · type · data · CRC-32 over type and data (PNG spec 5.3). */
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4, 8))), 0);
  return Buffer.concat([head, data, crc]);
}

/** Cost of a filtered row for the usual heuristic: sum of |byte| read as signed. */
function rowCost(bytes: Uint8Array): number {
  let cost = 0;
  for (const b of bytes) cost += b < 128 ? b : 256 - b;
  return cost;
}

/**
 * Scanlines with a filter byte each. Per row, Sub (difference to the pixel on the left) is used when it
 * makes the row look smaller, which it does for the smooth gradients of medical images.
 */
function filteredScanlines(image: DisplayImage): Buffer {
  const stride = image.width * image.channels;
  const out = Buffer.alloc((stride + 1) * image.height);
  const sub = new Uint8Array(stride);
  for (let y = 0; y < image.height; y++) {
    const row = image.data.subarray(y * stride, (y + 1) * stride);
    for (let i = 0; i < stride; i++) sub[i] = (row[i] - (i >= image.channels ? row[i - image.channels] : 0)) & 0xff;
    const useSub = rowCost(sub) < rowCost(row);
    const o = y * (stride + 1);
    out[o] = useSub ? FILTER_SUB : FILTER_NONE;
    out.set(useSub ? sub : row, o + 1);
  }
  return out;
}

export function encodePng(image: DisplayImage): Buffer {
  if (image.data.length !== image.width * image.height * image.channels) {
    throw new RangeError('image data length does not match width × height × channels');
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(image.width, 0);
  header.writeUInt32BE(image.height, 4);
  header[8] = 8; // bit depth
  header[9] = image.channels === 3 ? COLOUR_TYPE_RGB : COLOUR_TYPE_GREY;
  // bytes 10–12: compression 0 (deflate), filter method 0, no interlace
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(filteredScanlines(image))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Baseline JPEG via jpeg-js; quality is clamped to 1…100. */
export function encodeJpeg(image: DisplayImage, quality = 90): Buffer {
  const pixels = image.width * image.height;
  if (image.data.length !== pixels * image.channels) {
    throw new RangeError('image data length does not match width × height × channels');
  }
  const rgba = Buffer.alloc(pixels * 4, 255); // alpha stays opaque
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) rgba[p * 4 + c] = image.data[p * image.channels + (image.channels === 3 ? c : 0)];
  }
  const q = Math.min(100, Math.max(1, Math.round(Number.isFinite(quality) ? quality : 90)));
  return jpeg.encode({ width: image.width, height: image.height, data: rgba }, q).data;
}
