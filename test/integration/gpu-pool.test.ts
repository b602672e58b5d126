// GPU pools over HTTP: GPU workers as their own processes, each calling a model server process,
// with Best-of-N fanning out across the pool and every workflow's model calls going to the pool
// its options name.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { temporal } from '@temporalio/proto';
import { SIM_LATENCY_SECONDS } from '../../backbones/sim';
import { inspectWorkflow } from '../../cli/inspect';
import { openBlobStore } from '../../storage/blobstore';
import { agentWorkflow } from '../../workflows';
import { gpuTaskQueueForPool } from '../../workflows/types';
import { startTestCluster, uniqueName, type TestCluster } from '../helpers/cluster';
import { startGpuWorkerProcess, startModelRelay, startSimServerProcess, stopAll } from '../helpers/processes';
import { answer } from '../helpers/scripted';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const PROMPT = 'two red apples to the left of a blue cup';
/** The sim server's seconds per generation: one generation takes a second, a chat call a quarter. */
const LATENCY_SCALE = 1;
const GENERATION_MS = SIM_LATENCY_SECONDS.generate * LATENCY_SCALE * 1000;

function eventMs(event: HistoryEvent): number {
  return Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
}

interface ActivityRun {
  activityId: string;
  scheduledMs: number;
  startedMs: number;
  completedMs: number;
  /** Worker identity of the attempt that completed. */
  worker: string;
}

/** Completed activities whose id matches, with their event times. */
function completedActivities(events: readonly HistoryEvent[], id: RegExp): ActivityRun[] {
  const byScheduledId = new Map<string, Partial<ActivityRun>>();
  const runs: ActivityRun[] = [];
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled && id.test(scheduled.activityId ?? '')) {
      byScheduledId.set(String(event.eventId), { activityId: scheduled.activityId ?? '', scheduledMs: eventMs(event) });
    }
    const started = event.activityTaskStartedEventAttributes;
    const run = started && byScheduledId.get(String(started.scheduledEventId));
    if (started && run) Object.assign(run, { startedMs: eventMs(event), worker: started.identity ?? '' });
    const completed = event.activityTaskCompletedEventAttributes;
    const done = completed && byScheduledId.get(String(completed.scheduledEventId));
    if (done) runs.push({ ...done, completedMs: eventMs(event) } as ActivityRun);
  }
  return runs;
}

describe('GPU worker pools over HTTP', () => {
  let cluster: TestCluster | undefined;
  let storeDir: string | undefined;

  function tempStoreUri(): string {
    storeDir = mkdtempSync(join(tmpdir(), 'imagent-pool-'));
    return pathToFileURL(storeDir).href;
  }

  afterEach(async () => {
    await stopAll();
    await cluster?.stop();
    cluster = undefined;
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    storeDir = undefined;
  });

  it('fans Best-of-N out across two GPU worker processes of two slots each, in about the time of one generation', async () => {
    const storeUri = tempStoreUri();
    cluster = await startTestCluster({ gpuWorkers: 0, store: openBlobStore(storeUri) });
    const sim = await startSimServerProcess({ latencyScale: LATENCY_SCALE });
    // The sim's own controller never picks Best-of-N before there is an image, so the relay scripts it.
    const model = await startModelRelay(sim.url, { controller: (k) => answer(k === 1 ? 'best_of_n_selection' : 'STOP') });
    const workers = await Promise.all(
      [0, 1].map(() => startGpuWorkerProcess({ client: cluster!.client, pool: cluster!.pool, slots: 2, backboneUrl: model.url, storeUri })),
    );
    const workflowId = uniqueName('pool-bon');

    const result = await cluster.runAgent({ prompt: PROMPT, options: { tMax: 2, n: 4, backbone: 'openai' } }, workflowId);

    expect(result.backbone).toMatchObject({ name: 'openai', simulated: true });
    expect(result.trajectory.map((o) => o.action)).toEqual(['best_of_n', 'stop']);
    expect(result.trajectory[0].candidates).toHaveLength(4);
    const events = (await cluster.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const generations = completedActivities(events, /^1\/generate-\d+$/);
    expect(generations.map((g) => g.activityId).sort()).toEqual(['1/generate-0', '1/generate-1', '1/generate-2', '1/generate-3']);
    // Two slots each: the four generations can only have run two on each worker.
    const perWorker = workers.map((w) => generations.filter((g) => g.worker === w.identity).length);
    expect(perWorker).toEqual([2, 2]);

    const phaseMs = Math.max(...generations.map((g) => g.completedMs)) - Math.min(...generations.map((g) => g.scheduledMs));
    const eachMs = generations.map((g) => g.completedMs - g.startedMs);
    console.log(
      `Best-of-N (N=4) across 2 GPU worker processes x 2 slots: generation phase ${phaseMs} ms ` +
        `(first generate scheduled -> last completed); one generation is ${GENERATION_MS} ms at the sim's latency, ` +
        `each took ${eachMs.join(', ')} ms from start to completion; sequentially the phase would take about ${4 * GENERATION_MS} ms.`,
    );
    expect(phaseMs).toBeLessThan(2 * GENERATION_MS);
    expect(model.tally()['POST /v1/images/generations']).toEqual({ 200: 4 });
  }, 90_000);

  it('routes model calls to the pool named in the options: a pool without workers holds its run while a run on a live pool completes', async () => {
    const storeUri = tempStoreUri();
    cluster = await startTestCluster({ gpuWorkers: 0, store: openBlobStore(storeUri) });
    const sim = await startSimServerProcess({ latencyScale: LATENCY_SCALE });
    await startGpuWorkerProcess({ client: cluster.client, pool: cluster.pool, slots: 2, backboneUrl: sim.url, storeUri });
    const idlePool = uniqueName('idle').toLowerCase();
    const waiting = await cluster.client.workflow.start(agentWorkflow, {
      taskQueue: cluster.taskQueue,
      workflowId: uniqueName('pool-idle'),
      args: [{ prompt: PROMPT, options: { tMax: 1, backbone: 'openai', pool: idlePool } }],
    });
    try {
      const result = await cluster.runAgent({ prompt: PROMPT, options: { tMax: 1, backbone: 'openai' } });

      expect(result.trajectory).toHaveLength(1);
      expect(result.trajectory[0].imageAfter).toBeDefined();
      const live = await inspectWorkflow(cluster.client, result.workflowId);
      expect(live.activities.length).toBeGreaterThanOrEqual(4);
      expect(new Set(live.activities.map((a) => a.taskQueue))).toEqual(new Set([gpuTaskQueueForPool(cluster.pool)]));

      const idle = await inspectWorkflow(cluster.client, waiting.workflowId);
      expect(idle.status).toBe('running');
      expect(idle.activities).toEqual([
        { activityId: '0/describe-backbone', activityType: 'describeBackbone', taskQueue: gpuTaskQueueForPool(idlePool), failedAttempts: 0, state: 'scheduled' },
      ]);
      const { raw } = await waiting.describe();
      expect(raw.pendingActivities?.map((a) => [a.activityId, a.state, a.attempt])).toEqual([
        ['0/describe-backbone', temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED, 1],
      ]);
    } finally {
      await waiting.terminate('the test is over');
    }
  }, 90_000);
});
