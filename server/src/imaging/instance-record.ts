// What the index keeps of one instance: the QIDO-RS attributes at each level (PS3.18 Table
// 10.6.1-5), decoded with the object's Specific Character Set, plus where its pixel data sits.
import type { DataSet } from 'dicom-parser';
import { attributeText, personName } from './dicom-json.js';
import type { ParsedInstance } from './parse-instance.js';

export interface PersonNameParts {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

export interface InstanceRecord {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntax: string;
  charset?: string;
  patient: { id?: string; issuer?: string; name?: PersonNameParts; birthDate?: string; sex?: string };
  study: {
    date?: string;
    time?: string;
    accessionNumber?: string;
    studyId?: string;
    description?: string;
    referringPhysician?: PersonNameParts;
    institution?: string;
  };
  series: { modality?: string; number?: number; description?: string; bodyPart?: string; performedDate?: string; performedTime?: string };
  instance: {
    number?: number;
    rows?: number;
    columns?: number;
    bitsAllocated?: number;
    frames?: number;
    pixelOffset?: number;
    pixelLength?: number;
    frameLength?: number;
    encapsulated: boolean;
  };
}

export function instanceRecord(parsed: ParsedInstance): InstanceRecord {
  const ds = parsed.dataSet;
  const charset = ds.string('x00080005')?.trim() || undefined;
  const text = (tag: string) => attributeText(ds, tag, charset);
  const name = (tag: string) => nonEmptyName(personName(ds, tag, charset));
  const pixels = parsed.pixels;
  return {
    studyUid: parsed.studyUid,
    seriesUid: parsed.seriesUid,
    sopInstanceUid: parsed.sopInstanceUid,
    sopClassUid: parsed.sopClassUid,
    transferSyntax: parsed.transferSyntax,
    charset,
    patient: {
      id: text('x00100020'),
      issuer: text('x00100021'),
      name: name('x00100010'),
      birthDate: date(text('x00100030')),
      sex: text('x00100040'),
    },
    study: {
      date: date(text('x00080020')),
      time: text('x00080030'),
      accessionNumber: text('x00080050'),
      studyId: text('x00200010'),
      description: text('x00081030'),
      referringPhysician: name('x00080090'),
      institution: text('x00080080'),
    },
    series: {
      modality: text('x00080060'),
      number: integer(text('x00200011')),
      description: text('x0008103e'),
      bodyPart: text('x00180015'),
      performedDate: date(text('x00400244')),
      performedTime: text('x00400245'),
    },
    instance: {
      number: integer(text('x00200013')),
      rows: pixels?.rows ?? uint16(ds, 'x00280010'),
      columns: pixels?.columns ?? uint16(ds, 'x00280011'),
      bitsAllocated: pixels?.bitsAllocated ?? uint16(ds, 'x00280100'),
      frames: pixels?.frames ?? integer(text('x00280008')),
      pixelOffset: pixels?.offset,
      pixelLength: pixels?.encapsulated ? undefined : pixels?.length,
      frameLength: pixels?.frameLength,
      encapsulated: pixels?.encapsulated ?? false,
    },
  };
}

function nonEmptyName(name: PersonNameParts | undefined): PersonNameParts | undefined {
  return name && (name.Alphabetic || name.Ideographic || name.Phonetic) ? name : undefined;
}

// DA is YYYYMMDD; old objects sometimes write YYYY.MM.DD (ACR-NEMA). Anything else is not indexed.
function date(value: string | undefined): string | undefined {
  const digits = value?.replace(/\./g, '');
  return digits && /^\d{8}$/.test(digits) ? digits : undefined;
}

function integer(value: string | undefined): number | undefined {
  if (!value || !/^[+-]?\d{1,9}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

function uint16(ds: DataSet, tag: string): number | undefined {
  return ds.elements[tag]?.length === 2 ? ds.uint16(tag) : undefined;
}
