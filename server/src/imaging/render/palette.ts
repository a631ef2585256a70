/**
 * Palette Color Lookup Tables (PS3.3 C.7.6.3.1.5/6): descriptor = [entries (0 means 65536), first mapped
 * value, bits per entry]. The table data is bounds-checked against the buffer before it is read.
 */
import type { DataSet } from 'dicom-parser';
import { malformed, unsupported } from './errors.js';

export interface PaletteChannel {
  /** Entry i is the 8-bit output for stored value firstMapped + i. */
  table: Uint8Array;
  firstMapped: number;
}

const CHANNELS = [
  { name: 'Red', descriptor: 'x00281101', data: 'x00281201', segmented: 'x00281221' },
  { name: 'Green', descriptor: 'x00281102', data: 'x00281202', segmented: 'x00281222' },
  { name: 'Blue', descriptor: 'x00281103', data: 'x00281203', segmented: 'x00281223' },
] as const;

function readChannel(dataSet: DataSet, channel: (typeof CHANNELS)[number], isSigned: boolean): PaletteChannel {
  const descriptor = dataSet.elements[channel.descriptor];
  const data = dataSet.elements[channel.data];
  if (!data && dataSet.elements[channel.segmented]) {
    throw unsupported('cannot render Segmented Palette Color Lookup Tables');
  }
  if (!descriptor || !data) throw malformed(`the ${channel.name} Palette Color Lookup Table is missing`);
  const bytes = dataSet.byteArray;
  if (descriptor.length < 6 || descriptor.dataOffset + 6 > bytes.length) {
    throw malformed(`the ${channel.name} Palette Color Lookup Table Descriptor does not hold three values`);
  }
  const parser = dataSet.byteArrayParser;
  const entries = parser.readUint16(bytes, descriptor.dataOffset) || 65536;
  // The first mapped value follows the pixel representation (US or SS).
  const firstMapped = isSigned
    ? parser.readInt16(bytes, descriptor.dataOffset + 2)
    : parser.readUint16(bytes, descriptor.dataOffset + 2);
  const bits = parser.readUint16(bytes, descriptor.dataOffset + 4);

  const length = Math.min(data.length, Math.max(0, bytes.length - data.dataOffset));
  const table = new Uint8Array(entries);
  if (length >= entries * 2) {
    // 16-bit words. Many files declare 16 bits yet hold 8-bit values (or the reverse): judge by the values.
    const words = new Uint16Array(entries);
    let max = 0;
    for (let i = 0; i < entries; i++) {
      words[i] = parser.readUint16(bytes, data.dataOffset + i * 2);
      if (words[i] > max) max = words[i];
    }
    const shift = max > 255 ? 8 : 0;
    for (let i = 0; i < entries; i++) table[i] = words[i] >> shift;
  } else if (bits === 8 && length >= entries) {
    // Packed 8-bit entries; a big endian OW element has each pair of bytes swapped
    // (the big endian parser is recognised by reading bytes [1, 0] as 0x0100).
    const swap = parser.readUint16(new Uint8Array([1, 0]), 0) === 0x0100 && data.vr === 'OW';
    for (let i = 0; i < entries; i++) {
      const index = swap ? (i % 2 === 0 ? i + 1 : i - 1) : i;
      table[i] = bytes[data.dataOffset + index] ?? 0;
    }
  } else {
    throw malformed(`the ${channel.name} Palette Color Lookup Table Data has ${length} bytes, too few for ${entries} entries`);
  }
  return { table, firstMapped };
}

export function readPalette(dataSet: DataSet, isSigned: boolean): PaletteChannel[] {
  return CHANNELS.map((channel) => readChannel(dataSet, channel, isSigned));
}

/** Maps stored values through the three tables; values outside the table take the first/last entry. */
export function applyPalette(values: ArrayLike<number>, palette: PaletteChannel[]): Uint8Array {
  const out = new Uint8Array(values.length * 3);
  for (let c = 0; c < 3; c++) {
    const { table, firstMapped } = palette[c];
    const last = table.length - 1;
    for (let p = 0; p < values.length; p++) {
      const index = values[p] - firstMapped;
      out[p * 3 + c] = table[index <= 0 ? 0 : index >= last ? last : index];
    }
  }
  return out;
}
