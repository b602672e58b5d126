// Stops what global-setup.ts started.
import { rm } from 'node:fs/promises';
import { takeTestStack } from './stack-handle';

export default async function globalTeardown(): Promise<void> {
  const stack = takeTestStack();
  if (!stack) return;
  await Promise.all([stack.temporal.stop(), stack.s3.stop()]);
  await rm(stack.tempDir, { recursive: true, force: true });
}
