// Benchmark 4: footprint. History events and bytes per agent workflow (images must stay out of
// it), the batch workflow's largest history, and the memory of the control and GPU workers, run
// as the real `imagent worker` processes, sampled across a large batch.
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { inspectHistory } from '../cli/inspect';
import { batchWorkflow, progressQuery } from '../workflows';
import { CONTROL_TASK_QUEUE } from '../workflows/types';
import type { BenchContext } from './context';
import { memoryOf, spawnWorker, type MemorySample } from './processes';
import { mean, median, quantile, round } from './stats';
import { writeManifest } from './throughput';

export interface MemoryTrace {
  /** Seconds since the batch started, items finished, and each worker's RSS (MiB). */
  t: number[];
  done: number[];
  controlMiB: number[];
  gpuMiB: number[];
}

export interface WorkerMemory {
  idleMiB: number;
  peakMiB: number;
  /** Median RSS in each quarter of the batch (by items finished): growth with the batch shows as a rise. */
  quartersMiB: number[];
  /** Least-squares slope of RSS over items finished in the second half, MiB per 1000 items. */
  secondHalfSlopeMiBPer1000Items: number;
}

export interface FootprintResult {
  name: 'footprint';
  quick: boolean;
  setup: string;
  items: number;
  succeeded: number;
  makespanSeconds: number;
  agentHistory: {
    sampled: number;
    eventsMean: number;
    eventsMax: number;
    bytesMean: number;
    bytesP95: number;
    bytesMax: number;
    /** Histories that hold PNG bytes, raw or base64: should be none. */
    withImages: number;
  };
  batchHistory: {
    largestEvents: number;
    runs: number;
    lastRunEvents: number;
    lastRunBytes: number;
    /** Where the last run's bytes are, by event type, largest first. */
    lastRunBytesByType: Record<string, number>;
  };
  control: WorkerMemory;
  gpu: WorkerMemory;
  trace: MemoryTrace;
}

const WINDOW = 48;
const SLOTS = 8;
const HISTORY_SAMPLE = 40;
const SAMPLE_MS = 1000;
const PNG_RAW = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_BASE64 = Buffer.from('iVBORw0KGgo');

function slope(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / sxx;
}

function summariseMemory(idle: MemorySample, peak: number, trace: MemoryTrace, series: number[], items: number): WorkerMemory {
  const within = (lo: number, hi: number): number[] => series.filter((_v, i) => trace.done[i] >= lo * items && trace.done[i] <= hi * items);
  const late = trace.done.map((d, i) => [d, series[i]] as const).filter(([d]) => d >= 0.5 * items);
  return {
    idleMiB: round(idle.rssMiB, 1),
    peakMiB: round(peak, 1),
    quartersMiB: [0, 0.25, 0.5, 0.75].map((q) => round(median(within(q, q + 0.25)), 1)),
    secondHalfSlopeMiBPer1000Items: round(slope(late.map(([d]) => d), late.map(([, v]) => v)) * 1000, 2),
  };
}

export async function runFootprint(ctx: BenchContext): Promise<FootprintResult> {
  const items = ctx.quick ? 300 : 2000;
  const stack = await ctx.stack();
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: stack.server.address,
    IMAGENT_STORE: `file://${join(ctx.scratch, 'footprint-blobs')}`,
    IMAGENT_SIM_LATENCY: '0',
    IMAGENT_GPU_SLOTS: String(SLOTS),
    IMAGENT_LOG_LEVEL: 'info',
  };
  const cli = join(__dirname, '..', 'bin', 'imagent.js');
  const start = (role: string) =>
    spawnWorker({ name: `${role} worker`, args: [cli, 'worker', '--role', role], env, logFile: join(ctx.scratch, `footprint-${role}.log`), ready: /worker polling/ });
  const [control, gpu] = await Promise.all([start('control'), start('gpu')]);
  try {
    const idle = { control: memoryOf(control.pid), gpu: memoryOf(gpu.pid) };
    if (!idle.control || !idle.gpu) throw new Error('A worker process ended right after it started; see its log in the scratch folder.');
    const batchId = `footprint-${items}`;
    const manifest = writeManifest(join(ctx.scratch, 'footprint.jsonl'), items);
    const began = Date.now();
    const handle = await stack.client.workflow.start(batchWorkflow, { taskQueue: CONTROL_TASK_QUEUE, workflowId: batchId, args: [{ manifest, concurrency: WINDOW }] });
    const trace: MemoryTrace = { t: [], done: [], controlMiB: [], gpuMiB: [] };
    let finished = false;
    const result = handle.result().finally(() => (finished = true));
    let lastLog = 0;
    while (!finished) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
      const [c, g] = [memoryOf(control.pid), memoryOf(gpu.pid)];
      const progress = await handle.query(progressQuery).catch(() => null);
      if (!c || !g || !progress) continue;
      trace.t.push(round((Date.now() - began) / 1000, 1));
      trace.done.push(progress.done + progress.failed);
      trace.controlMiB.push(round(c.rssMiB, 1));
      trace.gpuMiB.push(round(g.rssMiB, 1));
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        ctx.log(`footprint: ${progress.done + progress.failed}/${items} items, control ${c.rssMiB.toFixed(0)} MiB, GPU ${g.rssMiB.toFixed(0)} MiB`);
      }
    }
    const summary = await result;
    const makespan = (Date.now() - began) / 1000;
    const peak = { control: memoryOf(control.pid)?.peakMiB ?? Math.max(...trace.controlMiB), gpu: memoryOf(gpu.pid)?.peakMiB ?? Math.max(...trace.gpuMiB) };

    const sampled = Array.from({ length: Math.min(HISTORY_SAMPLE, items) }, (_x, k) => Math.floor((k * items) / Math.min(HISTORY_SAMPLE, items)));
    const histories = await Promise.all(
      sampled.map(async (k) => {
        const id = `${batchId}/item-${String(k).padStart(5, '0')}`;
        const events = (await stack.client.workflow.getHandle(id).fetchHistory()).events ?? [];
        const raw = Buffer.concat(events.map((e) => Buffer.from(temporal.api.history.v1.HistoryEvent.encode(e).finish())));
        const inspection = inspectHistory(id, events);
        return { events: inspection.historyEvents, bytes: inspection.historyBytes, images: raw.includes(PNG_RAW) || raw.includes(PNG_BASE64) };
      }),
    );
    const batchEvents = (await handle.fetchHistory()).events ?? [];
    const batchInspection = inspectHistory(batchId, batchEvents);
    const byType: Record<string, number> = {};
    for (const e of batchEvents) {
      const type = (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? 'unknown').replace(/^EVENT_TYPE_/, '');
      byType[type] = (byType[type] ?? 0) + temporal.api.history.v1.HistoryEvent.encode(e).len;
    }
    const lastRunBytesByType = Object.fromEntries(Object.entries(byType).sort((a, b) => b[1] - a[1]));
    const bytes = histories.map((h) => h.bytes);
    const footprint: FootprintResult = {
      name: 'footprint',
      quick: ctx.quick,
      setup: `batch of ${items} agent runs (ImAgent controller, T_max 5, N 4; suite prompts; window ${WINDOW}) on one \`imagent worker --role control\` and one \`imagent worker --role gpu\` process (${SLOTS} slots, sim latency 0), memory sampled every ${SAMPLE_MS / 1000} s from /proc; ${HISTORY_SAMPLE} agent histories sampled evenly`,
      items,
      succeeded: summary.counts.succeeded,
      makespanSeconds: round(makespan, 1),
      agentHistory: {
        sampled: histories.length,
        eventsMean: round(mean(histories.map((h) => h.events)), 1),
        eventsMax: Math.max(...histories.map((h) => h.events)),
        bytesMean: Math.round(mean(bytes)),
        bytesP95: Math.round(quantile(bytes, 0.95)),
        bytesMax: Math.max(...bytes),
        withImages: histories.filter((h) => h.images).length,
      },
      batchHistory: { largestEvents: summary.largestHistory, runs: summary.runs, lastRunEvents: batchInspection.historyEvents, lastRunBytes: batchInspection.historyBytes, lastRunBytesByType },
      control: summariseMemory(idle.control, peak.control, trace, trace.controlMiB, items),
      gpu: summariseMemory(idle.gpu, peak.gpu, trace, trace.gpuMiB, items),
      trace,
    };
    ctx.log(
      `footprint: ${items} items in ${footprint.makespanSeconds} s; agent history ${footprint.agentHistory.bytesMean} B mean, ${footprint.agentHistory.bytesMax} B max; batch largest ${summary.largestHistory} events over ${summary.runs} runs; peak RSS control ${footprint.control.peakMiB} MiB, GPU ${footprint.gpu.peakMiB} MiB`,
    );
    return footprint;
  } finally {
    await Promise.all([control.stop(), gpu.stop()]);
  }
}
