// Benchmark 2: Best-of-N fan-out. One Best-of-N step (N candidates generated at once, then scored
// at once) through Temporal on a GPU pool of 8 slots, against one generation plus one scoring,
// against the same step in the plain in-process loop, and against the sequential loop of a single
// GPU (each candidate generated and scored in turn).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SIM_LATENCY_SECONDS, SimBackbone } from '../backbones/sim';
import { openBlobStore } from '../storage/blobstore';
import type { AgentInput } from '../workflows/types';
import { startWorkers } from './cluster';
import type { BenchContext } from './context';
import { BENCH_INSTRUCTION_NOISE } from './evaluate';
import { plainLoop, sequentialBestOfN } from './plain-loop';
import { median, round } from './stats';
import { SUITE_IMAGE_SIZE } from './suites/build-constants';
import { loadGenerationSuite } from './suites/schema';
import { fixedPolicyWorkflow } from './workflows';

export interface FanoutRow {
  n: number;
  repeats: number;
  /** Medians, in seconds. */
  temporalStepSeconds: number;
  temporalEndToEndSeconds: number;
  temporalModelSeconds: number;
  plainStepSeconds: number;
  sequentialSeconds: number;
  /** Temporal step wall time over one candidate's time (one generation plus one scoring). */
  ratioToOneCandidate: number;
  /** The same, over the nominal latency of one generation plus one scoring. */
  ratioToNominal: number;
  /** Sequential loop over Temporal: the fan-out's speed-up. */
  speedupOverSequential: number;
}

export interface FanoutResult {
  name: 'fanout';
  quick: boolean;
  setup: string;
  /** One candidate's time: the median model time of the N = 1 step (one generation plus one scoring). */
  oneCandidateSeconds: number;
  nominalOneCandidateSeconds: number;
  rows: FanoutRow[];
}

const SLOTS = 8;
const LATENCY_SCALE = 1;
const NS = [1, 2, 4, 8];

export async function runFanout(ctx: BenchContext): Promise<FanoutResult> {
  const repeats = ctx.quick ? 3 : 7;
  const prompt = loadGenerationSuite().find((i) => i.category === 'color_attribution')?.prompt ?? 'a photo of a red cup and a blue car';
  const stack = await ctx.stack();
  const workers = await startWorkers(stack, { gpuWorkers: 1, slots: SLOTS, latencyScale: LATENCY_SCALE, name: 'fanout' });
  const plain = plainLoop(new SimBackbone({ latencyScale: LATENCY_SCALE, instructionNoise: BENCH_INSTRUCTION_NOISE }), openBlobStore(pathToFileURL(join(ctx.scratch, 'fanout-plain')).href));
  const samples = new Map<number, { step: number[]; e2e: number[]; model: number[]; plain: number[]; sequential: number[] }>();
  try {
    const input = (n: number, seed: string): AgentInput => ({ prompt, options: { tMax: 1, n, pool: workers.pool, seed } });
    await stack.client.workflow.execute(fixedPolicyWorkflow, { taskQueue: workers.taskQueue, workflowId: 'fanout-warm-up', args: [input(1, 'warm-up'), 'best_of_n'] });
    for (let r = 0; r < repeats; r++) {
      for (const n of NS) {
        const seed = `fanout-${r}`;
        const s = samples.get(n) ?? { step: [], e2e: [], model: [], plain: [], sequential: [] };
        samples.set(n, s);
        const started = performance.now();
        const result = await stack.client.workflow.execute(fixedPolicyWorkflow, {
          taskQueue: workers.taskQueue,
          workflowId: `fanout-${n}-${r}`,
          args: [input(n, seed), 'best_of_n'],
        });
        s.e2e.push(performance.now() - started);
        s.step.push(result.trajectory[0].durationMs);
        s.model.push(result.trajectory[0].modelMs);
        const local = await plain.run(input(n, seed), `fanout-plain-${n}-${r}`, () => 'best_of_n');
        s.plain.push(local.trajectory[0].durationMs);
        s.sequential.push(await sequentialBestOfN(plain.activities, prompt, n, seed, SUITE_IMAGE_SIZE));
      }
      ctx.log(`fanout: repeat ${r + 1}/${repeats} done`);
    }
  } finally {
    await workers.stop();
  }
  const sec = (xs: number[]): number => round(median(xs) / 1000);
  const oneCandidate = median(samples.get(1)?.model ?? [NaN]);
  const nominal = (SIM_LATENCY_SECONDS.generate + SIM_LATENCY_SECONDS.chat) * LATENCY_SCALE;
  const rows = NS.map((n): FanoutRow => {
    const s = samples.get(n) ?? { step: [], e2e: [], model: [], plain: [], sequential: [] };
    return {
      n,
      repeats,
      temporalStepSeconds: sec(s.step),
      temporalEndToEndSeconds: sec(s.e2e),
      temporalModelSeconds: sec(s.model),
      plainStepSeconds: sec(s.plain),
      sequentialSeconds: sec(s.sequential),
      ratioToOneCandidate: round(median(s.step) / oneCandidate),
      ratioToNominal: round(median(s.step) / 1000 / nominal),
      speedupOverSequential: round(median(s.sequential) / median(s.step), 2),
    };
  });
  for (const r of rows) ctx.log(`fanout: N=${r.n}: step ${r.temporalStepSeconds} s (${r.ratioToOneCandidate}x one candidate), sequential ${r.sequentialSeconds} s`);
  return {
    name: 'fanout',
    quick: ctx.quick,
    setup: `one Best-of-N step (fixed-policy workflow, T_max 1) on one GPU worker of ${SLOTS} slots (a process of its own), sim latency ${LATENCY_SCALE} s per generation and ${SIM_LATENCY_SECONDS.chat * LATENCY_SCALE} s per scoring; median of ${repeats} repeats per N; prompt "${prompt}"`,
    oneCandidateSeconds: round(oneCandidate / 1000),
    nominalOneCandidateSeconds: nominal,
    rows,
  };
}
