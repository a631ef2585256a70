// Writes one plain line, `tests: N passed, N failed, N skipped`, to stdout and to
// .tmp/test-summary.txt, so .ci/run can end its log with it. Before it, the slowest test files
// with their wall time: CI must stay under 30 minutes, and this says where the minutes go.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const SLOWEST_SHOWN = 12;

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }
  onRunComplete(_contexts, results) {
    const files = results.testResults
      .map((file) => ({ path: relative(this.rootDir, file.testFilePath), seconds: (file.perfStats.end - file.perfStats.start) / 1000 }))
      .filter((file) => Number.isFinite(file.seconds))
      .sort((a, b) => b.seconds - a.seconds);
    const total = files.reduce((sum, file) => sum + file.seconds, 0);
    const slowest = files.slice(0, SLOWEST_SHOWN).map((file) => `  ${file.seconds.toFixed(1).padStart(7)} s  ${file.path}`);
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`;
    const report = [`slowest test files (of ${files.length}, ${total.toFixed(0)} s in all across workers):`, ...slowest, line].join('\n');
    process.stdout.write(`\n${report}\n`);
    mkdirSync(join(this.rootDir, '.tmp'), { recursive: true });
    writeFileSync(join(this.rootDir, '.tmp', 'test-summary.txt'), report + '\n');
  }
}
module.exports = SummaryReporter;
