// A $reindex runs in the hub process: if the hub stops mid-job, the next start marks its Task
// failed (saying to run it again) instead of leaving it in-progress forever.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from '@jest/globals';
import type { Task } from '@medplum/fhirtypes';
import { startTestHub } from '../helpers/hub.js';

const dataDir = mkdtempSync(join(os.tmpdir(), 'suhe-reindex-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('a reindex Task left in-progress by a stopped hub is marked failed at the next start', async () => {
  const first = await startTestHub('pglite', { dataDir });
  // The state a hub leaves when it stops mid-job: the job's Task, still in progress.
  const running: Task = {
    resourceType: 'Task',
    status: 'in-progress',
    intent: 'order',
    code: { coding: [{ system: 'urn:suhe:operation', code: 'reindex' }] },
  };
  const other: Task = { resourceType: 'Task', status: 'in-progress', intent: 'order', code: { text: 'a nurse visit' } };
  const post = async (task: Task) => (await (await first.fetch(`${first.base}/Task`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(task) })).json()) as Task;
  const job = await post(running);
  const unrelated = await post(other);
  await first.close();

  const second = await startTestHub('pglite', { dataDir });
  try {
    const read = async (id: string) => (await (await second.fetch(`${second.base}/Task/${id}`)).json()) as Task;
    const after = await read(job.id!);
    expect(after.status).toBe('failed');
    expect(after.statusReason?.text).toContain('run $reindex again');
    expect((await read(unrelated.id!)).status).toBe('in-progress');
  } finally {
    await second.close();
  }
}, 120_000);
