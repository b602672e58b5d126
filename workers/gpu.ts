// A GPU worker: serves model activities for one pool's task queue, with as many concurrent
// slots as its GPU can hold.
import { NativeConnection, Worker } from '@temporalio/worker';
import { createModelActivities, type BackboneRegistry } from '../activities';
import type { Backbone } from '../backbones/backbone';
import type { BlobStore } from '../storage/blobstore';
import { DEFAULT_GPU_TASK_QUEUE } from '../workflows/types';

export interface GpuWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  store: BlobStore;
  backbones: Record<string, Backbone>;
  taskQueue?: string;
  /** Concurrent model calls this worker runs; match it to what the GPU can hold. */
  slots?: number;
  identity?: string;
  heartbeatIntervalMs?: number;
}

export const DEFAULT_GPU_SLOTS = 4;

export function registryOf(backbones: Record<string, Backbone>): BackboneRegistry {
  return {
    get: (name) => (Object.prototype.hasOwnProperty.call(backbones, name) ? backbones[name] : undefined),
    names: () => Object.keys(backbones),
  };
}

export async function createGpuWorker(options: GpuWorkerOptions): Promise<Worker> {
  const slots = options.slots ?? DEFAULT_GPU_SLOTS;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? DEFAULT_GPU_TASK_QUEUE,
    activities: createModelActivities({
      backbones: registryOf(options.backbones),
      store: options.store,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
    }),
    maxConcurrentActivityTaskExecutions: slots,
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  });
}
