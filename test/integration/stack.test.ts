// The dev stack the embedded mode relies on: a Temporal dev server that persists across restarts.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startTemporalDevServer } from '../../infra/dev/stack';
import { testTemporalAddress } from '../setup/env';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'imagent-stack-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function withClient<T>(address: string, use: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await use(new Client({ connection }));
  } finally {
    await connection.close();
  }
}

test('a dev server started with a dataDir keeps a running workflow across a restart', async () => {
  const workflowId = `stack-test-${randomUUID()}`;
  const first = await startTemporalDevServer({ dataDir });
  try {
    // No worker polls this task queue, so the workflow stays running.
    await withClient(first.address, (client) =>
      client.workflow.start('aWorkflowTypeNobodyImplements', { taskQueue: 'imagent-stack-test', workflowId }),
    );
  } finally {
    await first.stop();
  }

  const second = await startTemporalDevServer({ dataDir });
  try {
    const description = await withClient(second.address, (client) => client.workflow.getHandle(workflowId).describe());
    expect(description.type).toBe('aWorkflowTypeNobodyImplements');
    expect(description.status.name).toBe('RUNNING');
  } finally {
    await second.stop();
  }
});

test('a dev server that cannot start fails with the end of its output', async () => {
  await writeFile(path.join(dataDir, 'temporal.db'), 'not a SQLite database');

  await expect(startTemporalDevServer({ dataDir })).rejects.toThrow(/exited with code 1 before it was ready[\s\S]*file is not a database/);
});

test('refuses a port that is already in use instead of probing another server', async () => {
  const takenPort = Number(testTemporalAddress().split(':').pop());

  await expect(startTemporalDevServer({ port: takenPort })).rejects.toThrow(`Port ${takenPort} on 127.0.0.1 is already in use`);
});
