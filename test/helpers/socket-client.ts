// A WebSocket client for tests of the hub's live channels (the online visit, the duty desk):
// every frame it receives, and a way to wait for one — resolved at once when it already came.
import WebSocket from 'ws';

const WAIT_MS = 20_000;

export class SocketClient {
  readonly frames: any[] = [];
  private readonly waiters: { test: (f: any) => boolean; done: (f: any) => void }[] = [];
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString());
      this.frames.push(frame);
      for (const w of [...this.waiters]) if (w.test(frame)) (this.waiters.splice(this.waiters.indexOf(w), 1), w.done(frame));
    });
    ws.on('close', () => (this.closed = true));
  }

  static async open(url: string): Promise<SocketClient> {
    const ws = new WebSocket(url);
    await new Promise((done, fail) => (ws.once('open', done), ws.once('error', fail)));
    return new SocketClient(ws);
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  next(test: (f: any) => boolean): Promise<any> {
    const seen = this.frames.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no such frame within ${WAIT_MS} ms; got ${JSON.stringify(this.frames)}`)), WAIT_MS);
      this.waiters.push({ test, done: (f) => (clearTimeout(timer), done(f)) });
    });
  }

  untilClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((done) => this.ws.once('close', () => done()));
  }
}
