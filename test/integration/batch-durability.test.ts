// The batch's durability on Temporal dev servers of its own: a history kept bounded by
// continue-as-new, and a server that stops mid-batch and starts again on the same SQLite file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { SimBackbone } from '../../backbones/sim';
import { freePort, startTemporalDevServer, type DevServer } from '../../infra/dev/stack';
import type { BlobStore } from '../../storage/blobstore';
import { createControlWorker } from '../../workers/control';
import { createGpuWorker } from '../../workers/gpu';
import { installRuntimeLogging } from '../../workers/logging';
import { batchWorkflow, progressQuery } from '../../workflows';
import type { BatchProgress, BatchSummary, ItemResult } from '../../workflows/batch-types';
import { gpuTaskQueueForPool } from '../../workflows/types';
import { tempFileStore, uniqueName } from '../helpers/cluster';
import { workflowBundlePath } from '../setup/env';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const FAST = { tMax: 2, n: 2, size: 64 } as const;

interface Workers {
  /** Settles when every worker has stopped, however it stopped. */
  stopped: Promise<unknown>;
  stop(): Promise<void>;
}

async function startWorkers(address: string, store: BlobStore, taskQueue: string, pool: string): Promise<Workers> {
  const connection = await NativeConnection.connect({ address });
  const workers: Worker[] = [
    await createControlWorker({ connection, store, taskQueue, workflowBundle: { codePath: workflowBundlePath() } }),
    await createGpuWorker({ connection, store, backbones: { sim: new SimBackbone() }, taskQueue: gpuTaskQueueForPool(pool), slots: 16 }),
  ];
  const running = workers.map((w) => w.run());
  const stopped = Promise.allSettled(running);
  return {
    stopped,
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await stopped;
      await connection.close();
    },
  };
}

function manifestOf(count: number): { file: string; ids: string[] } {
  const ids = Array.from({ length: count }, (_, i) => `item-${i}`);
  const file = join(mkdtempSync(join(tmpdir(), 'imagent-durable-')), 'manifest.jsonl');
  writeFileSync(file, ids.map((id, i) => JSON.stringify({ id, prompt: `${(i % 4) + 1} red apples next to a dog` })).join('\n') + '\n');
  return { file, ids };
}

async function expectOneResultPerItem(store: BlobStore, batchId: string, summary: BatchSummary, ids: readonly string[]): Promise<void> {
  const keys = (await store.list(`results/${batchId}/`)).filter((k) => k.endsWith('.json'));
  expect(keys.sort()).toEqual(ids.map((id) => `results/${batchId}/${id}.json`).sort());
  const lines = (await store.getUri(summary.resultsUri)).toString('utf8').split('\n').filter((l) => l !== '');
  const results = lines.map((l) => JSON.parse(l) as ItemResult);
  expect(results.map((r) => r.itemId)).toEqual([...ids]);
  expect(results.every((r) => r.status === 'succeeded')).toBe(true);
}

async function childIds(client: Client, batchId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId STARTS_WITH "${batchId}/"` })) ids.push(w.workflowId);
  return ids;
}

/** Every child ran exactly once: one execution per item id (visibility catches up within seconds). */
async function expectEachChildOnce(client: Client, batchId: string, ids: readonly string[]): Promise<void> {
  const expected = ids.map((id) => `${batchId}/${id}`).sort();
  const deadline = Date.now() + 20_000;
  let found = await childIds(client, batchId);
  while (found.length < expected.length && Date.now() < deadline) {
    await sleep(250);
    found = await childIds(client, batchId);
  }
  expect(found.sort()).toEqual(expected);
}

describe('batch durability on a dev server of its own', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(() => installRuntimeLogging('ERROR'));
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('continues as new when Temporal suggests it and still runs every item exactly once', async () => {
    const server = await startTemporalDevServer({ dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 200 } });
    cleanups.push(() => server.stop());
    const store = tempFileStore();
    const taskQueue = uniqueName('durable-can');
    const pool = uniqueName('p').toLowerCase();
    const workers = await startWorkers(server.address, store, taskQueue, pool);
    cleanups.push(() => workers.stop());
    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });

    const { file, ids } = manifestOf(150);
    const batchId = uniqueName('can');
    const summary = await client.workflow.execute(batchWorkflow, {
      taskQueue,
      workflowId: batchId,
      args: [{ manifest: file, concurrency: 16, options: { ...FAST, pool } }],
    });

    expect(summary).toMatchObject({ status: 'completed', total: 150, counts: { succeeded: 150, failed: 0, skipped: 0 } });
    expect(summary.runs).toBeGreaterThan(1);
    // Bounded: one run's history stays near the suggestion, not the batch's size.
    expect(summary.largestHistory).toBeLessThan(400);
    await expectOneResultPerItem(store, batchId, summary, ids);
    await expectEachChildOnce(client, batchId, ids);
  }, 300_000);

  it('resumes and finishes with exactly one result per item after the server stops mid-batch and starts again on the same file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'imagent-durable-db-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    let server: DevServer = await startTemporalDevServer({ dataDir, port });
    cleanups.push(() => server.stop());
    const address = server.address;
    const store = tempFileStore();
    const taskQueue = uniqueName('durable-restart');
    const pool = uniqueName('p').toLowerCase();
    let workers = await startWorkers(address, store, taskQueue, pool);
    cleanups.push(() => workers.stop());
    const connection = await Connection.connect({ address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });

    const { file, ids } = manifestOf(120);
    const batchId = uniqueName('restart');
    const handle = await client.workflow.start(batchWorkflow, {
      taskQueue,
      workflowId: batchId,
      args: [{ manifest: file, concurrency: 8, options: { ...FAST, pool } }],
    });
    let progress: BatchProgress;
    do {
      await sleep(100);
      progress = await handle.query(progressQuery);
    } while (progress.done < 20);
    expect(progress.done).toBeLessThan(120);

    await server.stop();
    await sleep(2_000);
    server = await startTemporalDevServer({ dataDir, port });
    // Workers whose polls gave up while the server was away are started again.
    const gaveUp = await Promise.race([workers.stopped.then(() => true), sleep(1_000).then(() => false)]);
    if (gaveUp) {
      await workers.stop();
      workers = await startWorkers(address, store, taskQueue, pool);
    }
    const summary = await handle.result();

    expect(summary).toMatchObject({ status: 'completed', total: 120, counts: { succeeded: 120, failed: 0 } });
    await expectOneResultPerItem(store, batchId, summary, ids);
    await expectEachChildOnce(client, batchId, ids);
  }, 300_000);
});
