// The `imagent` command on the embedded default: its own dev server, both workers, the sim.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Inspection } from '../../cli/inspect';
import type { AgentResult } from '../../workflows/types';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'bin', 'imagent.js');

function imagent(home: string, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, IMAGENT_HOME: home };
  delete env.TEMPORAL_ADDRESS;
  delete env.IMAGENT_STORE;
  return run(process.execPath, [BIN, ...args], { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
}

describe('imagent CLI on the embedded default', () => {
  const home = mkdtempSync(join(tmpdir(), 'imagent-cli-'));

  it('run and inspect produce the same trajectory, and inspect reads it back from history alone', async () => {
    const out = join(home, 'final.png');
    const ran = await imagent(home, ['run', 'two red apples to the left of a blue cup', '--t-max', '3', '--id', 'cli-same', '--out', out, '--json']);
    const result = JSON.parse(ran.stdout) as AgentResult;
    expect(result.workflowId).toBe('cli-same');
    expect(result.trajectory.length).toBeGreaterThanOrEqual(1);
    expect(existsSync(out)).toBe(true);
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');

    const inspected = JSON.parse((await imagent(home, ['inspect', 'cli-same', '--json'])).stdout) as Inspection;
    expect(inspected.status).toBe('completed');
    expect(inspected.trajectory).toEqual(result.trajectory);
    expect(inspected.finalImage).toEqual(result.finalImage);
    expect(inspected.metrics).toEqual(result.metrics);
    expect(inspected.input?.prompt).toBe('two red apples to the left of a blue cup');
  });

  it('prints each step for people, and where the final image is', async () => {
    const { stdout } = await imagent(home, ['run', 'a photo of a dog', '--t-max', '2', '--id', 'cli-human']);
    expect(stdout).toMatch(/sim backbone \(a simulator, not a real image model\)/);
    expect(stdout).toMatch(/^step 1 /m);
    const finalLine = /^final image \(score [\d.?]+(\/10)?\): (.+\.png)$/m.exec(stdout);
    expect(finalLine).not.toBeNull();
    expect(existsSync(finalLine![2])).toBe(true);
    const inspected = await imagent(home, ['inspect', 'cli-human']);
    for (const line of stdout.split('\n').filter((l) => /^step \d/.test(l))) expect(inspected.stdout).toContain(line.slice(0, 40));
  });

  it('says what to fix when the workflow id does not exist or a flag is wrong', async () => {
    await expect(imagent(home, ['inspect', 'no-such-run'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/No workflow with id "no-such-run" exists/),
    });
    await expect(imagent(home, ['run', 'a cat', '--t-max', 'lots'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/--t-max must be a whole number from 1 to 32/),
    });
    await expect(imagent(home, ['run', 'a cat', '--image', join(home, 'missing.png')])).rejects.toMatchObject({
      stderr: expect.stringMatching(/does not exist; give the path of a PNG to edit/),
    });
  });
});
