// A few worker threads that parse objects and build their metadata (describe-instance.ts), so
// STOW-RS and C-STORE use more than the event loop's one core. Where a worker cannot run (it
// failed to start, or died), the work is done in-thread instead: slower, never lost.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../audit/logger.js';
import { describeInstance, type Description } from './describe-instance.js';

interface Task {
  resolve: (result: Description) => void;
  reject: (error: Error) => void;
}

class PoolWorker {
  readonly tasks = new Map<number, Task>();
  constructor(readonly worker: Worker) {}
}

export class ParsePool {
  private readonly workers: PoolWorker[] = [];
  private next = 0;
  private nextId = 1;
  private broken = false;
  private failures = 0;

  constructor(
    private readonly logger: Logger,
    private readonly size = Math.max(1, availableParallelism() - 1),
  ) {}

  async describe(bytes: Uint8Array): Promise<Description> {
    const worker = this.pick();
    if (!worker) return describeInstance(bytes);
    const id = this.nextId++;
    // A copy of exactly these bytes, handed over (not cloned again) to the worker.
    const copy = new Uint8Array(bytes);
    try {
      return await new Promise<Description>((resolve, reject) => {
        worker.tasks.set(id, { resolve, reject });
        worker.worker.postMessage({ id, bytes: copy }, [copy.buffer]);
      });
    } catch {
      return describeInstance(bytes);
    }
  }

  /** Workers alive now (0 when parsing has fallen back to the main thread). */
  get workerCount(): number {
    return this.workers.length;
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  private pick(): PoolWorker | undefined {
    if (this.broken) return undefined;
    while (this.workers.length < this.size) {
      const started = this.start();
      if (!started) return undefined;
      this.workers.push(started);
    }
    const worker = this.workers[this.next++ % this.workers.length];
    return worker;
  }

  private start(): PoolWorker | undefined {
    let worker: Worker;
    try {
      // The hub runs its TypeScript through tsx; the entry registers that loader in the worker.
      worker = new Worker(new URL('./parse-worker-entry.mjs', import.meta.url));
    } catch (err) {
      this.broken = true;
      this.logger.warn('DICOM parse workers unavailable; parsing on the main thread', { error: (err as Error).message });
      return undefined;
    }
    worker.unref();
    const entry = new PoolWorker(worker);
    worker.on('message', ({ id, result, error }: { id: number; result?: Description; error?: string }) => {
      const task = entry.tasks.get(id);
      entry.tasks.delete(id);
      if (!task) return;
      if (result) task.resolve(result);
      else task.reject(new Error(error ?? 'parse worker failed'));
    });
    worker.on('error', (err) => this.retire(entry, err));
    worker.on('exit', (code) => this.retire(entry, new Error(`parse worker exited with code ${code}`)));
    return entry;
  }

  /** A dead worker's tasks are done in-thread; a fresh worker replaces it on the next call. */
  private retire(entry: PoolWorker, error: Error): void {
    const at = this.workers.indexOf(entry);
    if (at < 0) return;
    this.workers.splice(at, 1);
    // Workers that keep dying (no loader, no memory) are given up on: parse in-thread from then on.
    if (++this.failures >= 3) this.broken = true;
    if (entry.tasks.size) this.logger.warn('a DICOM parse worker stopped; finishing its work on the main thread', { error: error.message });
    for (const [, task] of entry.tasks) task.reject(error);
    entry.tasks.clear();
  }
}
