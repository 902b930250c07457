#!/usr/bin/env node
// @ts-check
'use strict';
// Why this exists: the npm registry this project's CI reaches serves only the
// Linux builds of packages that ship one native binary per platform
// (@swc/core-*, @unrs/resolver-binding-*). `npm install` then leaves the other
// platforms out of package-lock.json, and `npm ci` refuses the lockfile as
// "Missing: … from lock file". This adds those optional entries back with the
// platform fields npm uses to skip them, so `npm ci` works here and elsewhere.
// Run after any `npm install` that changes the lockfile: `npm run lock`.
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.resolve(process.argv[2] || 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const packages = lock.packages;

const OS = ['android', 'darwin', 'freebsd', 'linux', 'win32', 'openbsd', 'netbsd', 'sunos', 'aix', 'openharmony', 'wasm32'];
/** @type {Record<string, string>} */
const CPU = {
  x64: 'x64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: 'ia32',
  ppc64: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  wasi: 'wasm32',
};

/** Platform fields read off a package name such as `@swc/core-linux-arm-gnueabihf`. */
/**
 * @param {string} name
 * @returns {{ os?: string[], cpu?: string[], libc?: string[] }}
 */
function platformOf(name) {
  const parts = (name.split('/').pop() ?? '').split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.map((p) => CPU[p]).find(Boolean);
  /** @type {{ os?: string[], cpu?: string[], libc?: string[] }} */
  const fields = {};
  if (os && os !== 'wasm32') fields.os = [os];
  if (cpu) fields.cpu = [cpu];
  if (parts.includes('musl') || parts.includes('musleabihf')) fields.libc = ['musl'];
  else if (os === 'linux' && parts.some((p) => p.startsWith('gnu'))) fields.libc = ['glibc'];
  return fields;
}

let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies || {})) {
    const nested = `${location ? location + '/' : ''}node_modules/${dep}`;
    if (packages[nested] || packages[`node_modules/${dep}`]) continue;
    packages[`node_modules/${dep}`] = {
      version,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...platformOf(dep),
    };
    added += 1;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`complete-lockfile: added ${added} optional platform entr${added === 1 ? 'y' : 'ies'} to ${path.basename(lockPath)}`);
