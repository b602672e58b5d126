// A GPU worker process for the throughput benchmark: imagent's GPU worker with a metered sim
// backbone, which reports when each model call kept it busy when asked over IPC.
//   env: TEMPORAL_ADDRESS, IMAGENT_STORE, BENCH_TASK_QUEUE, BENCH_SLOTS, BENCH_LATENCY, BENCH_IDENTITY
import { NativeConnection } from '@temporalio/worker';
import { SimBackbone } from '../backbones/sim';
import { openBlobStore } from '../storage/blobstore';
import { createGpuWorker } from '../workers/gpu';
import { installRuntimeLogging } from '../workers/logging';
import { MeteredBackbone } from './metered';
import { BENCH_INSTRUCTION_NOISE } from './evaluate';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: bench/gpu-worker.ts is started by the throughput benchmark.`);
  return value;
}

async function main(): Promise<void> {
  installRuntimeLogging('ERROR');
  const connection = await NativeConnection.connect({ address: required('TEMPORAL_ADDRESS') });
  const backbone = new MeteredBackbone(new SimBackbone({ latencyScale: Number(required('BENCH_LATENCY')), instructionNoise: BENCH_INSTRUCTION_NOISE }));
  const worker = await createGpuWorker({
    connection,
    store: openBlobStore(required('IMAGENT_STORE')),
    backbones: { sim: backbone },
    taskQueue: required('BENCH_TASK_QUEUE'),
    slots: Number(required('BENCH_SLOTS')),
    identity: required('BENCH_IDENTITY'),
  });
  process.on('message', (message: string) => {
    if (message === 'report') process.send?.({ intervals: backbone.intervals });
  });
  process.once('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  console.log('worker polling');
  await running;
  await connection.close();
  process.disconnect();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
