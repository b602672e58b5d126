// The Temporal side of the orchestration benchmarks: one in-memory dev server for the whole run,
// a workflow bundle with the benchmark workflow in it, and sets of workers (a control worker and
// GPU workers with metered sim backbones) started and stopped per measurement.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type Worker } from '@temporalio/worker';
import { SimBackbone } from '../backbones/sim';
import { startTemporalDevServer, type DevServer } from '../infra/dev/stack';
import { openBlobStore, type BlobStore } from '../storage/blobstore';
import { createControlWorker } from '../workers/control';
import { createGpuWorker } from '../workers/gpu';
import { installRuntimeLogging } from '../workers/logging';
import { gpuTaskQueueForPool } from '../workflows/types';
import { BENCH_INSTRUCTION_NOISE } from './evaluate';
import { MeteredBackbone, type Interval } from './metered';
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
  /** Process ids of GPU workers in processes of their own (none when they run in this process). */
  gpuPids: number[];
  stop(): Promise<void>;
}

export interface WorkerSetOptions {
  name: string;
  gpuWorkers: number;
  slots: number;
  latencyScale: number;
  /** GPU workers in processes of their own (as on separate machines) rather than in this one. */
  separateProcesses?: boolean;
}

let sets = 0;

/** A control worker in this process and GPU workers with metered sim backbones, on task queues of their own. */
export async function startWorkers(stack: BenchStack, options: WorkerSetOptions): Promise<WorkerSet> {
  sets++;
  const taskQueue = `bench-${options.name}-${sets}`;
  const pool = taskQueue.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const blobs = join(stack.scratch, `blobs-${sets}`);
  mkdirSync(blobs, { recursive: true });
  const store = openBlobStore(pathToFileURL(blobs).href);
  const control = await createControlWorker({ connection: stack.connection, store, taskQueue, workflowBundle: { codePath: stack.bundlePath } });
  const gpu = options.separateProcesses ? await gpuProcesses(stack, options, pool, store) : await gpuInProcess(stack, options, pool, store);
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

async function gpuInProcess(stack: BenchStack, options: WorkerSetOptions, pool: string, store: BlobStore): Promise<GpuSide> {
  const backbones = Array.from(
    { length: options.gpuWorkers },
    () => new MeteredBackbone(new SimBackbone({ latencyScale: options.latencyScale, instructionNoise: BENCH_INSTRUCTION_NOISE })),
  );
  // The SDK allows one worker per task queue per connection, so each GPU worker has its own, as
  // separate GPU machines would.
  const connections = await Promise.all(backbones.map(() => NativeConnection.connect({ address: stack.server.address })));
  const workers: Worker[] = [];
  for (const [i, backbone] of backbones.entries()) {
    workers.push(
      await createGpuWorker({
        connection: connections[i],
        store,
        backbones: { sim: backbone },
        taskQueue: gpuTaskQueueForPool(pool),
        slots: options.slots,
        identity: `${pool}-gpu-${i}`,
      }),
    );
  }
  const running = workers.map((w) => w.run());
  return {
    intervals: () => Promise.resolve(backbones.flatMap((b) => b.intervals)),
    pids: [],
    async stop() {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
      await Promise.all(connections.map((c) => c.close()));
    },
  };
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
