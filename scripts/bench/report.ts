// Formats benchmark rows as a console table and as Markdown, and replaces one section of a
// Markdown file (from its heading to the next heading of the same or a higher level).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Row {
  metric: string;
  /** The measured value and its unit, e.g. 812 and 'req/s'. */
  value: number;
  unit: string;
  baseline?: number;
  /** The baseline's unit when it differs from the value's (rows/s beside resources/s). */
  baselineUnit?: string;
  /** What the baseline is, e.g. "HTTP 'ok', 8 clients". */
  baselineLabel?: string;
  target?: { op: '>=' | '<='; value: number };
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function cells(row: Row): string[] {
  const met = row.target ? (row.target.op === '>=' ? row.value >= row.target.value : row.value <= row.target.value) : undefined;
  return [
    row.metric,
    `${formatNumber(row.value)} ${row.unit}`,
    row.baseline === undefined ? '—' : `${formatNumber(row.baseline)} ${row.baselineUnit ?? row.unit} (${row.baselineLabel ?? 'baseline'})`,
    row.baseline === undefined ? '—' : formatNumber(row.value / row.baseline),
    row.target ? `${row.target.op === '>=' ? '≥' : '≤'} ${formatNumber(row.target.value)} ${row.unit}` : '—',
    met === undefined ? '' : met ? 'met' : 'MISSED',
  ];
}

const HEADER = ['metric', 'value', 'baseline', 'ratio', 'target', ''];

export function consoleTable(rows: Row[]): string {
  return textTable(HEADER, rows.map(cells));
}

export function markdownTable(rows: Row[]): string {
  return mdTable(HEADER.map((h) => h || 'status'), rows.map(cells));
}

/** A plain aligned text table. */
export function textTable(header: string[], rows: string[][]): string {
  const table = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...table.map((r) => [...(r[c] ?? '')].length)));
  const line = (r: string[]) => r.map((cell, c) => cell + ' '.repeat(widths[c] - [...cell].length)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A Markdown table; the first column left-aligned, the others right-aligned. */
export function mdTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map((_, c) => (c === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(esc).join(' | ')} |`),
  ].join('\n');
}

/**
 * Writes `body` under `heading` (a full Markdown heading line such as '## Benchmark'):
 * replaces the existing section of that heading, or appends it; the rest of the file is kept.
 */
export function replaceSection(file: string, heading: string, body: string, intro: string): void {
  const level = /^#+/.exec(heading)![0].length;
  const old = existsSync(file) ? readFileSync(file, 'utf8') : intro;
  const lines = old.split('\n');
  const section = `${heading}\n\n${body.trim()}\n`;
  const start = lines.findIndex((l) => l.trim() === heading.trim());
  let text: string;
  if (start < 0) {
    text = `${old.replace(/\s*$/, '')}\n\n${section}`;
  } else {
    let end = lines.length;
    for (let i = start + 1; i < lines.length; i++) {
      const m = /^(#+)\s/.exec(lines[i]);
      if (m && m[1].length <= level) {
        end = i;
        break;
      }
    }
    const before = lines.slice(0, start).join('\n').replace(/\s*$/, '');
    const after = lines.slice(end).join('\n').replace(/^\s*/, '');
    text = `${before ? before + '\n\n' : ''}${section}${after ? '\n' + after : ''}`;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text.replace(/\s*$/, '\n'));
}
