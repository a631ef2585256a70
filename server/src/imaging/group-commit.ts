// Group commit: batches that callers hand in while a write is running are written together, in
// the next write, instead of one transaction each. Concurrent stores into one study would
// otherwise take turns on the study's row lock, each holding it through its own commit: four
// C-STORE associations sending one series were one transaction (and one WAL flush) at a time. A
// caller that finds nothing running is written at once, so a lone caller waits for nothing.
// When a shared write fails, each of its callers is written again on its own: one caller's items
// (or a passing fault) must not fail another caller's stores.
export class GroupCommit<Item, Result> {
  private waiting: { items: Item[]; settle: (results: Result[]) => void; fail: (err: unknown) => void }[] = [];
  private running = false;

  /** `write` returns one result per item, in order; a group never exceeds `maxItems` unless one caller's batch does. */
  constructor(
    private readonly write: (items: Item[]) => Promise<Result[]>,
    private readonly maxItems: number,
  ) {}

  /** Writes `items` (in one write, possibly with other callers' items); their results, in order. */
  run(items: Item[]): Promise<Result[]> {
    return new Promise<Result[]>((settle, fail) => {
      this.waiting.push({ items, settle, fail });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.waiting.length) {
      const group = this.takeGroup();
      try {
        const results = await this.write(group.flatMap((caller) => caller.items));
        let at = 0;
        for (const caller of group) caller.settle(results.slice(at, (at += caller.items.length)));
      } catch (err) {
        // The write was one transaction: none of the group's items were kept.
        if (group.length === 1) group[0].fail(err);
        else for (const caller of group) await this.writeAlone(caller);
      }
    }
    this.running = false;
  }

  private async writeAlone(caller: (typeof this.waiting)[number]): Promise<void> {
    try {
      caller.settle(await this.write(caller.items));
    } catch (err) {
      caller.fail(err);
    }
  }

  /** Waiting callers in arrival order, up to maxItems items (at least one caller). */
  private takeGroup(): typeof this.waiting {
    let items = 0;
    let n = 0;
    while (n < this.waiting.length && (n === 0 || items + this.waiting[n].items.length <= this.maxItems)) items += this.waiting[n++].items.length;
    return this.waiting.splice(0, n);
  }
}
