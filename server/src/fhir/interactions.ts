// The FHIR RESTful interactions, independent of HTTP: express routes and Bundle entries both
// describe a request as an Interaction and get an InteractionResult back, so a transaction entry
// behaves exactly like the same request sent on its own.
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { AccessControl } from './access/access-control.js';
import type { AuditTrail } from './access/audit-trail.js';
import type { PatientCompartment } from './access/compartment.js';
import { READ_ONLY_TYPES, allow, audit, auditedWrite, checkVisible, currentVersion, requireUnrestricted, restrictSearch, stampSource, visiblePatientsOf } from './access/enforce.js';
import { findSingleMatch, conditionalCreate } from './conditional.js';
import { isBigintText } from '../db/database.js';
import { Gone, Invalid, MethodNotAllowed, NotFound, operationOutcome } from './errors.js';
import type { FhirRepository, StoredJson } from './repository.js';
import { historyBundle } from './search/bundle.js';
import type { SearchRequest } from './search/model.js';
import { pageSize, sinceInstant, type SearchLimits } from './search/parse.js';
import { searchCompartment, searchSystem, searchType } from './search-interactions.js';
import { everything } from './everything.js';
import { startReindex } from './reindex.js';
import type { R4Validator } from './validation.js';
import type { OperationRegistry, PatientLinks, WriteRule } from './module-operations.js';

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
  /** Extra response headers (e.g. Content-Location of an asynchronous request). */
  headers?: Record<string, string>;
}

export interface InteractionContext {
  repo: FhirRepository;
  base: string;
  limits: SearchLimits;
  validator: R4Validator;
  /** What the caller may do (server/src/auth/ decides; FULL_ACCESS for in-process callers). */
  access: AccessControl;
  compartment: PatientCompartment;
  /** Where accesses are recorded; absent only for in-process bulk work that audits itself. */
  audit?: AuditTrail;
  /** `$operations` of the modules above this layer. */
  operations?: OperationRegistry;
  /** The master patient index's golden records and their members. */
  patientLinks?: PatientLinks;
  /** Modules' rules on REST writes of the resources they own. */
  writeRules?: WriteRule[];
}

export async function executeInteraction(ctx: InteractionContext, req: Interaction): Promise<InteractionResult> {
  // No FHIR value holds a NUL, and PostgreSQL's text cannot: a %00 anywhere is the client's error
  // (over HTTP and in a Bundle entry's request alike).
  if ([...req.path, ...req.query.flat()].some((text) => text.includes('\u0000'))) {
    throw new Invalid('The request holds a NUL character (%00), which no FHIR id, parameter or value may contain');
  }
  // An operation's Parameters have the shape every handler reads them by (`parameter: 5` or
  // `[null]` reached the handlers as 500s). The handlers check the values themselves.
  if (req.path.some((segment) => segment.startsWith('$'))) checkParametersShape(req.body);
  const [type, id, sub, vid, ...rest] = req.path;
  if (rest.length > 0) throw new NotFound(`No such path: /${req.path.join('/')}`);
  if (type === undefined && req.method === 'GET') return searchSystem(ctx, req);
  if (type === '_search' && req.path.length === 1 && req.method === 'POST') return searchSystem(ctx, req);
  if (type === '_history' && req.path.length === 1 && req.method === 'GET') return history(ctx, req, {});
  if (type?.startsWith('$') && req.path.length === 1) return moduleOperation(ctx, req, 'system', undefined, undefined, type);
  if (!type || !ctx.repo.registry.isResourceType(type)) throw new NotFound(`Unknown resource type '${type ?? ''}'`);
  if (READ_ONLY_TYPES.has(type) && req.method !== 'GET' && !(req.method === 'POST' && (id === '_search' || id?.startsWith('$')))) {
    throw new MethodNotAllowed(`${type} resources are written by the hub itself and cannot be changed through the API`);
  }

  if (id === undefined) return typeLevel(ctx, req, type);
  if (id === '_history' && req.path.length === 2 && req.method === 'GET') return history(ctx, req, { type });
  if (id === '_search' && req.path.length === 2 && req.method === 'POST') return searchType(ctx, req, type);
  if (id.startsWith('$')) return typeOperation(ctx, req, type, id);
  if (sub?.startsWith('$') && vid === undefined) return instanceOperation(ctx, req, type, id, sub);
  if (type === 'Patient' && sub !== undefined && sub !== '_history' && vid === undefined && req.method === 'GET') {
    if (!ctx.repo.registry.isResourceType(sub)) throw new NotFound(`Unknown resource type '${sub}'`);
    return searchCompartment(ctx, req, id, sub);
  }
  if (sub === '_history' && req.method === 'GET') {
    if (vid === undefined) return history(ctx, req, { type, id });
    const patients = await visiblePatientsOf(ctx, 'vread', type, id);
    const resource = await ctx.repo.vread(type, id, vid);
    audit(ctx, { kind: 'vread', type, id, versionId: vid, outcome: 'success', patients });
    return ok(resource);
  }
  if (sub !== undefined) throw new NotFound(`No such path: /${req.path.join('/')}`);

  switch (req.method) {
    case 'GET': {
      // One statement reads the row and its compartment; visibility is decided before existence
      // or deletion is revealed.
      allow(ctx, 'read', type);
      const current = await ctx.repo.readCurrent(type, id, ctx.compartment.params(type));
      const patients = await checkVisible(ctx, 'read', type, id, current?.patients ?? []);
      if (!current) throw new NotFound(`${type}/${id} not found`);
      if (current.deleted) throw new Gone(`${type}/${id} was deleted (version ${current.versionId})`);
      audit(ctx, { kind: 'read', type, id, outcome: 'success', patients });
      return req.acceptsJson ? { status: 200, stored: current } : ok(JSON.parse(current.json) as Resource);
    }
    case 'PUT': {
      const resource = stampSource(ctx, expectResource(req.body, type));
      if (resource.id !== id) throw new Invalid(`The resource id '${resource.id ?? ''}' must match the URL id '${id}'`, [`${type}.id`]);
      return auditedWrite(ctx, 'update', type, async (repo) => {
        const before = await currentVersion(ctx, repo, type, id);
        const { resource: stored, created } = await repo.update(resource, { ifMatch: req.ifMatch });
        return { result: written(created ? 201 : 200, stored), stored, ...before };
      });
    }
    case 'PATCH':
      return auditedWrite(ctx, 'patch', type, async (repo) => {
        const before = await currentVersion(ctx, repo, type, id);
        const stored = await repo.patch(type, id, req.body, { ifMatch: req.ifMatch });
        return { result: written(200, stored), stored, ...before };
      });
    case 'DELETE':
      return auditedWrite(ctx, 'delete', type, async (repo) => {
        const before = await currentVersion(ctx, repo, type, id);
        await repo.delete(type, id, { ifMatch: req.ifMatch });
        return { result: { status: 204 }, id, ...before };
      });
    default:
      throw new MethodNotAllowed(`${req.method} is not allowed on ${type}/${id}`);
  }
}

async function typeLevel(ctx: InteractionContext, req: Interaction, type: string): Promise<InteractionResult> {
  const condition = new URLSearchParams(req.query).toString();
  const restrict = (request: SearchRequest) => restrictSearch(ctx, request);
  switch (req.method) {
    case 'GET':
      return searchType(ctx, req, type);
    case 'POST': {
      const resource = stampSource(ctx, stripId(expectResource(req.body, type)));
      return auditedWrite(ctx, 'create', type, async (repo) => {
        if (!req.ifNoneExist) {
          const stored = await repo.create(resource);
          return { result: written(201, stored), stored };
        }
        const { resource: stored, created } = await conditionalCreate(repo, resource, req.ifNoneExist, restrict);
        return { result: created ? written(201, stored) : { status: 200, resource: stored }, stored };
      });
    }
    case 'PUT': {
      // Conditional update: no match creates, one match updates it, several → 412.
      const resource = stampSource(ctx, expectResource(req.body, type));
      return auditedWrite(ctx, 'update', type, async (repo) => {
        await repo.lock(`${type}?${condition}`);
        const match = await findSingleMatch(repo, type, condition, restrict);
        if (!match) {
          const stored = await repo.create(stripId(resource));
          return { result: written(201, stored), stored };
        }
        if (resource.id && resource.id !== match.id) throw new Invalid(`The resource id '${resource.id}' differs from the matched ${type}/${match.id}`);
        const { resource: stored } = await repo.update({ ...resource, id: match.id }, { ifMatch: req.ifMatch });
        return { result: written(200, stored), stored, previous: match, previousPatients: ctx.compartment.patientsOf(match) };
      });
    }
    case 'PATCH':
      return auditedWrite(ctx, 'patch', type, async (repo) => {
        const match = await findSingleMatch(repo, type, condition, restrict);
        if (!match) throw new NotFound(`No ${type} matches ${condition}`);
        const stored = await repo.patch(type, match.id!, req.body, { ifMatch: req.ifMatch });
        return { result: written(200, stored), stored, previous: match, previousPatients: ctx.compartment.patientsOf(match) };
      });
    case 'DELETE':
      return auditedWrite(ctx, 'delete', type, async (repo) => {
        const match = await findSingleMatch(repo, type, condition, restrict);
        if (match) await repo.delete(type, match.id!);
        return { result: { status: 204 }, id: match?.id, previous: match, previousPatients: match ? ctx.compartment.patientsOf(match) : [] };
      });
  }
}

async function history(ctx: InteractionContext, req: Interaction, target: { type?: string; id?: string }): Promise<InteractionResult> {
  const params = new Map(req.query);
  // Silently ignoring these would answer every version as if they matched.
  for (const unsupported of ['_at', '_list']) {
    if (params.has(unsupported)) throw new Invalid(`History does not support ${unsupported} here; use _since and _count`, [unsupported]);
  }
  const since = sinceInstant(params.get('_since'));
  const cursor = params.get('_cursor');
  if (cursor !== undefined && !isBigintText(cursor)) throw new Invalid('_cursor is not valid: follow the Bundle links unchanged', ['_cursor']);
  const count = pageSize(params.get('_count'), ctx.limits, ctx.limits.defaultCount);
  let patients: string[] = [];
  if (target.type && target.id) {
    patients = await visiblePatientsOf(ctx, 'history-instance', target.type, target.id);
    await ctx.repo.read(target.type, target.id).catch((err) => { if (err instanceof NotFound) throw err; });
  } else {
    await requireUnrestricted(ctx, target.type ? 'history-type' : 'history-system', target.type);
  }
  const result = await ctx.repo.history({ ...target, since, count, cursor });
  const kind = target.id ? 'history-instance' : target.type ? 'history-type' : 'history-system';
  audit(ctx, { kind, type: target.type, id: target.id, outcome: 'success', patients });
  const path = [target.type, target.id, '_history'].filter(Boolean).join('/');
  return { status: 200, resource: historyBundle(ctx.base, path, req.query, result, cursor) };
}

/** A module's `$operation`; NotFound when none is registered under that name, 405 for another method. */
function moduleOperation(ctx: InteractionContext, req: Interaction, level: 'system' | 'type' | 'instance', type: string | undefined, id: string | undefined, name: string): Promise<InteractionResult> {
  const op = ctx.operations?.find(level, type, name);
  if (!op) throw new NotFound(`Operation ${name} is not supported${type ? ` on ${type}${id ? `/${id}` : ''}` : ' at the system level'}`);
  if (!op.methods.includes(req.method)) throw new MethodNotAllowed(`${name} takes ${op.methods.join(' or ')}, not ${req.method}`);
  return op.handle(ctx, req, { type, id });
}

async function instanceOperation(ctx: InteractionContext, req: Interaction, type: string, id: string, name: string): Promise<InteractionResult> {
  if (ctx.operations?.find('instance', type, name)) return moduleOperation(ctx, req, 'instance', type, id, name);
  if (type === 'Patient' && name === '$everything' && (req.method === 'GET' || req.method === 'POST')) return everything(ctx, req, id);
  throw new NotFound(`Operation ${name} is not supported on ${type}/${id}`);
}

async function typeOperation(ctx: InteractionContext, req: Interaction, type: string, name: string): Promise<InteractionResult> {
  if (ctx.operations?.find('type', type, name)) return moduleOperation(ctx, req, 'type', type, undefined, name);
  if (name === '$reindex' && req.method === 'POST') return startReindex(ctx, type);
  if (name === '$validate' && req.method === 'POST') {
    allow(ctx, 'operation', type);
    let resource = req.body as Resource | Bundle;
    // $validate takes the resource directly or as Parameters.parameter[name=resource].
    if ((resource as { resourceType?: string })?.resourceType === 'Parameters') {
      const parameters: unknown = (resource as { parameter?: unknown }).parameter;
      resource = Array.isArray(parameters) ? parameters.find((p) => (p as { name?: unknown } | null)?.name === 'resource')?.resource : undefined;
    }
    const issues = ctx.validator.check(expectResource(resource, type));
    const outcome: OperationOutcome = issues.length
      ? { resourceType: 'OperationOutcome', issue: issues }
      : operationOutcome('information', 'informational', `The ${type} is valid`);
    return { status: 200, resource: outcome };
  }
  throw new NotFound(`Operation ${name} is not supported on ${type}`);
}

/** A Parameters body's `parameter` (and each `part`) is a list of objects with a string name. */
function checkParametersShape(body: unknown): void {
  if ((body as { resourceType?: unknown } | undefined)?.resourceType !== 'Parameters') return;
  const check = (list: unknown, where: string): void => {
    if (list === undefined) return;
    if (!Array.isArray(list)) throw new Invalid(`${where} must be a list`, [where]);
    list.forEach((item, n) => {
      if (typeof item !== 'object' || item === null || typeof (item as { name?: unknown }).name !== 'string') {
        throw new Invalid(`${where}[${n}] must be an object with a name`, [`${where}[${n}]`]);
      }
      check((item as { part?: unknown }).part, `${where}[${n}].part`);
    });
  };
  check((body as { parameter?: unknown }).parameter, 'Parameters.parameter');
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
