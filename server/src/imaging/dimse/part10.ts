// Part 10 framing for what travels over DIMSE (PS3.10 §7.1): a C-STORE carries a bare data set in
// the negotiated transfer syntax; the hub keeps Part 10 objects. Received bytes are framed, never
// re-encoded: 128-byte preamble, 'DICM', a File Meta group in explicit VR little endian, then the
// data set exactly as it came. Going out, the same object is cut back to its data set.

/** Our Implementation Class UID (0002,0012): a UUID-derived UID (PS3.5 B.2), fixed for Suhe. */
export const IMPLEMENTATION_CLASS_UID = '2.25.224574831281713125452266252835344493011';
export const IMPLEMENTATION_VERSION = 'SUHE';

export interface MetaFields {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** (0002,0016) Source Application Entity Title: who sent it. */
  sourceAeTitle?: string;
}

/** Preamble, magic and File Meta Information for a data set received in `transferSyntaxUid`. */
export function part10Header(fields: MetaFields): Buffer {
  const elements = [
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', uidValue(fields.sopClassUid)),
    element(0x0003, 'UI', uidValue(fields.sopInstanceUid)),
    element(0x0010, 'UI', uidValue(fields.transferSyntaxUid)),
    element(0x0012, 'UI', uidValue(IMPLEMENTATION_CLASS_UID)),
    element(0x0013, 'SH', textValue(IMPLEMENTATION_VERSION)),
    ...(fields.sourceAeTitle ? [element(0x0016, 'AE', textValue(fields.sourceAeTitle))] : []),
  ];
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element(0x0000, 'UL', groupLength), body]);
}

/**
 * Where the data set starts in a Part 10 object: after the preamble, 'DICM' and every group 0002
 * element (walked, so a missing or wrong (0002,0000) does not matter). Throws when the bytes are
 * not Part 10.
 */
export function datasetOffset(bytes: Uint8Array): number {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < 132 || view.toString('latin1', 128, 132) !== 'DICM') throw new Error('not a Part 10 object (no DICM prefix)');
  let at = 132;
  while (at + 8 <= view.length && view.readUInt16LE(at) === 0x0002) {
    const vr = view.toString('latin1', at + 4, at + 6);
    const long = ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr);
    if (!/^[A-Z]{2}$/.test(vr)) throw new Error('the File Meta Information is not in explicit VR little endian');
    const length = long ? view.readUInt32LE(at + 8) : view.readUInt16LE(at + 6);
    at += (long ? 12 : 8) + length;
  }
  if (at > view.length) throw new Error('the File Meta Information runs past the end of the object');
  return at;
}

function element(elementNumber: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB';
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(0x0002, 0);
  head.writeUInt16LE(elementNumber, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

/** UIDs are padded to even length with NUL (PS3.5 9.1). */
function uidValue(uid: string): Buffer {
  return Buffer.from(uid.length % 2 ? `${uid}\0` : uid, 'latin1');
}

/** Text values are padded to even length with a space. */
function textValue(text: string): Buffer {
  return Buffer.from(text.length % 2 ? `${text} ` : text, 'latin1');
}

/** A UID as received in a command: trailing NUL or space padding removed. */
export function cleanUid(value: unknown): string {
  return typeof value === 'string' ? value.replace(/[\0 ]+$/, '').trim() : '';
}

const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;
export function isUid(value: string): boolean {
  return value.length > 0 && value.length <= 64 && UID.test(value);
}
