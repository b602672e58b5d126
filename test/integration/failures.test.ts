// Surviving GPU failures, with real processes on the dev server: a GPU worker killed or frozen in
// the middle of Best-of-N, a model server that fails or hangs on a share of its calls, a permanent
// refusal, and a pool with no workers at all for a while.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { inspectWorkflow, type Inspection } from '../../cli/inspect';
import { openBlobStore, type BlobStore } from '../../storage/blobstore';
import { agentWorkflow } from '../../workflows';
import type { AgentInput, AgentResult, ImageRef } from '../../workflows/types';
import { startTestCluster, uniqueName, type TestCluster } from '../helpers/cluster';
import {
  startGpuWorkerProcess,
  startModelRelay,
  startSimServerProcess,
  stopAll,
  type GpuWorkerProcess,
  type ModelRelay,
  type ModelScript,
  type SimServerFlags,
} from '../helpers/processes';
import { answer } from '../helpers/scripted';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;
const { PendingActivityState, TimeoutType, EventType } = temporal.api.enums.v1;

const PROMPT = 'two red apples to the left of a blue cup';
/** One second per generation, a quarter second per chat call: long enough to act in the middle of one. */
const LATENCY_SCALE = 1;
/** Best-of-N first, then STOP: four generations at once, so both workers of a pool are busy. */
const BEST_OF_N_THEN_STOP: ModelScript = { controller: (k) => answer(k === 1 ? 'best_of_n_selection' : 'STOP') };

interface Pool {
  cluster: TestCluster;
  store: BlobStore;
  model: ModelRelay;
  workers: GpuWorkerProcess[];
  /** Starts one more GPU worker process on the pool. */
  addWorker(): Promise<GpuWorkerProcess>;
  start(input: AgentInput, workflowId?: string): Promise<WorkflowHandle<typeof agentWorkflow>>;
}

let cluster: TestCluster | undefined;
let storeDir: string | undefined;

afterEach(async () => {
  await stopAll();
  await cluster?.stop();
  cluster = undefined;
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  storeDir = undefined;
});

async function startPool(options: { sim: SimServerFlags; script?: ModelScript; workers: number; slots: number; env?: NodeJS.ProcessEnv }): Promise<Pool> {
  storeDir = mkdtempSync(join(tmpdir(), 'imagent-failures-'));
  const storeUri = pathToFileURL(storeDir).href;
  const store = openBlobStore(storeUri);
  const started = await startTestCluster({ gpuWorkers: 0, store });
  cluster = started;
  const sim = await startSimServerProcess({ latencyScale: LATENCY_SCALE, ...options.sim });
  const model = await startModelRelay(sim.url, options.script);
  const addWorker = () =>
    startGpuWorkerProcess({ client: started.client, pool: started.pool, slots: options.slots, backboneUrl: model.url, storeUri, env: options.env });
  const workers = await Promise.all(Array.from({ length: options.workers }, addWorker));
  return {
    cluster: started,
    store,
    model,
    workers,
    addWorker,
    start: (input, workflowId = uniqueName('failures')) =>
      started.client.workflow.start(agentWorkflow, {
        taskQueue: started.taskQueue,
        workflowId,
        args: [{ ...input, options: { ...input.options, pool: started.pool } }],
      }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `count` generate activities of step 1 are running, and returns them. */
async function runningGenerations(handle: WorkflowHandle, count: number): Promise<PendingActivity[]> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { raw } = await handle.describe();
    const running = (raw.pendingActivities ?? []).filter(
      (a) => /^1\/generate-\d+$/.test(a.activityId ?? '') && a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
    );
    if (running.length >= count) return running;
    await sleep(50);
  }
  throw new Error(`${count} generations of step 1 were not running within 30 s.`);
}

/** The ActivityTaskStarted event of each activity's last attempt, by activity id. */
function lastStarts(events: readonly HistoryEvent[]): Map<string, temporal.api.history.v1.IActivityTaskStartedEventAttributes> {
  const idOf = new Map<string, string>();
  const starts = new Map<string, temporal.api.history.v1.IActivityTaskStartedEventAttributes>();
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) idOf.set(String(event.eventId), scheduled.activityId ?? '');
    const started = event.activityTaskStartedEventAttributes;
    if (started) starts.set(idOf.get(String(started.scheduledEventId)) ?? '', started);
  }
  return starts;
}

function referencedImages(results: readonly AgentResult[]): ImageRef[] {
  return results.flatMap((r) =>
    r.trajectory.flatMap((o) => [o.imageAfter, ...(o.candidates ?? []).map((c) => c.image)]).filter((ref): ref is ImageRef => ref !== undefined),
  );
}

/** What a run made, step by step: equal for two runs that drew the same images and scores. */
function madeByRun(result: AgentResult) {
  return {
    finalImage: result.finalImage.sha256,
    steps: result.trajectory.map((o) => ({
      action: o.action,
      promptAfter: o.promptAfter,
      image: o.imageAfter?.sha256,
      score: o.score,
      chosen: o.chosen,
      candidates: o.candidates?.map((c) => ({ image: c.image.sha256, seed: c.seed, score: c.score })),
    })),
  };
}

function retries(inspections: readonly Inspection[]) {
  const retried = inspections.flatMap((i) => i.activities.filter((a) => a.failedAttempts > 0));
  return { attempts: retried.reduce((sum, a) => sum + a.failedAttempts, 0), activities: retried };
}

/** Every status the relay saw for model calls, summed over the routes. */
function statuses(model: ModelRelay): Record<string, number> {
  const total: Record<string, number> = {};
  for (const [route, byStatus] of Object.entries(model.tally())) {
    if (route === 'GET /v1/models') continue;
    for (const [status, n] of Object.entries(byStatus)) total[status] = (total[status] ?? 0) + n;
  }
  return total;
}

describe('surviving GPU failures', () => {
  it('finishes a Best-of-N step on the other worker when one is killed mid-generation, with the same images as an undisturbed run', async () => {
    const pool = await startPool({ sim: {}, script: BEST_OF_N_THEN_STOP, workers: 2, slots: 2 });
    const [victim, survivor] = pool.workers;
    const input: AgentInput = { prompt: PROMPT, options: { tMax: 2, n: 4, backbone: 'openai', heartbeatSeconds: 3, seed: 'gpu-failure-kill' } };
    const reference = await (await pool.start(input)).result();

    const handle = await pool.start(input);
    const running = await runningGenerations(handle, 4);
    const orphaned = running.filter((a) => a.lastWorkerIdentity === victim.identity).map((a) => a.activityId ?? '');
    expect(orphaned).toHaveLength(2);
    victim.kill('SIGKILL');
    expect(await victim.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
    const result = await handle.result();

    expect(result.trajectory.map((o) => o.action)).toEqual(['best_of_n', 'stop']);
    expect(madeByRun(result)).toEqual(madeByRun(reference));
    const events = (await handle.fetchHistory()).events ?? [];
    const starts = lastStarts(events);
    for (const id of orphaned) {
      const start = starts.get(id);
      expect(start?.attempt).toBeGreaterThanOrEqual(2);
      expect(start?.identity).toBe(survivor.identity);
      expect(start?.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    }
    // Retries drew the same bytes and wrote the same content-addressed keys: nothing else is stored.
    const referenced = new Set(referencedImages([reference, result]).map((ref) => `images/${ref.sha256}.png`));
    expect(new Set(await pool.store.list('images/'))).toEqual(referenced);
  }, 90_000);

  it('retries calls the model server fails with 503 or out of memory (30% of calls) until all five runs complete', async () => {
    const pool = await startPool({ sim: { transientRate: 0.15, oomRate: 0.15, seed: 11 }, script: BEST_OF_N_THEN_STOP, workers: 2, slots: 4 });
    const handles = await Promise.all(Array.from({ length: 5 }, () => pool.start({ prompt: PROMPT, options: { tMax: 2, n: 4, backbone: 'openai' } })));
    const results = await Promise.all(handles.map((h) => h.result()));

    for (const result of results) {
      expect(result.trajectory.map((o) => o.action)).toEqual(['best_of_n', 'stop']);
      expect(result.trajectory[0].candidates).toHaveLength(4);
    }
    const inspections = await Promise.all(handles.map((h) => inspectWorkflow(pool.cluster.client, h.workflowId)));
    const { attempts, activities } = retries(inspections);
    const seen = statuses(pool.model);
    const byKind = {
      overloaded: activities.filter((a) => /overloaded/.test(a.lastFailure ?? '')).length,
      outOfMemory: activities.filter((a) => /out of memory/i.test(a.lastFailure ?? '')).length,
    };
    console.log(
      `503 / out-of-memory faults: the server answered ${JSON.stringify(seen)} over ${Object.values(seen).reduce((a, b) => a + b, 0)} model calls; ` +
        `history shows ${attempts} failed attempts over ${activities.length} retried activities ` +
        `(last failure: ${byKind.overloaded} overloaded, ${byKind.outOfMemory} out of memory).`,
    );
    expect(attempts).toBeGreaterThan(0);
    // Every 503 the server sent shows up in history as one failed, retried attempt.
    expect(attempts).toBe(seen['503']);
    for (const activity of activities) {
      expect(activity.state).toBe('completed');
      expect(activity.lastFailure).toMatch(/(BackboneUnavailable: .*overloaded|BackboneOutOfMemory: .*out of memory)/i);
    }
  }, 120_000);

  it('cuts a hung model call at the request timeout and retries it', async () => {
    // With this fault seed the sim hangs on one of the four generations, one of the four scores and
    // the second controller call (draws 3, 10 and 12).
    const pool = await startPool({ sim: { hangRate: 0.3, seed: 2 }, script: BEST_OF_N_THEN_STOP, workers: 1, slots: 4, env: { IMAGENT_OPENAI_TIMEOUT_MS: '2000' } });
    const handle = await pool.start({ prompt: PROMPT, options: { tMax: 2, n: 4, backbone: 'openai' } });
    const result = await handle.result();

    expect(result.trajectory.map((o) => o.action)).toEqual(['best_of_n', 'stop']);
    const { attempts, activities } = retries([await inspectWorkflow(pool.cluster.client, handle.workflowId)]);
    const seen = statuses(pool.model);
    console.log(
      `hung calls: the server left ${seen.dropped ?? 0} of ${Object.values(seen).reduce((a, b) => a + b, 0)} model calls unanswered until the 2 s request timeout; ` +
        `history shows ${attempts} failed attempts over ${activities.length} retried activities (${activities.map((a) => a.activityId).join(', ')}).`,
    );
    expect(attempts).toBeGreaterThan(0);
    // Each hang is one attempt cut by the timeout, failed and retried.
    expect(attempts).toBe(seen.dropped);
    for (const activity of activities) {
      expect(activity.state).toBe('completed');
      expect(activity.lastFailure).toMatch(/BackboneUnavailable: .*got no complete answer within 2000 ms/);
    }
  }, 90_000);

  it('retries the calls of a frozen GPU worker on the live one after the heartbeat timeout', async () => {
    const pool = await startPool({ sim: {}, script: BEST_OF_N_THEN_STOP, workers: 2, slots: 2 });
    const [victim, survivor] = pool.workers;
    const handle = await pool.start({ prompt: PROMPT, options: { tMax: 2, n: 4, backbone: 'openai', heartbeatSeconds: 3 } });
    const running = await runningGenerations(handle, 4);
    const frozen = running.filter((a) => a.lastWorkerIdentity === victim.identity).map((a) => a.activityId ?? '');
    expect(frozen).toHaveLength(2);
    victim.kill('SIGSTOP');
    let result: AgentResult;
    try {
      result = await handle.result();
    } finally {
      victim.kill('SIGCONT');
    }

    expect(result.trajectory.map((o) => o.action)).toEqual(['best_of_n', 'stop']);
    const events = (await handle.fetchHistory()).events ?? [];
    // A timed-out attempt that is retried leaves no ActivityTaskTimedOut event, only the retry's lastFailure.
    expect(events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)).toEqual([]);
    const starts = lastStarts(events);
    for (const id of frozen) {
      const start = starts.get(id);
      expect(start?.attempt).toBeGreaterThanOrEqual(2);
      expect(start?.identity).toBe(survivor.identity);
      expect(start?.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    }
    const inspection = await inspectWorkflow(pool.cluster.client, handle.workflowId);
    const retried = inspection.activities.filter((a) => a.failedAttempts > 0);
    expect(retried.map((a) => a.activityId)).toEqual(expect.arrayContaining(frozen));
    for (const activity of retried) expect(activity.lastFailure).toMatch(/heartbeat/i);
    await victim.stop();
  }, 90_000);

  it('records a permanent refusal as the step\'s observation without retrying it, and goes on', async () => {
    const pool = await startPool({
      sim: {},
      script: {
        controller: (k) => answer(k <= 2 ? 'generate_basic' : 'STOP'),
        refuse: (route, nth) => route === 'POST /v1/images/generations' && nth === 1,
      },
      workers: 1,
      slots: 2,
    });
    const handle = await pool.start({ prompt: PROMPT, options: { tMax: 3, backbone: 'openai', heartbeatSeconds: 3 } });
    const result = await handle.result();

    expect(result.trajectory.map((o) => o.action)).toEqual(['naive_generation', 'naive_generation', 'stop']);
    expect(result.trajectory[0].error?.type).toBe('BackboneContentRefused');
    expect(result.trajectory[0].error?.message).toMatch(/refused this content/);
    expect(result.trajectory[0].imageAfter).toBeUndefined();
    expect(result.trajectory[1].imageAfter).toBeDefined();
    expect(result.finalImage).toEqual(result.trajectory[1].imageAfter);

    const events = (await handle.fetchHistory()).events ?? [];
    expect(lastStarts(events).get('1/generate')?.attempt).toBe(1);
    const failed = events.flatMap((e) => (e.activityTaskFailedEventAttributes ? [e.activityTaskFailedEventAttributes.failure] : []));
    expect(failed).toHaveLength(1);
    expect(failed[0]?.applicationFailureInfo).toMatchObject({ type: 'BackboneContentRefused', nonRetryable: true });
    const inspection = await inspectWorkflow(pool.cluster.client, handle.workflowId);
    expect(inspection.activities.find((a) => a.activityId === '1/generate')).toMatchObject({ state: 'failed', failedAttempts: 1 });
    // One refused request and the next step's generation: the refused one was never sent again.
    expect(pool.model.tally()['POST /v1/images/generations']).toEqual({ 400: 1, 200: 1 });
  }, 90_000);

  it('waits while no GPU worker is up and finishes once one starts, with nothing lost', async () => {
    const pool = await startPool({ sim: {}, script: { controller: (k) => answer(k === 1 ? 'generate_basic' : 'STOP') }, workers: 0, slots: 2 });
    const handle = await pool.start({ prompt: PROMPT, options: { tMax: 2, backbone: 'openai' } });
    await sleep(5_000);

    const { status, raw } = await handle.describe();
    expect(status.name).toBe('RUNNING');
    expect(raw.pendingActivities?.map((a) => [a.activityId, a.state, a.attempt])).toEqual([
      ['0/describe-backbone', PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED, 1],
    ]);
    const waiting = await inspectWorkflow(pool.cluster.client, handle.workflowId);
    expect(waiting.activities.map((a) => [a.activityId, a.state, a.failedAttempts])).toEqual([['0/describe-backbone', 'scheduled', 0]]);

    await pool.addWorker();
    const result = await handle.result();

    expect(result.trajectory.map((o) => o.action)).toEqual(['naive_generation', 'stop']);
    const image = result.trajectory[0].imageAfter!;
    expect(result.finalImage).toEqual(image);
    expect((await pool.store.getImage(image)).length).toBe(image.bytes);
    const done = await inspectWorkflow(pool.cluster.client, handle.workflowId);
    expect(done.status).toBe('completed');
    expect(done.trajectory).toEqual(result.trajectory);
    expect(done.activities.every((a) => a.state === 'completed' && a.failedAttempts === 0)).toBe(true);
  }, 90_000);
});
