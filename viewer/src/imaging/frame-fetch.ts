// One frame through WADO-RS (PS3.18 §10.4.1.1.3). Uncompressed explicit VR little endian is
// asked for first: the hub sends native pixel data that way and decodes RLE and JPEG baseline
// for us. For syntaxes it cannot decode it answers 406, and the frame is then asked for as
// stored (transfer-syntax=*), to be decoded here or explained.
import type { HttpClient } from '../dicomweb/http.js';
import { boundaryOf, headerParameter, splitMultipart } from '../dicomweb/multipart.js';
import { Undisplayable } from './errors.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntaxes.js';

export interface FetchedFrame {
  bytes: Uint8Array;
  /** The syntax of these bytes: explicit VR LE when uncompressed, else the stored one. */
  transferSyntax: string;
}

const UNCOMPRESSED = `multipart/related; type="application/octet-stream"; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}`;
const AS_STORED = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
const FRAME_TIMEOUT_MS = 60_000;

/**
 * `hubDecodes`: whether asking for uncompressed can succeed (from the stored syntax, which
 * QIDO-RS instance results carry); when it cannot, the round trip that would answer 406 is skipped.
 */
export async function fetchFrame(client: HttpClient, frameUrl: string, hubDecodes: boolean): Promise<FetchedFrame> {
  if (hubDecodes) {
    const res = await client.get(frameUrl, { accept: UNCOMPRESSED, timeoutMs: FRAME_TIMEOUT_MS, allow: [406] });
    if (res.status !== 406) return singlePart(res, EXPLICIT_VR_LITTLE_ENDIAN);
    await res.body?.cancel();
  }
  const res = await client.get(frameUrl, { accept: AS_STORED, timeoutMs: FRAME_TIMEOUT_MS });
  return singlePart(res, undefined);
}

async function singlePart(res: Response, assumed: string | undefined): Promise<FetchedFrame> {
  const contentType = res.headers.get('content-type') ?? '';
  const boundary = boundaryOf(contentType);
  if (!boundary) throw new Undisplayable('decodeFailed', { detail: `unexpected response type ${contentType}` });
  const parts = splitMultipart(new Uint8Array(await res.arrayBuffer()), boundary);
  if (parts.length === 0) throw new Undisplayable('decodeFailed', { detail: 'the response holds no frame' });
  const [part] = parts;
  const transferSyntax = headerParameter(part.headers['content-type'], 'transfer-syntax') ?? assumed;
  if (!transferSyntax) throw new Undisplayable('decodeFailed', { detail: 'the frame does not say its transfer syntax' });
  return { bytes: part.body, transferSyntax };
}
