// `imagent worker`: one worker of a real deployment, running until SIGINT or SIGTERM.
import { NativeConnection } from '@temporalio/worker';
import { SimBackbone } from '../backbones/sim';
import { openBlobStore } from '../storage/blobstore';
import { cachedWorkflowBundle } from '../workers/bundle';
import { createControlWorker } from '../workers/control';
import { createGpuWorker } from '../workers/gpu';
import { join } from 'node:path';
import { gpuTaskQueue } from '../workflows/types';
import { loadConfig } from './config';
import { UserError } from './errors';

export async function workerCommand(flags: { role: string; pool?: string; slots?: number }): Promise<void> {
  const config = loadConfig();
  if (!config.temporalAddress) {
    throw new UserError('A worker joins a real cluster: set TEMPORAL_ADDRESS (host:port). For one machine, `imagent run` starts everything itself.');
  }
  if (flags.role !== 'control' && flags.role !== 'gpu') throw new UserError(`--role must be control or gpu, not "${flags.role}".`);
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
            backbones: { sim: new SimBackbone({ latencyScale: config.simLatencyScale }) },
            taskQueue: gpuTaskQueue({ pool: flags.pool }),
            slots: flags.slots ?? config.gpuSlots,
          });
    process.stderr.write(`imagent ${flags.role} worker polling ${worker.options.taskQueue} at ${config.temporalAddress}\n`);
    await worker.run();
  } finally {
    await connection.close();
  }
}
