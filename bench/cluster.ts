// The Temporal side of the orchestration benchmarks: one in-memory dev server for the whole run,
// a workflow bundle with the benchmark workflow in it, and sets of workers (a control worker and
// GPU worker processes with metered sim backbones) started and stopped per measurement.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { startTemporalDevServer, type DevServer } from '../infra/dev/stack';
import { openBlobStore, type BlobStore } from '../storage/blobstore';
import { createControlWorker } from '../workers/control';
import { installRuntimeLogging } from '../workers/logging';
import { gpuTaskQueueForPool } from '../workflows/types';
import type { Interval } from './metered';
import { spawnWorker, type WorkerProcess } from './processes';

export interface BenchStack {
  server: DevServer;
  client: Client;
  connection: NativeConnection;
  bundlePath: string;
  scratch: string;
  stop(): Promise<void>;
}

/** Starts the dev server and builds the benchmark bundle, side by side. */
export async function startBenchStack(scratch: string): Promise<BenchStack> {
  installRuntimeLogging('ERROR');
  mkdirSync(scratch, { recursive: true });
  const [server, bundle] = await Promise.all([
    startTemporalDevServer({ logFile: join(scratch, 'temporal.log') }),
    bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quietLogger }),
  ]);
  const bundlePath = join(scratch, 'bench-workflows.js');
  writeFileSync(bundlePath, bundle.code);
  const connection = await NativeConnection.connect({ address: server.address });
  const clientConnection = await Connection.connect({ address: server.address });
  return {
    server,
    client: new Client({ connection: clientConnection }),
    connection,
    bundlePath,
    scratch,
    async stop() {
      await clientConnection.close();
      await connection.close();
      await server.stop();
    },
  };
}

const noop = (): void => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

export interface WorkerSet {
  /** The control worker's task queue: start workflows here. */
  taskQueue: string;
  /** The GPU pool: pass as options.pool. */
  pool: string;
  store: BlobStore;
  /** When each model call kept a GPU worker busy, over all GPU workers. */
  intervals(): Promise<Interval[]>;
  /** Process ids of the GPU workers. */
  gpuPids: number[];
  stop(): Promise<void>;
}

export interface WorkerSetOptions {
  name: string;
  gpuWorkers: number;
  slots: number;
  latencyScale: number;
}

let sets = 0;

/**
 * A control worker in this process and GPU workers with metered sim backbones in processes of
 * their own (bench/gpu-worker.ts), as on separate machines: the sim's CPU work then never holds up
 * the control worker's event loop. All on task queues of their own.
 */
export async function startWorkers(stack: BenchStack, options: WorkerSetOptions): Promise<WorkerSet> {
  sets++;
  const taskQueue = `bench-${options.name}-${sets}`;
  const pool = taskQueue.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const blobs = join(stack.scratch, `blobs-${sets}`);
  mkdirSync(blobs, { recursive: true });
  const store = openBlobStore(pathToFileURL(blobs).href);
  const control = await createControlWorker({ connection: stack.connection, store, taskQueue, workflowBundle: { codePath: stack.bundlePath } });
  const gpu = await gpuProcesses(stack, options, pool, store);
  const running = control.run();
  return {
    taskQueue,
    pool,
    store,
    intervals: gpu.intervals,
    gpuPids: gpu.pids,
    async stop() {
      control.shutdown();
      await Promise.all([running, gpu.stop()]);
    },
  };
}

interface GpuSide {
  intervals(): Promise<Interval[]>;
  pids: number[];
  stop(): Promise<void>;
}

async function gpuProcesses(stack: BenchStack, options: WorkerSetOptions, pool: string, store: BlobStore): Promise<GpuSide> {
  const processes: WorkerProcess[] = await Promise.all(
    Array.from({ length: options.gpuWorkers }, (_x, i) =>
      spawnWorker({
        name: `GPU worker ${i} of ${pool}`,
        args: ['--require', 'tsx/cjs', join(__dirname, 'gpu-worker.ts')],
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: stack.server.address,
          IMAGENT_STORE: store.uri,
          BENCH_TASK_QUEUE: gpuTaskQueueForPool(pool),
          BENCH_SLOTS: String(options.slots),
          BENCH_LATENCY: String(options.latencyScale),
          BENCH_IDENTITY: `${pool}-gpu-${i}`,
        },
        logFile: join(stack.scratch, `${pool}-gpu-${i}.log`),
        ready: /worker polling/,
        ipc: true,
      }),
    ),
  );
  const report = (child: ChildProcess): Promise<Interval[]> =>
    new Promise((resolve) => {
      child.once('message', (message: { intervals: Interval[] }) => resolve(message.intervals));
      child.send('report');
    });
  return {
    intervals: async () => (await Promise.all(processes.map((p) => report(p.child)))).flat(),
    pids: processes.map((p) => p.pid),
    stop: async () => {
      await Promise.all(processes.map((p) => p.stop()));
    },
  };
}
