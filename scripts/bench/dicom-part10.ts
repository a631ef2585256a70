// Builds small DICOM Part 10 objects in memory (explicit VR little endian, no pixel data): enough
// for the imaging benchmark to seed thousands of studies for QIDO-RS without touching the disk.
// Only what a study search needs is written; elements must be given in ascending tag order.

import { explicitElement } from '../../test/helpers/dicom.js';

export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
/** Secondary Capture Image Storage: accepted by every archive, needs no modality-specific module. */
export const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
/** A UID under 2.25 (a UUID as a decimal integer) names this tool's implementation. */
const IMPLEMENTATION_UID = '2.25.112233445566778899001122334455667788';

/** One data element: tag as 0xGGGGEEEE, its VR and its value (text or bytes). */
export type Element = [tag: number, vr: string, value: string | Uint8Array];

const encodeElement = ([tag, vr, value]: Element): Buffer => explicitElement(tag, vr, value);

/**
 * A Part 10 file: 128-byte preamble, "DICM", the file meta group (its group length, version,
 * media storage SOP class/instance, transfer syntax, implementation class) and the data set.
 */
export function part10(sopClassUid: string, sopInstanceUid: string, dataSet: Element[]): Buffer {
  for (let i = 1; i < dataSet.length; i++) {
    if (dataSet[i][0] <= dataSet[i - 1][0]) throw new Error(`data set elements out of order at ${dataSet[i][0].toString(16)}`);
  }
  const meta = Buffer.concat(
    ([
      [0x00020001, 'OB', new Uint8Array([0, 1])],
      [0x00020002, 'UI', sopClassUid],
      [0x00020003, 'UI', sopInstanceUid],
      [0x00020010, 'UI', EXPLICIT_VR_LE],
      [0x00020012, 'UI', IMPLEMENTATION_UID],
    ] as Element[]).map(encodeElement),
  );
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(meta.length);
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    encodeElement([0x00020000, 'UL', groupLength]),
    meta,
    ...dataSet.map(encodeElement),
  ]);
}
