// Starts the local services imagent needs on one machine: a Temporal dev server (the `temporal`
// CLI) and a moto S3 server. Used by the CLI's embedded mode and by the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { findTemporal, motoAvailable, motoCommand } from './tools';

export interface DevServerOptions {
  /** Keeps state in `<dataDir>/temporal.db`, so workflows survive a restart; omit for in-memory. */
  dataDir?: string;
  /** gRPC port; default: a free one. */
  port?: number;
  /** Web UI port; default false: no UI. */
  uiPort?: number | false;
  /** Created at start if it is not 'default' (which always exists). */
  namespace?: string;
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Appends the server's output here; otherwise only its last lines are kept, for errors. */
  logFile?: string;
}

export interface DevServer {
  /** host:port of the gRPC frontend. */
  address: string;
  pid: number;
  stop(): Promise<void>;
}

export interface S3Server {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 100;
const STOP_GRACE_MS = 10_000;
const TAIL_CHARS = 4_000;
const SETUP_HINT = 'run `npm run setup` (node infra/dev/prepare.js)';

/** Children still running; killed when this process exits, however it exits normally. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on 127.0.0.1:port (or on all interfaces at that port). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A chosen port must be free before the server starts: otherwise the readiness probe could reach
 * whatever already listens there and report a server ready that is about to fail.
 */
async function portFor(requested: number | undefined): Promise<number> {
  if (requested === undefined) return freePort();
  if (!(await portIsFree(requested))) {
    throw new Error(`Port ${requested} on 127.0.0.1 is already in use: stop what listens there, or leave the port unset to use a free one.`);
  }
  return requested;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** A child process whose output is kept (its tail, and optionally a log file) for error messages. */
class Managed {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private output = '';
  private readonly log: WriteStream | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    logFile?: string,
  ) {
    if (logFile) {
      mkdirSync(path.dirname(logFile), { recursive: true });
      this.log = createWriteStream(logFile, { flags: 'a' });
    }
    killAllOnExit();
    this.child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this.child);
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-TAIL_CHARS);
      this.log?.write(chunk);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise<Exit>((resolve) => {
      const done = (exit: Exit) => {
        running.delete(this.child);
        this.exit ??= exit;
        this.log?.end();
        resolve(this.exit);
      };
      this.child.once('exit', (code, signal) => done({ code, signal }));
      this.child.once('error', (error) => done({ code: null, signal: null, error }));
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  tail(): string {
    const text = this.output.trim();
    return text ? `Its last output:\n${text}` : 'It printed nothing.';
  }

  describeExit(): string {
    const exit = this.exit;
    if (!exit) return `${this.name} is still running`;
    if (exit.error) return `${this.name} could not be started (${exit.error.message})`;
    return `${this.name} exited with ${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}`;
  }

  async stop(): Promise<void> {
    if (this.hasExited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Polls probe until it answers true; fails fast, with the output's tail, if the process dies. */
  async waitUntilReady(probe: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (this.hasExited) throw new Error(`${this.describeExit()} before it was ${what}. ${this.tail()}`);
      if (await probe().catch(() => false)) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`${this.name} was not ${what} within ${READY_TIMEOUT_MS / 1000} s, so it was stopped. ${this.tail()}`);
      }
      await Promise.race([sleep(POLL_MS), this.exited]);
    }
  }
}

function acceptsTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

async function namespaceReady(address: string, namespace: string): Promise<boolean> {
  // Lazy, so that the connection exists (and is closed) even when the server never answers.
  const connection = Connection.lazy({ address });
  try {
    await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.describeNamespace({ namespace }));
    return true;
  } finally {
    await connection.close();
  }
}

function devServerArgs(options: DevServerOptions, port: number): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('--db-filename', path.join(options.dataDir, 'temporal.db'));
  }
  if (options.uiPort === undefined || options.uiPort === false) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    // The CLI reads each value as JSON: strings need their quotes.
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

/** Starts `temporal server start-dev` and resolves once its frontend answers for the namespace. */
export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const temporal = findTemporal();
  if (!temporal) {
    throw new Error(`The temporal CLI is neither on PATH nor in .imagent/tools: ${SETUP_HINT}, or put a temporal binary on PATH.`);
  }
  const port = await portFor(options.port);
  const namespace = options.namespace ?? 'default';
  const address = `127.0.0.1:${port}`;
  const server = new Managed(`The Temporal dev server (${temporal})`, temporal, devServerArgs(options, port), process.env, options.logFile);
  await server.waitUntilReady(
    async () => (await acceptsTcp('127.0.0.1', port)) && (await namespaceReady(address, namespace)),
    `ready (accepting gRPC on ${address})`,
  );
  return { address, pid: server.pid, stop: () => server.stop() };
}

/** Starts moto's S3-compatible server and resolves once it answers HTTP. */
export async function startS3Server(options: { port?: number } = {}): Promise<S3Server> {
  if (!motoAvailable()) {
    throw new Error(`moto's server is not installed for python3: ${SETUP_HINT}.`);
  }
  const port = await portFor(options.port);
  const endpoint = `http://127.0.0.1:${port}`;
  const { command, args, env } = motoCommand(port);
  const server = new Managed('The moto S3 server', command, args, env);
  await server.waitUntilReady(async () => {
    const response = await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return true;
  }, `ready (answering HTTP on ${endpoint})`);
  return { endpoint, stop: () => server.stop() };
}
