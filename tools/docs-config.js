#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm run docs:config`: rewrites the README's configuration tables from the
 * envalid specs (shared/src/config), the one place each variable is described.
 * `--check` changes nothing and exits 1 when the README differs (the same
 * comparison deploy/test/k8s-config.test.ts makes). Needs shared built
 * (the npm script builds it).
 */
const fs = require('node:fs');
const path = require('node:path');
const { renderConfigDocs } = require('@matomo-live/shared');

const readmePath = path.resolve(__dirname, '..', 'README.md');
const current = fs.readFileSync(readmePath, 'utf8');
const rendered = renderConfigDocs(current);
if (process.argv.includes('--check')) {
  if (rendered !== current) {
    console.error('README.md: the configuration tables differ from the specs in shared/src/config; run `npm run docs:config`');
    process.exit(1);
  }
  console.log('README.md: configuration tables match the specs');
} else if (rendered === current) {
  console.log('README.md: configuration tables already match the specs');
} else {
  fs.writeFileSync(readmePath, rendered);
  console.log('README.md: configuration tables rewritten from the specs');
}
