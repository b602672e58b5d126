// Real processes for integration tests: the sim model server and GPU workers run as `imagent`
// subprocesses, so a test can kill, freeze and restart them the way a failing GPU node would.
// Everything started here is tracked; call stopAll() in afterEach so a failing test leaves nothing
// running, and each child has a reaper that kills it if the test process dies first.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { detectTemplate } from '../../prompts/render';
import { gpuTaskQueueForPool } from '../../workflows/types';
import { testTemporalAddress } from '../setup/env';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'imagent.js');
/** tsx compiles the CLI on start, which takes a few seconds on a busy machine. */
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 8_000;

const children = new Set<ChildProcess>();
const servers = new Set<Server>();

/**
 * A detached watcher that SIGKILLs `pid` once this process is gone, however it ended (a crashed or
 * interrupted jest worker included). An exit hook cannot do this: jest hands test code a copy of
 * `process` whose 'exit' listeners never run.
 */
function startReaper(pid: number): ChildProcess {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 ${pid} 2>/dev/null`;
  const reaper = spawn('sh', ['-c', script], { stdio: 'ignore', detached: true });
  reaper.unref();
  return reaper;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly pid: number;
  /** Sends a signal: SIGKILL for a crash, SIGSTOP / SIGCONT to freeze and thaw. */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM (after SIGCONT, in case it is frozen), then SIGKILL if it has not exited within a few seconds. */
  stop(): Promise<Exit>;
  waitForExit(): Promise<Exit>;
  /** The end of what it wrote to stdout and stderr, for failure messages. */
  output(): string;
}

function startProcess(args: string[], env: NodeJS.ProcessEnv): { handle: ManagedProcess; child: ChildProcess } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`Could not start ${CLI} ${args.join(' ')}.`);
  const pid = child.pid;
  children.add(child);
  const reaper = startReaper(pid);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      reaper.kill('SIGKILL');
      resolve({ code, signal });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const handle: ManagedProcess = {
    pid,
    kill(signal) {
      if (running()) child.kill(signal);
    },
    async stop() {
      if (running()) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      return exited;
    },
    waitForExit: () => exited,
    output: () => output,
  };
  return { handle, child };
}

/** Kills every process and closes every model relay this module started that is still up. */
export async function stopAll(): Promise<void> {
  const killing = [...children].map((child) => {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return exited;
  });
  await Promise.all([...killing, ...[...servers].map(closeServer)]);
}

// ---------------------------------------------------------------------------------------------
// The sim model server.

export interface SimServerFlags {
  /** Seconds per generation (a chat call takes a quarter of it); 0 answers at once. */
  latencyScale?: number;
  transientRate?: number;
  oomRate?: number;
  hangRate?: number;
  crashRate?: number;
  seed?: number;
  noEdit?: boolean;
}

export interface SimServerProcess extends ManagedProcess {
  /** The API root, http://127.0.0.1:PORT/v1. */
  url: string;
}

function simServerArgs(flags: SimServerFlags): string[] {
  const args = ['sim-server', '--port', '0'];
  const numeric: Array<[string, number | undefined]> = [
    ['--latency-scale', flags.latencyScale],
    ['--transient-rate', flags.transientRate],
    ['--oom-rate', flags.oomRate],
    ['--hang-rate', flags.hangRate],
    ['--crash-rate', flags.crashRate],
    ['--seed', flags.seed],
  ];
  for (const [flag, value] of numeric) if (value !== undefined) args.push(flag, String(value));
  if (flags.noEdit) args.push('--no-edit');
  return args;
}

/** Starts `imagent sim-server` and resolves once it prints the URL it listens on. */
export async function startSimServerProcess(flags: SimServerFlags = {}): Promise<SimServerProcess> {
  const { handle: proc, child } = startProcess(simServerArgs(flags), baseEnv());
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`The sim server printed no URL within ${START_TIMEOUT_MS} ms:\n${proc.output()}`)), START_TIMEOUT_MS);
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /sim server listening on (http:\/\/\S+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      void proc.waitForExit().then((exit) => {
        clearTimeout(timer);
        reject(new Error(`The sim server exited (${exit.signal ?? exit.code}) before it listened:\n${proc.output()}`));
      });
    });
    return { ...proc, url };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// GPU workers.

export interface GpuWorkerProcessOptions {
  /** Asked for the worker's pollers, to know when it is ready. */
  client: Client;
  pool: string;
  slots: number;
  backboneUrl: string;
  /** IMAGENT_STORE: file:///abs/dir or s3://bucket/prefix. */
  storeUri: string;
  /** Extra environment, e.g. IMAGENT_OPENAI_TIMEOUT_MS. */
  env?: NodeJS.ProcessEnv;
}

export interface GpuWorkerProcess extends ManagedProcess {
  /** The Temporal worker identity it reports (the SDK's default, pid@host), as history records it. */
  identity: string;
}

/** The environment a child gets: nothing of this process's imagent configuration, plus what names the test stack. */
function baseEnv(): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => ['PATH', 'HOME', 'TMPDIR'].includes(name) || name.startsWith('AWS_'));
  return Object.fromEntries(inherited);
}

/**
 * Starts `imagent worker --role gpu` on the pool, serving the OpenAI-compatible backbone at
 * backboneUrl, and resolves once Temporal sees it polling the pool's task queue.
 */
export async function startGpuWorkerProcess(options: GpuWorkerProcessOptions): Promise<GpuWorkerProcess> {
  const home = mkdtempSync(join(tmpdir(), 'imagent-gpu-worker-'));
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    TEMPORAL_ADDRESS: testTemporalAddress(),
    IMAGENT_STORE: options.storeUri,
    IMAGENT_HOME: home,
    IMAGENT_LOG_LEVEL: 'warn',
    IMAGENT_OPENAI_CHAT_MODEL: 'sim',
    ...options.env,
  };
  const args = ['worker', '--role', 'gpu', '--pool', options.pool, '--slots', String(options.slots), '--backbone-url', options.backboneUrl];
  const { handle: proc, child } = startProcess(args, env);
  void proc.waitForExit().then(() => rmSync(home, { recursive: true, force: true }));
  const identity = `${proc.pid}@${hostname()}`;
  try {
    await waitUntilPolling(options.client, gpuTaskQueueForPool(options.pool), identity, proc, child);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { ...proc, identity };
}

async function waitUntilPolling(client: Client, taskQueue: string, identity: string, proc: ManagedProcess, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`The GPU worker exited (${child.signalCode ?? child.exitCode}) before it polled ${taskQueue}:\n${proc.output()}`);
    }
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    if ((pollers ?? []).some((p) => p.identity === identity)) return;
    await sleep(100);
  }
  throw new Error(`The GPU worker ${identity} did not poll ${taskQueue} within ${START_TIMEOUT_MS} ms:\n${proc.output()}`);
}

// ---------------------------------------------------------------------------------------------
// A scripted model server: the sim server process behind a relay that can override controller
// answers and refuse requests. GPU worker processes cannot be handed a scripted backbone, so the
// script sits on the wire instead, and every call still travels over HTTP to the real server.

export interface ModelScript {
  /** The controller's answer at iteration k (from 1); undefined keeps the model's own. */
  controller?: (iteration: number) => string | undefined;
  /**
   * True to answer this request with a content-policy refusal (HTTP 400) instead of relaying it.
   * `nth` counts requests to the route from 1.
   */
  refuse?: (route: string, nth: number) => boolean;
}

export interface ModelRelay {
  /** The API root to give GPU workers as --backbone-url. */
  url: string;
  /** How requests ended, by route ("POST /v1/images/generations") and status; "dropped" when the client hung up first. */
  tally(): Record<string, Record<string, number>>;
  close(): Promise<void>;
}

function closeServer(server: Server): Promise<void> {
  servers.delete(server);
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The text of the last user message of an OpenAI chat request. */
function lastUserText(body: Buffer): string {
  const request = JSON.parse(body.toString('utf8')) as { messages?: Array<{ role: string; content: string | Array<{ type: string; text?: string }> }> };
  const last = (request.messages ?? []).filter((m) => m.role === 'user').at(-1);
  if (!last) return '';
  return typeof last.content === 'string' ? last.content : last.content.flatMap((p) => (p.type === 'text' && p.text ? [p.text] : [])).join('\n');
}

function scriptedAnswer(script: ModelScript, requestBody: Buffer, answer: string): string {
  if (!script.controller) return answer;
  const text = lastUserText(requestBody);
  if (detectTemplate(text) !== 'controller') return answer;
  const iteration = /^Iteration: (\d+) \//m.exec(text);
  const scripted = iteration ? script.controller(Number(iteration[1])) : undefined;
  if (scripted === undefined) return answer;
  const completion = JSON.parse(answer) as { choices: Array<{ message: { content: string } }> };
  completion.choices[0].message.content = scripted;
  return JSON.stringify(completion);
}

/** Starts a relay to the model server at upstreamUrl (an API root such as http://127.0.0.1:PORT/v1). */
export async function startModelRelay(upstreamUrl: string, script: ModelScript = {}): Promise<ModelRelay> {
  const upstream = new URL(upstreamUrl).origin;
  const seen: Record<string, number> = {};
  const tally: Record<string, Record<string, number>> = {};
  const count = (route: string, outcome: string) => {
    tally[route] ??= {};
    tally[route][outcome] = (tally[route][outcome] ?? 0) + 1;
  };

  async function relay(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const route = `${req.method ?? 'GET'} ${path.split('?')[0]}`;
    const nth = (seen[route] = (seen[route] ?? 0) + 1);
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const body = await readBody(req);
    if (script.refuse?.(route, nth)) {
      count(route, '400');
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'The model refused this content (scripted by the test).', type: 'invalid_request_error', code: 'content_policy_violation' } }));
      return;
    }
    let status: number;
    let text: string;
    const headers: Record<string, string> = {};
    try {
      const contentType = req.headers['content-type'];
      const answer = await fetch(`${upstream}${path}`, {
        method: req.method,
        headers: contentType ? { 'content-type': contentType } : {},
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
        signal: gone.signal,
      });
      status = answer.status;
      text = await answer.text();
      for (const name of ['content-type', 'retry-after']) {
        const value = answer.headers.get(name);
        if (value !== null) headers[name] = value;
      }
    } catch {
      // The client gave up (a hung call hit its timeout) or the server dropped the connection.
      count(route, 'dropped');
      res.destroy();
      return;
    }
    if (route === 'POST /v1/chat/completions' && status === 200) text = scriptedAnswer(script, body, text);
    count(route, String(status));
    res.writeHead(status, headers);
    res.end(text);
  }

  const server = createServer((req, res) => {
    relay(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `The test relay failed: ${String(err)}`, type: 'server_error', code: null } }));
    });
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    tally: () => structuredClone(tally),
    close: () => closeServer(server),
  };
}
