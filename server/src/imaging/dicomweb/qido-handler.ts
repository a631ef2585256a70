// QIDO-RS handlers: compile the query, run it within the caller's patients, answer DICOM JSON.
import type { Request, Response } from 'express';
import { shapeStatementName } from '../../db/statement-names.js';
import { NotFound } from '../../fhir/errors.js';
import { compileQido, type QidoLevel } from '../qido.js';
import { qidoResult } from '../qido-results.js';
import { studiesSharedWithCaller, type DicomwebContext } from './context.js';

export async function qido(ctx: DicomwebContext, req: Request, res: Response, level: QidoLevel, path: { studyUid?: string; seriesUid?: string }): Promise<void> {
  ctx.access.check('search-type', 'ImagingStudy');
  const params = queryPairs(req);
  const scope = ctx.onlyStudy ? { studyUid: ctx.onlyStudy, visible: 'all' as const } : { visible: await ctx.access.visiblePatients(), shared: await studiesSharedWithCaller(ctx) };
  if (ctx.onlyStudy && path.studyUid && path.studyUid !== ctx.onlyStudy) throw new NotFound(`Study ${path.studyUid} is not part of this share`);
  const compiled = compileQido({ level, ...path, params, ...scope });
  const rows = await ctx.db.query<Record<string, unknown>>(compiled.sql, compiled.values, { name: shapeStatementName(compiled.sql) });
  const patients = [...new Set(rows.map((r) => r.patient_ref as string | null).filter((p): p is string => !!p))];
  ctx.audit.record(ctx.access.actor, { kind: 'search-type', type: 'ImagingStudy', outcome: 'success', patients, query: new URL(req.originalUrl, 'http://x').search.slice(1), dicomEvent: 'query' });
  if (compiled.ignored.length) {
    // PS3.18 §8.3.4.1: keys the origin server does not support are ignored, with a warning. The
    // keys are the client's text: only printable ASCII goes into a header, and not too much of it.
    const keys = compiled.ignored.join(', ').replace(/"/g, "'").replace(/[^\x20-\x7e]/g, '?');
    res.setHeader('Warning', `299 suhe "These query keys are not supported and were ignored: ${keys.length > 1000 ? `${keys.slice(0, 1000)}...` : keys}"`);
  }
  res.status(200).type('application/dicom+json').send(JSON.stringify(rows.map((row) => qidoResult(level, row, ctx.base, compiled.includeFields))));
}

/** The query string as ordered name/value pairs, percent-decoded (PatientName=DOE%5EJOHN, %2A). */
function queryPairs(req: Request): [string, string][] {
  const search = new URL(req.originalUrl, 'http://x').searchParams;
  return [...search.entries()];
}
