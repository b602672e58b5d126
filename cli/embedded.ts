// The embedded default: everything imagent needs on one machine, in one process group. A Temporal
// dev server persisted under the home folder, a control worker, and a GPU worker with the sim.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { startTemporalDevServer, type DevServer } from '../infra/dev/stack';
import { openBlobStore, type BlobStore } from '../storage/blobstore';
import { createBackbones } from '../workers/backbones';
import { cachedWorkflowBundle } from '../workers/bundle';
import { createControlWorker } from '../workers/control';
import { createGpuWorker } from '../workers/gpu';
import type { Config } from './config';
import { UserError } from './errors';

export interface Cluster {
  client: Client;
  store: BlobStore;
  namespace: string;
  /** True when this process started the server and workers (and so stops them). */
  embedded: boolean;
  close(): Promise<void>;
}

/** Connects to the configured cluster, or starts the embedded default when none is configured. */
export async function openCluster(config: Config, options: { workers?: boolean } = {}): Promise<Cluster> {
  const store = openBlobStore(config.storeUri);
  if (config.temporalAddress) {
    const connection = await connectOrExplain(config.temporalAddress);
    return {
      client: new Client({ connection, namespace: config.namespace }),
      store,
      namespace: config.namespace,
      embedded: false,
      close: () => connection.close(),
    };
  }
  const live = liveEmbeddedServer(config.home);
  if (live) {
    if (options.workers !== false) {
      throw new UserError(
        `Another imagent process (pid ${live.pid}) is running the embedded server in ${config.home}. Wait for it to finish, or point TEMPORAL_ADDRESS at a real cluster to run several at once.`,
      );
    }
    const connection = await Connection.connect({ address: live.address });
    return { client: new Client({ connection, namespace: config.namespace }), store, namespace: config.namespace, embedded: false, close: () => connection.close() };
  }
  mkdirSync(config.home, { recursive: true });
  const server = await startTemporalDevServer({ dataDir: join(config.home, 'temporal'), logFile: join(config.home, 'temporal.log') });
  const lockFile = join(config.home, 'server.json');
  writeFileSync(lockFile, JSON.stringify({ address: server.address, pid: process.pid }));
  const connection = await Connection.connect({ address: server.address });
  const workers = options.workers === false ? null : await startWorkers(server, config, store);
  return {
    client: new Client({ connection, namespace: config.namespace }),
    store,
    namespace: config.namespace,
    embedded: true,
    async close() {
      await workers?.stop();
      await connection.close();
      await server.stop();
      rmSync(lockFile, { force: true });
    },
  };
}

/** The embedded server another imagent process is running on this home folder, if any. */
function liveEmbeddedServer(home: string): { address: string; pid: number } | null {
  const lockFile = join(home, 'server.json');
  if (!existsSync(lockFile)) return null;
  try {
    const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { address: string; pid: number };
    process.kill(lock.pid, 0);
    return lock;
  } catch {
    rmSync(lockFile, { force: true });
    return null;
  }
}

async function connectOrExplain(address: string): Promise<Connection> {
  try {
    return await Connection.connect({ address, connectTimeout: '10s' });
  } catch (err) {
    throw new Error(`Could not reach Temporal at ${address} (${(err as Error).message}). Check TEMPORAL_ADDRESS, or unset it to use the embedded default.`);
  }
}

async function startWorkers(server: DevServer, config: Config, store: BlobStore) {
  const connection = await NativeConnection.connect({ address: server.address });
  const workflowBundle = { codePath: await cachedWorkflowBundle(join(config.home, 'cache')) };
  const workers: Worker[] = [
    await createControlWorker({ connection, namespace: config.namespace, store, workflowBundle }),
    await createGpuWorker({
      connection,
      namespace: config.namespace,
      store,
      backbones: await createBackbones({ kind: config.backbone, simLatencyScale: config.simLatencyScale }),
      slots: config.gpuSlots,
    }),
  ];
  const running = workers.map((w) => w.run());
  return {
    async stop() {
      // The SDK's own SIGINT handling may have stopped them already.
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await connection.close();
    },
  };
}
