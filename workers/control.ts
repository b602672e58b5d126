// The control worker: runs the workflows and the storage activities on CPU (queue `imagent`).
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createBatchActivities, createControlActivities } from '../activities';
import type { BlobStore } from '../storage/blobstore';
import { CONTROL_TASK_QUEUE } from '../workflows/types';

export interface ControlWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  store: BlobStore;
  workflowBundle: WorkflowBundleOption;
  taskQueue?: string;
  identity?: string;
}

export async function createControlWorker(options: ControlWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? CONTROL_TASK_QUEUE,
    workflowBundle: options.workflowBundle,
    activities: { ...createControlActivities({ store: options.store }), ...createBatchActivities({ store: options.store }) },
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  });
}
