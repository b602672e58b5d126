// Benchmark 3: batch throughput and GPU slot utilisation. A durable batch of agent runs over a
// pool of S = 8 slots on two GPU workers, at 0.2 s per generation: busy slot-seconds (measured
// around every backbone call) over S x makespan, and the makespan against the ideal. The same
// batch at latency 0 gives items per second, the control plane's ceiling on this machine.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SIM_LATENCY_SECONDS } from '../backbones/sim';
import { batchWorkflow } from '../workflows';
import type { ItemResult } from '../workflows/batch-types';
import { startWorkers } from './cluster';
import type { BenchContext } from './context';
import { busyWithin, epochMs } from './metered';
import { cpuSecondsOf, machineCpuSeconds } from './processes';
import { round } from './stats';
import { loadGenerationSuite } from './suites/schema';

export interface BatchRun {
  latencyScale: number;
  items: number;
  succeeded: number;
  makespanSeconds: number;
  itemsPerSecond: number;
  /** Backbone-busy slot-seconds over S x makespan. */
  utilisation: number;
  busySlotSeconds: number;
  /** Total model seconds / S: the makespan if the slots never idled. */
  idealSeconds: number;
  /** The same from the calls' nominal latencies (no sim CPU time in it). */
  nominalIdealSeconds: number;
  /** Per item, from the result records. */
  meanSteps: number;
  meanCalls: number;
  /** Average busy slots in each second of the batch, for the chart. */
  busySlotsTimeline: number[];
  /**
   * CPUs in use during the batch (CPU-seconds per second): the whole machine (other work on it
   * included), the Temporal server, this process (client and control worker) and the GPU workers.
   */
  cpu: { machine: number; machineCpus: number; temporalServer: number; controlAndClient: number; gpuWorkers: number };
}

export interface ThroughputResult {
  name: 'throughput';
  quick: boolean;
  setup: string;
  slots: number;
  runs: BatchRun[];
}

const GPU_WORKERS = 2;
const SLOTS_PER_WORKER = 4;
const SLOTS = GPU_WORKERS * SLOTS_PER_WORKER;
/** Agent runs in flight: enough that a call is always waiting for each slot. */
const CONCURRENCY = 48;

/** Writes a manifest of `count` suite prompts, cycling through the suite. */
export function writeManifest(path: string, count: number): string {
  const prompts = loadGenerationSuite().map((i) => i.prompt);
  const lines = Array.from({ length: count }, (_x, k) => JSON.stringify({ id: `item-${String(k).padStart(5, '0')}`, prompt: prompts[(k * 37) % prompts.length] }));
  writeFileSync(path, lines.join('\n') + '\n');
  return pathToFileURL(path).href;
}

export async function runThroughput(ctx: BenchContext): Promise<ThroughputResult> {
  const items = ctx.quick ? 200 : 500;
  const stack = await ctx.stack();
  const runs: BatchRun[] = [];
  for (const latencyScale of [0.2, 0]) {
    const workers = await startWorkers(stack, {
      gpuWorkers: GPU_WORKERS,
      slots: SLOTS_PER_WORKER,
      latencyScale,
      name: `batch-${latencyScale}`,
    });
    try {
      const manifest = writeManifest(join(ctx.scratch, `throughput-${latencyScale}.jsonl`), items);
      const batchId = `throughput-${latencyScale}-${items}`;
      const cpu = () => ({
        machine: machineCpuSeconds(),
        server: cpuSecondsOf(stack.server.pid),
        self: cpuSecondsOf(process.pid),
        gpu: workers.gpuPids.reduce((s, pid) => s + cpuSecondsOf(pid), 0),
      });
      const cpuBefore = cpu();
      const started = epochMs();
      const summary = await stack.client.workflow.execute(batchWorkflow, {
        taskQueue: workers.taskQueue,
        workflowId: batchId,
        args: [{ manifest, concurrency: CONCURRENCY, options: { pool: workers.pool } }],
      });
      const ended = epochMs();
      const cpuAfter = cpu();
      const makespan = ended - started;
      const intervals = await workers.intervals();
      const busy = busyWithin(intervals, started, ended);
      const records = await Promise.all(
        (await workers.store.list(`results/${batchId}/`)).map(async (key) => JSON.parse((await workers.store.get(key)).toString('utf8')) as ItemResult),
      );
      const calls = records.flatMap((r) => (r.metrics ? [r.metrics.calls] : []));
      const nominal = calls.reduce(
        (s, c) => s + (c.chat * SIM_LATENCY_SECONDS.chat + c.generate * SIM_LATENCY_SECONDS.generate + c.edit * SIM_LATENCY_SECONDS.edit) * latencyScale,
        0,
      );
      const seconds = Math.ceil(makespan / 1000);
      const run: BatchRun = {
        latencyScale,
        items,
        succeeded: summary.counts.succeeded,
        makespanSeconds: round(makespan / 1000, 2),
        itemsPerSecond: round(items / (makespan / 1000), 2),
        utilisation: round(busy / (SLOTS * makespan), 4),
        busySlotSeconds: round(busy / 1000, 1),
        idealSeconds: round(busy / 1000 / SLOTS, 2),
        nominalIdealSeconds: round(nominal / SLOTS, 2),
        meanSteps: round(records.reduce((s, r) => s + r.steps, 0) / records.length, 2),
        meanCalls: round(calls.reduce((s, c) => s + c.chat + c.generate + c.edit, 0) / calls.length, 2),
        cpu: {
          machine: round((cpuAfter.machine.busy - cpuBefore.machine.busy) / (makespan / 1000), 2),
          machineCpus: round((cpuAfter.machine.total - cpuBefore.machine.total) / (makespan / 1000)),
          temporalServer: round((cpuAfter.server - cpuBefore.server) / (makespan / 1000), 2),
          controlAndClient: round((cpuAfter.self - cpuBefore.self) / (makespan / 1000), 2),
          gpuWorkers: round((cpuAfter.gpu - cpuBefore.gpu) / (makespan / 1000), 2),
        },
        busySlotsTimeline: Array.from({ length: seconds }, (_x, k) => round(busyWithin(intervals, started + k * 1000, Math.min(ended, started + (k + 1) * 1000)) / Math.min(1000, ended - started - k * 1000), 2)),
      };
      runs.push(run);
      ctx.log(`throughput: latency x${latencyScale}: ${items} items in ${run.makespanSeconds} s (${run.itemsPerSecond}/s), utilisation ${(run.utilisation * 100).toFixed(1)}%, ideal ${run.idealSeconds} s`);
    } finally {
      await workers.stop();
    }
  }
  return {
    name: 'throughput',
    quick: ctx.quick,
    setup: `batch workflow of ${items} agent runs (ImAgent controller, T_max 5, N 4; suite prompts), window ${CONCURRENCY}, ${GPU_WORKERS} GPU workers x ${SLOTS_PER_WORKER} slots (S = ${SLOTS}) in processes of their own, and one control worker in this process, with the Temporal dev server on the same machine`,
    slots: SLOTS,
    runs,
  };
}
