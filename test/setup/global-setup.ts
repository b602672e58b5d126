// Starts what the tests share, once per jest run: an in-memory Temporal dev server, a moto S3
// server and the workflow bundle. Tests find them through test/setup/env.ts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { startS3Server, startTemporalDevServer } from '../../infra/dev/stack';
import { saveTestStack } from './stack-handle';

async function bundleWorkflows(tempDir: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: new DefaultLogger('WARN'),
  });
  const bundlePath = path.join(tempDir, 'workflow-bundle.js');
  await writeFile(bundlePath, code);
  return bundlePath;
}

export default async function globalSetup(): Promise<void> {
  // moto accepts any credentials; the SDK only needs some to sign requests.
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  process.env.AWS_REGION ??= 'us-east-1';
  // The SDK warns once per process that it will need Node 22 from 2027; in test output that is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'imagent-test-'));
  const [temporal, s3, bundle] = await Promise.allSettled([
    startTemporalDevServer({ logFile: path.join(tempDir, 'temporal.log') }),
    startS3Server(),
    bundleWorkflows(tempDir),
  ]);
  if (temporal.status === 'rejected' || s3.status === 'rejected' || bundle.status === 'rejected') {
    await Promise.all([temporal, s3].flatMap((started) => (started.status === 'fulfilled' ? [started.value.stop()] : [])));
    await rm(tempDir, { recursive: true, force: true });
    const reasons = [temporal, s3, bundle].flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
    throw new Error(`The test stack could not start:\n${reasons.join('\n')}`);
  }
  saveTestStack({ temporal: temporal.value, s3: s3.value, tempDir });
  process.env.IMAGENT_TEST_TEMPORAL_ADDRESS = temporal.value.address;
  process.env.IMAGENT_TEST_S3_ENDPOINT = s3.value.endpoint;
  process.env.IMAGENT_TEST_WORKFLOW_BUNDLE = bundle.value;
}
