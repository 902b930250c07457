// Prints one plain closing line, "tests: N passed, N failed, N skipped", as
// the very last line of the run (after jest's own summary, which jest prints
// after the reporters), so a CI log can be judged from its last line.
const { writeSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    // A suite that fails to load runs no test; count it as a failure, not as nothing.
    const brokenSuites = results.testResults.filter((r) => r.testExecError || (r.failureMessage && r.numFailingTests === 0)).length;
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests + brokenSuites} failed, ${skipped} skipped\n`;
    process.once('exit', () => writeSync(2, `\n${line}`));
  }
}
module.exports = SummaryReporter;
