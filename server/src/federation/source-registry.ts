// The registry of sources: add, list, find and remove them (as Organization + Endpoint resources),
// keep their credentials out of FHIR, and report each one's last runs and quarantined records.
import type { Endpoint, Organization } from '@medplum/fhirtypes';
import type { SqlExecutor } from '../db/database.js';
import { Invalid, NotFound } from '../fhir/errors.js';
import type { FhirRepository } from '../fhir/repository.js';
import { parseSearchRequest } from '../fhir/search/parse.js';
import { DEFAULT_SOURCE_TYPES, SOURCE_DEFAULTS, SOURCE_TAG, checkBaseUrl, checkSourceName, isSourceEndpoint, sourceEndpoint, sourceFromEndpoint, type Source, type SourceAuth } from './source.js';

export interface SourceInput {
  name: string;
  baseUrl: string;
  /** An existing `Organization/<id>`, or the name of a new one. */
  organization?: string;
  organizationName?: string;
  types?: string[];
  auth?: SourceAuth;
  clientId?: string;
  scope?: string;
  /** Client secret (client-credentials) or token (bearer); stored apart from FHIR. */
  secret?: string;
  scheduleMinutes?: number;
  concurrency?: number;
  ratePerSecond?: number;
  pageSize?: number;
  pushClient?: string;
  /** Pull by Bulk Data $export when the source offers it (default true). */
  bulk?: boolean;
}

export interface SourceStatus {
  source: Source;
  mapped: number;
  quarantined: number;
  lastRuns: { kind: string; status: string; startedAt: string; finishedAt?: string; fetched: number; stored: number; unchanged: number; deleted: number; quarantined: number; error?: string }[];
  checkpoints: { type: string; lastUpdated?: string }[];
  recentQuarantine: { type?: string; sourceId?: string; reason: string; receivedAt: string }[];
}

const LIMITS = { defaultCount: 200, maxCount: 1000, defaultTotal: 'none' as const };

export class SourceRegistry {
  constructor(
    private readonly repo: FhirRepository,
    private readonly db: SqlExecutor,
  ) {}

  async add(input: SourceInput): Promise<Source> {
    checkSourceName(input.name);
    checkBaseUrl(input.baseUrl, `source ${input.name}`);
    const auth = input.auth ?? SOURCE_DEFAULTS.auth;
    if (auth === 'client-credentials' && (!input.clientId || !input.secret)) throw new Invalid(`source ${input.name}: client-credentials needs a client id and a secret`);
    if (auth === 'bearer' && !input.secret) throw new Invalid(`source ${input.name}: bearer auth needs a token`);
    for (const t of input.types ?? []) if (!this.repo.registry.isResourceType(t)) throw new Invalid(`source ${input.name}: '${t}' is not a FHIR resource type`);
    if (await this.find(input.name)) throw new Invalid(`A source named '${input.name}' already exists (suhe sources remove ${input.name} first)`);
    return this.repo.transaction(async (tx) => {
      let organization = input.organization;
      if (!organization?.startsWith('Organization/')) {
        const created = await tx.create<Organization>({ resourceType: 'Organization', active: true, name: input.organizationName ?? input.organization ?? input.name });
        organization = `Organization/${created.id}`;
      }
      const endpoint = await tx.create(
        sourceEndpoint({
          name: input.name,
          organization,
          baseUrl: input.baseUrl.replace(/\/+$/, ''),
          status: 'active',
          types: input.types?.length ? input.types : DEFAULT_SOURCE_TYPES,
          auth,
          clientId: input.clientId,
          scope: input.scope,
          scheduleMinutes: input.scheduleMinutes ?? SOURCE_DEFAULTS.scheduleMinutes,
          concurrency: input.concurrency ?? SOURCE_DEFAULTS.concurrency,
          ratePerSecond: input.ratePerSecond ?? SOURCE_DEFAULTS.ratePerSecond,
          pageSize: input.pageSize ?? SOURCE_DEFAULTS.pageSize,
          pushClient: input.pushClient,
          bulk: input.bulk ?? SOURCE_DEFAULTS.bulk,
        }),
      );
      if (input.secret) {
        await (await tx.sql()).query(
          `insert into fed_credential (endpoint_id, secret) values ($1, $2) on conflict (endpoint_id) do update set secret = excluded.secret, updated_at = now()`,
          [endpoint.id, input.secret],
        );
      }
      return sourceFromEndpoint(endpoint);
    });
  }

  /** Every source Endpoint, active or not; one that cannot be read is reported, not skipped silently. */
  async list(): Promise<{ sources: Source[]; problems: string[] }> {
    const sources: Source[] = [];
    const problems: string[] = [];
    for (const endpoint of await this.endpoints()) {
      try {
        sources.push(sourceFromEndpoint(endpoint));
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    return { sources: sources.sort((a, b) => a.name.localeCompare(b.name)), problems };
  }

  /** By name or Endpoint id. */
  async find(nameOrId: string): Promise<Source | undefined> {
    const endpoint = (await this.endpoints()).find((e) => e.name === nameOrId || e.id === nameOrId || `Endpoint/${e.id}` === nameOrId);
    return endpoint ? sourceFromEndpoint(endpoint) : undefined;
  }

  async get(nameOrId: string): Promise<Source> {
    const source = await this.find(nameOrId);
    if (!source) throw new NotFound(`No source named '${nameOrId}' (suhe sources list shows them)`);
    return source;
  }

  /** The source an institution client pushes for. */
  async forPushClient(clientId: string): Promise<Source | undefined> {
    return (await this.list()).sources.find((s) => s.pushClient === clientId && s.status === 'active');
  }

  /** Removes the Endpoint and its credential; what was stored from it stays, with its Provenance. */
  async remove(nameOrId: string): Promise<Source> {
    const source = await this.get(nameOrId);
    await this.repo.transaction(async (tx) => {
      await tx.delete('Endpoint', source.endpointId);
      await (await tx.sql()).query('delete from fed_credential where endpoint_id = $1', [source.endpointId]);
    });
    return source;
  }

  async secret(source: Source): Promise<string | undefined> {
    const [row] = await this.db.query<{ secret: string }>('select secret from fed_credential where endpoint_id = $1', [source.endpointId]);
    return row?.secret;
  }

  async status(nameOrId: string): Promise<SourceStatus> {
    const source = await this.get(nameOrId);
    const id = source.endpointId;
    const [counts] = await this.db.query<{ mapped: number; quarantined: number }>(
      `select (select count(*) from fed_map where endpoint_id = $1 and arrived and not deleted)::int as mapped,
              (select count(*) from fed_quarantine where endpoint_id = $1)::int as quarantined`,
      [id],
    );
    const runs = await this.db.query<{ kind: string; status: string; started_at: Date; finished_at: Date | null; fetched: number; stored: number; unchanged: number; deleted: number; quarantined: number; error: string | null }>(
      'select * from fed_run where endpoint_id = $1 order by id desc limit 5',
      [id],
    );
    const checkpoints = await this.db.query<{ resource_type: string; last_updated: string | null }>(
      'select resource_type, last_updated from fed_checkpoint where endpoint_id = $1 order by resource_type',
      [id],
    );
    const quarantine = await this.db.query<{ resource_type: string | null; source_id: string | null; outcome: { issue?: { diagnostics?: string }[] }; received_at: Date }>(
      'select resource_type, source_id, outcome, received_at from fed_quarantine where endpoint_id = $1 order by id desc limit 10',
      [id],
    );
    return {
      source,
      mapped: Number(counts.mapped),
      quarantined: Number(counts.quarantined),
      lastRuns: runs.map((r) => ({
        kind: r.kind, status: r.status, startedAt: new Date(r.started_at).toISOString(), finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : undefined,
        fetched: r.fetched, stored: r.stored, unchanged: r.unchanged, deleted: r.deleted, quarantined: r.quarantined, error: r.error ?? undefined,
      })),
      checkpoints: checkpoints.map((c) => ({ type: c.resource_type, lastUpdated: c.last_updated ?? undefined })),
      recentQuarantine: quarantine.map((q) => ({
        type: q.resource_type ?? undefined, sourceId: q.source_id ?? undefined,
        reason: (q.outcome.issue ?? []).map((i) => i.diagnostics).filter(Boolean).join('; ') || 'invalid', receivedAt: new Date(q.received_at).toISOString(),
      })),
    };
  }

  private async endpoints(): Promise<Endpoint[]> {
    const request = parseSearchRequest('Endpoint', [['_tag', `${SOURCE_TAG.system}|${SOURCE_TAG.code}`]], this.repo.registry, LIMITS);
    return ((await this.repo.search(request)).resources as Endpoint[]).filter(isSourceEndpoint);
  }
}
