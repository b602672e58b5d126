// `imagent batch`, `imagent batch status` and `imagent report` on the embedded default: its own dev
// server and both workers inside the command, the sim backbone, a file store under IMAGENT_HOME.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BatchView } from '../../cli/batch';
import type { ReportSource } from '../../cli/report';
import type { Report } from '../../cli/report-model';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'bin', 'imagent.js');

function embeddedEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, IMAGENT_HOME: home };
  delete env.TEMPORAL_ADDRESS;
  delete env.IMAGENT_STORE;
  return env;
}

function imagent(home: string, args: string[]) {
  return run(process.execPath, [BIN, ...args], { env: embeddedEnv(home), timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
}

function writeManifest(dir: string, name: string, count: number): string[] {
  const ids = Array.from({ length: count }, (_, i) => `${name}-${i}`);
  const prompts = ['a photo of a dog', 'two red apples to the left of a blue cup', 'three cats on a sofa', 'a green umbrella'];
  writeFileSync(join(dir, `${name}.jsonl`), ids.map((id, i) => JSON.stringify({ id, prompt: prompts[i % prompts.length] })).join('\n') + '\n');
  return ids;
}

describe('imagent batch on the embedded default', () => {
  const home = mkdtempSync(join(tmpdir(), 'imagent-batch-cli-'));

  it('runs a manifest to the end, prints the summary and writes each final image; report and status read it back', async () => {
    const ids = writeManifest(home, 'ten', 10);
    const out = join(home, 'images');
    const { stdout } = await imagent(home, ['batch', join(home, 'ten.jsonl'), '--id', 'ten', '--t-max', '2', '--out', out]);

    expect(stdout).toMatch(/^batch ten started over .*ten\.jsonl on the embedded default with the sim backbone \(a simulator, not a real image model\)$/m);
    expect(stdout).toMatch(/^batch ten completed in [\d.]+ s: 10 items, [\d.]+ items\/s$/m);
    expect(stdout).toMatch(/succeeded 10, failed 0, cancelled 0, invalid 0, skipped 0/);
    const results = /^results: (.+)$/m.exec(stdout)?.[1];
    expect(results && existsSync(results)).toBe(true);
    expect(readFileSync(results!, 'utf8').trim().split('\n')).toHaveLength(10);
    expect(stdout).toContain(`images: 10 written to ${out}/<id>.png`);
    for (const id of ids) expect(readFileSync(join(out, `${id}.png`)).subarray(1, 4).toString()).toBe('PNG');

    const report = JSON.parse((await imagent(home, ['report', 'ten', '--json'])).stdout) as Report & { sources: ReportSource[] };
    expect(report).toMatchObject({ items: 10, successRate: 1, sources: [{ id: 'ten', kind: 'batch', status: 'completed', items: 10 }] });
    expect(report.backbone).toEqual({ names: ['sim'], simulated: true });
    expect(report.actionTrend[0].runs).toBe(10);
    expect(report.scores.scored + report.scores.unreadable).toBe(10);

    const view = JSON.parse((await imagent(home, ['batch', 'status', 'ten', '--json'])).stdout) as BatchView;
    expect(view).toMatchObject({ batchId: 'ten', status: 'completed', total: 10, done: 10, failed: 0, running: 0 });
    expect(view.summary?.counts.succeeded).toBe(10);

    const people = (await imagent(home, ['report', 'ten'])).stdout;
    expect(people).toMatch(/^backbone: sim \(a simulator, not a real image model\)$/m);
    expect(people).toMatch(/^success rate: 100\.0%$/m);
  }, 300_000);

  it('detaches on Ctrl-C, saying the embedded batch waits, and `batch status` resumes it to the end', async () => {
    const ids = writeManifest(home, 'forty', 40);
    // Its own process group, as in a terminal: Ctrl-C reaches imagent and the dev server it started.
    const child = spawn(process.execPath, [BIN, 'batch', join(home, 'forty.jsonl'), '--id', 'forty', '--t-max', '2', '--concurrency', '4'], {
      env: embeddedEnv(home),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 120_000;
    while (!/^\d+\/40: [1-9]/m.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(stdout).toMatch(/^\d+\/40: /m);
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/Detached from batch forty\. .*pauses until the next imagent command starts them: `imagent batch status forty` resumes it/);

    const resumed = await imagent(home, ['batch', 'status', 'forty']);
    expect(resumed.stdout).toMatch(/^batch forty completed in [\d.]+ s: 40 items/m);
    expect(resumed.stdout).toMatch(/succeeded 40, failed 0, cancelled 0, invalid 0/);
    const report = JSON.parse((await imagent(home, ['report', 'forty', '--json'])).stdout) as Report;
    expect(report).toMatchObject({ items: 40, successRate: 1 });
    const lines = readFileSync(join(home, 'blobs', 'batches', 'forty', 'results.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { itemId: string }).itemId)).toEqual(ids);
  }, 300_000);

  it('says what to do when the manifest, the id or the batch is wrong', async () => {
    await expect(imagent(home, ['batch', join(home, 'missing.jsonl')])).rejects.toMatchObject({
      stderr: expect.stringMatching(/The manifest .*missing\.jsonl does not exist\. Give the path of a JSON Lines file/),
    });
    writeManifest(home, 'one', 1);
    await expect(imagent(home, ['batch', join(home, 'one.jsonl'), '--id', 'no spaces'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/"no spaces" cannot be a batch id: .*Choose another with --id\./),
    });
    await expect(imagent(home, ['batch', 'status', 'never-started'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/No batch with id "never-started" exists/),
    });
    await expect(imagent(home, ['report', 'never-started'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/No batch or run with id "never-started" was found/),
    });
    await expect(imagent(home, ['batch', 'concurrency', 'ten', '0'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/Concurrency must be a whole number from 1 to 1000/),
    });
  }, 180_000);
});
