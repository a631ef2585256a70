// The parse pool: objects described on worker threads come out exactly as described in-thread,
// refusals included, and a worker that dies costs nothing but time.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '../../server/src/audit/logger.js';
import { describeInstance } from '../../server/src/imaging/describe-instance.js';
import { ParsePool } from '../../server/src/imaging/parse-pool.js';
import { DICOM_DATA, dicomFiles } from '../helpers/dicom.js';

describe('ParsePool', () => {
  const pool = new ParsePool(createLogger('error'), 2);
  afterAll(() => pool.close());

  it('describes objects on worker threads exactly as in-thread, refusals included', async () => {
    const files = [...dicomFiles('series/ct-10').slice(0, 3), `${DICOM_DATA}/syntaxes/pydicom/emri_small_big_endian.dcm`, `${DICOM_DATA}/malformed/oob-rows-65535.dcm`];
    const results = await Promise.all(files.map((f) => pool.describe(readFileSync(f))));
    expect(pool.workerCount).toBe(2);
    expect(results).toEqual(files.map((f) => describeInstance(readFileSync(f))));
    expect(results.at(-1)).toMatchObject({ ok: false, reason: expect.stringMatching(/Pixel Data holds/) });
  });

  it('goes on when a worker dies: its work is redone, a new worker takes its place', async () => {
    const bytes = readFileSync(dicomFiles('series/ct-10')[0]);
    await pool.describe(bytes);
    const workers = (pool as unknown as { workers: { worker: { terminate(): Promise<number> } }[] }).workers;
    const pending = pool.describe(bytes);
    await Promise.all(workers.map((w) => w.worker.terminate()));
    expect(await pending).toEqual(describeInstance(bytes));
    expect(await pool.describe(bytes)).toEqual(describeInstance(bytes));
    expect(pool.workerCount).toBeGreaterThan(0);
  });
});
