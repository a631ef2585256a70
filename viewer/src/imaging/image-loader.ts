// The cornerstone image loader for `suhe:` image ids: DICOM JSON metadata (from the catalogue,
// or WADO-RS .../metadata), one frame through WADO-RS, decoded here when the hub sent it as
// stored (JPEG lossless, in a worker), turned into a Cornerstone Image. Every failure becomes an
// Undisplayable with a reason the viewport can show; nothing waits without a time limit.
import cornerstone, { type Image } from 'cornerstone-core';
import { SessionExpired } from '../auth/session.js';
import type { DicomJson } from '../dicomweb/dicom-json.js';
import { HttpError, RequestFailed, type HttpClient } from '../dicomweb/http.js';
import { cornerstoneImage } from './cornerstone-image.js';
import { Undisplayable } from './errors.js';
import { fetchFrame } from './frame-fetch.js';
import { frameCodec } from './frame-codec.js';
import { readImageInfo } from './image-info.js';
import { parseImageId, type InstanceCatalogue } from './instance-catalogue.js';
import type { JpegLosslessDecoder } from './jpeg-lossless-client.js';
import { colourPixels, greyscalePixels } from './pixel-data.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, isNativeSyntax, JPEG_LOSSLESS, JPEG_LOSSY, syntaxName } from './transfer-syntaxes.js';

export interface LoaderDependencies {
  /** The signed-in client, or a share link's: image ids carry full URLs under either's base. */
  client: HttpClient;
  catalogue: InstanceCatalogue;
  jpegLossless: JpegLosslessDecoder;
}

// The syntaxes the hub decodes to uncompressed for WADO-RS frames (see docs/IMAGING.md).
const HUB_DECODES = new Set(['1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.50']);

export function registerSuheImageLoader(deps: LoaderDependencies): void {
  cornerstone.registerImageLoader('suhe', (imageId) => ({ promise: loadImage(imageId, deps).catch((err: unknown) => Promise.reject(explain(err))) }));
}

async function loadImage(imageId: string, deps: LoaderDependencies): Promise<Image> {
  const ref = deps.catalogue.get(imageId) ?? parseImageId(imageId);
  const metadata = ref.metadata ?? (await deps.client.json<DicomJson[]>(`${ref.instanceUrl}/metadata`, { accept: 'application/dicom+json' }))[0];
  if (!metadata) throw new Undisplayable('decodeFailed', { detail: 'the instance has no metadata' });
  const info = readImageInfo(metadata);
  // Palette colour needs its lookup tables (bulk data); shown as grey it would mislead.
  if (info.photometric === 'PALETTE COLOR') throw new Undisplayable('unsupportedPhotometric', { photometric: info.photometric });
  const stored = ref.storedSyntax;
  const hubDecodes = stored === undefined || isNativeSyntax(stored) || HUB_DECODES.has(stored);
  const frame = await fetchFrame(deps.client, `${ref.instanceUrl}/frames/${ref.frame}`, hubDecodes);

  let bytes = frame.bytes;
  if (frame.transferSyntax !== EXPLICIT_VR_LITTLE_ENDIAN) {
    const codec = frameCodec(frame.bytes);
    if (!JPEG_LOSSLESS.has(frame.transferSyntax) || codec !== 'jpeg-lossless') {
      throw new Undisplayable('unsupportedSyntax', { syntax: syntaxName(frame.transferSyntax) });
    }
    const samples = await deps.jpegLossless.decode(frame.bytes, info.bitsAllocated);
    bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  }
  const storedAs = stored ?? frame.transferSyntax;
  // The hub's JPEG decoder returns colour as RGB whatever Photometric Interpretation says.
  const photometric = info.samplesPerPixel === 3 && JPEG_LOSSY.has(storedAs) ? 'RGB' : info.photometric;
  // Planar configuration describes native pixel data; decoded frames come pixel-interleaved.
  const planar = isNativeSyntax(storedAs) && info.planarConfiguration === 1;
  const decoded = info.samplesPerPixel === 1 ? greyscalePixels(bytes, info) : colourPixels(bytes, info, photometric, planar);
  return cornerstoneImage(imageId, info, decoded);
}

/** Any failure as an Undisplayable (or SessionExpired, which sends the user to sign in). */
function explain(err: unknown): Error {
  if (err instanceof Undisplayable || err instanceof SessionExpired) return err;
  if (err instanceof HttpError) return new Undisplayable('server', { status: err.status, detail: err.message });
  if (err instanceof RequestFailed) return err.kind === 'timeout' ? new Undisplayable('timeout') : new Undisplayable('network', { detail: err.message });
  return new Undisplayable('decodeFailed', { detail: err instanceof Error ? err.message : String(err) });
}
