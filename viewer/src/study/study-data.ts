// A study's summary and series (QIDO-RS), and a series as a stack of frames: QIDO-RS instance
// results (stored transfer syntax, frame counts) joined with the series' WADO-RS metadata (one
// request for every slice's attributes, instead of one per slice while scrolling).
import { number, type DicomJson } from '../dicomweb/dicom-json.js';
import type { HttpClient } from '../dicomweb/http.js';
import type { FrameRef } from '../imaging/instance-catalogue.js';
import { buildStack } from '../imaging/stack.js';

const DICOM_JSON = 'application/dicom+json';
// The hub's largest QIDO-RS page.
const QIDO_PAGE = 1000;

export interface StudyData {
  study: DicomJson;
  series: DicomJson[];
}

export async function loadStudy(client: HttpClient, dicomweb: string, studyUid: string): Promise<StudyData> {
  const uid = encodeURIComponent(studyUid);
  const [studies, series] = await Promise.all([
    client.json<DicomJson[]>(`${dicomweb}/studies?StudyInstanceUID=${uid}`, { accept: DICOM_JSON }),
    client.json<DicomJson[]>(`${dicomweb}/studies/${uid}/series?includefield=0008103E`, { accept: DICOM_JSON }),
  ]);
  const bySeriesNumber = (s: DicomJson) => number(s, '00200011') ?? Number.MAX_SAFE_INTEGER;
  return { study: studies[0] ?? series[0] ?? {}, series: [...series].sort((a, b) => bySeriesNumber(a) - bySeriesNumber(b)) };
}

export function seriesUrl(dicomweb: string, studyUid: string, seriesUid: string): string {
  return `${dicomweb}/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(seriesUid)}`;
}

export async function loadSeriesStack(client: HttpClient, dicomweb: string, studyUid: string, seriesUid: string): Promise<FrameRef[]> {
  const base = seriesUrl(dicomweb, studyUid, seriesUid);
  const [instances, metadata] = await Promise.all([allInstances(client, base), client.json<DicomJson[]>(`${base}/metadata`, { accept: DICOM_JSON, timeoutMs: 60_000 })]);
  return buildStack(instances, metadata, (uid) => `${base}/instances/${encodeURIComponent(uid)}`);
}

async function allInstances(client: HttpClient, base: string): Promise<DicomJson[]> {
  const all: DicomJson[] = [];
  for (let offset = 0; ; offset += QIDO_PAGE) {
    const page = await client.json<DicomJson[]>(`${base}/instances?limit=${QIDO_PAGE}&offset=${offset}`, { accept: DICOM_JSON });
    all.push(...page);
    if (page.length < QIDO_PAGE) return all;
  }
}
