// `npm run bench [-- --quick] [-- --only name[,name]]`: runs the benchmarks, writes each one's
// results to bench/results/<name>.json (bench/results/quick/ with --quick), then the charts and
// SUMMARY.md from whatever results that folder holds.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchStack, type BenchStack } from './cluster';
import { machineDescription, type BenchContext } from './context';
import { runFanout } from './fanout';
import { runFootprint } from './footprint';
import { runOrchestration } from './orchestration';
import { runPolicies } from './policies';
import { writeReport } from './report';
import { runSweeps } from './sweeps';
import { runThroughput } from './throughput';

const BENCHMARKS: Readonly<Record<string, (ctx: BenchContext) => Promise<{ name: string }>>> = {
  orchestration: runOrchestration,
  fanout: runFanout,
  throughput: runThroughput,
  footprint: runFootprint,
  policies: runPolicies,
  sweeps: runSweeps,
};

function parseArgs(argv: readonly string[]): { quick: boolean; only: string[] } {
  let quick = false;
  let only = Object.keys(BENCHMARKS);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',').filter((n) => n !== '');
      const unknown = names.filter((n) => !(n in BENCHMARKS));
      if (names.length === 0 || unknown.length > 0) {
        throw new Error(`--only takes benchmark names separated by commas, from: ${Object.keys(BENCHMARKS).join(', ')}${unknown.length > 0 ? ` (not ${unknown.join(', ')})` : ''}.`);
      }
      only = names;
    } else {
      throw new Error(`Unknown argument "${arg}": use --quick and --only <name[,name]>.`);
    }
  }
  return { quick, only };
}

/** The commit the results were measured at, marked when the working tree differs from it. */
function commit(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: __dirname, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', '.'], { cwd: join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const resultsDir = join(__dirname, 'results', ...(quick ? ['quick'] : []));
  mkdirSync(resultsDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'imagent-bench-'));
  const began = Date.now();
  const log = (message: string): void => console.log(`[${((Date.now() - began) / 1000).toFixed(0).padStart(5)} s] ${message}`);
  let stack: Promise<BenchStack> | undefined;
  const ctx: BenchContext = { quick, scratch, log, stack: () => (stack ??= startBenchStack(scratch)) };
  log(`${quick ? 'quick' : 'full'} run of ${only.join(', ')} on ${machineDescription()}; results in ${resultsDir}`);
  try {
    for (const name of only) {
      const started = Date.now();
      const loadAverage = loadavg();
      log(`${name}: starting (load average ${loadAverage.map((l) => l.toFixed(1)).join(', ')})`);
      const result = await BENCHMARKS[name](ctx);
      const seconds = (Date.now() - started) / 1000;
      writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify({ ...result, machine: machineDescription(), commit: commit(), loadAverage, seconds, recordedAt: new Date().toISOString() }, null, 2) + '\n');
      log(`${name}: done in ${seconds.toFixed(0)} s`);
    }
  } finally {
    if (stack) await (await stack).stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  writeReport(resultsDir, quick);
  log(`wrote ${join(resultsDir, 'SUMMARY.md')} and the charts; total ${((Date.now() - began) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
