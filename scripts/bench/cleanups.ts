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

/**
 * A benchmark's end, however it comes: a failure is reported (unless a signal caused it) and
 * makes the exit code 1; the cleanups run in every case.
 */
export async function runToEnd(main: () => Promise<void>, cleanups: Cleanups, say: (line: string) => void, interrupted: () => boolean): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (!interrupted()) say(`Benchmark failed: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  } finally {
    await cleanups.run();
  }
}
