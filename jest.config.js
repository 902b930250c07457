// One jest run over every workspace. Tests live in <workspace>/test and mirror
// <workspace>/src one to one. @swc/jest only strips types (fast on 2 cores);
// `npm run typecheck` type-checks the tests, and CI runs it before them.
/** @type {import('jest').Config} */
module.exports = {
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
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test-support/summary-reporter.js'],
};
