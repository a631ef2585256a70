// WADO-RS retrieval of whole objects (PS3.18 §10.4): study, series or instance as
// multipart/related; type="application/dicom" streamed from the blob store; one instance may
// also be asked for as plain application/dicom, with HTTP ranges. Objects leave in the transfer
// syntax they were stored in: a request for another one is answered 406 (no transcoding).
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { multipartBoundary } from '../multipart.js';
import { withBase } from '../qido-results.js';
import { negotiate } from './accept.js';
import { auditRetrieve, readableStudy, type DicomwebContext } from './context.js';
import { byteRange, etagOf, notModified } from './http-cache.js';
import { instancesAt, type InstancePath } from './instances.js';

export async function retrieveInstances(ctx: DicomwebContext, req: Request, res: Response, path: InstancePath): Promise<void> {
  const study = await readableStudy(ctx, path.studyUid);
  const instances = await instancesAt(ctx, path);
  const stored = [...new Set(instances.map((i) => i.transfer_syntax))];
  const servesStored = (ts: string | undefined) => !ts || ts === '*' || stored.every((s) => s === ts);
  const form = negotiate(
    req.get('accept'),
    (range) => {
      if (!servesStored(range.transferSyntax)) return undefined;
      if (range.type === 'multipart/related' && (range.partType === '' || range.partType === 'application/dicom')) return 'multipart' as const;
      if (range.type === 'application/dicom' && path.sopInstanceUid) return 'single' as const;
      if (range.type === '*/*' || range.type === 'multipart/*') return 'multipart' as const;
      return undefined;
    },
    `multipart/related; type="application/dicom" in its stored transfer syntax (${stored.join(', ')}); transfer-syntax=* always works`,
  );
  auditRetrieve(ctx, study, `WADO-RS retrieve of ${instances.length} instance(s)`);
  if (notModified(req, res, etagOf(instances.map((i) => i.blob_key), form))) return;
  if (form === 'single') return sendOne(ctx, req, res, instances[0].blob_key, Number(instances[0].size), `application/dicom; transfer-syntax=${instances[0].transfer_syntax}`);
  const boundary = multipartBoundary();
  res.status(200).setHeader('Content-Type', `multipart/related; type="application/dicom"; boundary=${boundary}`);
  await sendObjects(ctx, res, boundary, instances.map((i) => ({
    key: i.blob_key,
    headers: `Content-Type: application/dicom; transfer-syntax=${i.transfer_syntax}\r\nContent-Location: ${ctx.base}/studies/${i.study_uid}/series/${i.series_uid}/instances/${i.sop_instance_uid}`,
  })));
}

const CHUNK = 1024 * 1024;

/** Resolves when the response can take more, or is gone; leaves no listener behind either way. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Writes stored objects as one multipart body straight from the blob store into the response,
 * through two reused 1 MiB buffers: while one is on its way to the socket the next is read. No
 * buffer per chunk, so a series of hundreds of megabytes makes no garbage to collect.
 */
async function sendObjects(ctx: DicomwebContext, res: Response, boundary: string, parts: { key: string; headers: string }[]): Promise<void> {
  const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  const inFlight: (Promise<void> | undefined)[] = [undefined, undefined];
  let turn = 0;
  const send = (chunk: Buffer | string) =>
    new Promise<void>((resolve, reject) => void res.write(chunk, (err) => (err ? reject(err) : resolve())));
  for (const part of parts) {
    if (res.destroyed) return;
    void send(`--${boundary}\r\n${part.headers}\r\n\r\n`).catch(() => undefined);
    const reader = await ctx.blobs.reader(part.key);
    try {
      for (let position = 0; position < reader.size; ) {
        const i = turn;
        turn ^= 1;
        await inFlight[i]; // this buffer's last chunk has reached the socket
        const n = await reader.read(buffers[i], position);
        if (n === 0) break;
        position += n;
        inFlight[i] = send(buffers[i].subarray(0, n));
        inFlight[i]!.catch(() => undefined);
        if (res.writableNeedDrain) await drained(res);
      }
    } finally {
      await reader.close();
    }
    void send('\r\n').catch(() => undefined);
  }
  await Promise.all([...inFlight, send(`--${boundary}--\r\n`)]);
  res.end();
}

export async function retrieveMetadata(ctx: DicomwebContext, req: Request, res: Response, path: InstancePath): Promise<void> {
  const study = await readableStudy(ctx, path.studyUid);
  negotiate(req.get('accept'), (r) => (['application/dicom+json', 'application/json', '*/*', 'application/*'].includes(r.type) ? true : undefined), 'application/dicom+json');
  const instances = await instancesAt(ctx, path, 'i.metadata');
  auditRetrieve(ctx, study, `WADO-RS metadata of ${instances.length} instance(s)`);
  if (notModified(req, res, etagOf(instances.map((i) => i.blob_key), `metadata ${ctx.base}`))) return;
  // The stored metadata is already JSON text: joined, not parsed and serialised again.
  const body = `[${instances.map((i) => withBase(i.metadata as string, ctx.base)).join(',')}]`;
  res.status(200).type('application/dicom+json').send(body);
}

/** One stored object as a single body, honouring Range. */
export async function sendOne(ctx: DicomwebContext, req: Request, res: Response, blobKey: string, size: number, contentType: string): Promise<void> {
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', contentType);
  const range = byteRange(req, size);
  if (range === 'unsatisfiable') {
    res.status(416).setHeader('Content-Range', `bytes */${size}`);
    res.end();
    return;
  }
  if (range) {
    res.status(206).setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    res.setHeader('Content-Length', String(range.end - range.start + 1));
    await pipeline(ctx.blobs.open(blobKey, range), res);
    return;
  }
  res.status(200).setHeader('Content-Length', String(size));
  await pipeline(ctx.blobs.open(blobKey), res);
}
