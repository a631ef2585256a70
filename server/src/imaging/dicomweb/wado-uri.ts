// WADO-URI (PS3.18 §9): GET ?requestType=WADO&studyUID=..&seriesUID=..&objectUID=..
// [&contentType=application/dicom|image/jpeg|image/png][&frameNumber][&windowCenter&windowWidth]
// [&rows&columns]. The object as stored (with byte ranges), or one frame rendered.
import type { Request, Response } from 'express';
import { Invalid, NotAcceptable } from '../../fhir/errors.js';
import { auditRetrieve, readableStudy, type DicomwebContext } from './context.js';
import { etagOf, notModified } from './http-cache.js';
import { instancesAt } from './instances.js';
import { renderInstance, type RenderOptions } from './rendered-handler.js';
import { sendOne } from './retrieve.js';

const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;

export async function wadoUri(ctx: DicomwebContext, req: Request, res: Response): Promise<void> {
  const q = new URL(req.originalUrl, 'http://x').searchParams;
  if (q.get('requestType') !== 'WADO') throw new Invalid('WADO-URI needs requestType=WADO');
  const uid = (name: string) => {
    const value = q.get(name);
    if (!value || value.length > 64 || !UID.test(value)) throw new Invalid(`WADO-URI needs ${name}, a DICOM UID`);
    return value;
  };
  const path = { studyUid: uid('studyUID'), seriesUid: uid('seriesUID'), sopInstanceUid: uid('objectUID') };
  const contentType = (q.get('contentType') ?? 'image/jpeg').split(',')[0].trim().toLowerCase();
  const study = await readableStudy(ctx, path.studyUid);
  const [instance] = await instancesAt(ctx, path);
  if (contentType === 'application/dicom') {
    const wanted = q.get('transferSyntax');
    if (wanted && wanted !== '*' && wanted !== instance.transfer_syntax) {
      throw new NotAcceptable(`The object is stored as ${instance.transfer_syntax}; this hub does not transcode (omit transferSyntax or ask for that one)`);
    }
    auditRetrieve(ctx, study, `WADO-URI object ${instance.sop_instance_uid}`);
    if (notModified(req, res, etagOf([instance.blob_key], 'wado-uri'))) return;
    return sendOne(ctx, req, res, instance.blob_key, Number(instance.size), 'application/dicom');
  }
  if (contentType !== 'image/jpeg' && contentType !== 'image/png') throw new NotAcceptable(`contentType must be application/dicom, image/jpeg or image/png, not '${contentType}'`);
  const options = renderOptions(q);
  auditRetrieve(ctx, study, `WADO-URI rendered ${instance.sop_instance_uid}`);
  if (notModified(req, res, etagOf([instance.blob_key], `wado-uri ${contentType} ${JSON.stringify(options)}`))) return;
  res.status(200).type(contentType).send(await renderInstance(ctx, instance, options, contentType));
}

function renderOptions(q: URLSearchParams): RenderOptions {
  const number = (name: string, min: number, max: number) => {
    const text = q.get(name);
    if (text === null) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) throw new Invalid(`${name} must be a number from ${min} to ${max}, got '${text}'`);
    return value;
  };
  const center = number('windowCenter', -1e9, 1e9);
  const width = number('windowWidth', 1e-9, 1e9);
  if ((center === undefined) !== (width === undefined)) throw new Invalid('windowCenter and windowWidth go together');
  const rows = number('rows', 1, 4096);
  const columns = number('columns', 1, 4096);
  const quality = number('imageQuality', 1, 100);
  return {
    frame: number('frameNumber', 1, 1e9) ?? 1,
    window: center !== undefined && width !== undefined ? { center, width } : undefined,
    viewport: rows || columns ? { width: Math.round(columns ?? 4096), height: Math.round(rows ?? 4096) } : undefined,
    quality: quality ?? 90,
    thumbnail: false,
  };
}
