// WADO-RS rendered and thumbnail (PS3.18 §10.4.1.1.5/§10.4.1.1.6) and the image part of WADO-URI:
// one frame decoded, windowed (window=center,width), fitted to a viewport, as JPEG or PNG.
// An object the hub cannot decode answers 415 and a malformed one 422, within bounded work.
import type { Request, Response } from 'express';
import { Invalid, NotFound, UnsupportedMediaType, Unprocessable } from '../../fhir/errors.js';
import { parseInstance } from '../parse-instance.js';
import { encodeJpeg, encodePng, FrameNotFound, renderFrame, RenderError } from '../render/index.js';
import { negotiate } from './accept.js';
import { auditRetrieve, readableStudy, type DicomwebContext } from './context.js';
import { etagOf, notModified } from './http-cache.js';
import { instancesAt, type InstancePath, type StoredInstance } from './instances.js';

export interface RenderOptions {
  frame: number; // 1-based
  window?: { center: number; width: number };
  viewport?: { width: number; height: number };
  quality: number;
  thumbnail: boolean;
}

const THUMBNAIL = { width: 200, height: 200 };

/** Rendered or thumbnail of an instance or frame; for a study or series, of its middle instance. */
export async function rendered(ctx: DicomwebContext, req: Request, res: Response, path: InstancePath, options: { frame?: string; thumbnail: boolean }): Promise<void> {
  const study = await readableStudy(ctx, path.studyUid);
  const instances = await instancesAt(ctx, path);
  const instance = path.sopInstanceUid ? instances[0] : representative(instances);
  const render = renderOptions(req, options);
  const type = negotiate(req.get('accept'), (r) => (r.type === 'image/png' ? 'image/png' : ['image/jpeg', 'image/*', '*/*'].includes(r.type) ? 'image/jpeg' : undefined), 'image/jpeg or image/png');
  auditRetrieve(ctx, study, `WADO-RS ${options.thumbnail ? 'thumbnail' : 'rendered'} of ${instance.sop_instance_uid}`);
  if (notModified(req, res, etagOf([instance.blob_key], `${type} ${JSON.stringify(render)}`))) return;
  res.status(200).type(type).send(await renderInstance(ctx, instance, render, type));
}

export async function renderInstance(ctx: DicomwebContext, instance: StoredInstance, options: RenderOptions, type: string): Promise<Buffer> {
  if (instance.pixel_offset === null && !instance.encapsulated) throw new UnsupportedMediaType(`Instance ${instance.sop_instance_uid} has no pixel data to render (SOP class ${instance.sop_class_uid})`);
  const { dataSet, transferSyntax } = parseInstance(await ctx.blobs.read(instance.blob_key, 0, Number(instance.size)));
  try {
    const image = renderFrame({
      dataSet,
      transferSyntax,
      frame: options.frame - 1,
      windowCenter: options.window?.center,
      windowWidth: options.window?.width,
      maxSize: options.viewport ?? (options.thumbnail ? THUMBNAIL : undefined),
    });
    return type === 'image/png' ? encodePng(image) : encodeJpeg(image, options.quality);
  } catch (err) {
    if (err instanceof FrameNotFound) throw new NotFound(`Frame ${options.frame} does not exist; the instance has ${err.numberOfFrames} frame(s)`);
    if (err instanceof RenderError) throw err.status === 415 ? new UnsupportedMediaType(`Cannot render: ${err.message}`) : new Unprocessable(`Cannot render: ${err.message}`);
    throw err;
  }
}

function representative(instances: StoredInstance[]): StoredInstance {
  const images = instances.filter((i) => i.pixel_offset !== null || i.encapsulated);
  const pool = images.length ? images : instances;
  return pool[Math.floor(pool.length / 2)];
}

function renderOptions(req: Request, options: { frame?: string; thumbnail: boolean }): RenderOptions {
  const query = new URL(req.originalUrl, 'http://x').searchParams;
  const frame = options.frame ?? '1';
  if (!/^\d{1,9}$/.test(frame) || Number(frame) < 1) throw new NotFound(`Frame '${frame}' must be one frame number (from 1)`);
  const render: RenderOptions = { frame: Number(frame), quality: 90, thumbnail: options.thumbnail };
  const window = query.get('window');
  if (window) {
    const [center, width] = window.split(',').map(Number);
    if (!Number.isFinite(center) || !Number.isFinite(width) || width <= 0) throw new Invalid(`window must be center,width[,function] with a positive width, got '${window}'`);
    render.window = { center, width };
  }
  const viewport = query.get('viewport');
  if (viewport) {
    const [width, height] = viewport.split(',').map(Number);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 4096 || height > 4096) {
      throw new Invalid(`viewport must be width,height in pixels (1..4096), got '${viewport}'`);
    }
    render.viewport = { width, height };
  }
  const quality = query.get('quality');
  if (quality) {
    if (!/^\d{1,3}$/.test(quality) || Number(quality) < 1 || Number(quality) > 100) throw new Invalid(`quality must be 1..100, got '${quality}'`);
    render.quality = Number(quality);
  }
  return render;
}
