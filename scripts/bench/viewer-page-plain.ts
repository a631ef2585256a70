// Page side of the viewer benchmark: the baseline's own code — plain `fetch` of the DICOMweb
// requests the viewer makes (same URLs, same Accept headers, the viewer's token from this tab's
// sessionStorage) and the least decoding that puts a frame on a canvas: the bytes after the
// multipart part's headers as 16-bit samples, Rescale and the header's window, grey RGBA.
// Written for this benchmark's CT (16-bit greyscale, native); it checks that it got that.

const DICOM_JSON = 'application/dicom+json';
export const UNCOMPRESSED = 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1';

type Json = Record<string, { Value?: unknown[] } | undefined>;

export function dicomweb(): string {
  return `${location.origin}/dicomweb`;
}

function token(): string {
  const stored = JSON.parse(sessionStorage.getItem('suhe.viewer.tokens') ?? '{}') as { accessToken?: string; expiresAt?: number };
  if (!stored.accessToken) throw new Error('no access token in sessionStorage: not signed in');
  if ((stored.expiresAt ?? 0) < Date.now() + 10_000) throw new Error('the stored access token is about to expire');
  return stored.accessToken;
}

export async function get(url: string, accept: string): Promise<Response> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token()}`, accept } });
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}`);
  return res;
}

export async function getJson(url: string): Promise<Json[]> {
  return (await (await get(url, DICOM_JSON)).json()) as Json[];
}

const value = (ds: Json, tag: string, i = 0): unknown => ds[tag]?.Value?.[i];
const num = (ds: Json, tag: string, i = 0, fallback = NaN): number => {
  const n = Number(value(ds, tag, i));
  return Number.isFinite(n) ? n : fallback;
};

export interface Slice {
  uid: string;
  meta: Json;
}

/** The series' slices in the viewer's order: along the slice normal, then Instance Number, then UID. */
export function stackOrder(metadata: Json[]): Slice[] {
  const oriented = metadata.find((m) => (m['00200037']?.Value?.length ?? 0) === 6);
  const [r0, r1, r2, c0, c1, c2] = oriented ? [0, 1, 2, 3, 4, 5].map((i) => num(oriented, '00200037', i)) : [0, 0, 0, 0, 0, 0];
  const n = [r1 * c2 - r2 * c1, r2 * c0 - r0 * c2, r0 * c1 - r1 * c0]; // row × column direction
  const distance = (m: Json) => num(m, '00200032', 0, 0) * n[0] + num(m, '00200032', 1, 0) * n[1] + num(m, '00200032', 2, 0) * n[2];
  return metadata
    .filter((m) => num(m, '00280010') > 0)
    .map((m) => ({ uid: String(value(m, '00080018')), meta: m, d: distance(m), i: num(m, '00200013', 0, Number.MAX_SAFE_INTEGER) }))
    .sort((a, b) => a.d - b.d || a.i - b.i || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0))
    .map(({ uid, meta }) => ({ uid, meta }));
}

/** One frame's samples: the part's body read as 16-bit little-endian values (copied: alignment). */
export async function frameSamples(res: Response, meta: Json): Promise<Int16Array | Uint16Array> {
  const rows = num(meta, '00280010');
  const columns = num(meta, '00280011');
  if (num(meta, '00280100') !== 16 || num(meta, '00280002', 0, 1) !== 1) throw new Error('the baseline decodes 16-bit greyscale only');
  const bytes = new Uint8Array(await res.arrayBuffer());
  let at = 0;
  while (at + 3 < bytes.length && !(bytes[at] === 13 && bytes[at + 1] === 10 && bytes[at + 2] === 13 && bytes[at + 3] === 10)) at++;
  const start = at + 4;
  const length = rows * columns * 2;
  if (start + length > bytes.length) throw new Error(`the frame response has ${bytes.length} bytes, too few for ${rows}×${columns}`);
  const buffer = bytes.slice(start, start + length).buffer;
  return num(meta, '00280103') === 1 ? new Int16Array(buffer) : new Uint16Array(buffer);
}

/** Grey RGBA through Rescale Slope/Intercept and the header's first window (linear, PS3.3 C.11.2.1.2). */
export function windowed(samples: Int16Array | Uint16Array, meta: Json, into?: ImageData): ImageData {
  const columns = num(meta, '00280011');
  const rows = num(meta, '00280010');
  const image = into ?? new ImageData(columns, rows);
  const slope = num(meta, '00281053', 0, 1);
  const intercept = num(meta, '00281052', 0, 0);
  const center = num(meta, '00281050', 0, 40);
  const width = Math.max(1, num(meta, '00281051', 0, 400));
  const low = center - 0.5 - (width - 1) / 2;
  const scale = 255 / (width - 1);
  const out = image.data;
  for (let i = 0, o = 0; i < samples.length; i++, o += 4) {
    const v = samples[i] * slope + intercept;
    const g = v <= low ? 0 : v >= low + width - 1 ? 255 : (v - low) * scale;
    out[o] = g;
    out[o + 1] = g;
    out[o + 2] = g;
    out[o + 3] = 255;
  }
  return image;
}

/** A plain canvas the baseline draws on, over the page's top-left corner (removed by the caller). */
export function plainCanvas(width: number, height: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.style.position = 'fixed';
  canvas.style.left = '0';
  canvas.style.top = '0';
  canvas.style.zIndex = '1000';
  document.body.append(canvas);
  return canvas;
}
