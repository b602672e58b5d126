// Re-records the histories that test/replay/replay.test.ts replays: real runs of the agent on a
// fresh dev server with the sim backbone. Run with `npm run record-replay` after an intentional,
// patched() change to workflow code, and commit the new files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection } from '@temporalio/worker';
import { SimBackbone } from '../../backbones/sim';
import { startS3Server, startTemporalDevServer } from '../../infra/dev/stack';
import { openBlobStore } from '../../storage/blobstore';
import { cachedWorkflowBundle } from '../../workers/bundle';
import { createControlWorker } from '../../workers/control';
import { createGpuWorker } from '../../workers/gpu';
import { installRuntimeLogging } from '../../workers/logging';
import { agentWorkflow } from '../../workflows';
import { CONTROL_TASK_QUEUE, type AgentInput } from '../../workflows/types';
import { REPLAY_CASES } from './cases';

async function main(): Promise<void> {
  installRuntimeLogging('WARN');
  const scratch = mkdtempSync(join(tmpdir(), 'imagent-record-'));
  const server = await startTemporalDevServer();
  // Images go to an S3 API server so that the recorded image URIs name no folder of this machine.
  const s3 = await startS3Server();
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.IMAGENT_S3_ENDPOINT = s3.endpoint;
  await new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' }).send(new CreateBucketCommand({ Bucket: 'imagent-replay' }));
  const store = openBlobStore('s3://imagent-replay/recorded');
  const native = await NativeConnection.connect({ address: server.address });
  const workers = [
    await createControlWorker({ connection: native, store, identity: 'replay-recorder', workflowBundle: { codePath: await cachedWorkflowBundle(join(scratch, 'cache')) } }),
    await createGpuWorker({ connection: native, store, identity: 'replay-recorder', backbones: { sim: new SimBackbone() } }),
  ];
  const running = workers.map((w) => w.run());
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, identity: 'replay-recorder' });
  try {
    const sim = new SimBackbone();
    for (const c of REPLAY_CASES) {
      const image = c.sourcePrompt
        ? await store.putImage(await sim.generate({ prompt: c.sourcePrompt, seed: 1, width: 512, height: 512 }))
        : undefined;
      const input: AgentInput = { prompt: c.prompt, image, options: c.options };
      const handle = await client.workflow.start(agentWorkflow, { taskQueue: CONTROL_TASK_QUEUE, workflowId: c.workflowId, args: [input] });
      const result = await handle.result();
      const history = await handle.fetchHistory();
      writeFileSync(join(__dirname, `${c.workflowId}.json`), `${historyToJSON(history)}\n`);
      process.stdout.write(`${c.workflowId}: ${result.trajectory.map((o) => o.action).join(' -> ')} (${history.events?.length} events)\n`);
    }
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await connection.close();
    await native.close();
    await server.stop();
    await s3.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`recording failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
