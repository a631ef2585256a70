// What the loader knows about each image before loading it: the instance's address, frame
// number, stored transfer syntax (from QIDO-RS) and metadata (from the series' WADO-RS
// metadata, fetched once for the whole stack instead of once per slice).
import type { DicomJson } from '../dicomweb/dicom-json.js';

export interface FrameRef {
  imageId: string;
  /** …/studies/{s}/series/{se}/instances/{i} */
  instanceUrl: string;
  /** 1-based, as in WADO-RS frames/{n}. */
  frame: number;
  storedSyntax?: string;
  metadata?: DicomJson;
}

const SCHEME = 'suhe:';

/** The cornerstone image id of a frame: `suhe:<instance URL>/frames/<n>`. */
export function imageIdFor(instanceUrl: string, frame: number): string {
  return `${SCHEME}${instanceUrl}/frames/${frame}`;
}

export function parseImageId(imageId: string): FrameRef {
  const match = /^suhe:(.+)\/frames\/(\d+)$/.exec(imageId);
  if (!match) throw new Error(`not a suhe: image id: ${imageId}`);
  return { imageId, instanceUrl: match[1], frame: Number(match[2]) };
}

export class InstanceCatalogue {
  private readonly refs = new Map<string, FrameRef>();

  add(ref: FrameRef): void {
    this.refs.set(ref.imageId, ref);
  }

  get(imageId: string): FrameRef | undefined {
    return this.refs.get(imageId);
  }
}
