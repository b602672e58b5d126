// Benchmark 7: scaling sweeps. The ImAgent controller over T_max in {1, 3, 5, 8} and N in
// {1, 2, 4, 8}, and a single Best-of-N step over N alone, for accuracy against model-seconds.
import type { BenchContext } from './context';
import { runJobs, type JobRecord } from './evaluate';
import { jobsFor, suiteItems } from './policies';
import { bestOfNSpec, controllerSpec, type PolicySpec } from './policy-defs';
import { mean, round } from './stats';

export const T_MAX_VALUES = [1, 3, 5, 8];
export const N_VALUES = [1, 2, 4, 8];

export interface SweepPoint {
  series: 'controller' | 'best-of-N once';
  name: string;
  tMax: number;
  n: number;
  runs: number;
  /** Fraction fully correct by ground truth: all items, generation, editing. */
  accuracy: number;
  generation: number;
  editing: number;
  /** Nominal model-seconds per image: every call, and the critical path. */
  gpuSeconds: number;
  latencySeconds: number;
  steps: number;
}

export interface SweepsResult {
  name: 'sweeps';
  quick: boolean;
  setup: string;
  seeds: number[];
  points: SweepPoint[];
}

function point(spec: PolicySpec, series: SweepPoint['series'], records: readonly JobRecord[]): SweepPoint {
  const acc = (rs: readonly JobRecord[]): number => round(rs.filter((r) => r.correct).length / Math.max(1, rs.length), 4);
  return {
    series,
    name: spec.name,
    tMax: spec.tMax,
    n: spec.n,
    runs: records.length,
    accuracy: acc(records),
    generation: acc(records.filter((r) => r.suite === 'generation')),
    editing: acc(records.filter((r) => r.suite === 'editing')),
    gpuSeconds: round(mean(records.map((r) => r.gpuSeconds)), 3),
    latencySeconds: round(mean(records.map((r) => r.latencySeconds)), 3),
    steps: round(mean(records.map((r) => r.steps)), 3),
  };
}

export async function runSweeps(ctx: BenchContext): Promise<SweepsResult> {
  const items = suiteItems(ctx.quick);
  const seeds = ctx.quick ? [0] : [0, 1];
  // Quick mode sweeps each axis through the defaults (N 4, T_max 5); the full run covers the grid.
  const grid = ctx.quick
    ? [...T_MAX_VALUES.map((t) => [t, 4]), ...N_VALUES.filter((n) => n !== 4).map((n) => [5, n])]
    : T_MAX_VALUES.flatMap((t) => N_VALUES.map((n) => [t, n]));
  const controller = grid.map(([t, n]) => controllerSpec(t, n));
  const bestOfN = N_VALUES.map((n) => bestOfNSpec(n));
  let lastLog = 0;
  const records = await runJobs(jobsFor([...controller, ...bestOfN], items, seeds), (done, total) => {
    if (Date.now() - lastLog > 30_000 || done === total) {
      lastLog = Date.now();
      ctx.log(`sweeps: ${done}/${total} runs`);
    }
  });
  const points = [
    ...controller.map((spec) => point(spec, 'controller', records.filter((r) => r.policy === spec.name))),
    ...bestOfN.map((spec) => point(spec, 'best-of-N once', records.filter((r) => r.policy === spec.name))),
  ];
  for (const p of points) ctx.log(`sweeps: ${p.name}: accuracy ${(p.accuracy * 100).toFixed(1)}% at ${p.gpuSeconds} model-s/image`);
  return {
    name: 'sweeps',
    quick: ctx.quick,
    setup: `${items.length} suite items (generation and editing), ${seeds.length} seed(s); the same in-process loop, noise and nominal model-seconds as the policy comparison`,
    seeds,
    points,
  };
}
