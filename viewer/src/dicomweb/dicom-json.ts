// Reading values from the DICOM JSON model (PS3.18 F.2) that QIDO-RS and WADO-RS metadata
// answer with. Person names and dates are taken apart with dicom-parser's own parsers, the
// same rules the rest of the cornerstone ecosystem uses.
import dicomParser from 'dicom-parser';

export interface DicomAttribute {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}
export type DicomJson = Record<string, DicomAttribute | undefined>;

export function values(ds: DicomJson, tag: string): unknown[] {
  return ds[tag]?.Value ?? [];
}

export function text(ds: DicomJson, tag: string, index = 0): string | undefined {
  const value = values(ds, tag)[index];
  return value === undefined || value === null ? undefined : String(value);
}

export function number(ds: DicomJson, tag: string, index = 0): number | undefined {
  const value = values(ds, tag)[index];
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function numbers(ds: DicomJson, tag: string): number[] {
  return values(ds, tag).map((v) => Number(v)).filter((n) => Number.isFinite(n));
}

interface PersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

/**
 * A person name for display: the ideographic form (汉字) where the UI is Chinese and one
 * exists, else the alphabetic one; components in reading order ("王小明", "DOE John").
 */
export function personName(ds: DicomJson, tag: string, preferIdeographic: boolean): string {
  const value = values(ds, tag)[0] as PersonName | string | undefined;
  if (!value) return '';
  if (typeof value === 'string') return formatName(value, false);
  const ideographic = value.Ideographic?.trim();
  const alphabetic = value.Alphabetic?.trim();
  if (preferIdeographic && ideographic) return formatName(ideographic, true);
  if (alphabetic) return formatName(alphabetic, false);
  return ideographic ? formatName(ideographic, true) : '';
}

function formatName(name: string, ideographic: boolean): string {
  const parts = dicomParser.parsePN(name);
  const ordered = [parts.prefix, parts.familyName, parts.givenName, parts.middleName, parts.suffix].filter((p): p is string => !!p && p.trim() !== '');
  return ordered.join(ideographic ? '' : ' ');
}

/** DA (YYYYMMDD) → YYYY-MM-DD; anything unparseable is shown as stored. */
export function formatDate(value: string | undefined): string {
  if (!value) return '';
  try {
    const { year, month, day } = dicomParser.parseDA(value.trim(), true);
    return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  } catch {
    return value;
  }
}
