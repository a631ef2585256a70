// Test-side DICOM helpers, independent of the server's code: the shared test files, multipart
// bodies built and split by hand, hashes.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DICOM_DATA = resolve(new URL('../../../shared/testdata/dicom', import.meta.url).pathname);

/** Every file under a folder of the DICOM test data (recursively), sorted. */
export function dicomFiles(folder = ''): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!/\.(sh|md|txt)$/.test(name)) out.push(path);
    }
  };
  walk(join(DICOM_DATA, folder));
  return out;
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A multipart/related body of application/dicom parts. */
export function stowBody(files: (string | Uint8Array)[]): { body: Buffer; contentType: string } {
  const boundary = `test-${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const file of files) {
    const bytes = typeof file === 'string' ? readFileSync(file) : Buffer.from(file);
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), bytes, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

/** Splits a multipart/related response into its parts (headers lower-cased, body bytes). */
export function splitMultipart(body: Buffer, contentType: string): { headers: Record<string, string>; body: Buffer }[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const padded = Buffer.concat([Buffer.from('\r\n'), body]);
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  let at = padded.indexOf(delimiter);
  while (at >= 0) {
    const afterDelimiter = at + delimiter.length;
    if (padded.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break;
    const headerEnd = padded.indexOf('\r\n\r\n', afterDelimiter);
    const headers: Record<string, string> = {};
    for (const line of padded.subarray(afterDelimiter + 2, headerEnd).toString().split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const next = padded.indexOf(delimiter, headerEnd + 4);
    parts.push({ headers, body: padded.subarray(headerEnd + 4, next) });
    at = next;
  }
  return parts;
}

// VRs with a 4-byte length field in explicit VR (PS3.5 Table 7.1-1).
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** One explicit VR little endian element; values get even length (UIDs and OB padded with NUL, text with a space). */
export function explicitElement(tag: number, vr: string, value: string | Uint8Array): Buffer {
  let bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value);
  if (bytes.length % 2) bytes = Buffer.concat([bytes, Buffer.from([vr === 'UI' || vr === 'OB' ? 0 : 0x20])]);
  const long = LONG_VRS.has(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(bytes.length, 8);
  else head.writeUInt16LE(bytes.length, 6);
  return Buffer.concat([head, bytes]);
}

const us = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};

/**
 * A synthetic explicit VR LE MR object whose Pixel Data (16-bit, `frames` frames of rows×columns)
 * is not built here: `head` ends with the Pixel Data element header and `pixelBytes` bytes must
 * follow — so a test can stream a huge object without holding it.
 */
export function syntheticInstance(ids: { study: string; series: string; instance: string; patientId?: string }, rows: number, columns: number, frames: number): { head: Buffer; pixelBytes: number } {
  const sopClass = '1.2.840.10008.5.1.4.1.1.4';
  const dataset = Buffer.concat([
    explicitElement(0x00080016, 'UI', Buffer.from(sopClass)),
    explicitElement(0x00080018, 'UI', Buffer.from(ids.instance)),
    explicitElement(0x00080020, 'DA', Buffer.from('20261130')),
    explicitElement(0x00080060, 'CS', Buffer.from('MR')),
    explicitElement(0x00100010, 'PN', Buffer.from('SYNTHETIC^BIG')),
    explicitElement(0x00100020, 'LO', Buffer.from(ids.patientId ?? 'SYN-1')),
    explicitElement(0x0020000d, 'UI', Buffer.from(ids.study)),
    explicitElement(0x0020000e, 'UI', Buffer.from(ids.series)),
    explicitElement(0x00280002, 'US', us(1)),
    explicitElement(0x00280004, 'CS', Buffer.from('MONOCHROME2')),
    explicitElement(0x00280008, 'IS', Buffer.from(String(frames))),
    explicitElement(0x00280010, 'US', us(rows)),
    explicitElement(0x00280011, 'US', us(columns)),
    explicitElement(0x00280100, 'US', us(16)),
    explicitElement(0x00280101, 'US', us(12)),
    explicitElement(0x00280102, 'US', us(11)),
    explicitElement(0x00280103, 'US', us(0)),
  ]);
  const pixelBytes = rows * columns * 2 * frames;
  const pixelHeader = Buffer.alloc(12);
  pixelHeader.writeUInt16LE(0x7fe0, 0);
  pixelHeader.writeUInt16LE(0x0010, 2);
  pixelHeader.write('OW', 4, 'latin1');
  pixelHeader.writeUInt32LE(pixelBytes, 8);
  const metaBody = Buffer.concat([
    explicitElement(0x00020001, 'OB', Buffer.from([0, 1])),
    explicitElement(0x00020002, 'UI', Buffer.from(sopClass)),
    explicitElement(0x00020003, 'UI', Buffer.from(ids.instance)),
    explicitElement(0x00020010, 'UI', Buffer.from('1.2.840.10008.1.2.1')),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaBody.length);
  const head = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), explicitElement(0x00020000, 'UL', groupLength), metaBody, dataset, pixelHeader]);
  return { head, pixelBytes };
}

/** The data set of a Part 10 object: after the preamble, 'DICM' and every (0002,xxxx) element (walked). */
export function datasetOf(part10: Buffer): Buffer {
  if (part10.toString('latin1', 128, 132) !== 'DICM') throw new Error('not a Part 10 object (no DICM prefix)');
  let at = 132;
  while (at + 8 <= part10.length && part10.readUInt16LE(at) === 0x0002) {
    const vr = part10.toString('latin1', at + 4, at + 6);
    const long = ['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr);
    at += long ? 12 + part10.readUInt32LE(at + 8) : 8 + part10.readUInt16LE(at + 6);
  }
  return part10.subarray(at);
}

/**
 * DCMTK-based senders (storescu, Orthanc) may drop Data Set Trailing Padding (FFFC,FFFC) when they
 * send an object (PS3.10 7.2 allows it): the data set as such a sender would deliver it.
 */
export function withoutTrailingPadding(dataset: Buffer): Buffer {
  for (const tag of [Buffer.from([0xfc, 0xff, 0xfc, 0xff]), Buffer.from([0xff, 0xfc, 0xff, 0xfc])]) {
    const at = dataset.lastIndexOf(Buffer.concat([tag, Buffer.from('OB\0\0')]));
    if (at < 0) continue;
    const length = tag[0] === 0xfc ? dataset.readUInt32LE(at + 8) : dataset.readUInt32BE(at + 8);
    if (at + 12 + length === dataset.length) return dataset.subarray(0, at);
  }
  return dataset;
}
