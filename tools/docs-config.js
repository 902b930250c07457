#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm run docs:config`: rewrites the configuration tables of
 * docs/CONFIGURATION.md from the envalid specs (shared/src/config), the one
 * place each variable is described. `--check` changes nothing and exits 1
 * when the file differs (the comparison shared/test/config/docs-table.test.ts
 * makes). Needs shared built (the npm script builds it).
 */
const fs = require('node:fs');
const path = require('node:path');
const { renderConfigDocs } = require('@matomo-live/shared/docs-table');

const docPath = path.resolve(__dirname, '..', 'docs', 'CONFIGURATION.md');
const name = 'docs/CONFIGURATION.md';
const current = fs.readFileSync(docPath, 'utf8');
const rendered = renderConfigDocs(current);
if (process.argv.includes('--check')) {
  if (rendered !== current) {
    console.error(`${name}: the configuration tables differ from the specs in shared/src/config; run \`npm run docs:config\``);
    process.exit(1);
  }
  console.log(`${name}: configuration tables match the specs`);
} else if (rendered === current) {
  console.log(`${name}: configuration tables already match the specs`);
} else {
  fs.writeFileSync(docPath, rendered);
  console.log(`${name}: configuration tables rewritten from the specs`);
}
