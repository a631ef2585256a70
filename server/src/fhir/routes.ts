// HTTP adapter for the FHIR API: turns express requests into Interactions and their results
// into responses. No business logic lives here.
import { Router, type Request, type Response } from 'express';
import type { Resource } from '@medplum/fhirtypes';
import { processBundle } from './bundle/process.js';
import { Invalid, MethodNotAllowed } from './errors.js';
import { jsonBody, mediaTypeOf, rawBody } from './http/body.js';
import { FHIR_JSON, baseUrl, checkAcceptable, parseETag, sendJson, sendWriteResult, setVersionHeaders, wantsPretty } from './http/respond.js';
import { executeInteraction, type InteractionContext, type Method } from './interactions.js';

export interface FhirRouteOptions {
  /** The request's context: its access control comes from the caller the guard identified. */
  context: (base: string, req: Request) => InteractionContext;
  capabilityStatement: (base: string) => unknown;
  bodyLimitBytes: number;
  publicBaseUrl?: string;
}

const PATCH_TYPES = ['application/json-patch+json'];
const FORM = 'application/x-www-form-urlencoded';

export function fhirRoutes(options: FhirRouteOptions): Router {
  const router = Router();
  const base = (req: Request) => baseUrl(req, options.publicBaseUrl);

  router.use((req, _res, next) => {
    checkAcceptable(req);
    next();
  });
  router.use(rawBody(options.bodyLimitBytes));

  router.get('/metadata', (req, res) => sendJson(res, 200, options.capabilityStatement(base(req)), wantsPretty(req)));

  router.get('/', (req, res) => handle(req, res, []));

  router.post('/', async (req, res) => {
    const bundle = await processBundle(options.context(base(req), req), jsonBody(req), /return=minimal/.test(req.get('prefer') ?? ''));
    sendJson(res, 200, bundle, wantsPretty(req));
  });

  router.all('/{*path}', (req: Request, res: Response) => handle(req, res, (req.params as { path?: string[] }).path ?? []));

  async function handle(req: Request, res: Response, path: string[]): Promise<void> {
    const method = req.method as Method;
    if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) throw new MethodNotAllowed(`${req.method} is not supported`);
    const query = queryEntries(req);
    let body: unknown;
    if (method === 'PATCH') body = jsonBody(req, PATCH_TYPES);
    else if (method === 'POST' && (path[1] === '_search' || (path[0] === '_search' && path.length === 1)) && mediaTypeOf(req) === FORM) {
      query.push(...new URLSearchParams((req.body as Buffer).toString('utf8')).entries());
    } else if (method === 'POST' && path.at(-1)?.startsWith('$') && !(req.body as Buffer | undefined)?.length) {
      body = undefined; // an operation without input parameters
    } else if (method === 'POST' || method === 'PUT') body = jsonBody(req);

    rejectOverlongQuery(query);
    const result = await executeInteraction(options.context(base(req), req), {
      method,
      path,
      query,
      body,
      ifMatch: parseETag(req.get('if-match')),
      ifNoneExist: req.get('if-none-exist'),
      lenient: /handling=lenient/.test(req.get('prefer') ?? ''),
      acceptsJson: !wantsPretty(req),
    });
    for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
    if (result.stored) {
      res.setHeader('ETag', `W/"${result.stored.versionId}"`);
      res.setHeader('Last-Modified', new Date(result.stored.lastUpdated).toUTCString());
      res.status(result.status).type(FHIR_JSON).send(result.stored.json);
    } else if (result.location) {
      sendWriteResult(req, res, result.status, result.resource!, `${base(req)}/${result.location}`);
    } else if (result.resource) {
      if (result.resource.resourceType !== 'Bundle' && result.resource.resourceType !== 'OperationOutcome') setVersionHeaders(res, result.resource as Resource);
      sendJson(res, result.status, result.resource, wantsPretty(req));
    } else {
      res.status(result.status).end();
    }
  }
  return router;
}

/** The query string as ordered pairs; repeated names stay separate (they mean AND). */
function queryEntries(req: Request): [string, string][] {
  const mark = req.originalUrl.indexOf('?');
  // Everything after the first '?': a value may hold a '?' of its own.
  const qs = mark < 0 ? '' : req.originalUrl.slice(mark + 1);
  return [...new URLSearchParams(qs).entries()].filter(([name]) => name !== '_format' && name !== '_pretty');
}

/**
 * Longest query (URL or POSTed search form) the hub takes. Its own `next` links repeat the query,
 * and must stay within what the HTTP server accepts as a request line (app.ts).
 */
export const MAX_QUERY_CHARACTERS = 32_768;

/** The query fits in a `next` link the HTTP server accepts. */
function rejectOverlongQuery(query: [string, string][]): void {
  // Measured encoded, as the query travels in a link.
  const length = new URLSearchParams(query).toString().length;
  if (length > MAX_QUERY_CHARACTERS) throw new Invalid(`The query is ${length} characters long (URL-encoded); the hub takes at most ${MAX_QUERY_CHARACTERS}`);
}
