// The synthetic studies the imaging benchmark searches with QIDO-RS: N one-instance studies of
// ~N/5 patients, deterministic for a seed (so the Suhe and Orthanc runs — different processes —
// store the same ones), and per query class a list of queries with the number of matches each
// must return, worked out from the generated data.
import { createHash } from 'node:crypto';
import { part10, SECONDARY_CAPTURE, type Element } from './dicom-part10.js';

export interface SyntheticStudy {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  patientId: string;
  /** FAMILY^GIVEN */
  patientName: string;
  birthDate: string;
  sex: 'F' | 'M';
  studyDate: string;
  studyTime: string;
  modality: string;
  accession: string;
}

export interface QidoQuery {
  /** Query string after /studies? (limit included). */
  query: string;
  /** How many studies it must return (the matches, capped by the limit). */
  expected: number;
}

export interface QidoClass {
  key: string;
  shape: string;
  queries: QidoQuery[];
}

/** Every QIDO query asks for at most this many studies (Orthanc has no default limit, Suhe 100). */
export const QIDO_LIMIT = 100;

const SYLLABLES = ['zhang', 'wang', 'li', 'liu', 'chen', 'yang', 'huang', 'zhao', 'wu', 'zhou', 'xu', 'sun', 'ma', 'zhu', 'hu', 'guo', 'he', 'gao', 'lin', 'luo', 'zheng', 'liang', 'xie', 'song'];
const GIVEN = ['WEI', 'FANG', 'NA', 'MIN', 'JING', 'LEI', 'QIANG', 'JUN', 'YAN', 'JIE', 'TAO', 'MING', 'CHAO', 'XIU', 'HUI', 'PING', 'GANG', 'HONG', 'YING', 'LING'];
// Share of studies per modality, roughly a district hospital's mix.
const MODALITIES: [string, number][] = [['CT', 30], ['MR', 20], ['CR', 20], ['US', 10], ['DX', 10], ['MG', 5], ['PT', 3], ['NM', 2]];
const FIRST_DAY = Date.UTC(2015, 0, 1);
const DAYS = 3652;

/** A small fast PRNG (mulberry32): the same seed gives the same studies in every process. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A UID under the 2.25 root (a 128-bit number in decimal), derived from a name. */
export function uidFor(name: string): string {
  return `2.25.${BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 32)}`).toString()}`;
}

const day = (n: number) => new Date(FIRST_DAY + n * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');

export function syntheticStudies(count: number, seed: number): SyntheticStudy[] {
  const rnd = random(seed);
  const patients = Math.max(1, Math.round(count / 5));
  const people = Array.from({ length: patients }, (_, p) => ({
    id: `SUHEBENCH${String(p).padStart(6, '0')}`,
    name: `${(SYLLABLES[Math.floor(rnd() * SYLLABLES.length)] + SYLLABLES[Math.floor(rnd() * SYLLABLES.length)]).toUpperCase()}^${GIVEN[Math.floor(rnd() * GIVEN.length)]}`,
    birthDate: day(-Math.floor(rnd() * 30000)),
    sex: rnd() < 0.5 ? ('F' as const) : ('M' as const),
  }));
  const weight = MODALITIES.reduce((n, [, w]) => n + w, 0);
  return Array.from({ length: count }, (_, i) => {
    const person = people[Math.floor(rnd() * patients)];
    let pick = rnd() * weight;
    const modality = MODALITIES.find(([, w]) => (pick -= w) < 0)?.[0] ?? 'CT';
    const seconds = Math.floor(rnd() * 86400);
    return {
      studyUid: uidFor(`bench:${seed}:study:${i}`),
      seriesUid: uidFor(`bench:${seed}:series:${i}`),
      sopInstanceUid: uidFor(`bench:${seed}:instance:${i}`),
      patientId: person.id,
      patientName: person.name,
      birthDate: person.birthDate,
      sex: person.sex,
      studyDate: day(Math.floor(rnd() * DAYS)),
      studyTime: [seconds / 3600, (seconds / 60) % 60, seconds % 60].map((v) => String(Math.floor(v)).padStart(2, '0')).join(''),
      modality,
      accession: `ACC${String(i).padStart(8, '0')}`,
    };
  });
}

/** The study as a Part 10 object of about 700 bytes (Secondary Capture, no pixel data). */
export function studyObject(s: SyntheticStudy): Buffer {
  const elements: Element[] = [
    [0x00080005, 'CS', 'ISO_IR 100'],
    [0x00080016, 'UI', SECONDARY_CAPTURE],
    [0x00080018, 'UI', s.sopInstanceUid],
    [0x00080020, 'DA', s.studyDate],
    [0x00080030, 'TM', s.studyTime],
    [0x00080050, 'SH', s.accession],
    [0x00080060, 'CS', s.modality],
    [0x00080064, 'CS', 'WSD'],
    [0x00081030, 'LO', `${s.modality} benchmark study`],
    [0x00100010, 'PN', s.patientName],
    [0x00100020, 'LO', s.patientId],
    [0x00100030, 'DA', s.birthDate],
    [0x00100040, 'CS', s.sex],
    [0x0020000d, 'UI', s.studyUid],
    [0x0020000e, 'UI', s.seriesUid],
    [0x00200010, 'SH', '1'],
    [0x00200011, 'IS', '1'],
    [0x00200013, 'IS', '1'],
  ];
  return part10(SECONDARY_CAPTURE, s.sopInstanceUid, elements);
}

/**
 * `perClass` queries of each class, spread over the data; the expected counts are computed here
 * from the studies, with the matching rules of PS3.4 C.2.2.2 (names: case-insensitive; `*`).
 */
export function qidoClasses(studies: SyntheticStudy[], seed: number, perClass: number): QidoClass[] {
  const rnd = random(seed ^ 0x5eed);
  const pick = <T>(list: T[]) => list[Math.floor(rnd() * list.length)];
  const capped = (n: number) => Math.min(n, QIDO_LIMIT);
  const q = (params: Record<string, string>) => `${new URLSearchParams({ ...params, limit: String(QIDO_LIMIT) }).toString()}`;
  const byPatient = new Map<string, number>();
  for (const s of studies) byPatient.set(s.patientId, (byPatient.get(s.patientId) ?? 0) + 1);
  const dates = studies.map((s) => s.studyDate).sort();
  const countBetween = (from: string, to: string) => {
    let lo = 0;
    while (lo < dates.length && dates[lo] < from) lo++;
    let n = 0;
    for (let i = lo; i < dates.length && dates[i] <= to; i++) n++;
    return n;
  };
  const times = (n: number, make: (k: number) => QidoQuery) => Array.from({ length: n }, (_, k) => make(k));
  return [
    {
      key: 'StudyInstanceUID',
      shape: 'StudyInstanceUID={uid} (the cheapest: a primary key)',
      queries: times(perClass, () => ({ query: q({ StudyInstanceUID: pick(studies).studyUid }), expected: 1 })),
    },
    {
      key: 'PatientID',
      shape: 'PatientID={id} (~5 studies)',
      queries: times(perClass, () => {
        const id = pick(studies).patientId;
        return { query: q({ PatientID: id }), expected: capped(byPatient.get(id)!) };
      }),
    },
    {
      key: 'PatientName wildcard',
      shape: 'PatientName={FAMILY}* (~20 studies)',
      queries: times(perClass, () => {
        const family = pick(studies).patientName.split('^')[0];
        const prefix = family.slice(0, Math.max(3, family.length - 1));
        const pattern = `${prefix.charAt(0)}${prefix.slice(1).toLowerCase()}*`; // mixed case: PN matching ignores case
        return { query: q({ PatientName: pattern }), expected: capped(studies.filter((s) => s.patientName.startsWith(prefix)).length) };
      }),
    },
    {
      key: 'StudyDate range',
      shape: 'StudyDate={d}-{d+6} (one week, ~20 studies)',
      queries: times(perClass, () => {
        const from = day(Math.floor(rnd() * (DAYS - 7)));
        const to = day((Date.UTC(+from.slice(0, 4), +from.slice(4, 6) - 1, +from.slice(6, 8)) - FIRST_DAY) / 86_400_000 + 6);
        return { query: q({ StudyDate: `${from}-${to}` }), expected: capped(countBetween(from, to)) };
      }),
    },
    {
      key: 'ModalitiesInStudy',
      shape: `ModalitiesInStudy={code} (2-30% of all studies; limit ${QIDO_LIMIT})`,
      queries: times(perClass, (k) => {
        const code = MODALITIES[k % MODALITIES.length][0];
        return { query: q({ ModalitiesInStudy: code }), expected: capped(studies.filter((s) => s.modality === code).length) };
      }),
    },
  ];
}
