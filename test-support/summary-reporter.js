// @ts-check
'use strict';
// Prints one plain closing line, "tests: N passed, N failed, N skipped", as
// the very last line of the run (after jest's own summary, which jest prints
// after the reporters), so a CI log can be judged from its last line.
//
// Several runs, one line: with MATOMO_LIVE_TEST_SUMMARY=FILE set, each run adds
// its counts to FILE (JSON) and the closing line counts every run recorded
// there so far. .ci/run points `npm test` and `npm run test:e2e` at one file,
// so the e2e run's last line covers both. For a run that died before its
// reporter could record it (e.g. jest's global setup failed), .ci/run asks
//   node test-support/summary-reporter.js FILE EXPECTED_RUNS
// which prints the line with one failure per missing run and exits 1 if
// anything failed.
const { existsSync, readFileSync, writeFileSync, writeSync } = require('node:fs');

/** @typedef {{ runs: number, passed: number, failed: number, skipped: number }} Totals */

/** How long jest may linger after a run before the reporter ends it (see onRunComplete). */
const EXIT_GRACE_MS = 60_000;

/** @param {Totals} t */
const summaryLine = (t) => `tests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`;

/** @param {string} file @returns {Totals} */
function readTotals(file) {
  if (!existsSync(file)) return { runs: 0, passed: 0, failed: 0, skipped: 0 };
  return JSON.parse(readFileSync(file, 'utf8'));
}

class SummaryReporter {
  /**
   * @param {unknown} _contexts
   * @param {import('@jest/test-result').AggregatedResult} results
   */
  onRunComplete(_contexts, results) {
    // A suite that fails to load runs no test; count it as a failure, not as nothing.
    const brokenSuites = results.testResults.filter((r) => r.testExecError || (r.failureMessage && r.numFailingTests === 0)).length;
    /** @type {Totals} */
    const run = {
      runs: 1,
      passed: results.numPassedTests,
      failed: results.numFailedTests + brokenSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    let text = `${summaryLine(run)}\n`;
    const file = process.env.MATOMO_LIVE_TEST_SUMMARY;
    if (file) {
      const before = readTotals(file);
      /** @type {Totals} */
      const total = {
        runs: before.runs + 1,
        passed: before.passed + run.passed,
        failed: before.failed + run.failed,
        skipped: before.skipped + run.skipped,
      };
      writeFileSync(file, JSON.stringify(total));
      if (total.runs > 1)
        text = `this run: ${run.passed} passed, ${run.failed} failed, ${run.skipped} skipped; all ${total.runs} runs:\n${summaryLine(total)}\n`;
    }
    process.once('exit', () => writeSync(2, `\n${text}`));
    // In band (npm run test:e2e) the tests share jest's own process: a handle a test left open would keep
    // it alive forever, and CI would wait out its whole time limit without a closing line. Unref'd, this
    // fires only if something else still holds the process well after the run (and the global teardown).
    setTimeout(() => {
      writeSync(
        2,
        `\n*** jest has not exited ${EXIT_GRACE_MS / 1000} s after the run ended: a test left a handle open ` +
          "(find it with --detectOpenHandles). Exiting with the run's status.\n",
      );
      process.exit(run.failed > 0 ? 1 : 0);
    }, EXIT_GRACE_MS).unref();
  }
}
module.exports = SummaryReporter;

if (require.main === module) {
  const [file, expected] = process.argv.slice(2);
  if (!file || !expected) {
    process.stderr.write('usage: node test-support/summary-reporter.js SUMMARY_FILE EXPECTED_RUNS\n');
    process.exit(2);
  }
  const totals = readTotals(file);
  const missing = Math.max(0, Number(expected) - totals.runs);
  if (missing > 0)
    process.stderr.write(
      `${missing} of ${expected} test runs ended before reporting (see their output above); each counts as one failure\n`,
    );
  const line = summaryLine({ ...totals, failed: totals.failed + missing });
  process.stdout.write(`${line}\n`);
  process.exit(totals.failed + missing > 0 ? 1 : 0);
}
