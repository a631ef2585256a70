// `POST [type]/$reindex`: recomputes the index rows of every resource of a type (after a new
// SearchParameter), in the background, in batches by creation order. Progress is a Task the
// caller can poll (`GET Task/{id}`): in-progress with processed/total outputs, then completed
// or failed with the reason.
import type { Task } from '@medplum/fhirtypes';
import { audit, requireUnrestricted } from './access/enforce.js';
import type { InteractionContext, InteractionResult } from './interactions.js';
import type { FhirRepository } from './repository.js';
import { parseSearchRequest } from './search/parse.js';

const BATCH = 500;
const REINDEX_CODE = { system: 'urn:suhe:operation', code: 'reindex' };

export async function startReindex(ctx: InteractionContext, type: string): Promise<InteractionResult> {
  await requireUnrestricted(ctx, 'operation', type);
  const total = await ctx.repo.countOfType(type);
  const task = await ctx.repo.create<Task>(progressTask(type, 'in-progress', 0, total));
  audit(ctx, { kind: 'operation', type, outcome: 'success', patients: [], query: '$reindex' });
  void runReindex(ctx.repo, type, task, total);
  return { status: 202, resource: task, location: `Task/${task.id}/_history/${task.meta?.versionId}` };
}

async function runReindex(repo: FhirRepository, type: string, task: Task, total: number): Promise<void> {
  let processed = 0;
  let after = '0';
  let lastReport = Date.now();
  try {
    for (;;) {
      const batch = await repo.batchAfter(type, after, BATCH);
      if (batch.length === 0) break;
      await repo.reindex(batch.map((b) => b.resource));
      processed += batch.length;
      after = batch[batch.length - 1].seq;
      if (Date.now() - lastReport > 1000) {
        lastReport = Date.now();
        task = (await repo.update<Task>({ ...progressTask(type, 'in-progress', processed, total), id: task.id })).resource;
      }
    }
    await repo.update<Task>({ ...progressTask(type, 'completed', processed, Math.max(total, processed)), id: task.id });
  } catch (err) {
    await repo
      .update<Task>({ ...progressTask(type, 'failed', processed, total), id: task.id, statusReason: { text: (err as Error).message } })
      .catch(() => undefined); // the database itself is gone (hub closing): nothing left to record in
  }
}

/**
 * At start: a $reindex that was running when the hub stopped will never finish; its Task says so
 * (failed, with what to do) instead of staying in-progress forever.
 */
export async function failInterruptedReindexes(repo: FhirRepository): Promise<number> {
  const query: [string, string][] = [['code', `${REINDEX_CODE.system}|${REINDEX_CODE.code}`], ['status', 'in-progress']];
  const request = parseSearchRequest('Task', query, repo.registry, { defaultCount: 100, maxCount: 100, defaultTotal: 'none' });
  const { resources } = await repo.search(request);
  for (const task of resources as Task[]) {
    await repo.update<Task>({ ...task, status: 'failed', statusReason: { text: 'The hub stopped before the reindex finished; run $reindex again' } });
  }
  return resources.length;
}

function progressTask(type: string, status: Task['status'], processed: number, total: number): Task {
  const task: Task = {
    resourceType: 'Task',
    status,
    intent: 'order',
    code: { coding: [REINDEX_CODE], text: `$reindex ${type}` },
    description: `Recompute the search index of every ${type}`,
    input: [{ type: { text: 'resourceType' }, valueString: type }],
    output: [
      { type: { text: 'processed' }, valueInteger: processed },
      { type: { text: 'total' }, valueInteger: total },
    ],
    ...(status !== 'in-progress' ? { executionPeriod: { end: new Date().toISOString() } } : {}),
  };
  return task;
}
