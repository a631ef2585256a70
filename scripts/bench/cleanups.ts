// What a benchmark must undo however it ends (normal end, error, signal, watchdog): child
// servers, databases, connections. Run once, newest first: a signal and the normal end may both
// ask, and two runs at once would drop a database while the other still stops the hub using it.
export class Cleanups {
  private readonly steps: (() => Promise<unknown>)[] = [];
  private running?: Promise<void>;

  constructor(private readonly say: (line: string) => void) {}

  push(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length) await this.steps.pop()!().catch((err) => this.say(`cleanup: ${(err as Error).message}`));
    })();
    return this.running;
  }
}
