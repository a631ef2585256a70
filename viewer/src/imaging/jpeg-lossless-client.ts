// The page's side of the JPEG lossless worker: one worker, started on first use, decoding one
// frame at a time in order. Each decode has a time limit; past it the worker is terminated (the
// only way to stop a decoder stuck in a loop), every waiting frame fails, and the next request
// starts a fresh worker.
import type { DecodeReply, DecodeRequest } from '../workers/jpeg-lossless-protocol.js';
import { Undisplayable } from './errors.js';

const DECODE_TIMEOUT_MS = 30_000;

interface Job {
  resolve: (pixels: Uint8Array | Uint16Array) => void;
  reject: (err: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
}

export class JpegLosslessDecoder {
  private worker: Worker | undefined;
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;

  constructor(
    private readonly workerUrl: URL,
    private readonly timeoutMs = DECODE_TIMEOUT_MS,
  ) {}

  decode(frame: Uint8Array, bitsAllocated: number): Promise<Uint8Array | Uint16Array> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    // The frame alone in its own buffer, so it can be transferred.
    const buffer = frame.slice().buffer;
    const request: DecodeRequest = { id, frame: buffer, bytesPerSample: bitsAllocated <= 8 ? 1 : 2 };
    return new Promise((resolve, reject) => {
      const job: Job = { resolve, reject };
      job.timer = setTimeout(() => this.abandon(new Undisplayable('timeout')), this.timeoutMs);
      this.jobs.set(id, job);
      worker.postMessage(request, [buffer]);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerUrl);
    worker.onmessage = (event: MessageEvent<DecodeReply>) => {
      const reply = event.data;
      const job = this.jobs.get(reply.id);
      if (!job) return;
      this.jobs.delete(reply.id);
      clearTimeout(job.timer);
      if (reply.ok) job.resolve(reply.bytesPerSample === 1 ? new Uint8Array(reply.pixels) : new Uint16Array(reply.pixels));
      else job.reject(new Undisplayable('decodeFailed', { detail: reply.error }));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.abandon(new Undisplayable('decodeFailed', { detail: event.message || 'the decoder worker failed' }));
    };
    this.worker = worker;
    return worker;
  }

  /** Stops the worker and fails every frame it held. */
  private abandon(error: Error): void {
    this.worker?.terminate();
    this.worker = undefined;
    for (const job of this.jobs.values()) {
      clearTimeout(job.timer);
      job.reject(error);
    }
    this.jobs.clear();
  }
}
