// Recorded histories of real runs must replay against the current workflow code without
// nondeterminism; a change that breaks them needs patched() and a re-recording.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { installRuntimeLogging } from '../../workers/logging';
import { workflowBundlePath } from '../setup/env';
import { REPLAY_CASES } from './cases';

describe('recorded histories', () => {
  beforeAll(() => installRuntimeLogging('ERROR'));

  it.each(REPLAY_CASES.map((c) => c.workflowId))('%s replays without nondeterminism', async (workflowId) => {
    const history: unknown = JSON.parse(readFileSync(join(__dirname, `${workflowId}.json`), 'utf8'));
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: workflowBundlePath() } }, history, workflowId)).resolves.toBeUndefined();
  });
});
