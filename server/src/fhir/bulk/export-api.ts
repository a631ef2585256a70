// The Bulk Data Access API over HTTP: the `$export` kick-off (a system-level operation) and the
// status and file URLs of a job under `[base]/bulk-jobs/{id}`. Only callers not limited to some
// patients may export (institution systems, administrators); a job is visible to its client only.
import { createReadStream } from 'node:fs';
import { Router, type Request } from 'express';
import { allow, canRead } from '../access/enforce.js';
import { Forbidden, Invalid, NotFound } from '../errors.js';
import { baseUrl, sendJson } from '../http/respond.js';
import type { ModuleOperation } from '../module-operations.js';
import { operationOutcome } from '../errors.js';
import { sinceInstant } from '../search/parse.js';
import type { BulkExports } from './export-jobs.js';

const OUTPUT_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);
const KNOWN_PARAMS = new Set(['_type', '_since', '_outputFormat']);
/** The hub's record of who looked, exported only when asked for by name. */
const NOT_BY_DEFAULT = new Set(['AuditEvent']);

export function exportOperation(exports: BulkExports): ModuleOperation {
  return {
    name: '$export',
    level: 'system',
    methods: ['GET'],
    definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export',
    async handle(ctx, req) {
      for (const [name] of req.query) {
        if (!KNOWN_PARAMS.has(name)) throw new Invalid(`$export: parameter ${name} is not supported (supported: ${[...KNOWN_PARAMS].join(', ')})`, [name]);
      }
      const query = new Map(req.query);
      const format = query.get('_outputFormat');
      if (format && !OUTPUT_FORMATS.has(format)) throw new Invalid(`$export: _outputFormat ${format} is not supported; use application/fhir+ndjson`, ['_outputFormat']);
      const asked = query.get('_type')?.split(',').map((t) => t.trim()).filter(Boolean);
      for (const t of asked ?? []) if (!ctx.repo.registry.isResourceType(t)) throw new Invalid(`_type: unknown resource type '${t}'`, ['_type']);
      const types = asked ?? ctx.repo.registry.resourceTypes.filter((t) => !NOT_BY_DEFAULT.has(t) && canRead(ctx, t));
      for (const t of types) allow(ctx, 'search-type', t);
      if ((await ctx.access.visiblePatients()) !== 'all') throw new Forbidden('$export is for systems that may read every patient\'s records; search instead');
      const job = await exports.start(ctx.access.actor, { types, since: sinceInstant(query.get('_since')), requestUrl: `${ctx.base}/$export?${new URLSearchParams(req.query)}` });
      return {
        status: 202,
        headers: { 'Content-Location': `${ctx.base}/bulk-jobs/${job.id}` },
        resource: operationOutcome('information', 'informational', `Export ${job.id} started; poll ${ctx.base}/bulk-jobs/${job.id}`),
      };
    },
  };
}

/** Status (GET), cancel (DELETE) and files of export jobs; `clientOf` names the authenticated client. */
export function bulkJobRoutes(exports: BulkExports, clientOf: (req: Request) => string | undefined, publicBaseUrl?: string): Router {
  const router = Router();
  router.get('/bulk-jobs/:id', async (req, res) => {
    const job = await exports.job(req.params.id, clientOf(req));
    if (!job || job.status === 'cancelled') throw new NotFound(`No export ${req.params.id}`);
    if (job.status === 'in-progress') {
      res.status(202).setHeader('X-Progress', job.progress ?? 'starting').setHeader('Retry-After', '1').end();
      return;
    }
    if (job.status === 'failed') {
      sendJson(res, 500, operationOutcome('error', 'exception', `Export ${job.id} failed: ${job.error ?? 'unknown error'}`));
      return;
    }
    const base = baseUrl(req, publicBaseUrl);
    res.status(200).json({
      transactionTime: job.transactionTime,
      request: job.request,
      requiresAccessToken: true,
      output: job.output.map((o) => ({ type: o.type, url: `${base}/bulk-jobs/${job.id}/files/${o.file}`, count: o.count })),
      error: [],
    });
  });
  router.delete('/bulk-jobs/:id', async (req, res) => {
    await exports.cancel(req.params.id, clientOf(req));
    res.status(202).end();
  });
  router.get('/bulk-jobs/:id/files/:name', async (req, res) => {
    const path = await exports.file(req.params.id, clientOf(req), req.params.name);
    res.status(200).type('application/fhir+ndjson');
    await new Promise<void>((resolve, reject) => createReadStream(path).on('error', reject).pipe(res).on('finish', resolve).on('error', reject));
  });
  return router;
}
