// The FHIR RESTful interactions, independent of HTTP: express routes and Bundle entries both
// describe a request as an Interaction and get an InteractionResult back, so a transaction entry
// behaves exactly like the same request sent on its own.
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { findSingleMatch, conditionalCreate } from './conditional.js';
import { Invalid, MethodNotAllowed, NotFound, operationOutcome } from './errors.js';
import type { FhirRepository, StoredJson } from './repository.js';
import { historyBundle, searchsetBundle } from './search/bundle.js';
import { parseSearchRequest, type SearchLimits } from './search/parse.js';
import type { R4Validator } from './validation.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Interaction {
  method: Method;
  /** Path segments below the FHIR base, e.g. ['Patient', '123']. */
  path: string[];
  query: [string, string][];
  body?: unknown;
  ifMatch?: string;
  ifNoneExist?: string;
  lenient?: boolean;
  /** The caller can send stored JSON text as it is (HTTP reads): skip parse + stringify. */
  acceptsJson?: boolean;
}

export interface InteractionResult {
  status: number;
  resource?: Resource;
  /** Relative `Type/id/_history/v` of a created or updated resource. */
  location?: string;
  /** The resource as stored JSON text, instead of `resource`, when the request acceptsJson. */
  stored?: StoredJson;
}

export interface InteractionContext {
  repo: FhirRepository;
  base: string;
  limits: SearchLimits;
  validator: R4Validator;
}

export async function executeInteraction(ctx: InteractionContext, req: Interaction): Promise<InteractionResult> {
  const [type, id, sub, vid, ...rest] = req.path;
  if (rest.length > 0) throw new NotFound(`No such path: /${req.path.join('/')}`);
  if (type === '_history' && req.path.length === 1 && req.method === 'GET') return history(ctx, req, {});
  if (!type || !ctx.repo.registry.isResourceType(type)) throw new NotFound(`Unknown resource type '${type ?? ''}'`);

  if (id === undefined) return typeLevel(ctx, req, type);
  if (id === '_history' && req.path.length === 2 && req.method === 'GET') return history(ctx, req, { type });
  if (id === '_search' && req.path.length === 2 && req.method === 'POST') return search(ctx, req, type);
  if (id.startsWith('$')) return operation(ctx, req, type, id);
  if (sub === '_history' && req.method === 'GET') {
    if (vid === undefined) return history(ctx, req, { type, id });
    return ok(await ctx.repo.vread(type, id, vid));
  }
  if (sub !== undefined) throw new NotFound(`No such path: /${req.path.join('/')}`);

  switch (req.method) {
    case 'GET':
      if (req.acceptsJson) return { status: 200, stored: await ctx.repo.readJson(type, id) };
      return ok(await ctx.repo.read(type, id));
    case 'PUT': {
      const resource = expectResource(req.body, type);
      if (resource.id !== id) throw new Invalid(`The resource id '${resource.id ?? ''}' must match the URL id '${id}'`, [`${type}.id`]);
      const { resource: stored, created } = await ctx.repo.update(resource, { ifMatch: req.ifMatch });
      return written(created ? 201 : 200, stored);
    }
    case 'PATCH':
      return written(200, await ctx.repo.patch(type, id, req.body, { ifMatch: req.ifMatch }));
    case 'DELETE':
      await ctx.repo.delete(type, id, { ifMatch: req.ifMatch });
      return { status: 204 };
    default:
      throw new MethodNotAllowed(`${req.method} is not allowed on ${type}/${id}`);
  }
}

async function typeLevel(ctx: InteractionContext, req: Interaction, type: string): Promise<InteractionResult> {
  const condition = new URLSearchParams(req.query).toString();
  switch (req.method) {
    case 'GET':
      return search(ctx, req, type);
    case 'POST': {
      const resource = expectResource(req.body, type);
      if (req.ifNoneExist) {
        const { resource: stored, created } = await conditionalCreate(ctx.repo, stripId(resource), req.ifNoneExist);
        return created ? written(201, stored) : { status: 200, resource: stored };
      }
      return written(201, await ctx.repo.create(stripId(resource)));
    }
    case 'PUT': {
      // Conditional update: no match creates, one match updates it, several → 412.
      const resource = expectResource(req.body, type);
      return ctx.repo.transaction(async (repo) => {
        await repo.lock(`${type}?${condition}`);
        const match = await findSingleMatch(repo, type, condition);
        if (!match) return written(201, await repo.create(stripId(resource)));
        if (resource.id && resource.id !== match.id) throw new Invalid(`The resource id '${resource.id}' differs from the matched ${type}/${match.id}`);
        const { resource: stored } = await repo.update({ ...resource, id: match.id }, { ifMatch: req.ifMatch });
        return written(200, stored);
      });
    }
    case 'PATCH':
      return ctx.repo.transaction(async (repo) => {
        const match = await findSingleMatch(repo, type, condition);
        if (!match) throw new NotFound(`No ${type} matches ${condition}`);
        return written(200, await repo.patch(type, match.id!, req.body, { ifMatch: req.ifMatch }));
      });
    case 'DELETE':
      return ctx.repo.transaction(async (repo) => {
        const match = await findSingleMatch(repo, type, condition);
        if (match) await repo.delete(type, match.id!);
        return { status: 204 };
      });
  }
}

async function search(ctx: InteractionContext, req: Interaction, type: string): Promise<InteractionResult> {
  const request = parseSearchRequest(type, req.query, ctx.repo.registry, ctx.limits, req.lenient);
  const result = await ctx.repo.search(request);
  return { status: 200, resource: searchsetBundle(ctx.base, type, request, result) };
}

async function history(ctx: InteractionContext, req: Interaction, target: { type?: string; id?: string }): Promise<InteractionResult> {
  const params = new Map(req.query);
  const since = params.get('_since');
  if (since !== undefined && Number.isNaN(Date.parse(since))) throw new Invalid(`_since must be an instant, got '${since}'`, ['_since']);
  const countText = params.get('_count');
  if (countText !== undefined && !/^\d+$/.test(countText)) throw new Invalid(`_count must be a whole number, got '${countText}'`, ['_count']);
  const cursor = params.get('_cursor');
  if (cursor !== undefined && !/^\d+$/.test(cursor)) throw new Invalid('_cursor is not valid: follow the Bundle links unchanged', ['_cursor']);
  const count = Math.min(countText !== undefined ? Number(countText) : ctx.limits.defaultCount, ctx.limits.maxCount);
  if (target.type && target.id) await ctx.repo.read(target.type, target.id).catch((err) => { if (err instanceof NotFound) throw err; });
  const result = await ctx.repo.history({ ...target, since, count, cursor });
  const path = [target.type, target.id, '_history'].filter(Boolean).join('/');
  return { status: 200, resource: historyBundle(ctx.base, path, req.query, result, cursor) };
}

async function operation(ctx: InteractionContext, req: Interaction, type: string, name: string): Promise<InteractionResult> {
  if (name === '$validate' && req.method === 'POST') {
    let resource = req.body as Resource | Bundle;
    // $validate takes the resource directly or as Parameters.parameter[name=resource].
    if ((resource as { resourceType?: string })?.resourceType === 'Parameters') {
      resource = ((resource as any).parameter ?? []).find((p: any) => p.name === 'resource')?.resource;
    }
    const issues = ctx.validator.check(expectResource(resource, type));
    const outcome: OperationOutcome = issues.length
      ? { resourceType: 'OperationOutcome', issue: issues }
      : operationOutcome('information', 'informational', `The ${type} is valid`);
    return { status: 200, resource: outcome };
  }
  throw new NotFound(`Operation ${name} is not supported on ${type}`);
}

function expectResource(body: unknown, type: string): Resource {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Invalid(`Expected a ${type} resource as a JSON object`);
  const resource = body as Resource;
  if (resource.resourceType !== type) {
    throw new Invalid(`Expected resourceType '${type}', got '${(resource as { resourceType?: unknown }).resourceType ?? '(none)'}'`, ['resourceType']);
  }
  return resource;
}

function stripId<T extends Resource>(resource: T): T {
  const { id: _ignored, ...rest } = resource;
  return rest as T;
}

function ok(resource: Resource): InteractionResult {
  return { status: 200, resource };
}

function written(status: number, resource: Resource): InteractionResult {
  return { status, resource, location: `${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}` };
}
