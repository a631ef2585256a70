// The Writable dcmjs-dimse fills with a C-STORE data set, as it arrives, PDV by PDV. It hands the
// bytes on as an async iterable (what DicomIngest.store reads), so an object streams into the blob
// store's staging file instead of piling up in memory. Memory stays bounded: past `highWater`
// queued bytes the association's socket is paused until the store catches up (dcmjs-dimse itself
// does not wait for 'drain'). A store that fails or finishes early switches the sink to discard.
import { Writable } from 'node:stream';
import type { Socket } from 'node:net';

export class ObjectTooLarge extends Error {}

export class StoreSink extends Writable {
  private queue: Buffer[] = [];
  private queued = 0;
  private received = 0;
  private ended = false;
  private failure?: Error;
  private discarding = false;
  private wake?: () => void;
  private paused = false;

  constructor(
    private readonly socket: Socket,
    private readonly limits: { maxObjectBytes: number; highWater: number },
    head?: Buffer,
  ) {
    // A high-water mark this large keeps write() from returning false: dcmjs-dimse would await
    // one 'drain' and let later PDUs overtake the one it is working on.
    super({ highWaterMark: 1 << 30 });
    if (head) this.enqueue(head);
    // Writes after a failure are dropped, never thrown at dcmjs-dimse.
    this.on('error', () => undefined);
  }

  /** Bytes of the data set received so far. */
  get size(): number {
    return this.received;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.received += chunk.length;
    if (!this.discarding) {
      if (this.received > this.limits.maxObjectBytes) this.abort(new ObjectTooLarge(`The object exceeds the hub's limit of ${this.limits.maxObjectBytes} bytes`));
      else this.enqueue(chunk);
    }
    done();
  }

  override _final(done: (error?: Error | null) => void): void {
    this.ended = true;
    this.notify();
    done();
  }

  /** Ends the stream with an error for its reader (peer gone, too large); later bytes are dropped. */
  abort(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.detach();
  }

  /** Stops keeping bytes (the reader is gone) and lets the socket flow again. */
  detach(): void {
    this.discarding = true;
    this.queue = [];
    this.queued = 0;
    this.resumeSocket();
    this.notify();
  }

  /** The object's bytes, in order, coalesced into as few chunks as were queued. */
  async *chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.queue.length) {
        const batch = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue, this.queued);
        this.queue = [];
        this.queued = 0;
        this.resumeSocket();
        yield batch;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private enqueue(chunk: Buffer): void {
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued > this.limits.highWater && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    this.notify();
  }

  private resumeSocket(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.socket.destroyed) this.socket.resume();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
