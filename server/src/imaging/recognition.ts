// Mutual recognition of results (MR-04): a recognised study carries the "HR" mark with the
// region's prefix (e.g. 沪HR) and a QC status, for the study and optionally per series (item).
// Kept with the study in the index and written onto its ImagingStudy (extension + a meta.tag to
// search by), so other institutions see it wherever they find the study.
import type { Database } from '../db/database.js';
import { Invalid } from '../fhir/errors.js';

export const RECOGNITION_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/result-recognition';
export const RECOGNITION_TAG_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/result-recognition';
const QC = ['passed', 'failed', 'pending'] as const;
export type QcStatus = (typeof QC)[number];

export interface Recognition {
  /** The regional prefix of the mark, e.g. 沪 (Shanghai). */
  region: string;
  /** `${region}HR` */
  mark: string;
  qcStatus: QcStatus;
  /** Per-series QC status, where items differ. */
  series?: Record<string, QcStatus>;
  recognisedAt: string;
  recognisedBy?: string;
}

export function parseRecognition(body: unknown, by: string | undefined): Recognition {
  const input = (body ?? {}) as Record<string, unknown>;
  const region = input.region;
  if (typeof region !== 'string' || !/^[^\s\p{Cc}]{1,8}$/u.test(region)) throw new Invalid('region must be the regional prefix of the HR mark (1 to 8 characters, e.g. "沪")');
  const qc = (value: unknown, what: string): QcStatus => {
    if (!QC.includes(value as QcStatus)) throw new Invalid(`${what} must be one of ${QC.join(', ')}`);
    return value as QcStatus;
  };
  const given = input.series;
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new Invalid('series must be an object from Series Instance UID to QC status');
  }
  const series = given === undefined ? undefined : Object.fromEntries(Object.entries(given).map(([uid, status]) => {
    if (!/^[0-9.]{1,64}$/.test(uid)) throw new Invalid(`series key '${uid}' is not a Series Instance UID`);
    return [uid, qc(status, `QC status of series ${uid}`)];
  }));
  return { region, mark: `${region}HR`, qcStatus: qc(input.qcStatus, 'qcStatus'), series, recognisedAt: new Date().toISOString(), recognisedBy: by };
}

export async function saveRecognition(db: Database, studyUid: string, recognition: Recognition | null): Promise<void> {
  if (recognition?.series) {
    const known = new Set((await db.query<{ series_uid: string }>('select series_uid from dicom_series where study_uid = $1', [studyUid])).map((r) => r.series_uid));
    const unknown = Object.keys(recognition.series).filter((uid) => !known.has(uid));
    if (unknown.length) throw new Invalid(`Series ${unknown.join(', ')} are not in study ${studyUid}`);
  }
  await db.query('update dicom_study set recognition = $2 where study_uid = $1', [studyUid, recognition ? JSON.stringify(recognition) : null]);
}

export async function loadRecognition(db: Database, studyUid: string): Promise<Recognition | undefined> {
  const [row] = await db.query<{ recognition: string | null }>('select recognition from dicom_study where study_uid = $1', [studyUid]);
  return row?.recognition ? (JSON.parse(row.recognition) as Recognition) : undefined;
}

/** The ImagingStudy extension for a recognition. */
export function recognitionExtension(r: Recognition): { url: string; extension: { url: string; [value: string]: unknown }[] } {
  return {
    url: RECOGNITION_EXTENSION,
    extension: [
      { url: 'mark', valueString: r.mark },
      { url: 'region', valueString: r.region },
      { url: 'qcStatus', valueCode: r.qcStatus },
      { url: 'recognisedAt', valueDateTime: r.recognisedAt },
      ...(r.recognisedBy ? [{ url: 'recognisedBy', valueString: r.recognisedBy }] : []),
      ...Object.entries(r.series ?? {}).map(([uid, status]) => ({
        url: 'item',
        extension: [{ url: 'series', valueId: uid }, { url: 'qcStatus', valueCode: status }],
      })),
    ],
  };
}
