// How each insurance operation writes: refused inside a Bundle (one deliberate act in its own
// transaction), the caller's visibility settled first (on the embedded database a policy read
// inside the open transaction would wait for it), then every write and its AuditEvent (about the
// patient, naming the operation) in one transaction.
import type { Resource } from '@medplum/fhirtypes';
import { settleVisibility } from '../../fhir/access/enforce.js';
import { Invalid } from '../../fhir/errors.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { FhirRepository } from '../../fhir/repository.js';
import type { HospitalDeps } from '../index.js';

export function notInBundle(deps: HospitalDeps, ctx: InteractionContext, operation: string): void {
  if (ctx.repo !== deps.repo) throw new Invalid(`${operation} is one deliberate act in its own transaction: call it on its own, not inside a Bundle`);
}

export async function insuranceStep<T>(ctx: InteractionContext, patient: string, operation: string, work: (tx: FhirRepository) => Promise<{ result: T; written: { kind: 'create' | 'update'; resource: Resource }[] }>): Promise<T> {
  await settleVisibility(ctx);
  return ctx.repo.transaction(async (tx) => {
    const { result, written } = await work(tx);
    for (const { kind, resource } of written) {
      const record = { kind, type: resource.resourceType, id: resource.id, versionId: resource.meta?.versionId, outcome: 'success' as const, patients: [patient], query: operation };
      for (const event of ctx.audit?.eventsFor(ctx.access.actor, record) ?? []) await tx.create(event, undefined, { trusted: true });
    }
    return result;
  });
}
