// A worklist row from a QIDO-RS study result, and sorting the rows of a page. QIDO-RS has no
// ordering parameter, so sorting applies to the page on screen.
import { formatDate, number, personName, text, values, type DicomJson } from '../dicomweb/dicom-json.js';

export interface StudyRow {
  studyUid: string;
  patientName: string;
  patientId: string;
  sex: string;
  birthDate: string;
  /** YYYY-MM-DD. */
  date: string;
  /** HHMMSS, for sorting studies of one day. */
  time: string;
  modalities: string;
  description: string;
  accession: string;
  institution: string;
  seriesCount: number;
  instanceCount: number;
}

export function studyRow(ds: DicomJson, preferIdeographic: boolean): StudyRow {
  return {
    studyUid: text(ds, '0020000D') ?? '',
    patientName: personName(ds, '00100010', preferIdeographic),
    patientId: text(ds, '00100020') ?? '',
    sex: text(ds, '00100040') ?? '',
    birthDate: formatDate(text(ds, '00100030')),
    date: formatDate(text(ds, '00080020')),
    time: text(ds, '00080030') ?? '',
    modalities: values(ds, '00080061').map(String).join('/'),
    description: text(ds, '00081030') ?? '',
    accession: text(ds, '00080050') ?? '',
    institution: text(ds, '00080080') ?? '',
    seriesCount: number(ds, '00201206') ?? 0,
    instanceCount: number(ds, '00201208') ?? 0,
  };
}

export type SortKey = 'patientName' | 'patientId' | 'birthDate' | 'date' | 'modalities' | 'description' | 'accession' | 'institution' | 'instanceCount';

export interface Sort {
  key: SortKey;
  descending: boolean;
}

/** A sorted copy. Empty values go last either way; dates sort with their time. */
export function sortRows(rows: StudyRow[], sort: Sort): StudyRow[] {
  const keyOf = (row: StudyRow): string | number => (sort.key === 'date' ? (row.date ? `${row.date} ${row.time}` : '') : row[sort.key]);
  const collator = new Intl.Collator(['zh-CN', 'en'], { numeric: true, sensitivity: 'base' });
  return [...rows].sort((a, b) => {
    const x = keyOf(a);
    const y = keyOf(b);
    if (x === '' && y !== '') return 1;
    if (y === '' && x !== '') return -1;
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : collator.compare(String(x), String(y));
    return sort.descending ? -order : order;
  });
}
