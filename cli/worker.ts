// `imagent worker`: one worker of a real deployment, running until SIGINT or SIGTERM.
import { NativeConnection } from '@temporalio/worker';
import { openBlobStore } from '../storage/blobstore';
import { createBackbones } from '../workers/backbones';
import { cachedWorkflowBundle } from '../workers/bundle';
import { installRuntimeLogging, log } from '../workers/logging';
import { createControlWorker } from '../workers/control';
import { createGpuWorker } from '../workers/gpu';
import { join } from 'node:path';
import { gpuTaskQueue } from '../workflows/types';
import { loadConfig } from './config';
import { UserError } from './errors';

export interface WorkerFlags {
  role: string;
  pool?: string;
  slots?: number;
  backbone?: string;
  backboneUrl?: string;
}

export async function workerCommand(flags: WorkerFlags): Promise<void> {
  const config = loadConfig();
  installRuntimeLogging('INFO');
  if (!config.temporalAddress) {
    throw new UserError('A worker joins a real cluster: set TEMPORAL_ADDRESS (host:port). For one machine, `imagent run` starts everything itself.');
  }
  if (flags.role !== 'control' && flags.role !== 'gpu') throw new UserError(`--role must be control or gpu, not "${flags.role}".`);
  const kind = flags.backboneUrl ? 'openai' : (flags.backbone ?? config.backbone);
  if (kind !== 'sim' && kind !== 'openai') throw new UserError(`--backbone must be sim or openai, not "${kind}".`);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const store = openBlobStore(config.storeUri);
  try {
    const worker =
      flags.role === 'control'
        ? await createControlWorker({
            connection,
            namespace: config.namespace,
            store,
            workflowBundle: { codePath: await cachedWorkflowBundle(join(config.home, 'cache')) },
          })
        : await createGpuWorker({
            connection,
            namespace: config.namespace,
            store,
            backbones: await createBackbones({ kind, simLatencyScale: config.simLatencyScale, baseUrl: flags.backboneUrl }),
            taskQueue: gpuTaskQueue({ pool: flags.pool }),
            slots: flags.slots ?? config.gpuSlots,
          });
    log.info({ role: flags.role, taskQueue: worker.options.taskQueue, address: config.temporalAddress }, 'worker polling');
    await worker.run();
  } finally {
    await connection.close();
  }
}
