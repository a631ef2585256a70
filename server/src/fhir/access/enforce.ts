// How the interactions apply the AccessControl port: the compartment check behind reads, the
// restriction added to searches, the write check run inside the write's transaction, and the
// audit records of each. Denied reads look like missing resources (404), as the spec allows, so
// a caller cannot probe for ids; the denial is still audited.
import type { Resource } from '@medplum/fhirtypes';
import { Forbidden, Gone, MethodNotAllowed, NotFound } from '../errors.js';

/** AuditEvents are written by the hub alone; through the API they are read-only (append-only store). */
export const READ_ONLY_TYPES = new Set(['AuditEvent']);
import type { FhirRepository } from '../repository.js';
import { typesReached, type SearchRequest } from '../search/model.js';
import { canSee, PATIENTLESS_TYPES, type AccessKind } from './access-control.js';
import type { AuditRecord } from './audit-trail.js';
import type { InteractionContext } from '../interactions.js';

/**
 * Works out (and caches) which patients the caller may see before a transaction opens: the policy
 * reads through the hub's repository, and inside an open transaction on the embedded database
 * that read would wait for the transaction that waits for it.
 */
export async function settleVisibility(ctx: InteractionContext): Promise<void> {
  await ctx.access.visiblePatients();
}

/** check() with the denial audited. */
export function allow(ctx: InteractionContext, kind: AccessKind, type: string | undefined): void {
  try {
    ctx.access.check(kind, type);
  } catch (err) {
    if (err instanceof Forbidden) audit(ctx, { kind, type, outcome: 'denied', detail: err.message, patients: [] });
    throw err;
  }
}

/** The patients of type/id when the caller may see it; NotFound (audited as a denial) when not. */
export async function visiblePatientsOf(ctx: InteractionContext, kind: AccessKind, type: string, id: string): Promise<string[]> {
  allow(ctx, kind, type);
  if (!ctx.compartment.includes(type)) return [];
  return checkVisible(ctx, kind, type, id, await ctx.repo.compartmentPatients(type, id, ctx.compartment.params(type)));
}

/** NotFound (audited as a denial) unless the caller may see a resource in these patients' compartments. */
export async function checkVisible(ctx: InteractionContext, kind: AccessKind, type: string, id: string, patients: string[]): Promise<string[]> {
  if (!ctx.compartment.includes(type)) return patients;
  const visible = await ctx.access.visiblePatients();
  if (!canSee(visible, patients) && !(patients.length === 0 && PATIENTLESS_TYPES.has(type))) {
    audit(ctx, { kind, type, id, outcome: 'denied', detail: 'outside the patients the caller may see', patients });
    throw new NotFound(`${type}/${id} not found`);
  }
  return patients;
}

/**
 * Limits a search to the caller's patients: the restriction applies to every Patient-compartment
 * type the search reaches (the searched types, chains, `_has`, includes). Each type reached must
 * also be searchable by the caller at all (scopes, role).
 */
export async function restrictSearch(ctx: InteractionContext, request: SearchRequest): Promise<void> {
  // The searched types themselves were checked by the interaction (search, or the conditional write).
  const searched = request.types ?? [request.resourceType];
  for (const type of typesReached(request)) if (!searched.includes(type)) allow(ctx, 'search-type', type);
  const visible = await ctx.access.visiblePatients();
  if (visible === 'all') return;
  const params = ctx.compartment.paramMap();
  request.restriction = Array.isArray(visible)
    ? { params, patients: visible as readonly string[], openWhenUnlinked: [...PATIENTLESS_TYPES] }
    : { params, patients: (visible as { allExcept: readonly string[] }).allExcept, except: true };
}

/** Whether the caller may read resources of `type` at all (for what `_include` may add). */
export function canRead(ctx: InteractionContext, type: string): boolean {
  try {
    ctx.access.check('search-type', type);
    return true;
  } catch (err) {
    if (err instanceof Forbidden) return false;
    throw err;
  }
}

/** History across a type or the whole server cannot be limited per patient: only unrestricted callers. */
export async function requireUnrestricted(ctx: InteractionContext, kind: AccessKind, type: string | undefined): Promise<void> {
  allow(ctx, kind, type);
  if ((await ctx.access.visiblePatients()) === 'all') return;
  const detail = `${kind} is only available to callers not limited to particular patients; search instead`;
  audit(ctx, { kind, type, outcome: 'denied', detail, patients: [] });
  throw new Forbidden(detail);
}

/**
 * Runs a write in one transaction with its audit event: `work` writes and returns the stored
 * resource (or undefined for a delete of nothing) with what it replaced; the policy sees both
 * before commit, so a refused write leaves nothing behind.
 */
export async function auditedWrite<T>(
  ctx: InteractionContext,
  kind: 'create' | 'update' | 'patch' | 'delete',
  type: string,
  work: (repo: FhirRepository) => Promise<{ result: T; stored?: Resource; id?: string; previous?: Resource; previousPatients?: string[] }>,
): Promise<T> {
  allow(ctx, kind, type);
  if (READ_ONLY_TYPES.has(type)) throw new MethodNotAllowed(`${type} resources are written by the hub itself and cannot be changed through the API`);
  await settleVisibility(ctx);
  return ctx.repo.transaction(async (repo) => {
    const { result, stored, id, previous, previousPatients = [] } = await work(repo);
    const nextPatients = stored && kind !== 'delete' ? ctx.compartment.patientsOf(stored) : [];
    for (const rule of ctx.writeRules ?? []) await rule(kind, { type, previous, next: kind === 'delete' ? undefined : stored, actor: ctx.access.actor, repo });
    try {
      await ctx.access.checkWrite(kind, { type, next: kind === 'delete' ? undefined : stored, nextPatients, previous, previousPatients });
    } catch (err) {
      if (err instanceof Forbidden) audit(ctx, { kind, type, id, outcome: 'denied', detail: err.message, patients: [...new Set([...previousPatients, ...nextPatients])] });
      throw err;
    }
    if (ctx.audit) {
      const patients = [...new Set([...previousPatients, ...nextPatients])];
      const record: AuditRecord = { kind, type, id: stored?.id ?? id, versionId: stored?.meta?.versionId, outcome: 'success', patients };
      await ctx.audit.writeIn(repo, ctx.access.actor, record);
    }
    return result;
  });
}

/** The current version and its patients (before an update or delete), for the write check. */
export async function currentVersion(ctx: InteractionContext, repo: FhirRepository, type: string, id: string): Promise<{ previous?: Resource; previousPatients: string[] }> {
  const previous = await repo.read(type, id).catch((err) => {
    if (err instanceof NotFound || err instanceof Gone) return undefined;
    throw err;
  });
  if (!previous) return { previousPatients: [] };
  return { previous, previousPatients: ctx.compartment.includes(type) ? ctx.compartment.patientsOf(previous) : [] };
}

/** An institution's writes carry its source (the basis of "writes only what it is the source of"). */
export function stampSource<T extends Resource>(ctx: InteractionContext, resource: T): T {
  const source = ctx.access.actor.source;
  return source ? { ...resource, meta: { ...resource.meta, source } } : resource;
}

export function audit(ctx: InteractionContext, record: AuditRecord): void {
  ctx.audit?.record(ctx.access.actor, record);
}
