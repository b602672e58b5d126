// Test harness: real workers against the run's real Temporal dev server, each test on its own
// task queues so test files running side by side never take each other's tasks.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Backbone } from '../../backbones/backbone';
import { SimBackbone } from '../../backbones/sim';
import { openBlobStore, type BlobStore } from '../../storage/blobstore';
import { createControlWorker } from '../../workers/control';
import { createGpuWorker } from '../../workers/gpu';
import { installRuntimeLogging } from '../../workers/logging';
import { agentWorkflow } from '../../workflows';
import { gpuTaskQueueForPool, type AgentInput, type AgentResult } from '../../workflows/types';
import { testTemporalAddress, workflowBundlePath } from '../setup/env';


export interface TestCluster {
  client: Client;
  store: BlobStore;
  taskQueue: string;
  pool: string;
  /** Runs the agent to completion on this cluster's queues. */
  runAgent(input: AgentInput, workflowId?: string): Promise<AgentResult>;
  stop(): Promise<void>;
}

export interface TestClusterOptions {
  backbone?: Backbone;
  store?: BlobStore;
  slots?: number;
  /** Extra GPU workers on the same pool (each with its own backbone instance). */
  gpuWorkers?: number;
}

let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export function tempFileStore(): BlobStore {
  return openBlobStore(pathToFileURL(mkdtempSync(join(tmpdir(), 'imagent-test-'))).href);
}

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  installRuntimeLogging('ERROR');
  const address = testTemporalAddress();
  const store = options.store ?? tempFileStore();
  const taskQueue = uniqueName('imagent-test');
  const pool = uniqueName('p').toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const nativeConnection = await NativeConnection.connect({ address });
  const workers: Worker[] = [
    await createControlWorker({ connection: nativeConnection, store, taskQueue, workflowBundle: { codePath: workflowBundlePath() } }),
  ];
  for (let i = 0; i < (options.gpuWorkers ?? 1); i++) {
    workers.push(
      await createGpuWorker({
        connection: nativeConnection,
        store,
        backbones: { sim: options.backbone ?? new SimBackbone() },
        taskQueue: gpuTaskQueueForPool(pool),
        slots: options.slots ?? 8,
        identity: `gpu-${i}`,
      }),
    );
  }
  const running = workers.map((w) => w.run());
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    client,
    store,
    taskQueue,
    pool,
    async runAgent(input, workflowId = uniqueName('agent')) {
      return client.workflow.execute(agentWorkflow, {
        taskQueue,
        workflowId,
        args: [{ ...input, options: { ...input.options, pool } }],
      });
    },
    async stop() {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
      await connection.close();
      await nativeConnection.close();
    },
  };
}
