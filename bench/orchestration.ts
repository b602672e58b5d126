// Benchmark 1: orchestration overhead per step. The ImAgent controller runs the same prompts with
// the same seeds through the agent workflow on Temporal and through the plain in-process loop,
// interleaved in one process, at several sim latencies. Overhead per step is wall time minus model
// time on the critical path (the trajectory's modelMs), divided by the steps taken.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { temporal } from '@temporalio/proto';
import { SIM_LATENCY_SECONDS, SimBackbone } from '../backbones/sim';
import { openBlobStore } from '../storage/blobstore';
import { agentWorkflow } from '../workflows';
import type { AgentInput, AgentResult } from '../workflows/types';
import { startWorkers } from './cluster';
import type { BenchContext } from './context';
import { BENCH_INSTRUCTION_NOISE } from './evaluate';
import { plainLoop } from './plain-loop';
import { round } from './stats';
import { loadGenerationSuite, perCategory } from './suites/schema';

export interface OrchestrationRun {
  latencyScale: number;
  mode: 'temporal' | 'plain';
  itemId: string;
  seed: string;
  /** End to end: the client's start to result (Temporal), the loop call (plain). */
  wallMs: number;
  /** Model time on the critical path, summed over the trajectory. */
  modelMs: number;
  /** The steps' own wall time (each observation's durationMs), summed. */
  stepsMs: number;
  /** Controller steps, the final STOP included (it costs a controller call too). */
  steps: number;
  actions: string[];
  /** Temporal runs only: where the time went, from the workflow's event history. */
  history?: HistoryBreakdown;
}

/** Milliseconds summed over a run's history, between the events that bound each task. */
export interface HistoryBreakdown {
  /** Workflow tasks: scheduled to started (waiting for a poller), started to completed (the worker's turn). */
  workflowTaskQueueMs: number;
  workflowTaskRunMs: number;
  /** Activity tasks: scheduled to started, and started to completed (model time included). */
  activityQueueMs: number;
  activityRunMs: number;
}

export interface OrchestrationRow {
  latencyScale: number;
  generationSeconds: number;
  mode: 'temporal' | 'plain';
  runs: number;
  steps: number;
  wallSeconds: number;
  modelSeconds: number;
  overheadMsPerStep: number;
  /** The part of it inside the steps (their durationMs less model time), per step. */
  inStepMsPerStep: number;
  /** The rest, per run: starting the run, describing the backbone, completing it, the client seeing the result. */
  perRunMs: number;
  efficiency: number;
  /** Temporal only: the history breakdown per step; the activities' run time less model time. */
  perStep?: { workflowTaskQueueMs: number; workflowTaskRunMs: number; activityQueueMs: number; activityRunLessModelMs: number };
}

export interface OrchestrationResult {
  name: 'orchestration';
  quick: boolean;
  setup: string;
  rows: OrchestrationRow[];
  /** Both modes took the same actions on every prompt (same seeds, same model). */
  sameTrajectories: boolean;
  runs: OrchestrationRun[];
}

const SLOTS = 8;
const EventType = temporal.api.enums.v1.EventType;

function breakdown(events: readonly temporal.api.history.v1.IHistoryEvent[]): HistoryBreakdown {
  const at = new Map<string, number>();
  const ms = (e: temporal.api.history.v1.IHistoryEvent): number => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
  const out: HistoryBreakdown = { workflowTaskQueueMs: 0, workflowTaskRunMs: 0, activityQueueMs: 0, activityRunMs: 0 };
  const since = (id: unknown, e: temporal.api.history.v1.IHistoryEvent): number => ms(e) - (at.get(String(id)) ?? ms(e));
  for (const e of events) {
    at.set(String(e.eventId), ms(e));
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) out.workflowTaskQueueMs += since(e.workflowTaskStartedEventAttributes?.scheduledEventId, e);
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) out.workflowTaskRunMs += since(e.workflowTaskCompletedEventAttributes?.startedEventId, e);
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) out.activityQueueMs += since(e.activityTaskStartedEventAttributes?.scheduledEventId, e);
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) out.activityRunMs += since(e.activityTaskCompletedEventAttributes?.startedEventId, e);
  }
  return out;
}
const QUICK_CATEGORIES: readonly string[] = ['counting', 'position', 'color_attribution', 'world_knowledge'];

function aggregate(runs: OrchestrationRun[], latencyScale: number, mode: 'temporal' | 'plain'): OrchestrationRow {
  const mine = runs.filter((r) => r.latencyScale === latencyScale && r.mode === mode);
  const wall = mine.reduce((s, r) => s + r.wallMs, 0);
  const model = mine.reduce((s, r) => s + r.modelMs, 0);
  const steps = mine.reduce((s, r) => s + r.steps, 0);
  const inSteps = mine.reduce((s, r) => s + r.stepsMs, 0);
  const histories = mine.flatMap((r) => (r.history ? [r.history] : []));
  const per = (pick: (h: HistoryBreakdown) => number): number => round(histories.reduce((s, h) => s + pick(h), 0) / steps, 1);
  return {
    latencyScale,
    generationSeconds: SIM_LATENCY_SECONDS.generate * latencyScale,
    mode,
    runs: mine.length,
    steps,
    wallSeconds: round(wall / 1000),
    modelSeconds: round(model / 1000),
    overheadMsPerStep: round((wall - model) / steps, 1),
    inStepMsPerStep: round((inSteps - model) / steps, 1),
    perRunMs: round((wall - inSteps) / mine.length, 1),
    efficiency: round(model / wall, 4),
    ...(histories.length === 0
      ? {}
      : {
          perStep: {
            workflowTaskQueueMs: per((h) => h.workflowTaskQueueMs),
            workflowTaskRunMs: per((h) => h.workflowTaskRunMs),
            activityQueueMs: per((h) => h.activityQueueMs),
            activityRunLessModelMs: round((histories.reduce((s, h) => s + h.activityRunMs, 0) - model) / steps, 1),
          },
        }),
  };
}

export async function runOrchestration(ctx: BenchContext): Promise<OrchestrationResult> {
  const latencies = ctx.quick ? [0, 1] : [0, 0.2, 1];
  // Quick mode keeps the categories whose runs take several steps, so the steps are not all STOPs.
  const items = perCategory(loadGenerationSuite(), 1).filter((i) => !ctx.quick || QUICK_CATEGORIES.includes(i.category));
  const seeds = ctx.quick ? ['a'] : ['a', 'b'];
  const stack = await ctx.stack();
  const runs: OrchestrationRun[] = [];

  for (const latencyScale of latencies) {
    const workers = await startWorkers(stack, { gpuWorkers: 1, slots: SLOTS, latencyScale, name: `orch-${latencyScale}` });
    const plain = plainLoop(new SimBackbone({ latencyScale, instructionNoise: BENCH_INSTRUCTION_NOISE }), openBlobStore(pathToFileURL(join(ctx.scratch, `orch-plain-${latencyScale}`)).href));
    try {
      const input = (prompt: string, seed: string): AgentInput => ({ prompt, options: { pool: workers.pool, seed } });
      const temporal = async (prompt: string, seed: string, id: string): Promise<[number, AgentResult]> => {
        const started = performance.now();
        const result = await stack.client.workflow.execute(agentWorkflow, { taskQueue: workers.taskQueue, workflowId: id, args: [input(prompt, seed)] });
        return [performance.now() - started, result];
      };
      const inProcess = async (prompt: string, seed: string, id: string): Promise<[number, AgentResult]> => {
        const started = performance.now();
        const result = await plain.run(input(prompt, seed), id);
        return [performance.now() - started, result];
      };
      // Warm-up: the first workflow on a worker loads the bundle into a fresh isolate.
      await temporal(items[0].prompt, 'warm-up', `orch-warm-${latencyScale}`);
      await inProcess(items[0].prompt, 'warm-up', `orch-warm-plain-${latencyScale}`);
      for (const item of items) {
        for (const seed of seeds) {
          for (const [mode, run] of [['temporal', temporal], ['plain', inProcess]] as const) {
            const id = `orch-${mode}-${latencyScale}-${item.id}-${seed}`;
            const [wallMs, result] = await run(item.prompt, seed, id);
            const history = mode === 'temporal' ? breakdown((await stack.client.workflow.getHandle(id).fetchHistory()).events ?? []) : undefined;
            runs.push({
              latencyScale,
              mode,
              itemId: item.id,
              seed,
              wallMs: round(wallMs, 1),
              modelMs: result.trajectory.reduce((s, o) => s + o.modelMs, 0),
              stepsMs: result.trajectory.reduce((s, o) => s + o.durationMs, 0),
              steps: result.trajectory.length,
              actions: result.trajectory.map((o) => o.action),
              ...(history ? { history } : {}),
            });
          }
        }
      }
    } finally {
      await workers.stop();
    }
    const [t, p] = [aggregate(runs, latencyScale, 'temporal'), aggregate(runs, latencyScale, 'plain')];
    ctx.log(`orchestration: latency x${latencyScale}: imagent ${t.overheadMsPerStep} ms/step, efficiency ${(t.efficiency * 100).toFixed(1)}%; plain loop ${p.overheadMsPerStep} ms/step, ${(p.efficiency * 100).toFixed(1)}%`);
  }

  const sameTrajectories = runs
    .filter((r) => r.mode === 'temporal')
    .every((t) => {
      const p = runs.find((r) => r.mode === 'plain' && r.latencyScale === t.latencyScale && r.itemId === t.itemId && r.seed === t.seed);
      return p !== undefined && p.actions.join() === t.actions.join();
    });
  return {
    name: 'orchestration',
    quick: ctx.quick,
    setup: `ImAgent controller (T_max 5, N 4), ${items.length} prompts x ${seeds.length} seeds per latency, one at a time; one control worker in this process and one GPU worker of ${SLOTS} slots in a process of its own; sim latency per generation ${latencies.map((l) => `${l} s`).join(', ')} (chat and scoring ${SIM_LATENCY_SECONDS.chat / SIM_LATENCY_SECONDS.generate} of it); instruction noise ${BENCH_INSTRUCTION_NOISE}`,
    rows: latencies.flatMap((l) => [aggregate(runs, l, 'temporal'), aggregate(runs, l, 'plain')]),
    sameTrajectories,
    runs,
  };
}
