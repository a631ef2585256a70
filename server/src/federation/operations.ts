// The federation's FHIR operations: `POST /fhir/$ingest` (a source pushes a Bundle through the
// same pipeline as pull sync) and `POST /fhir/Endpoint/{id}/$sync` (pull a source now, in the
// background, with a Task to follow).
import type { Bundle, BundleEntry, Resource, Task } from '@medplum/fhirtypes';
import { allow, audit, requireUnrestricted } from '../fhir/access/enforce.js';
import { Forbidden, Invalid } from '../fhir/errors.js';
import type { ModuleOperation } from '../fhir/module-operations.js';
import type { Federation } from './federation.js';
import type { EntryResult, IncomingEntry } from './ingest.js';
import { FEDERATION_CODES, type Source } from './source.js';

const STATUS: Record<EntryResult['outcome'], string> = {
  created: '201 Created',
  updated: '200 OK',
  unchanged: '200 OK',
  deleted: '204 No Content',
  quarantined: '422 Unprocessable Entity',
};

export function federationOperations(federation: Federation): ModuleOperation[] {
  return [
    {
      name: '$ingest',
      level: 'system',
      methods: ['POST'],
      definition: 'urn:suhe:OperationDefinition/ingest',
      async handle(ctx, req) {
        const bundle = req.body as Bundle;
        if (!bundle || bundle.resourceType !== 'Bundle') throw new Invalid('$ingest takes a Bundle (transaction, batch or collection) of one source\'s resources');
        if (!['transaction', 'batch', 'collection'].includes(bundle.type)) throw new Invalid(`$ingest takes a transaction, batch or collection Bundle, not ${bundle.type}`, ['Bundle.type']);
        const entries = (bundle.entry ?? []).map(incomingEntry);
        for (const type of new Set(entries.map((e) => e.type))) if (ctx.repo.registry.isResourceType(type)) allow(ctx, 'create', type);
        const source = await pushingSource(ctx.access.actor, entries, federation);
        const summary = await federation.ingest.ingest(source, entries, { ...ctx.access.actor, source: `Endpoint/${source.endpointId}` });
        const byKey = new Map(summary.results.map((r) => [`${r.type}/${r.sourceId}`, r]));
        const response: Bundle = {
          resourceType: 'Bundle',
          type: 'batch-response',
          entry: entries.map((e): BundleEntry => {
            const r = byKey.get(`${e.type}/${e.sourceId}`);
            if (!r) return { response: { status: '400 Bad Request', outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'entry not processed' }] } } };
            return {
              response: {
                status: STATUS[r.outcome],
                ...(r.hubId && r.outcome !== 'quarantined' ? { location: `${r.type}/${r.hubId}${r.versionId ? `/_history/${r.versionId}` : ''}` } : {}),
                ...(r.problem ? { outcome: r.problem } : {}),
              },
            };
          }),
        };
        return { status: 200, resource: response };
      },
    },
    {
      name: '$sync',
      level: 'instance',
      type: 'Endpoint',
      methods: ['POST'],
      definition: 'urn:suhe:OperationDefinition/sync',
      async handle(ctx, _req, target) {
        await requireUnrestricted(ctx, 'operation', 'Endpoint');
        const source = await federation.sources.get(target.id!);
        const task = await ctx.repo.create<Task>(syncTask(source, 'in-progress'));
        audit(ctx, { kind: 'operation', type: 'Endpoint', id: source.endpointId, outcome: 'success', patients: [], query: '$sync' });
        void federation.sync(source.endpointId).then(
          (result) => ctx.repo.update<Task>({ ...syncTask(source, result.status === 'failed' ? 'failed' : 'completed', result.error), id: task.id, output: summaryOutputs(result.types) }),
          (err: Error) => ctx.repo.update<Task>({ ...syncTask(source, 'failed', err.message), id: task.id }),
        ).catch(() => undefined); // the hub is closing: nothing left to record in
        return { status: 202, resource: task, location: `Task/${task.id}/_history/${task.meta?.versionId}` };
      },
    },
  ];
}

/** A Bundle entry as the source's record: its id is the resource id, else its urn:uuid fullUrl. */
function incomingEntry(entry: BundleEntry): IncomingEntry {
  const method = entry.request?.method;
  if (method === 'DELETE') {
    const [type, id] = (entry.request?.url ?? '').split('?')[0].replace(/^\/+/, '').split('/');
    return { type: type ?? '', sourceId: id ?? '', deleted: true };
  }
  const resource = entry.resource as Resource | undefined;
  const fromUrl = entry.fullUrl?.startsWith('urn:uuid:') ? entry.fullUrl.slice('urn:uuid:'.length) : entry.fullUrl?.split('/').pop();
  const fromRequest = method === 'PUT' ? entry.request?.url?.split('?')[0].split('/')[1] : undefined;
  return { type: resource?.resourceType ?? '', sourceId: resource?.id ?? fromRequest ?? fromUrl ?? '', resource, fullUrl: entry.fullUrl };
}

/**
 * Whose records these are: the institution client's own source, or — for an administrator
 * loading data on a source's behalf — the source every resource names in meta.source.
 */
async function pushingSource(actor: { clientId?: string; role?: string }, entries: IncomingEntry[], federation: Federation): Promise<Source> {
  if (actor.clientId) {
    const own = await federation.sources.forPushClient(actor.clientId);
    if (own) return own;
  }
  if (actor.role !== 'admin') {
    throw new Forbidden(`Client '${actor.clientId ?? '?'}' pushes for no source: register it with 'suhe sources add NAME --push-client ${actor.clientId ?? 'CLIENT_ID'} ...'`);
  }
  const named = new Set(entries.map((e) => e.resource?.meta?.source).filter((s): s is string => !!s));
  if (named.size !== 1) {
    throw new Invalid(`An administrator's $ingest must name one source in meta.source of every resource (Endpoint/<id> or the source name); found ${named.size ? [...named].join(', ') : 'none'}`);
  }
  const name = [...named][0];
  return federation.sources.get(name.replace(/^.*\bEndpoint\//, ''));
}

function syncTask(source: Source, status: Task['status'], error?: string): Task {
  return {
    resourceType: 'Task',
    status,
    intent: 'order',
    code: { coding: [{ system: FEDERATION_CODES, code: 'sync' }], text: `$sync ${source.name}` },
    focus: { reference: `Endpoint/${source.endpointId}` },
    description: `Pull sync of source ${source.name} (${source.baseUrl})`,
    ...(error ? { statusReason: { text: error } } : {}),
    ...(status !== 'in-progress' ? { executionPeriod: { end: new Date().toISOString() } } : {}),
  };
}

function summaryOutputs(types: { type: string; fetched: number; created: number; updated: number; quarantined: number; error?: string }[]): Task['output'] {
  return types.map((t) => ({
    type: { text: t.type },
    valueString: `${t.fetched} fetched, ${t.created} new, ${t.updated} changed, ${t.quarantined} quarantined${t.error ? `; ${t.error}` : ''}`,
  }));
}
