// The federation module as the rest of the hub sees it: the source registry, the ingest pipeline
// (with the master patient index), pull sync on demand or on each source's schedule, and the
// links search needs. One sync per source at a time in this process; other sources go on.
import type { Logger } from '../audit/logger.js';
import type { Database } from '../db/database.js';
import type { AuditTrail } from '../fhir/access/audit-trail.js';
import type { PatientCompartment } from '../fhir/access/compartment.js';
import type { PatientLinks } from '../fhir/module-operations.js';
import type { FhirRepository } from '../fhir/repository.js';
import type { R4Validator } from '../fhir/validation.js';
import { FederationIngest } from './ingest.js';
import { MasterPatientIndex } from './mpi/master-patient-index.js';
import { pullSource, type PullOptions, type PullResult } from './pull.js';
import { SourceRegistry } from './source-registry.js';

export interface FederationDeps {
  db: Database;
  repo: FhirRepository;
  validator: R4Validator;
  compartment: PatientCompartment;
  audit?: AuditTrail;
  logger: Logger;
}

// How often the scheduler looks for sources that are due.
const SCHEDULE_TICK_MS = 30_000;

export class Federation {
  readonly sources: SourceRegistry;
  readonly mpi = new MasterPatientIndex();
  readonly ingest: FederationIngest;
  private readonly running = new Map<string, Promise<PullResult>>();
  private readonly lastScheduled = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: FederationDeps) {
    this.sources = new SourceRegistry(deps.repo, deps.db);
    this.ingest = new FederationIngest({ ...deps, mpi: this.mpi });
  }

  /** Pulls one source now; joins the pull already running for it, if any. */
  async sync(nameOrId: string, options: PullOptions = {}): Promise<PullResult> {
    const source = await this.sources.get(nameOrId);
    const running = this.running.get(source.endpointId);
    if (running) return running;
    const pull = (async () => pullSource(source, await this.sources.secret(source), this.ingest, this.deps.db, options))();
    this.running.set(source.endpointId, pull);
    try {
      return await pull;
    } finally {
      this.running.delete(source.endpointId);
    }
  }

  /** Every active source; one failing does not stop the others. */
  async syncAll(options: PullOptions = {}): Promise<PullResult[]> {
    const active = (await this.sources.list()).sources.filter((s) => s.status === 'active');
    const results = await Promise.allSettled(active.map((s) => this.sync(s.endpointId, options)));
    return results.map((r, i) => (r.status === 'fulfilled' ? r.value : { source: active[i].name, status: 'failed' as const, types: [], seconds: 0, error: (r.reason as Error).message }));
  }

  /** Starts pulling each source with a schedule every `scheduleMinutes`. */
  startScheduler(): void {
    this.timer = setInterval(() => void this.runDue(), SCHEDULE_TICK_MS);
    this.timer.unref();
  }

  private async runDue(): Promise<void> {
    try {
      const { sources } = await this.sources.list();
      const now = Date.now();
      for (const source of sources) {
        if (source.status !== 'active' || source.scheduleMinutes <= 0) continue;
        const last = this.lastScheduled.get(source.endpointId) ?? 0;
        if (now - last < source.scheduleMinutes * 60_000) continue;
        this.lastScheduled.set(source.endpointId, now);
        void this.sync(source.endpointId, { onProgress: (line) => this.deps.logger.debug(line) })
          .then((r) => this.deps.logger.info('scheduled sync finished', { source: r.source, status: r.status, seconds: r.seconds, error: r.error }))
          .catch((err: Error) => this.deps.logger.error('scheduled sync failed', { source: source.name, error: err.message }));
      }
    } catch (err) {
      this.deps.logger.error('the sync scheduler could not list sources', { error: (err as Error).message });
    }
  }

  /** Waits for running pulls (hub shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.running.values()]);
  }

  /** The MPI's golden records and their members, for search. */
  patientLinks(): PatientLinks {
    return { members: (ids) => this.mpi.members(this.deps.db, ids) };
  }

  /** The person (golden record id, else the record's own id) of each Patient record: for counting people, not records. */
  personKeys(patientIds: readonly string[]): Promise<Map<string, string>> {
    return this.mpi.personKeys(this.deps.db, patientIds);
  }

  /** Every Patient record of the same people as these (for access: a resident's records from every source are theirs). */
  samePerson(patientIds: readonly string[]): Promise<string[]> {
    return this.mpi.samePerson(this.deps.db, patientIds);
  }
}
