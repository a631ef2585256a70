// The audit trail: turns what happened into IHE BALP AuditEvents (balp.ts) and stores them.
// Writes store their AuditEvents in their own transaction (writeIn); reads, searches, denials
// and sign-ins are queued here and stored together every few milliseconds, so auditing a read
// costs a share of one multi-row insert instead of a round trip of its own. close() (and the
// interval) flush the queue; a crash can lose the last ~100 ms of read records, never a write's.
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import type { Actor } from '../fhir/access/access-control.js';
import type { AuditRecord, AuditStore, AuditTrail } from '../fhir/access/audit-trail.js';
import { buildAuditEvent, type AuditAction, type AuditInput } from './balp.js';
import type { Logger } from './logger.js';

/**
 * What the queue stores: an AuditEvent, or a family of them that differ only in the patient they
 * name (`template` names PATIENT_SLOT; one event per id in `patients`), which the store can write
 * from one serialised and indexed template (FhirRepository.createFamily).
 */
export type QueuedAudit = AuditEvent | { template: AuditEvent; patients: readonly string[] };
export type StoreAuditEvents = (items: QueuedAudit[]) => Promise<void>;

/** Stands for the patient in a family's template; an id no resource has. */
export const PATIENT_SLOT = 'suhe-audit-patient-slot';
export type AuthEvent = Omit<AuditInput, 'observer' | 'recorded'>;

const ACTION_OF: Record<AuditRecord['kind'], AuditAction> = {
  read: 'read',
  vread: 'vread',
  'history-instance': 'history',
  'history-type': 'history',
  'history-system': 'history',
  'search-type': 'search',
  'search-system': 'search',
  create: 'create',
  update: 'update',
  patch: 'patch',
  delete: 'delete',
  operation: 'operation',
};

export interface AuditTrailOptions {
  observer: { display: string; base: string };
  flushMs?: number;
  maxBatch?: number;
}

export class AuditTrailWriter implements AuditTrail {
  private queue: QueuedAudit[] = [];
  /** AuditEvents in the queue, a family counting as its members. */
  private queued = 0;
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly maxBatch: number;

  constructor(
    private readonly store: StoreAuditEvents,
    private readonly logger: Logger,
    private readonly options: AuditTrailOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 200;
    this.timer = setInterval(() => void this.flush(), options.flushMs ?? 100);
    this.timer.unref();
  }

  record(actor: Actor, record: AuditRecord): void {
    for (const item of this.itemsFor(actor, record)) this.enqueue(item);
  }

  async writeIn(tx: AuditStore, actor: Actor, record: AuditRecord): Promise<void> {
    await storeAuditItems(tx, this.itemsFor(actor, record));
  }

  /**
   * The events of eventsFor, with those that differ only in their patient as one family. A
   * patient seen with a purpose of its own (actorParts) gets an event of its own.
   */
  private itemsFor(actor: Actor, record: AuditRecord): QueuedAudit[] {
    if (record.patients.length <= 1) return [this.event(actor, record)];
    const own = actor.purpose ? [] : record.patients.filter((p) => actor.purposeByPatient?.[p]);
    const shared = record.patients.filter((p) => !own.includes(p));
    const items: QueuedAudit[] = own.map((patient) => this.event(actor, { ...record, patients: [patient], query: undefined }));
    if (shared.length === 1) items.push(this.event(actor, { ...record, patients: shared, query: undefined }));
    if (shared.length > 1) items.push({ template: this.event(actor, { ...record, patients: [PATIENT_SLOT], query: undefined }), patients: shared });
    items.push(this.event(actor, { ...record, patients: [] }));
    return items;
  }

  /**
   * One event per patient concerned (BALP's PatientQuery pattern), so that what a resident can
   * list of their own compartment never names another patient. When several patients are
   * concerned, the query text (which may name any of them) goes only into one more event that is
   * in no patient's compartment, for auditors. What record() and writeIn() store, event by event
   * (they write the per-patient ones as a family); tests compare them with this.
   */
  eventsFor(actor: Actor, record: AuditRecord): Resource[] {
    if (record.patients.length <= 1) return [this.event(actor, record)];
    return [
      ...record.patients.map((patient) => this.event(actor, { ...record, patients: [patient], query: undefined })),
      this.event(actor, { ...record, patients: [] }),
    ];
  }

  private event(actor: Actor, record: AuditRecord): AuditEvent {
    const action = ACTION_OF[record.kind];
    const denied = record.outcome === 'denied';
    return buildAuditEvent({
      action: denied ? 'denied' : action,
      deniedInteraction: denied ? action : undefined,
      outcome: record.outcome === 'success' ? 'success' : denied ? 'minor-failure' : 'serious-failure',
      outcomeDescription: record.detail,
      recorded: new Date().toISOString(),
      observer: this.options.observer,
      ...actorParts(actor, record.patients),
      resource: record.type ? { type: record.type, id: record.id, versionId: record.versionId } : undefined,
      patients: [...record.patients],
      query: record.query !== undefined ? { method: 'GET', url: `${record.type ?? ''}?${record.query}` } : undefined,
      dicomEvent: record.dicomEvent,
    });
  }

  /** Sign-in, token and other authorization-server events. */
  recordAuth(event: AuthEvent): void {
    this.enqueue(buildAuditEvent({ ...event, observer: this.options.observer, recorded: new Date().toISOString() }));
  }

  /** Stores everything queued so far (waits for a flush in progress first). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      while (this.queue.length) {
        const batch = this.takeBatch();
        try {
          await this.store(batch);
        } catch (err) {
          // Keep them for the next attempt rather than lose audit records.
          this.queue.unshift(...batch);
          this.queued += batch.reduce((n, item) => n + size(item), 0);
          this.logger.error('audit events could not be stored; will retry', { error: (err as Error).message, queued: this.queued });
          return;
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private enqueue(item: QueuedAudit): void {
    this.queue.push(item);
    this.queued += size(item);
    if (this.queued >= this.maxBatch) void this.flush();
  }

  /** Queued items up to maxBatch AuditEvents (at least one item, however large its family). */
  private takeBatch(): QueuedAudit[] {
    let events = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || events + size(this.queue[n]) <= this.maxBatch)) events += size(this.queue[n++]);
    this.queued -= events;
    return this.queue.splice(0, n);
  }
}

/** Stores queued items in `store` (one transaction, if the caller gives one). */
export async function storeAuditItems(store: AuditStore, items: readonly QueuedAudit[]): Promise<void> {
  for (const item of items) {
    if ('template' in item) await store.createFamily(item.template, PATIENT_SLOT, item.patients, { trusted: true });
    else await store.create(item, undefined, { trusted: true });
  }
}

function size(item: QueuedAudit): number {
  return 'template' in item ? item.patients.length : 1;
}

function actorParts(actor: Actor, patients: readonly string[]): Pick<AuditInput, 'client' | 'user' | 'tokenId' | 'purposeOfUse' | 'reason'> {
  // An event about one patient the caller sees through a relationship with a purpose of its own
  // (a teleconsultation) carries that purpose, unless the caller declared one (break the glass).
  const purpose = actor.purpose ?? (patients.length === 1 ? actor.purposeByPatient?.[patients[0]] : undefined);
  return {
    client: actor.clientId ? { id: actor.clientId, address: actor.address } : undefined,
    user: actor.user ? { reference: actor.user, role: actor.role } : undefined,
    tokenId: actor.tokenId,
    purposeOfUse: purpose ? { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: purpose.code } : undefined,
    reason: purpose?.reason,
  };
}
