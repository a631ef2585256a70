// WADO-RS frames and bulk data (PS3.18 §10.4.1.1.3/§10.4.1.1.4), as multipart/related bodies.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import dicomParser from 'dicom-parser';
import { NotFound } from '../../fhir/errors.js';
import { canSendUncompressed, frameNumbers, readFrames, storedMediaType } from '../frames.js';
import { multipartBoundary, writeMultipart } from '../multipart.js';
import { parseInstance, TS } from '../parse-instance.js';
import { negotiate } from './accept.js';
import { auditRetrieve, readableStudy, type DicomwebContext } from './context.js';
import { etagOf, notModified } from './http-cache.js';
import { instancesAt, type InstancePath } from './instances.js';

export async function retrieveFrames(ctx: DicomwebContext, req: Request, res: Response, path: InstancePath, list: string): Promise<void> {
  const study = await readableStudy(ctx, path.studyUid);
  const [instance] = await instancesAt(ctx, path);
  const numbers = frameNumbers(list, instance);
  const stored = instance.transfer_syntax;
  const compressed = instance.encapsulated;
  const storedType = storedMediaType(stored);
  const uncompressed = negotiate(
    req.get('accept'),
    (range) => {
      const ts = range.transferSyntax;
      const asStored = !compressed || ts === '*' || ts === stored;
      if (range.type === '*/*' || range.type === 'multipart/*') return !compressed;
      if (range.type !== 'multipart/related') return undefined;
      if (range.partType === '' || range.partType === 'application/octet-stream') {
        if (ts === undefined || ts === TS.explicitLE) return canSendUncompressed(instance) ? true : undefined;
        return ts === '*' || ts === stored ? !compressed : undefined;
      }
      if (compressed && range.partType === storedType && (ts === undefined || asStored)) return false;
      return undefined;
    },
    compressed
      ? `multipart/related; type="${storedType}" (stored as ${stored}), type="application/octet-stream"; transfer-syntax=*${canSendUncompressed(instance) ? ', or uncompressed (explicit VR little endian)' : ''}`
      : 'multipart/related; type="application/octet-stream" (explicit VR little endian)',
  );
  auditRetrieve(ctx, study, `WADO-RS frames ${numbers.join(',')}`);
  if (notModified(req, res, etagOf([instance.blob_key], `frames ${numbers.join(',')} ${uncompressed}`))) return;
  const parts = await readFrames(ctx.blobs, instance, numbers, uncompressed);
  const boundary = multipartBoundary();
  const type = parts[0].mediaType;
  res.status(200).setHeader('Content-Type', `multipart/related; type="${type}"; boundary=${boundary}`);
  const url = `${ctx.base}/studies/${instance.study_uid}/series/${instance.series_uid}/instances/${instance.sop_instance_uid}/frames`;
  const body = writeMultipart(
    parts.map((p, i) => ({ headers: { 'Content-Type': `${p.mediaType}; transfer-syntax=${p.transferSyntax}`, 'Content-Location': `${url}/${numbers[i]}` }, body: Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.length) })),
    boundary,
  );
  await pipeline(Readable.from(body), res);
}

/**
 * Bulk data named by a BulkDataURI from the metadata: `bulk/{tag}` or, inside sequences,
 * `bulk/{tag}/{item}/{tag}...`. Encapsulated Pixel Data is served as its frames instead.
 */
export async function retrieveBulk(ctx: DicomwebContext, req: Request, res: Response, path: InstancePath, tagPath: string[]): Promise<void> {
  const study = await readableStudy(ctx, path.studyUid);
  const [instance] = await instancesAt(ctx, path);
  if (tagPath.length === 1 && tagPath[0] === '7FE00010' && instance.encapsulated) {
    return retrieveFrames(ctx, req, res, path, Array.from({ length: instance.frames ?? 1 }, (_, i) => i + 1).join(','));
  }
  negotiate(req.get('accept'), (r) => (['*/*', 'multipart/*', 'multipart/related'].includes(r.type) && (r.partType === '' || r.partType === 'application/octet-stream') ? true : undefined), 'multipart/related; type="application/octet-stream"');
  const { dataSet } = parseInstance(await ctx.blobs.read(instance.blob_key, 0, Number(instance.size)));
  const element = elementAt(dataSet, tagPath);
  const bytes = dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
  const swapWidth = instance.transfer_syntax === TS.explicitBE ? ({ OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 } as Record<string, number>)[element.vr ?? ''] ?? 1 : 1;
  const value = swapWidth === 2 ? Buffer.from(bytes).swap16() : swapWidth === 4 ? Buffer.from(bytes).swap32() : swapWidth === 8 ? Buffer.from(bytes).swap64() : Buffer.from(bytes);
  auditRetrieve(ctx, study, `WADO-RS bulk data ${tagPath.join('/')}`);
  if (notModified(req, res, etagOf([instance.blob_key], `bulk ${tagPath.join('/')}`))) return;
  const boundary = multipartBoundary();
  res.status(200).setHeader('Content-Type', `multipart/related; type="application/octet-stream"; boundary=${boundary}`);
  await pipeline(Readable.from(writeMultipart([{ headers: { 'Content-Type': 'application/octet-stream' }, body: value }], boundary)), res);
}

function elementAt(dataSet: dicomParser.DataSet, tagPath: string[]): dicomParser.Element {
  let current = dataSet;
  for (let i = 0; i < tagPath.length; i += 2) {
    const tag = tagPath[i];
    if (!/^[0-9A-Fa-f]{8}$/.test(tag)) throw new NotFound(`'${tag}' in the bulk data path is not a tag`);
    const element = current.elements[`x${tag.toLowerCase()}`];
    if (!element) throw new NotFound(`The instance has no attribute ${tag}`);
    if (i + 1 === tagPath.length) return element;
    const item = element.items?.[Number(tagPath[i + 1])];
    if (!item?.dataSet || !/^\d+$/.test(tagPath[i + 1])) throw new NotFound(`Attribute ${tag} has no item ${tagPath[i + 1]}`);
    current = item.dataSet;
  }
  throw new NotFound('An empty bulk data path');
}
