// POST /fhir with a batch or transaction Bundle.
// A transaction is one database transaction: ids are assigned first, `urn:uuid:` and conditional
// references are rewritten, then entries run in the spec's order (DELETE, POST, PUT/PATCH, GET);
// any failure rolls everything back. A batch runs each entry on its own and reports each outcome.
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { auditedWrite, restrictSearch, settleVisibility, stampSource } from '../access/enforce.js';
import { findSingleMatch, parseConditionalUrl, type Restrict } from '../conditional.js';
import { FhirError, Invalid, PreconditionFailed } from '../errors.js';
import { executeInteraction, type Interaction, type InteractionContext, type InteractionResult, type Method } from '../interactions.js';
import type { FhirRepository } from '../repository.js';
import { rewriteReferences } from './references.js';

const ORDER: Record<Method, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3 };
const METHODS = new Set(Object.keys(ORDER));

interface PlannedEntry {
  index: number;
  interaction: Interaction;
  fullUrl?: string;
  /** For a POST that If-None-Exist resolved to an existing resource: no write, just the answer. */
  existing?: Resource;
  assignedId?: string;
}

/** `minimal`: entries carry only their response (status, location, etag), not the resource. */
export async function processBundle(ctx: InteractionContext, body: unknown, minimal = false): Promise<Bundle> {
  const bundle = body as Bundle;
  if (!bundle || bundle.resourceType !== 'Bundle') throw new Invalid('POST to the base expects a Bundle of type batch or transaction', ['resourceType']);
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw new Invalid(`Bundle.type must be batch or transaction, got '${bundle.type ?? '(none)'}'`, ['Bundle.type']);
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) throw new Invalid('Bundle.entry must be a list of entries', ['Bundle.entry']);
  const entries = (bundle.entry ?? []).map((entry, index) => planEntry(entry, index));
  // bdl-7: a fullUrl names one entry (a second one would make its urn:uuid references ambiguous).
  const seen = new Map<string, number>();
  for (const entry of entries) {
    if (entry.fullUrl === undefined) continue;
    const first = seen.get(entry.fullUrl);
    if (first !== undefined) throw new Invalid(`Bundle.entry[${entry.index}].fullUrl repeats that of Bundle.entry[${first}]; each entry needs its own (bdl-7)`, [`Bundle.entry[${entry.index}].fullUrl`]);
    seen.set(entry.fullUrl, entry.index);
  }
  await settleVisibility(ctx); // before any transaction opens (see settleVisibility)
  const response = bundle.type === 'transaction' ? await runTransaction(ctx, entries) : await runBatch(ctx, entries);
  if (minimal) for (const entry of response.entry ?? []) delete entry.resource;
  return response;
}

function planEntry(entry: BundleEntry, index: number): PlannedEntry {
  const where = `Bundle.entry[${index}]`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Invalid(`${where} must be an object`, [where]);
  const request = entry.request;
  if (typeof request?.method !== 'string' || !METHODS.has(request.method) || typeof request.url !== 'string' || !request.url) {
    throw new Invalid(`${where}.request needs a method (GET, POST, PUT, PATCH, DELETE) and a url`, [`${where}.request`]);
  }
  for (const field of ['ifMatch', 'ifNoneExist'] as const) {
    if (request[field] !== undefined && typeof request[field] !== 'string') throw new Invalid(`${where}.request.${field} must be a string`, [`${where}.request.${field}`]);
  }
  if (entry.fullUrl !== undefined && typeof entry.fullUrl !== 'string') throw new Invalid(`${where}.fullUrl must be a string`, [`${where}.fullUrl`]);
  const url = new URL(request.url.replace(/^\//, ''), 'http://bundle.invalid/');
  const path = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let payload: unknown = entry.resource;
  // PATCH in a bundle carries the JSON Patch as a Binary (base64 data), per the spec.
  if (request.method === 'PATCH' && entry.resource?.resourceType === 'Binary') {
    try {
      payload = JSON.parse(Buffer.from((entry.resource as { data?: string }).data ?? '', 'base64').toString('utf8'));
    } catch {
      throw new Invalid(`${where}: the Binary does not hold a JSON Patch`, [`${where}.resource`]);
    }
  }
  return {
    index,
    fullUrl: entry.fullUrl,
    interaction: {
      method: request.method as Method,
      path,
      query: [...url.searchParams.entries()],
      body: payload === undefined ? undefined : structuredClone(payload),
      ifMatch: request.ifMatch?.replace(/^W\//, '').replace(/"/g, ''),
      ifNoneExist: request.ifNoneExist,
    },
  };
}

async function runTransaction(ctx: InteractionContext, entries: PlannedEntry[]): Promise<Bundle> {
  const results = await ctx.repo.transaction(async (repo) => {
    const tx: InteractionContext = { ...ctx, repo };
    const idFor = new Map<string, string>(); // fullUrl → Type/id
    for (const entry of entries) await assignTarget(tx, entry, idFor);

    const conditional = conditionalReferenceResolver(ctx, repo);
    const resolveReference = async (reference: string): Promise<string | undefined> => {
      if (idFor.has(reference)) return idFor.get(reference);
      if (reference.startsWith('urn:uuid:') || reference.startsWith('urn:oid:')) {
        throw new Invalid(`Reference '${reference}' does not match any fullUrl in the transaction`);
      }
      return conditional(reference);
    };
    for (const entry of entries) if (entry.interaction.body) await rewriteReferences(entry.interaction.body, resolveReference);

    const ordered = [...entries].sort((a, b) => ORDER[a.interaction.method] - ORDER[b.interaction.method] || a.index - b.index);
    const out: InteractionResult[] = new Array(entries.length);
    for (const entry of ordered) {
      try {
        out[entry.index] = await runPlanned(tx, entry);
      } catch (err) {
        if (err instanceof FhirError) {
          // Name the entry, keep the status: the whole transaction fails with it.
          const where = `Bundle.entry[${entry.index}]`;
          const issues = err.extraIssues.map((issue) => ({ ...issue, diagnostics: `${where}: ${issue.diagnostics ?? ''}` }));
          throw new FhirError(err.status, err.code, `${where}: ${err.message}`, err.expression, issues);
        }
        throw err;
      }
    }
    return out;
  });
  return responseBundle('transaction-response', ctx, results);
}

/** Decides, before anything is written, which id each POST and conditional PUT will have. */
async function assignTarget(ctx: InteractionContext, entry: PlannedEntry, idFor: Map<string, string>): Promise<void> {
  const { method, path, query } = entry.interaction;
  const type = path[0];
  let target: string | undefined;
  if (method === 'POST' && path.length === 1) {
    if (entry.interaction.ifNoneExist) {
      await ctx.repo.lock(`${type}?${entry.interaction.ifNoneExist}`);
      entry.existing = await findSingleMatch(ctx.repo, type, entry.interaction.ifNoneExist, restrictFor(ctx));
    }
    entry.assignedId = entry.existing?.id ?? randomUUID();
    target = `${type}/${entry.assignedId}`;
  } else if (method === 'PUT' && path.length === 2) {
    target = `${type}/${path[1]}`;
  } else if (method === 'PUT' && path.length === 1 && query.length) {
    const match = await findSingleMatch(ctx.repo, type, new URLSearchParams(query).toString(), restrictFor(ctx));
    entry.interaction.path = [type, match?.id ?? randomUUID()];
    target = `${type}/${entry.interaction.path[1]}`;
    if (entry.interaction.body && typeof entry.interaction.body === 'object') (entry.interaction.body as Resource).id = entry.interaction.path[1];
  }
  if (target && entry.fullUrl) idFor.set(entry.fullUrl, target);
}

/** Conditional matches see only what the caller may see. */
function restrictFor(ctx: InteractionContext): Restrict {
  return (request) => restrictSearch(ctx, request);
}

/** Resolves `Type?query` references to the single match (cached per reference); others stay. */
function conditionalReferenceResolver(ctx: InteractionContext, repo: FhirRepository): (reference: string) => Promise<string | undefined> {
  const resolved = new Map<string, string>();
  return async (reference) => {
    const cond = parseConditionalUrl(reference);
    if (!cond) return undefined;
    if (!resolved.has(reference)) {
      const match = await findSingleMatch(repo, cond.type, cond.query, restrictFor(ctx));
      if (!match) throw new PreconditionFailed(`Conditional reference '${reference}' matches no resource`);
      resolved.set(reference, `${cond.type}/${match.id}`);
    }
    return resolved.get(reference);
  };
}

async function runPlanned(ctx: InteractionContext, entry: PlannedEntry): Promise<InteractionResult> {
  if (entry.existing) return { status: 200, resource: entry.existing };
  if (entry.assignedId) {
    const body = entry.interaction.body as Resource;
    if (!body || typeof body !== 'object' || body.resourceType !== entry.interaction.path[0]) {
      throw new Invalid(`Expected a ${entry.interaction.path[0]} resource`);
    }
    const assignedId = entry.assignedId;
    return auditedWrite(ctx, 'create', body.resourceType, async (repo) => {
      const created = await repo.create(stampSource(ctx, { ...body, id: undefined } as Resource), assignedId);
      return { result: { status: 201, resource: created, location: `${created.resourceType}/${created.id}/_history/${created.meta?.versionId}` }, stored: created };
    });
  }
  return executeInteraction(ctx, entry.interaction);
}

async function runBatch(ctx: InteractionContext, entries: PlannedEntry[]): Promise<Bundle> {
  const results: (InteractionResult | FhirError)[] = [];
  for (const entry of entries) {
    try {
      results.push(
        await ctx.repo.transaction(async (repo) => {
          const tx = { ...ctx, repo };
          if (entry.interaction.body) await rewriteReferences(entry.interaction.body, conditionalReferenceResolver(ctx, repo));
          return executeInteraction(tx, entry.interaction);
        }),
      );
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      results.push(err);
    }
  }
  return responseBundle('batch-response', ctx, results);
}

function responseBundle(type: 'batch-response' | 'transaction-response', ctx: InteractionContext, results: (InteractionResult | FhirError)[]): Bundle {
  return {
    resourceType: 'Bundle',
    type,
    entry: results.map((result) => {
      if (result instanceof FhirError) {
        return { response: { status: String(result.status), outcome: result.toOperationOutcome() } };
      }
      const resource = result.resource;
      return {
        ...(resource?.id && resource.resourceType !== 'Bundle' ? { fullUrl: `${ctx.base}/${resource.resourceType}/${resource.id}` } : {}),
        ...(resource ? { resource } : {}),
        response: {
          status: statusText(result.status),
          ...(result.location ? { location: result.location } : {}),
          ...(resource?.meta?.versionId ? { etag: `W/"${resource.meta.versionId}"` } : {}),
          ...(resource?.meta?.lastUpdated ? { lastModified: resource.meta.lastUpdated } : {}),
        },
      };
    }),
  };
}

function statusText(status: number): string {
  const text: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content' };
  return `${status}${text[status] ? ' ' + text[status] : ''}`;
}

