// CPU time of other processes on this machine (Linux /proc), for per-phase CPU accounting:
// where did the cores go — hub, PostgreSQL backends, or the load generator itself?
import { readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux (getconf CLK_TCK)

/** user + system CPU ms of each pid that still exists (others are left out). */
export function cpuOfPids(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start at the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) * TICK_MS); // utime, stime
    } catch {
      // gone, or not Linux
    }
  }
  return out;
}

/** CPU ms spent between two snapshots; a pid new in `after` counts from zero. */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0;
  for (const [pid, t] of after) ms += t - (before.get(pid) ?? 0);
  return ms;
}
