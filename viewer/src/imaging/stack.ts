// A series as a stack of frames in anatomical order: slices sorted along the normal of their
// plane (Image Position · (row × column direction)), as readers expect when scrolling; where
// positions are missing, by Instance Number. Ties (two slices at one position, which real
// series have) fall back to Instance Number, then the UID, so the order is always the same.
// Multi-frame instances contribute their frames in order. Pure: unit-tested.
import { number, numbers, text, type DicomJson } from '../dicomweb/dicom-json.js';
import { imageIdFor, type FrameRef } from './instance-catalogue.js';

interface Slice {
  uid: string;
  instanceNumber: number;
  position?: number[];
  orientation?: number[];
  frames: number;
  storedSyntax?: string;
  metadata?: DicomJson;
}

/**
 * @param instances QIDO-RS instance results (stored transfer syntax, frames, instance number).
 * @param metadata  WADO-RS series metadata (positions and everything the loader needs).
 * @param instanceUrl the WADO-RS URL of an instance of this series, by SOP Instance UID.
 */
export function buildStack(instances: DicomJson[], metadata: DicomJson[], instanceUrl: (uid: string) => string): FrameRef[] {
  const metadataByUid = new Map(metadata.map((m) => [text(m, '00080018') ?? '', m]));
  const slices: Slice[] = [];
  const seen = new Set<string>();
  for (const source of [...instances, ...metadata]) {
    const uid = text(source, '00080018');
    if (!uid || seen.has(uid)) continue;
    seen.add(uid);
    const meta = metadataByUid.get(uid);
    const rows = number(meta ?? source, '00280010');
    if (!rows) continue; // no pixel data: a report, a presentation state, …
    const fromQido = instances.find((i) => text(i, '00080018') === uid);
    const position = meta ? numbers(meta, '00200032') : [];
    const orientation = meta ? numbers(meta, '00200037') : [];
    slices.push({
      uid,
      instanceNumber: number(meta ?? source, '00200013') ?? number(fromQido ?? source, '00200013') ?? Number.MAX_SAFE_INTEGER,
      position: position.length === 3 ? position : undefined,
      orientation: orientation.length === 6 ? orientation : undefined,
      frames: Math.max(1, Math.floor(number(meta ?? source, '00280008') ?? number(fromQido ?? source, '00280008') ?? 1)),
      storedSyntax: fromQido ? text(fromQido, '00083002') : undefined,
      metadata: meta,
    });
  }
  sortSlices(slices);
  return slices.flatMap((slice) =>
    Array.from({ length: slice.frames }, (_, i) => {
      const url = instanceUrl(slice.uid);
      return { imageId: imageIdFor(url, i + 1), instanceUrl: url, frame: i + 1, storedSyntax: slice.storedSyntax, metadata: slice.metadata };
    }),
  );
}

function sortSlices(slices: Slice[]): void {
  const normal = slices.find((s) => s.orientation)?.orientation;
  const byPosition = normal !== undefined && slices.every((s) => s.position);
  const n = normal ? cross(normal.slice(0, 3), normal.slice(3, 6)) : [0, 0, 0];
  const distance = (s: Slice) => (byPosition ? dot(s.position!, n) : 0);
  slices.sort((a, b) => distance(a) - distance(b) || a.instanceNumber - b.instanceNumber || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
}

function cross(a: number[], b: number[]): number[] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function dot(a: number[], b: number[]): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
