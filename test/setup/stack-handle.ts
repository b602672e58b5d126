// What global-setup.ts starts and global-teardown.ts stops. Jest runs both in one process, so the
// handle travels on globalThis.
import type { DevServer, S3Server } from '../../infra/dev/stack';

export interface TestStack {
  temporal: DevServer;
  s3: S3Server;
  /** Holds the workflow bundle and the dev server's log; removed at teardown. */
  tempDir: string;
}

const KEY = Symbol.for('imagent.testStack');
type WithStack = typeof globalThis & { [KEY]?: TestStack };

export function saveTestStack(stack: TestStack): void {
  (globalThis as WithStack)[KEY] = stack;
}

export function takeTestStack(): TestStack | undefined {
  const stack = (globalThis as WithStack)[KEY];
  delete (globalThis as WithStack)[KEY];
  return stack;
}
