// Writes one plain line, `tests: N passed, N failed, N skipped`, to stdout and to
// .tmp/test-summary.txt, so .ci/run can end its log with it.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`;
    process.stdout.write(`\n${line}\n`);
    mkdirSync(join(this.rootDir, '.tmp'), { recursive: true });
    writeFileSync(join(this.rootDir, '.tmp', 'test-summary.txt'), line + '\n');
  }
}
module.exports = SummaryReporter;
