// Summarises a V8 .cpuprofile (from `node --cpu-prof`): where the samples went, by function
// (self time), by package or source folder (self time) and by function including callees.
// Usable on its own: node --import tsx scripts/bench/profile.ts FILE.cpuprofile [top]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * A time window to summarise, in microseconds of the monotonic clock. V8 stamps profile samples
 * with that clock, as `process.hrtime` reads it, so another process on the same machine can mark
 * phases with `process.hrtime.bigint() / 1000n`.
 */
export interface ProfileWindow {
  name: string;
  fromUs: number;
  toUs: number;
}

/** 'node_modules/@medplum/core', 'server/src/fhir/index', 'node:internal', '(gc)', ... */
function areaOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native/builtin)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const src = /\/(server\/src\/[^/]+(?:\/[^/.]+(?=\/))?)/.exec(url);
  if (src) return src[1];
  if (url.startsWith('node:')) return url.replace(/^(node:[^/]+).*/, '$1');
  return url.replace(/^.*\/(scripts\/[^/]+)\/.*/, '$1');
}

function labelOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*\/(node_modules|server\/src|scripts)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'}${where ? ' ' + where : ''}`;
}

export function summariseProfile(file: string, top = 20, window?: ProfileWindow): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfByNode = new Map<number, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
    at += dt;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + dt);
    total += dt;
  });

  const self = new Map<string, number>();
  const area = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  for (const [id, dt] of selfByNode) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') idle += dt;
    self.set(labelOf(node), (self.get(labelOf(node)) ?? 0) + dt);
    area.set(areaOf(node), (area.get(areaOf(node)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const label = labelOf(byId.get(cur)!);
      if (seen.has(label)) continue;
      seen.add(label);
      inclusive.set(label, (inclusive.get(label) ?? 0) + dt);
    }
  }
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / Math.max(busy, 1)).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number, skip: (k: string) => boolean = () => false) =>
    [...m.entries()]
      .filter(([k]) => !skip(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  const boring = (k: string) => /^\((root|program|idle|garbage collector)\)|^(processTicksAndRejections|runMicrotasks|listOnTimeout|processTimers|emit|next|handle|trim_prefix|process_params) /.test(k);
  return [
    `CPU profile ${file}${window ? `, phase '${window.name}'` : ''}`,
    `  ${(total / 1e6).toFixed(1)} s sampled, ${(idle / 1e6).toFixed(1)} s idle, ${(busy / 1e6).toFixed(1)} s busy (percentages are of busy time)`,
    'Self time by package / source folder:',
    ...list(area, Math.min(top, 12), (k) => k === '(idle)'),
    'Self time by function:',
    ...list(self, top, (k) => k.startsWith('(idle)')),
    'Inclusive time by function (server code and libraries):',
    ...list(inclusive, top, (k) => boring(k) || !/server\/src|node_modules/.test(k)),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top, phasesFile] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile.ts FILE.cpuprofile [top] [phases.json]');
  console.log(summariseProfile(file, top ? Number(top) : 20));
  // phases.json (written by fhir.ts --profile): one summary per benchmark phase.
  const windows = phasesFile ? (JSON.parse(readFileSync(phasesFile, 'utf8')) as ProfileWindow[]) : [];
  for (const window of windows) console.log(`\n${summariseProfile(file, top ? Number(top) : 20, window)}`);
}
