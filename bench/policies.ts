// Benchmark 6: policies side by side in the sim world (the paper's single-action ablation,
// extended): naive only, each action alone, a random policy, a fixed pipeline and the ImAgent
// controller, over the generation and editing suites, several seeds, scored by ground truth.
import type { BenchContext } from './context';
import { BENCH_INSTRUCTION_NOISE, runJobs, type Job, type JobRecord, type SuiteItem } from './evaluate';
import { POLICIES, type PolicySpec } from './policy-defs';
import { groupBy, mean, round, spread, type Spread } from './stats';
import { EDIT_CATEGORIES, GENERATION_CATEGORIES, loadEditingSuite, loadGenerationSuite, perCategory } from './suites/schema';

export interface PolicySummary {
  name: string;
  short: string;
  label: string;
  tMax: number;
  n: number;
  /** Accuracy (fraction fully correct by ground truth): mean and spread over seeds. */
  generation: Spread;
  editing: Spread;
  byCategory: Record<string, Spread>;
  /** Mean self-evaluation of the final image (0-10), and how often it claims success (>= 9). */
  selfScore: Spread;
  selfClaimsCorrect: number;
  psr: number;
  aur: number;
  avr: number;
  fallbacks: number;
  steps: Spread;
  decisions: number;
  calls: { chat: number; generate: number; edit: number; total: number };
  gpuSeconds: Spread;
  latencySeconds: number;
  actions: Record<string, number>;
  errors: number;
}

export interface PoliciesResult {
  name: 'policies';
  quick: boolean;
  setup: string;
  seeds: number[];
  generationItems: number;
  editingItems: number;
  instructionNoise: number;
  policies: PolicySummary[];
}

/** Suite items, all of them or a stratified sample in quick mode. */
export function suiteItems(quick: boolean): SuiteItem[] {
  const generation = loadGenerationSuite();
  const editing = loadEditingSuite();
  return [
    ...(quick ? perCategory(generation, 4) : generation).map((g): SuiteItem => ({ suite: 'generation', ...g })),
    ...(quick ? perCategory(editing, 2) : editing).map((e): SuiteItem => ({ suite: 'editing', ...e })),
  ];
}

export function jobsFor(specs: readonly PolicySpec[], items: readonly SuiteItem[], seeds: readonly number[]): Job[] {
  return specs.flatMap((spec) => seeds.flatMap((seed) => items.map((item) => ({ spec, item, seed }))));
}

const accuracy = (records: readonly JobRecord[]): number => (records.length === 0 ? NaN : records.filter((r) => r.correct).length / records.length);

/** Accuracy of `records` per seed, as a spread over seeds. */
function overSeeds(records: readonly JobRecord[], value: (rs: JobRecord[]) => number): Spread {
  return spread([...groupBy(records, (r) => String(r.seed)).values()].map(value));
}

/** Rates over every decision of every run (runs weigh by their decisions). */
function pooled(records: readonly JobRecord[], rate: (r: JobRecord) => number): number {
  const weight = (r: JobRecord): number => Math.max(r.decisions, 0);
  const total = records.reduce((s, r) => s + weight(r), 0);
  return total === 0 ? 1 : round(records.reduce((s, r) => s + rate(r) * weight(r), 0) / total, 4);
}

export function summarisePolicy(spec: PolicySpec, records: readonly JobRecord[]): PolicySummary {
  const generation = records.filter((r) => r.suite === 'generation');
  const editing = records.filter((r) => r.suite === 'editing');
  const byCategory: Record<string, Spread> = {};
  for (const c of GENERATION_CATEGORIES) byCategory[c] = overSeeds(generation.filter((r) => r.category === c), accuracy);
  for (const c of EDIT_CATEGORIES) byCategory[`edit:${c}`] = overSeeds(editing.filter((r) => r.category === c), accuracy);
  const actions: Record<string, number> = {};
  for (const r of records) for (const a of r.actions) actions[a] = (actions[a] ?? 0) + 1;
  const scored = records.filter((r) => r.selfScore !== null);
  return {
    name: spec.name,
    short: spec.short,
    label: spec.label,
    tMax: spec.tMax,
    n: spec.n,
    generation: overSeeds(generation, accuracy),
    editing: overSeeds(editing, accuracy),
    byCategory,
    selfScore: overSeeds(scored, (rs) => mean(rs.map((r) => r.selfScore ?? 0))),
    selfClaimsCorrect: round(scored.filter((r) => (r.selfScore ?? 0) >= 9).length / Math.max(1, scored.length), 4),
    psr: pooled(records, (r) => r.psr),
    aur: pooled(records, (r) => r.aur),
    avr: pooled(records, (r) => r.avr),
    fallbacks: round(mean(records.map((r) => r.fallbacks)), 3),
    steps: overSeeds(records, (rs) => mean(rs.map((r) => r.steps))),
    decisions: round(mean(records.map((r) => r.decisions)), 3),
    calls: {
      chat: round(mean(records.map((r) => r.calls.chat)), 3),
      generate: round(mean(records.map((r) => r.calls.generate)), 3),
      edit: round(mean(records.map((r) => r.calls.edit)), 3),
      total: round(mean(records.map((r) => r.calls.chat + r.calls.generate + r.calls.edit)), 3),
    },
    gpuSeconds: overSeeds(records, (rs) => mean(rs.map((r) => r.gpuSeconds))),
    latencySeconds: round(mean(records.map((r) => r.latencySeconds)), 3),
    actions,
    errors: records.filter((r) => r.error !== undefined).length,
  };
}

export async function runPolicies(ctx: BenchContext): Promise<PoliciesResult> {
  const items = suiteItems(ctx.quick);
  const seeds = ctx.quick ? [0] : [0, 1, 2];
  const jobs = jobsFor(POLICIES, items, seeds);
  let lastLog = 0;
  const records = await runJobs(jobs, (done, total) => {
    if (Date.now() - lastLog > 30_000 || done === total) {
      lastLog = Date.now();
      ctx.log(`policies: ${done}/${total} runs`);
    }
  });
  const policies = POLICIES.map((spec) => summarisePolicy(spec, records.filter((r) => r.policy === spec.name)));
  for (const p of policies) {
    ctx.log(`policies: ${p.name}: generation ${(p.generation.mean * 100).toFixed(1)}%, editing ${(p.editing.mean * 100).toFixed(1)}%, ${p.gpuSeconds.mean.toFixed(2)} model-s/image`);
  }
  const generationItems = items.filter((i) => i.suite === 'generation').length;
  return {
    name: 'policies',
    quick: ctx.quick,
    setup: `${generationItems} generation prompts and ${items.length - generationItems} edit requests from bench/suites, ${seeds.length} seed(s), plain in-process loop (no Temporal) on the sim backbone at latency 0 with instruction noise ${BENCH_INSTRUCTION_NOISE}; model-seconds are nominal (SIM_LATENCY_SECONDS at scale 1: generation and edit 1 s, chat 0.25 s)`,
    seeds,
    generationItems,
    editingItems: items.length - generationItems,
    instructionNoise: BENCH_INSTRUCTION_NOISE,
    policies,
  };
}
