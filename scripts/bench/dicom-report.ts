// The imaging benchmark's tables (Suhe beside Orthanc, the machine's limits and the issue's
// goals) and its place in docs/PERFORMANCE.md: a section "## Imaging benchmark" whose intro is
// written once and then kept, with one "### Results ..." subsection per database backend that
// each run replaces; hand-written subsections beside them are kept.
import type { Limits } from './dicom-limits.js';
import { writeDocSubsection } from './doc-section.js';
import type { Phase, TargetResult } from './dicom-measure.js';
import { percentile } from './load.js';
import { formatNumber } from './report.js';

/** Orthanc 1.10.1 as the issue measured it (300-instance CT, 4 clients), for comparison. */
export const ISSUE_ORTHANC = {
  stowInstances: 135,
  stowMBps: 71,
  cstoreInstances: 114,
  wadoMBps: 98,
  metadataMs: 904,
  qido: '4–90 ms',
};

export const GOALS = {
  stowInstances: 270,
  wadoMBps: 200,
  metadataMs: 100,
  qidoP50Ms: 5,
  /** Of the measured limits. */
  limitShare: 0.5,
};

const mb = (bytes: number) => bytes / 1e6;
const rate = (p: Phase | undefined) => (p && p.ok > 0 ? p.ok / p.seconds : Number.NaN);
const mbps = (p: Phase | undefined) => (p && p.ok > 0 ? mb(p.bytes) / p.seconds : Number.NaN);
const median = (runs: number[]) => percentile([...runs.slice(1)].sort((a, b) => a - b), 50);

interface Line {
  metric: string;
  unit: string;
  suhe: number;
  orthanc?: number;
  /** 'higher' is better (throughput) or 'lower' (latency). */
  better: 'higher' | 'lower';
  limit?: { value: number; label: string };
  goal?: number;
  issue?: string;
  note?: string;
}

function lines(suhe: TargetResult, orthanc: TargetResult | undefined, limits: Limits): Line[] {
  const fsyncMBps = mb(limits.fsync.bytes) / limits.fsync.seconds;
  const uploadMBps = mb(limits.upload.bytes) / limits.upload.seconds;
  const downloadMBps = mb(limits.download.bytes) / limits.download.seconds;
  // Ingest can go no faster than the slower of moving the bytes in and making them durable.
  const ingestLimit = Math.min(fsyncMBps, uploadMBps);
  const ingestLabel = fsyncMBps <= uploadMBps ? 'write+fsync' : 'HTTP upload';
  const instanceBytes = suhe.stow.ok ? suhe.stow.bytes / suhe.stow.ok : Number.NaN;
  const out: Line[] = [
    {
      metric: 'STOW-RS',
      unit: 'instances/s',
      suhe: rate(suhe.stow),
      orthanc: rate(orthanc?.stow),
      better: 'higher',
      limit: { value: (ingestLimit * 1e6) / instanceBytes, label: ingestLabel },
      goal: GOALS.stowInstances,
      issue: String(ISSUE_ORTHANC.stowInstances),
    },
    { metric: 'STOW-RS', unit: 'MB/s', suhe: mbps(suhe.stow), orthanc: mbps(orthanc?.stow), better: 'higher', limit: { value: ingestLimit, label: ingestLabel }, issue: String(ISSUE_ORTHANC.stowMBps) },
    {
      metric: 'C-STORE',
      unit: 'instances/s',
      suhe: rate(suhe.cstore),
      orthanc: rate(orthanc?.cstore),
      better: 'higher',
      limit: { value: (fsyncMBps * 1e6) / instanceBytes, label: 'write+fsync' },
      goal: GOALS.stowInstances,
      issue: String(ISSUE_ORTHANC.cstoreInstances),
      note: suhe.cstore ? undefined : `Suhe not measured: ${suhe.noDimse}`,
    },
    { metric: 'WADO-RS series', unit: 'MB/s', suhe: mbps(suhe.wado), orthanc: mbps(orthanc?.wado), better: 'higher', limit: { value: downloadMBps, label: 'HTTP download' }, goal: GOALS.wadoMBps, issue: String(ISSUE_ORTHANC.wadoMBps) },
    {
      metric: `series metadata (${suhe.metadata.instances || '?'} instances), median`,
      unit: 'ms',
      suhe: suhe.metadata.firstError ? Number.NaN : median(suhe.metadata.runs),
      orthanc: orthanc && !orthanc.metadata.firstError ? median(orthanc.metadata.runs) : undefined,
      better: 'lower',
      goal: GOALS.metadataMs,
      issue: String(ISSUE_ORTHANC.metadataMs),
    },
    { metric: 'seeding one-instance studies (STOW-RS)', unit: 'studies/s', suhe: rate(suhe.seed), orthanc: rate(orthanc?.seed), better: 'higher' },
  ];
  for (const q of suhe.qido) {
    const o = orthanc?.qido.find((r) => r.key === q.key);
    out.push({
      metric: `QIDO ${q.key} p50`,
      unit: 'ms',
      suhe: q.n ? q.p50 : Number.NaN,
      orthanc: o?.n ? o.p50 : undefined,
      better: 'lower',
      limit: { value: limits.floorMs, label: 'HTTP floor' },
      goal: GOALS.qidoP50Ms,
      issue: ISSUE_ORTHANC.qido,
    });
    out.push({ metric: `QIDO ${q.key} p95`, unit: 'ms', suhe: q.n ? q.p95 : Number.NaN, orthanc: o?.n ? o.p95 : undefined, better: 'lower' });
  }
  return out;
}

const num = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : formatNumber(n));

/** Share of the limit reached: value/limit for throughput, limit/value for latency. */
function share(line: Line, value: number | undefined): string {
  if (!line.limit || value === undefined || !Number.isFinite(value) || !Number.isFinite(line.limit.value)) return '—';
  const s = line.better === 'higher' ? value / line.limit.value : line.limit.value / value;
  return `${(100 * s).toFixed(s < 0.1 ? 1 : 0)}%`;
}

function goalCell(line: Line): [string, string] {
  if (line.goal === undefined) return ['—', ''];
  const goal = `${line.better === 'higher' ? '≥' : '≤'} ${formatNumber(line.goal)}`;
  if (!Number.isFinite(line.suhe)) return [goal, 'not measured'];
  const met = line.better === 'higher' ? line.suhe >= line.goal : line.suhe <= line.goal;
  return [goal, met ? 'met' : 'MISSED'];
}

export const RESULT_HEADER = ['metric', 'unit', 'Suhe', 'Orthanc', 'Suhe ÷ Orthanc', 'limit', 'Suhe % of limit', 'Orthanc % of limit', 'goal', 'Suhe vs goal', "Orthanc (issue's run)"];

export function resultCells(suhe: TargetResult, orthanc: TargetResult | undefined, limits: Limits): string[][] {
  return lines(suhe, orthanc, limits).map((l) => {
    const ratio = l.orthanc !== undefined && Number.isFinite(l.orthanc) && Number.isFinite(l.suhe) ? `${formatNumber(l.suhe / l.orthanc)}×` : '—';
    const [goal, met] = goalCell(l);
    return [
      l.metric,
      l.unit,
      Number.isFinite(l.suhe) ? num(l.suhe) : l.note ? 'not measured' : '—',
      num(l.orthanc),
      ratio,
      l.limit ? `${num(l.limit.value)} (${l.limit.label})` : '—',
      share(l, l.suhe),
      share(l, l.orthanc),
      goal,
      met,
      l.issue ?? '—',
    ];
  });
}

export const CPU_HEADER = ['phase', 'archive', 'wall s', 'done', 'archive CPU ms', 'per unit', 'database CPU ms', 'client CPU ms', 'cores busy (archive+db)'];

/** Where the CPU went, per phase: the archive process, its PostgreSQL backends, the load generator. */
export function cpuCells(results: TargetResult[]): string[][] {
  const rows: string[][] = [];
  const phases: [string, (r: TargetResult) => Phase | undefined, string, (p: Phase) => number][] = [
    ['seed (tiny studies)', (r) => r.seed, 'study', (p) => p.ok],
    ['STOW-RS', (r) => r.stow, 'instance', (p) => p.ok],
    ['C-STORE', (r) => r.cstore, 'instance', (p) => p.ok],
    ['WADO-RS', (r) => r.wado, 'MB', (p) => mb(p.bytes)],
  ];
  for (const [name, get, unit, units] of phases) {
    for (const r of results) {
      const p = get(r);
      if (!p || !p.ok) continue;
      const per = p.serverCpuMs / units(p);
      rows.push([
        name,
        r.name,
        p.seconds.toFixed(2),
        `${p.ok} (${formatNumber(mb(p.bytes))} MB)`,
        num(p.serverCpuMs),
        `${formatNumber(per)} ms/${unit}`,
        p.dbCpuMs === undefined ? '—' : num(p.dbCpuMs),
        num(p.clientCpuMs),
        ((p.serverCpuMs + (p.dbCpuMs ?? 0)) / 1000 / p.seconds).toFixed(2),
      ]);
    }
  }
  for (const r of results) {
    for (const q of r.qido) {
      if (q.serverCpuMs === undefined || !q.n) continue;
      rows.push([
        `QIDO ${q.key}`,
        r.name,
        '—',
        `${q.n} queries${q.rowsInsertedPerQuery !== undefined ? ` (${formatNumber(q.rowsInsertedPerQuery)} rows inserted each)` : ''}`,
        num(q.serverCpuMs * (q.n + q.errors)),
        `${formatNumber(q.serverCpuMs)} ms/query`,
        '—',
        '—',
        '—',
      ]);
    }
  }
  return rows;
}

/** PostgreSQL counters per instance (transactions, rows written) for the phases that have them. */
export function counterLines(result: TargetResult): string[] {
  const out: string[] = [];
  for (const [name, p] of [['seed', result.seed], ['STOW-RS', result.stow], ['C-STORE', result.cstore]] as const) {
    if (!p?.counters || !p.ok) continue;
    const c = p.counters;
    const per = (k: string) => formatNumber((c[k] ?? 0) / p.ok);
    out.push(`${name}: per instance ${per('xact_commit')} commits, ${per('tup_inserted')} rows inserted, ${per('tup_updated')} updated, ${per('tup_deleted')} deleted, ${per('tup_fetched')} fetched, ${per('tup_returned')} returned`);
  }
  return out;
}

// --- docs/PERFORMANCE.md ---------------------------------------------------------------------

export const SECTION = '## Imaging benchmark';

/**
 * Writes `body` under the subsection `subheading` ('### ...') of the imaging section: replaces it
 * where it is, or adds it after the last results subsection (or at the section's start). The
 * section is created with `intro` when missing; everything else in the file is kept.
 */
export function writeResults(file: string, intro: string, subheading: string, body: string): void {
  writeDocSubsection(file, SECTION, intro, subheading, body);
}
