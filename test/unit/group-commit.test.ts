// Group commit (imaging/group-commit.ts): a lone caller is written at once; callers that arrive
// while a write runs share the next write, each getting back its own results; a group stays under
// its size limit; a failed shared write is retried per caller, so it fails only the caller whose
// own items cannot be written.
import { describe, expect, it } from '@jest/globals';
import { GroupCommit } from '../../server/src/imaging/group-commit.js';

/** A write that records its batches and finishes only when told to. */
function heldWrites(fail?: (items: string[]) => boolean) {
  const batches: string[][] = [];
  const releases: (() => void)[] = [];
  const write = (items: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push(items);
      releases.push(() => (fail?.(items) ? reject(new Error(`write of ${items.join(',')} failed`)) : resolve(items.map((i) => `${i}!`))));
    });
  /** Lets the oldest unfinished write finish, then waits for the group commit to react. */
  const release = async () => {
    releases.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, write, release };
}

describe('GroupCommit', () => {
  it('writes a lone caller at once, on its own', async () => {
    const { batches, write, release } = heldWrites();
    const commits = new GroupCommit(write, 10);
    const done = commits.run(['a', 'b']);
    expect(batches).toEqual([['a', 'b']]);
    await release();
    await expect(done).resolves.toEqual(['a!', 'b!']);
  });

  it('groups the callers that arrive during a write into the next one, results back to each', async () => {
    const { batches, write, release } = heldWrites();
    const commits = new GroupCommit(write, 10);
    const first = commits.run(['a']);
    const later = [commits.run(['b', 'c']), commits.run(['d']), commits.run(['e', 'f'])];
    expect(batches).toEqual([['a']]);
    await release();
    expect(batches).toEqual([['a'], ['b', 'c', 'd', 'e', 'f']]);
    await release();
    await expect(first).resolves.toEqual(['a!']);
    await expect(Promise.all(later)).resolves.toEqual([['b!', 'c!'], ['d!'], ['e!', 'f!']]);
  });

  it('keeps a group within its size, never splitting one caller', async () => {
    const { batches, write, release } = heldWrites();
    const commits = new GroupCommit(write, 3);
    const all = [commits.run(['a']), commits.run(['b', 'c']), commits.run(['d', 'e']), commits.run(['f', 'g', 'h', 'i'])];
    await release();
    await release();
    await release();
    await release();
    await Promise.all(all);
    expect(batches).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f', 'g', 'h', 'i']]);
  });

  it('fails a lone caller whose write fails, and goes on with the next', async () => {
    const { batches, write, release } = heldWrites((items) => items.includes('b'));
    const commits = new GroupCommit(write, 10);
    const first = commits.run(['a']);
    const failed = expect(commits.run(['b'])).rejects.toThrow('write of b failed');
    await release();
    const third = commits.run(['c']);
    await release();
    await release();
    await expect(first).resolves.toEqual(['a!']);
    await failed;
    await expect(third).resolves.toEqual(['c!']);
    expect(batches).toEqual([['a'], ['b'], ['c']]);
  });

  it("writes each caller of a failed shared write again on its own, so one caller's items fail only that caller", async () => {
    const { batches, write, release } = heldWrites((items) => items.includes('c'));
    const commits = new GroupCommit(write, 10);
    const first = commits.run(['a']);
    const innocent = commits.run(['b']);
    // The expectation is attached before the writes finish, so no rejection goes unhandled.
    const guilty = expect(commits.run(['c', 'd'])).rejects.toThrow('write of c,d failed');
    const after = commits.run(['e']);
    await release(); // ['a']
    await release(); // ['b', 'c', 'd', 'e'] fails
    await release(); // ['b'] alone
    await release(); // ['c', 'd'] alone fails
    await release(); // ['e'] alone
    await expect(first).resolves.toEqual(['a!']);
    await expect(innocent).resolves.toEqual(['b!']);
    await guilty;
    await expect(after).resolves.toEqual(['e!']);
    expect(batches).toEqual([['a'], ['b', 'c', 'd', 'e'], ['b'], ['c', 'd'], ['e']]);
  });
});
