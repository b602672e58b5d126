// The durable batch on a real Temporal dev server with in-process workers and the sim backbone:
// every item runs exactly once, invalid lines are reported, and pause, resume, cancel, a new
// window size, a re-submission and a control-worker restart all keep that promise.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BackboneError, type Backbone, type ChatRequest, type EditRequest, type GenerateRequest } from '../../backbones/backbone';
import { SimBackbone } from '../../backbones/sim';
import { placeManifest } from '../../cli/batch';
import { createControlWorker } from '../../workers/control';
import { batchWorkflow, cancelSignal, pauseSignal, progressQuery, resumeSignal, setConcurrencyUpdate } from '../../workflows';
import type { BatchInput, BatchProgress, BatchSummary, ItemResult } from '../../workflows/batch-types';
import { openBlobStore, type BlobStore } from '../../storage/blobstore';
import { startTestCluster, uniqueName, type TestCluster } from '../helpers/cluster';
import { testS3Endpoint, testTemporalAddress, workflowBundlePath } from '../setup/env';

type BatchHandle = WorkflowHandle<typeof batchWorkflow>;
const EventType = temporal.api.enums.v1.EventType;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Small images and two steps keep a few hundred agent runs within seconds on a CPU. */
const FAST = { tMax: 2, n: 2, size: 64 } as const;

const PROMPTS = ['two red apples to the left of a blue cup', 'a photo of a dog', 'three cats on a sofa', 'a green umbrella above a bench', 'four birds'];

function writeManifest(lines: readonly (object | string)[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'imagent-batch-'));
  const file = join(dir, 'manifest.jsonl');
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
}

function items(count: number, prefix = 'item'): object[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${i}`, prompt: PROMPTS[i % PROMPTS.length] }));
}

function startBatch(cluster: TestCluster, batchId: string, manifest: string, input: Partial<BatchInput> = {}, taskQueue = cluster.taskQueue): Promise<BatchHandle> {
  return cluster.client.workflow.start(batchWorkflow, {
    taskQueue,
    workflowId: batchId,
    args: [{ manifest, concurrency: 16, ...input, options: { ...FAST, pool: cluster.pool, ...input.options } }],
  });
}

async function resultKeys(store: BlobStore, batchId: string): Promise<string[]> {
  return (await store.list(`results/${batchId}/`)).filter((k) => k.endsWith('.json'));
}

async function records(store: BlobStore, batchId: string): Promise<ItemResult[]> {
  const keys = await resultKeys(store, batchId);
  return Promise.all(keys.map(async (k) => JSON.parse((await store.get(k)).toString('utf8')) as ItemResult));
}

async function resultsManifest(store: BlobStore, summary: BatchSummary): Promise<ItemResult[]> {
  const text = (await store.getUri(summary.resultsUri)).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ItemResult);
}

interface ChildRun {
  workflowId: string;
  runId: string;
  status: string;
  startTime: Date;
}

/** Every agent run the batch started, from Temporal's visibility store. */
async function childRuns(client: Client, batchId: string): Promise<ChildRun[]> {
  const runs: ChildRun[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId STARTS_WITH "${batchId}/"` })) {
    runs.push({ workflowId: w.workflowId, runId: w.runId, status: w.status.name, startTime: w.startTime });
  }
  return runs;
}

/** Visibility is eventually consistent: read until `expected` runs show, then once more a little later. */
async function settledChildRuns(client: Client, batchId: string, expected: number): Promise<ChildRun[]> {
  const deadline = Date.now() + 20_000;
  let runs = await childRuns(client, batchId);
  while (Date.now() < deadline && (runs.length < expected || runs.some((r) => r.status === 'RUNNING'))) {
    await sleep(250);
    runs = await childRuns(client, batchId);
  }
  await sleep(1_000);
  return childRuns(client, batchId);
}

async function waitForProgress(handle: BatchHandle, until: (p: BatchProgress) => boolean, what: string, timeoutMs = 60_000): Promise<BatchProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await handle.query(progressQuery);
    if (until(p)) return p;
    if (Date.now() > deadline) throw new Error(`The batch did not reach "${what}" within ${timeoutMs / 1000} s; last progress: ${JSON.stringify(p)}`);
    await sleep(50);
  }
}

/** The sim, except that while `refusing` it refuses every image: runs then end without one. */
class RefusingImages implements Backbone {
  refusing = false;
  private readonly sim = new SimBackbone();
  readonly capabilities = this.sim.capabilities;

  chat(request: ChatRequest): Promise<string> {
    return this.sim.chat(request);
  }

  generate(request: GenerateRequest): Promise<Buffer> {
    if (this.refusing) return Promise.reject(new BackboneError('BackboneContentRefused', 'refused by the test'));
    return this.sim.generate(request);
  }

  edit(request: EditRequest): Promise<Buffer> {
    if (this.refusing) return Promise.reject(new BackboneError('BackboneContentRefused', 'refused by the test'));
    return this.sim.edit(request);
  }
}

function expectEachItemOnce(found: readonly ItemResult[], ids: readonly string[]): void {
  expect(found.map((r) => r.itemId).sort()).toEqual([...ids].sort());
}

describe('batchWorkflow', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('runs a 200-item manifest through a window of 16 with exactly one result per item', async () => {
    cluster = await startTestCluster({ slots: 16 });
    const batchId = uniqueName('b200');
    const lines = items(200);
    const handle = await startBatch(cluster, batchId, writeManifest(lines), { concurrency: 16 });
    let maxRunning = 0;
    const done = handle.result();
    let finished = false;
    void done.finally(() => (finished = true)).catch(() => undefined);
    while (!finished) {
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (p) maxRunning = Math.max(maxRunning, p.running);
      await sleep(100);
    }
    const summary = await done;

    expect(summary).toMatchObject({ batchId, status: 'completed', total: 200, counts: { succeeded: 200, failed: 0, cancelled: 0, invalid: 0, skipped: 0 } });
    expect(maxRunning).toBeLessThanOrEqual(16);
    const ids = lines.map((l) => (l as { id: string }).id);
    expect(await resultKeys(cluster.store, batchId)).toHaveLength(200);
    const stored = await records(cluster.store, batchId);
    expectEachItemOnce(stored, ids);
    expect(stored.every((r) => r.status === 'succeeded' && r.finalImage !== null && r.workflowId === `${batchId}/${r.itemId}`)).toBe(true);
    const manifestLines = await resultsManifest(cluster.store, summary);
    expectEachItemOnce(manifestLines, ids);
    expect(manifestLines.map((r) => r.line)).toEqual(ids.map((_, i) => i + 1));
    const runs = await settledChildRuns(cluster.client, batchId, 200);
    expect(new Set(runs.map((r) => r.workflowId)).size).toBe(200);
    expect(runs).toHaveLength(200);
  }, 300_000);

  it('reports invalid lines with a reason naming the line, and runs the rest', async () => {
    cluster = await startTestCluster();
    const sim = new SimBackbone();
    const manifest = writeManifest([
      { id: 'ok-1', prompt: 'a photo of a dog' },
      '{"id": "broken", "prompt": ',
      { id: 'no-prompt' },
      { id: 'ok-1', prompt: 'the same id again' },
      { id: 'no-image', prompt: 'make it blue', image: 'missing.png' },
      '',
      { id: 'edit-1', prompt: 'make the cup blue', image: 'cup.png' },
      { id: 'ok-2', prompt: 'three cats on a sofa' },
    ]);
    writeFileSync(join(manifest, '..', 'cup.png'), await sim.generate({ prompt: 'a red cup', seed: 1, width: 64, height: 64 }));
    const batchId = uniqueName('invalid');
    const summary = await (await startBatch(cluster, batchId, manifest)).result();

    expect(summary).toMatchObject({ status: 'completed', total: 7, counts: { succeeded: 3, invalid: 4, failed: 0 } });
    const byLine = new Map((await records(cluster.store, batchId)).map((r) => [r.line, r]));
    expect([...byLine.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(byLine.get(2)).toMatchObject({ status: 'invalid', itemId: null, error: expect.stringMatching(/^line 2: not valid JSON/) });
    expect(byLine.get(3)).toMatchObject({ status: 'invalid', itemId: 'no-prompt', error: expect.stringMatching(/^line 3: .*prompt/) });
    expect(byLine.get(4)).toMatchObject({ status: 'invalid', itemId: 'ok-1', error: expect.stringMatching(/^line 4: id "ok-1" is already used on line 1/) });
    expect(byLine.get(5)).toMatchObject({ status: 'invalid', itemId: 'no-image', error: expect.stringMatching(/^line 5: image "missing.png" could not be read/) });
    for (const line of [1, 7, 8]) expect(byLine.get(line)).toMatchObject({ status: 'succeeded' });
    expect(byLine.get(1)?.prompt).toBe('a photo of a dog');
    expect((await resultsManifest(cluster.store, summary)).map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 7, 8]);
  });

  it('pauses (running items finish, none start) and resumes where it stopped', async () => {
    cluster = await startTestCluster();
    const batchId = uniqueName('pause');
    const lines = items(60);
    const handle = await startBatch(cluster, batchId, writeManifest(lines), { concurrency: 4 });
    await waitForProgress(handle, (p) => p.done >= 4, '4 done');
    await handle.signal(pauseSignal);
    const drained = await waitForProgress(handle, (p) => p.status === 'paused' && p.running === 0, 'paused with nothing running');
    const startedBefore = (await childRuns(cluster.client, batchId)).length;

    await sleep(3_000);
    const later = await handle.query(progressQuery);
    expect(later).toMatchObject({ status: 'paused', running: 0, done: drained.done });
    expect(later.done).toBeLessThan(60);
    expect(await childRuns(cluster.client, batchId)).toHaveLength(startedBefore);

    await handle.signal(resumeSignal);
    await waitForProgress(handle, (p) => p.status === 'running' && p.done > drained.done, 'running again');
    const summary = await handle.result();
    expect(summary.counts).toMatchObject({ succeeded: 60, failed: 0, cancelled: 0 });
    expectEachItemOnce(await records(cluster.store, batchId), lines.map((l) => (l as { id: string }).id));
  }, 180_000);

  it('cancels: no item starts after the signal, running items end cancelled, and the summary says cancelled', async () => {
    // A slower model keeps items in flight when the signal arrives.
    cluster = await startTestCluster({ backbone: new SimBackbone({ latencyScale: 0.1 }), slots: 16 });
    const batchId = uniqueName('cancel');
    const handle = await startBatch(cluster, batchId, writeManifest(items(80)), { concurrency: 8 });
    await waitForProgress(handle, (p) => p.done >= 8 && p.running === 8, '8 done and 8 running');
    await handle.signal(cancelSignal);
    const summary = await handle.result();

    expect(summary.status).toBe('cancelled');
    const stored = await records(cluster.store, batchId);
    expect(stored.every((r) => r.status === 'succeeded' || r.status === 'cancelled')).toBe(true);
    const cancelled = stored.filter((r) => r.status === 'cancelled');
    expect(cancelled.length).toBeGreaterThan(0);
    expect(summary.counts.cancelled).toBe(cancelled.length);
    expect(summary.counts.succeeded).toBe(stored.length - cancelled.length);
    expect(stored.length).toBeLessThan(80);

    // No child is started once the batch has seen the signal: after the first workflow task that
    // follows it in history (children decided just before it may start just after the client's call).
    const events = (await handle.fetchHistory()).events ?? [];
    const signalled = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'cancel');
    expect(signalled).toBeGreaterThan(-1);
    const seen = events.findIndex((e, i) => i > signalled && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    expect(events.slice(seen).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toHaveLength(0);
    const runs = await settledChildRuns(cluster.client, batchId, stored.length);
    expect(runs).toHaveLength(stored.length);
    const statusOf = new Map(runs.map((r) => [r.workflowId, r.status]));
    for (const r of cancelled) expect(statusOf.get(`${batchId}/${r.itemId}`)).toBe('CANCELLED');
    await sleep(2_000);
    expect(await childRuns(cluster.client, batchId)).toHaveLength(runs.length);
  }, 180_000);

  it('changes its window while it runs (the concurrency update)', async () => {
    cluster = await startTestCluster({ backbone: new SimBackbone({ latencyScale: 0.1 }), slots: 16 });
    const batchId = uniqueName('window');
    const handle = await startBatch(cluster, batchId, writeManifest(items(40)), { concurrency: 2 });
    let maxBefore = 0;
    await waitForProgress(
      handle,
      (p) => {
        maxBefore = Math.max(maxBefore, p.running);
        return p.done >= 4;
      },
      '4 done',
    );
    await expect(handle.executeUpdate(setConcurrencyUpdate, { args: [0] })).rejects.toThrow();
    expect(await handle.executeUpdate(setConcurrencyUpdate, { args: [8] })).toBe(2);
    let maxAfter = 0;
    await waitForProgress(
      handle,
      (p) => {
        maxAfter = Math.max(maxAfter, p.running);
        return p.done + p.failed >= 40 || maxAfter > 2;
      },
      'a wider window',
    );
    const summary = await handle.result();

    expect(maxBefore).toBeLessThanOrEqual(2);
    expect(maxAfter).toBeGreaterThan(2);
    expect((await handle.query(progressQuery)).concurrency).toBe(8);
    expect(summary.counts.succeeded).toBe(40);
  }, 180_000);

  it('re-submitted with the same id and manifest, runs only what did not succeed before', async () => {
    const backbone = new RefusingImages();
    cluster = await startTestCluster({ backbone, slots: 16 });
    const batchId = uniqueName('resubmit');
    const manifest = writeManifest(items(30));
    const ids = items(30).map((l) => (l as { id: string }).id);
    // The model refuses every image after the first few items, so the rest of the batch fails.
    const first = await startBatch(cluster, batchId, manifest, { concurrency: 4 });
    await waitForProgress(first, (p) => p.done >= 8, '8 done');
    backbone.refusing = true;
    const before = await first.result();
    expect(before.counts.succeeded).toBeGreaterThanOrEqual(8);
    expect(before.counts.failed).toBeGreaterThan(0);
    expect(before.counts.succeeded + before.counts.failed).toBe(30);
    const succeededBefore = (await records(cluster.store, batchId)).filter((r) => r.status === 'succeeded').map((r) => `${batchId}/${r.itemId}`);
    expect(succeededBefore).toHaveLength(before.counts.succeeded);
    const runsBefore = await settledChildRuns(cluster.client, batchId, 30);
    expect(runsBefore).toHaveLength(30);

    backbone.refusing = false;
    const after = await (await startBatch(cluster, batchId, manifest, { concurrency: 4 })).result();

    expect(after.counts).toMatchObject({ skipped: before.counts.succeeded, succeeded: before.counts.failed, failed: 0 });
    const stored = await records(cluster.store, batchId);
    expectEachItemOnce(stored, ids);
    expect(stored.every((r) => r.status === 'succeeded')).toBe(true);
    expectEachItemOnce(await resultsManifest(cluster.store, after), ids);
    const runs = await settledChildRuns(cluster.client, batchId, 30 + before.counts.failed);
    expect(runs).toHaveLength(30 + before.counts.failed);
    const runIdsBefore = new Map(runsBefore.map((r) => [r.workflowId, r.runId]));
    for (const workflowId of succeededBefore) {
      expect(runs.filter((r) => r.workflowId === workflowId).map((r) => r.runId)).toEqual([runIdsBefore.get(workflowId)]);
    }

    // Once more, now that everything succeeded: nothing runs at all.
    const again = await (await startBatch(cluster, batchId, manifest, { concurrency: 4 })).result();
    expect(again.counts).toMatchObject({ skipped: 30, succeeded: 0, failed: 0, cancelled: 0 });
    const runsAgain = await settledChildRuns(cluster.client, batchId, runs.length);
    expect(runsAgain.map((r) => r.runId).sort()).toEqual(runs.map((r) => r.runId).sort());
  }, 180_000);

  it('submitted again after an operator terminated it, runs no item twice while the old runs finish', async () => {
    cluster = await startTestCluster({ backbone: new SimBackbone({ latencyScale: 0.3 }), slots: 16 });
    const batchId = uniqueName('terminated');
    const manifest = writeManifest(items(24));
    const ids = items(24).map((l) => (l as { id: string }).id);
    const first = await startBatch(cluster, batchId, manifest, { concurrency: 8 });
    await waitForProgress(first, (p) => p.done >= 3, '3 done');
    // The old runs go on (children outlive their batch) and report to whichever run has the id;
    // a slow model keeps them going while the new submission reads their lines.
    await first.terminate('stuck, says the operator');
    // A narrower window leaves the old runs' items waiting to start while those runs end.
    const summary = await (await startBatch(cluster, batchId, manifest, { concurrency: 1 })).result();

    expect(summary.counts.succeeded + summary.counts.skipped).toBe(24);
    expectEachItemOnce(await records(cluster.store, batchId), ids);
    const runs = await settledChildRuns(cluster.client, batchId, 24);
    expect(runs.map((r) => r.workflowId).sort()).toEqual(ids.map((id) => `${batchId}/${id}`).sort());
    expect(runs.every((r) => r.status === 'COMPLETED')).toBe(true);
  }, 180_000);

  it('loses and duplicates nothing when its control worker restarts mid-batch', async () => {
    cluster = await startTestCluster({ slots: 16 });
    // Its own control queue, so that only the worker this test restarts runs the batch.
    const taskQueue = uniqueName('batch-control');
    const connection = await NativeConnection.connect({ address: testTemporalAddress() });
    const startControl = async (): Promise<{ worker: Worker; running: Promise<void> }> => {
      const worker = await createControlWorker({ connection, store: cluster!.store, taskQueue, workflowBundle: { codePath: workflowBundlePath() } });
      return { worker, running: worker.run() };
    };
    try {
      let control = await startControl();
      const batchId = uniqueName('restart');
      const lines = items(100);
      const handle = await startBatch(cluster, batchId, writeManifest(lines), { concurrency: 8 }, taskQueue);
      await waitForProgress(handle, (p) => p.done >= 20, '20 done');
      control.worker.shutdown();
      await control.running;
      await sleep(2_000);
      control = await startControl();
      const summary = await handle.result();
      control.worker.shutdown();
      await control.running;

      expect(summary.counts).toMatchObject({ succeeded: 100, failed: 0, cancelled: 0, invalid: 0 });
      const ids = lines.map((l) => (l as { id: string }).id);
      expectEachItemOnce(await records(cluster.store, batchId), ids);
      expectEachItemOnce(await resultsManifest(cluster.store, summary), ids);
      const runs = await settledChildRuns(cluster.client, batchId, 100);
      expect(runs.map((r) => r.workflowId).sort()).toEqual(ids.map((id) => `${batchId}/${id}`).sort());
    } finally {
      await connection.close();
    }
  }, 240_000);

  it('uploads a local manifest and the images it names to an S3 store, so that workers elsewhere can read them', async () => {
    const bucket = `imagent-batch-${uniqueName('s3').toLowerCase()}`.slice(0, 63);
    const s3 = new S3Client({ endpoint: testS3Endpoint(), forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    s3.destroy();
    // The workers read manifests through the environment's S3 endpoint, as deployed workers do.
    const endpoint = process.env.IMAGENT_S3_ENDPOINT;
    process.env.IMAGENT_S3_ENDPOINT = testS3Endpoint();
    try {
      const store = openBlobStore(`s3://${bucket}/batches`);
      cluster = await startTestCluster({ store });
      const manifest = writeManifest([
        { id: 'plain', prompt: 'a photo of a dog' },
        { id: 'edit', prompt: 'make the cup blue', image: 'cup.png' },
        { id: 'gone', prompt: 'make it blue', image: 'missing.png' },
      ]);
      writeFileSync(join(manifest, '..', 'cup.png'), await new SimBackbone().generate({ prompt: 'a red cup', seed: 1, width: 64, height: 64 }));

      const placed = await placeManifest(store, manifest);
      expect(placed.uri).toMatch(new RegExp(`^s3://${bucket}/batches/manifests/[0-9a-f]{64}\\.jsonl$`));
      expect(placed.warnings).toEqual([expect.stringMatching(/^line 3: image .*missing\.png could not be uploaded/)]);
      const uploaded = (await store.getUri(placed.uri)).toString('utf8').split('\n');
      expect((JSON.parse(uploaded[1]) as { image: string }).image).toMatch(new RegExp(`^s3://${bucket}/batches/images/[0-9a-f]{64}\\.png$`));

      const batchId = uniqueName('s3');
      const summary = await (await startBatch(cluster, batchId, placed.uri)).result();
      expect(summary).toMatchObject({ status: 'completed', counts: { succeeded: 2, invalid: 1 } });
      expect(summary.resultsUri).toBe(`s3://${bucket}/batches/batches/${batchId}/results.jsonl`);
      const byId = new Map((await resultsManifest(store, summary)).map((r) => [r.line, r]));
      expect(byId.get(2)).toMatchObject({ itemId: 'edit', status: 'succeeded' });
      expect(byId.get(3)).toMatchObject({ status: 'invalid', error: expect.stringMatching(/^line 3: image "missing.png" could not be read/) });
    } finally {
      if (endpoint === undefined) delete process.env.IMAGENT_S3_ENDPOINT;
      else process.env.IMAGENT_S3_ENDPOINT = endpoint;
    }
  });
});
