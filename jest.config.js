// One jest run over every workspace. Tests live in <workspace>/test and mirror
// <workspace>/src one to one. @swc/jest only strips types (fast on 2 cores);
// `npm run typecheck` type-checks the tests, and CI runs it before them.
//
// Two projects split the suites by name (CONTRIBUTING.md, "Tests"):
//   unit — every *.test.ts except *.e2e.test.ts: `npm test` (a few minutes, in parallel);
//   e2e  — the long system suites, *.e2e.test.ts (Docker stack, browser, real Matomo,
//          Redis failover, fleet storms): `npm run test:e2e`, in band.
// `npx jest some/file.test.ts` runs one file of either kind.
/** @type {import('jest').Config} */
const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  // Workspace packages (and @matomo-live/test-support) resolve through their package.json "exports" to their
  // TypeScript sources under the "@matomo-live/source" condition, so tests never run stale dist/ output.
  testEnvironmentOptions: { customExportConditions: ['node', 'node-addons', '@matomo-live/source'] },
  roots: [
    '<rootDir>/protocol',
    '<rootDir>/shared',
    '<rootDir>/tools',
    '<rootDir>/poller',
    '<rootDir>/gateway',
    '<rootDir>/client',
    '<rootDir>/standalone',
    '<rootDir>/deploy',
    '<rootDir>/bench',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/test/**/*.test.ts'],
      testPathIgnorePatterns: [...common.testPathIgnorePatterns, '\\.e2e\\.test\\.ts$'],
    },
    { ...common, displayName: 'e2e', testMatch: ['**/test/**/*.e2e.test.ts'] },
  ],
  // The run's one Redis (REDIS_URL, else testcontainers, else redis-server from PATH): test-support/src/run-redis.ts.
  globalSetup: '<rootDir>/test-support/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/test-support/src/jest-global-teardown.ts',
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test-support/summary-reporter.js'],
};
