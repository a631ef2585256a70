// Writing a benchmark's results into docs/PERFORMANCE.md: each benchmark owns one "## ..." section
// and rewrites its "### Results ..." subsections on every run; hand-written subsections and the
// rest of the file are kept.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Writes `body` under `subheading` ('### ...') of `section` ('## ...'): replaces it where it is,
 * or adds it after the last results subsection (else before the first hand-written one, else at
 * the section's end). The section is created at the end of the file with `intro` when missing.
 */
export function writeDocSubsection(file: string, section: string, intro: string, subheading: string, body: string): void {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Performance\n';
  if (!text.split('\n').some((l) => l.trim() === section)) text = `${text.replace(/\s*$/, '')}\n\n${section}\n\n${intro.trim()}\n`;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === section);
  let end = lines.findIndex((l, i) => i > start && /^#{1,2}\s/.test(l));
  if (end < 0) end = lines.length;
  const block = [subheading, '', body.trim(), ''];
  const at = lines.findIndex((l, i) => i > start && i < end && l.trim() === subheading.trim());
  if (at >= 0) {
    let stop = lines.findIndex((l, i) => i > at && /^#{1,3}\s/.test(l));
    if (stop < 0 || stop > end) stop = end;
    lines.splice(at, stop - at, ...block);
  } else {
    const subs = lines.map((l, i) => (i > start && i < end && /^###\s/.test(l) ? i : -1)).filter((i) => i >= 0);
    const lastResults = subs.filter((i) => /^###\s+Results/.test(lines[i])).pop();
    let insertAt = lastResults !== undefined ? (subs.find((i) => i > lastResults) ?? end) : (subs[0] ?? end);
    // Keep one blank line before the new block.
    while (insertAt > start + 1 && lines[insertAt - 1].trim() === '') insertAt--;
    lines.splice(insertAt, 0, '', ...block);
  }
  writeFileSync(file, `${lines.join('\n').replace(/\n{3,}/g, '\n\n').replace(/\s*$/, '')}\n`);
}
