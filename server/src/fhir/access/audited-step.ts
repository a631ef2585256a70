// How a module's $operation writes: refused inside a Bundle (one deliberate act in its own
// transaction), the caller's visibility settled first (on the embedded database a policy read
// inside the open transaction would wait for it), then every write and its AuditEvent (about the
// patient, naming the operation) in one transaction — so a record is never written unaudited.
import type { Resource } from '@medplum/fhirtypes';
import { Invalid } from '../errors.js';
import type { InteractionContext } from '../interactions.js';
import type { FhirRepository } from '../repository.js';
import { settleVisibility } from './enforce.js';

export interface StepWrites<T> {
  result: T;
  written: { kind: 'create' | 'update'; resource: Resource }[];
}

/** 400 unless the operation runs on its own (`repo` is the hub's repository, not a Bundle's transaction). */
export function notInBundle(repo: FhirRepository, ctx: InteractionContext, operation: string): void {
  if (ctx.repo !== repo) throw new Invalid(`${operation} is one deliberate act in its own transaction: call it on its own, not inside a Bundle`);
}

export async function auditedStep<T>(ctx: InteractionContext, patient: string, operation: string, work: (tx: FhirRepository) => Promise<StepWrites<T>>): Promise<T> {
  await settleVisibility(ctx);
  return ctx.repo.transaction(async (tx) => {
    const { result, written } = await work(tx);
    for (const { kind, resource } of written) {
      const record = { kind, type: resource.resourceType, id: resource.id, versionId: resource.meta?.versionId, outcome: 'success' as const, patients: [patient], query: operation };
      await ctx.audit?.writeIn(tx, ctx.access.actor, record);
    }
    return result;
  });
}
