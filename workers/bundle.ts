// Bundling the workflow code takes seconds, so bundles are cached by a hash of their sources.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = join(__dirname, '..');
const WORKFLOWS_DIR = join(ROOT, 'workflows');

function sourceHash(): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(WORKFLOWS_DIR).sort()) {
    hash.update(name).update(readFileSync(join(WORKFLOWS_DIR, name)));
  }
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(lock)) hash.update(readFileSync(lock));
  return hash.digest('hex').slice(0, 16);
}

/** Returns the path of a bundle of the current workflow code, building it when absent. */
export async function cachedWorkflowBundle(cacheDir: string): Promise<string> {
  const path = join(cacheDir, `workflows-${sourceHash()}.js`);
  if (existsSync(path)) return path;
  mkdirSync(cacheDir, { recursive: true });
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS_DIR), logger: quietLogger });
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, code);
  renameSync(partial, path);
  return path;
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
