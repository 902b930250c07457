// One jest run over every workspace. Tests live in <workspace>/test and mirror
// <workspace>/src one to one. @swc/jest only strips types (fast on 2 cores);
// type checking is `npm run build` (tsc -b), which CI runs before the tests.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/shared', '<rootDir>/tools', '<rootDir>/poller', '<rootDir>/gateway', '<rootDir>/client', '<rootDir>/deploy', '<rootDir>/bench'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // Workspaces are resolved to their TypeScript sources, so tests never run stale dist/ output.
  moduleNameMapper: {
    '^@matomo-live/matomo-sim$': '<rootDir>/tools/matomo-sim/src/index.ts',
    '^@matomo-live/(shared|poller|gateway|client)$': '<rootDir>/$1/src/index.ts',
    // A built-path import (the browser-safe shared modules the client uses) maps to its source too.
    '^@matomo-live/(shared|poller|gateway|client)/dist/(.*)$': '<rootDir>/$1/src/$2',
    '^@matomo-live/(shared|poller|gateway|client)/(.*)$': '<rootDir>/$1/src/$2',
    '^@test-support/(.*)$': '<rootDir>/test-support/$1',
  },
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test-support/summary-reporter.js'],
};
