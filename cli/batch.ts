// `imagent batch`: start a durable batch over a JSON Lines manifest (or attach to it), watch it live,
// and steer it: status, pause, resume, cancel, and a new window size while it runs.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { fileUriToPath, type BlobStore } from '../storage/blobstore';
import { readRange } from '../storage/ranges';
import { installRuntimeLogging } from '../workers/logging';
import { batchWorkflow, cancelSignal, pauseSignal, progressQuery, resumeSignal, setConcurrencyUpdate } from '../workflows';
import {
  batchInputSchema,
  type BatchInput,
  type BatchProgress,
  type BatchStatus,
  type BatchSummary,
  type ItemResult,
} from '../workflows/batch-types';
import { CONTROL_TASK_QUEUE, describeZodError, itemIdSchema } from '../workflows/types';
import { loadConfig, type Config } from './config';
import { openCluster, type Cluster } from './embedded';
import { UserError } from './errors';

export interface BatchFlags {
  id?: string;
  concurrency?: number;
  tMax?: number;
  n?: number;
  pool?: string;
  out?: string;
}

/** What `batch status --json` prints: the live progress, or the final state of an ended batch. */
export type BatchView = Omit<BatchProgress, 'status' | 'concurrency'> & {
  status: BatchStatus | 'failed' | 'terminated' | 'timed_out';
  /** Null when an ended batch can no longer be asked. */
  concurrency: number | null;
  summary?: BatchSummary;
};

type BatchHandle = WorkflowHandle<typeof batchWorkflow>;

const POLL_MS = 500;
const CALL_DEADLINE_MS = 5_000;
const MIN_RATE_SECONDS = 3;
/** How long a batch may not answer its progress query before the watcher says why that may be. */
const SILENT_MS = 15_000;
/** Without a terminal, one progress line this often (logs, CI). */
const LOG_EVERY_MS = 5_000;
const HASH_CHUNK_BYTES = 8 * 1024 * 1024;
const BAR_WIDTH = 24;
const LISTED_PROBLEMS = 10;
const COPY_PARALLEL = 16;
const STORE_URI = /^(s3|file):\/\//;

export async function batchCommand(manifestArg: string, flags: BatchFlags): Promise<void> {
  const config = loadConfig();
  installRuntimeLogging('ERROR');
  const local = !STORE_URI.test(manifestArg);
  if (local) checkLocalManifest(manifestArg);
  else await checkRemoteManifest(manifestArg);
  const batchId = flags.id ?? `batch-${(await manifestHash(local ? path.resolve(manifestArg) : manifestArg)).slice(0, 16)}`;
  checkBatchId(batchId);

  const cluster = await openCluster(config);
  const close = closeOnce(cluster);
  try {
    const placed = local ? await placeManifest(cluster.store, path.resolve(manifestArg)) : { uri: manifestArg, warnings: [] };
    for (const warning of placed.warnings) process.stderr.write(`imagent: ${warning}\n`);
    const input = batchInput(placed.uri, flags, config);
    let handle: BatchHandle;
    try {
      const before = await cluster.client.workflow.getHandle(batchId).describe().then((d) => d.status.name.toLowerCase(), () => undefined);
      handle = await cluster.client.workflow.start(batchWorkflow, { taskQueue: CONTROL_TASK_QUEUE, workflowId: batchId, args: [input] });
      process.stdout.write(`batch ${batchId} started over ${manifestArg} on ${where(cluster)} with ${backboneLabel(config)}\n`);
      if (before) process.stdout.write(`it ran before (${before}): items that succeeded then are skipped, the others run again\n`);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      handle = cluster.client.workflow.getHandle(batchId);
      process.stdout.write(`batch ${batchId} is already running: attaching to it (its own manifest and options apply)\n`);
    }
    await watchToEnd(cluster, handle, batchId, flags.out, close);
  } finally {
    await close();
  }
}

export async function batchStatusCommand(batchId: string, flags: { json?: boolean; out?: string }): Promise<void> {
  await withBatchCluster(batchId, async (cluster, close) => {
    const { handle, status } = await findBatch(cluster, batchId);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(await viewOf(handle, status), null, 2)}\n`);
      return;
    }
    if (status === 'RUNNING') {
      process.stdout.write(`batch ${batchId} on ${where(cluster)}\n`);
      await watchToEnd(cluster, handle, batchId, flags.out, close);
      return;
    }
    await reportEnd(cluster.store, handle, batchId, flags.out);
  });
}

export async function batchSignalCommand(kind: 'pause' | 'resume' | 'cancel', batchId: string): Promise<void> {
  await withBatchCluster(batchId, async (cluster, close) => {
    const handle = await runningBatch(cluster, batchId, kind);
    await handle.signal(kind === 'pause' ? pauseSignal : kind === 'resume' ? resumeSignal : cancelSignal);
    if (kind === 'pause') {
      process.stdout.write(`Paused batch ${batchId}: running items finish, no new ones start. Resume it with \`imagent batch resume ${batchId}\`.\n`);
    } else if (kind === 'resume') {
      process.stdout.write(`Resumed batch ${batchId}.${cluster.embedded ? ` On the embedded default it runs only while an imagent command runs its workers: watch it with \`imagent batch status ${batchId}\`.` : ''}\n`);
    } else if (cluster.embedded) {
      // The workers live in this process: stay until the running items have been cancelled.
      process.stdout.write(`Cancelling batch ${batchId}: no new items start and the running ones are being cancelled.\n`);
      await watchToEnd(cluster, handle, batchId, undefined, close);
    } else {
      process.stdout.write(`Cancelling batch ${batchId}: no new items start and the running ones are being cancelled. Watch it end with \`imagent batch status ${batchId}\`.\n`);
    }
  });
}

export async function batchConcurrencyCommand(batchId: string, size: number): Promise<void> {
  await withBatchCluster(batchId, async (cluster) => {
    const handle = await runningBatch(cluster, batchId, 'resize');
    let previous: number;
    try {
      previous = await handle.executeUpdate(setConcurrencyUpdate, { args: [size] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new UserError(err.cause?.message ?? err.message);
      throw err;
    }
    process.stdout.write(`batch ${batchId} now runs ${size} items at once (was ${previous}).\n`);
  });
}

/** Checks the id, opens the cluster (starting the embedded workers), runs `work`, and closes once. */
async function withBatchCluster(batchId: string, work: (cluster: Cluster, close: () => Promise<void>) => Promise<void>): Promise<void> {
  checkBatchId(batchId);
  const config = loadConfig();
  installRuntimeLogging('ERROR');
  const cluster = await openWithWorkers(config);
  const close = closeOnce(cluster);
  try {
    await work(cluster, close);
  } finally {
    await close();
  }
}

function checkBatchId(batchId: string): void {
  const parsed = itemIdSchema.safeParse(batchId);
  if (!parsed.success) {
    throw new UserError(`"${batchId}" cannot be a batch id: ${parsed.error.issues[0]?.message ?? 'it is not valid'}. Choose another with --id.`);
  }
}

function checkLocalManifest(file: string): void {
  if (!existsSync(file)) {
    throw new UserError(
      `The manifest ${file} does not exist. Give the path of a JSON Lines file with one {"id": ..., "prompt": ...} object per line, or an s3:// URI.`,
    );
  }
  if (!statSync(file).isFile()) throw new UserError(`The manifest ${file} is a folder; give the path of a JSON Lines file.`);
}

async function checkRemoteManifest(uri: string): Promise<void> {
  try {
    await readRange(uri, 0, 1);
  } catch (err) {
    throw new UserError(`The manifest ${uri} could not be read (${(err as Error).message}). Check the URI and the store's credentials.`);
  }
}

/** The manifest's content hash, read a chunk at a time so that a manifest of any size fits. */
async function manifestHash(uri: string): Promise<string> {
  const hash = createHash('sha256');
  for (let offset = 0; ; ) {
    const { bytes, size } = await readRange(uri, offset, HASH_CHUNK_BYTES);
    hash.update(bytes);
    offset += bytes.length;
    if (offset >= size || bytes.length === 0) return hash.digest('hex');
  }
}

/**
 * Where the workers will read a local manifest. A file store is on this machine, so the path is
 * enough (and relative image paths keep meaning what they meant). Any other store may be read by
 * workers elsewhere: the manifest is uploaded under `manifests/<sha256>.jsonl`, and the local
 * images it names are uploaded first and named by their store URI. Lines whose local image cannot
 * be read stay as they are (the batch reports them as invalid) and come back as warnings.
 */
export async function placeManifest(store: BlobStore, file: string): Promise<{ uri: string; warnings: string[] }> {
  if (store.uri.startsWith('file:')) return { uri: file, warnings: [] };
  const lines: string[] = [];
  const warnings: string[] = [];
  for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
    const placed = await withImageInStore(store, line, path.dirname(file));
    lines.push(placed.line);
    if (placed.problem) warnings.push(`line ${i + 1}: ${placed.problem}`);
  }
  const body = lines.join('\n');
  const key = `manifests/${createHash('sha256').update(body).digest('hex')}.jsonl`;
  if (!(await store.exists(key))) await store.put(key, body, 'application/x-ndjson');
  return { uri: store.uriFor(key), warnings };
}

async function withImageInStore(store: BlobStore, line: string, dir: string): Promise<{ line: string; problem?: string }> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { line }; // The batch reports it, naming the line.
  }
  if (typeof value !== 'object' || value === null) return { line };
  const image = (value as { image?: unknown }).image;
  if (typeof image !== 'string' || /^(s3|https?):\/\//i.test(image)) return { line };
  const file = image.startsWith('file:') ? fileUriToPath(image) : path.resolve(dir, image);
  try {
    const ref = await store.putImage(readFileSync(file));
    return { line: JSON.stringify({ ...value, image: ref.uri }) };
  } catch (err) {
    return { line, problem: `image ${file} could not be uploaded (${(err as Error).message}); the batch will report this line as invalid` };
  }
}

function batchInput(manifest: string, flags: BatchFlags, config: Config): BatchInput {
  const input: BatchInput = {
    manifest,
    ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
    options: {
      ...(flags.tMax === undefined ? {} : { tMax: flags.tMax }),
      ...(flags.n === undefined ? {} : { n: flags.n }),
      ...(flags.pool === undefined ? {} : { pool: flags.pool }),
      backbone: config.backbone,
    },
  };
  const parsed = batchInputSchema.safeParse(input);
  if (!parsed.success) throw new UserError(`The batch options are invalid: ${describeZodError(parsed.error, 'options')}.`);
  return input;
}

/**
 * The embedded default runs the workers in this process, so watching a batch there also runs it.
 * When another imagent process already runs them, watch through that one.
 */
async function openWithWorkers(config: Config): Promise<Cluster> {
  try {
    return await openCluster(config);
  } catch (err) {
    if (config.temporalAddress || !(err instanceof UserError)) throw err;
    return openCluster(config, { workers: false });
  }
}

/** close() may be called from the SIGINT handler and again on the way out; it runs once. */
function closeOnce(cluster: Cluster): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= cluster.close());
}

async function findBatch(cluster: Cluster, batchId: string): Promise<{ handle: BatchHandle; status: string }> {
  const handle = cluster.client.workflow.getHandle<typeof batchWorkflow>(batchId);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    throw new UserError(
      `No batch with id "${batchId}" exists in namespace ${cluster.namespace}. Check the id (imagent batch prints it when it starts) and TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.`,
    );
  }
  if (description.type !== 'batchWorkflow') {
    throw new UserError(`"${batchId}" is a ${description.type} workflow, not a batch: see it with \`imagent inspect ${batchId}\`.`);
  }
  return { handle, status: description.status.name };
}

async function runningBatch(cluster: Cluster, batchId: string, verb: string): Promise<BatchHandle> {
  const { handle, status } = await findBatch(cluster, batchId);
  if (status !== 'RUNNING') {
    throw new UserError(`The batch ${batchId} has already ended (${status.toLowerCase()}), so there is nothing to ${verb}. See how it ended with \`imagent batch status ${batchId}\`.`);
  }
  return handle;
}

/** Shows progress until the batch ends (then its summary) or until Ctrl-C detaches. */
async function watchToEnd(cluster: Cluster, handle: BatchHandle, batchId: string, out: string | undefined, close: () => Promise<void>): Promise<void> {
  const ended = await watch(cluster, batchId, close);
  if (ended === 'detached') {
    process.stdout.write(
      cluster.embedded
        ? `\nDetached from batch ${batchId}. Its progress is saved, but on the embedded default its workers run inside imagent, so the batch pauses until the next imagent command starts them: \`imagent batch status ${batchId}\` resumes it and shows its progress.\n`
        : `\nDetached from batch ${batchId}; it keeps running on the cluster. Watch it again with \`imagent batch status ${batchId}\`.\n`,
    );
    return;
  }
  await reportEnd(cluster.store, handle, batchId, out);
}

/**
 * Polls the batch until it ends, or until Ctrl-C detaches. Polling runs on a connection of its own
 * without gRPC retries, each call with a deadline: at Ctrl-C the cluster's connection then has no
 * call in flight when it closes (a retry scheduled after a close would crash the process), and a
 * server that went down with the same Ctrl-C cannot hold the exit up.
 */
async function watch(cluster: Cluster, batchId: string, close: () => Promise<void>): Promise<'ended' | 'detached'> {
  const connection = cluster.client.connection;
  if (!(connection instanceof Connection)) throw new Error('imagent batch needs a gRPC connection to Temporal.');
  const own = await Connection.connect({ ...connection.options, interceptors: [] });
  const handle = new Client({ connection: own, namespace: cluster.namespace }).workflow.getHandle<typeof batchWorkflow>(batchId);
  const tty = process.stdout.isTTY === true;
  let detach: () => void = () => undefined;
  const detached = new Promise<'detached'>((resolve) => (detach = () => resolve('detached')));
  const onSigint = () => {
    process.once('SIGINT', () => process.exit(130)); // A second Ctrl-C does not wait for a clean stop.
    // Closed here, synchronously: the SDK's own SIGINT hook has queued the workers' shutdown as
    // microtasks, and close() must be the one that shuts them down (it fails on stopping workers).
    void close().catch(() => undefined);
    detach();
  };
  process.once('SIGINT', onSigint);
  let lastLine = 0;
  let silentSince: number | undefined;
  let toldSilent = false;
  const rate = new WatchedRate();
  try {
    for (;;) {
      const status = await own.withDeadline(Date.now() + CALL_DEADLINE_MS, () => handle.describe()).then(
        (d) => d.status.name,
        () => 'UNKNOWN',
      );
      if (status !== 'RUNNING' && status !== 'UNKNOWN') return 'ended';
      const queried = await own.withDeadline(Date.now() + CALL_DEADLINE_MS, () => handle.query(progressQuery)).catch(() => undefined);
      const progress = queried && rate.observe(queried);
      silentSince = progress ? undefined : (silentSince ?? Date.now());
      if (silentSince !== undefined && Date.now() - silentSince > SILENT_MS && !toldSilent) {
        toldSilent = true;
        process.stdout.write(
          `${tty ? '\n' : ''}batch ${batchId} does not answer: no control worker seems to poll task queue "${CONTROL_TASK_QUEUE}". Start one with \`imagent worker --role control\`; the batch waits meanwhile.\n`,
        );
      }
      if (progress && tty) {
        process.stdout.write(`\r\x1b[K${progressLine(progress, BAR_WIDTH).slice(0, Math.max(20, (process.stdout.columns ?? 120) - 1))}`);
      } else if (progress && Date.now() - lastLine >= LOG_EVERY_MS) {
        process.stdout.write(`${progressLine(progress, 0)}\n`);
        lastLine = Date.now();
      }
      if ((await Promise.race([detached, sleep(POLL_MS)])) === 'detached') return 'detached';
    }
  } finally {
    process.off('SIGINT', onSigint);
    if (tty) process.stdout.write('\r\x1b[K');
    await own.close();
  }
}

/**
 * The rate seen while watching. The batch's own rate counts from its start, which after a detach
 * (the embedded default pauses) or with items skipped from an earlier submission says little about
 * the time left.
 */
class WatchedRate {
  private first: { atMs: number; finished: number } | undefined;

  observe(p: BatchProgress): BatchProgress {
    const finished = p.done + p.failed;
    if (p.total < 0) return p;
    this.first ??= { atMs: Date.now(), finished };
    const seconds = (Date.now() - this.first.atMs) / 1000;
    if (seconds < MIN_RATE_SECONDS || finished <= this.first.finished) return p;
    const rate = (finished - this.first.finished) / seconds;
    return { ...p, rate, etaSeconds: Math.max(0, p.total - finished) / rate };
  }
}

export function progressLine(p: BatchProgress, barWidth: number): string {
  if (p.total < 0) return `batch ${p.batchId}: reading the manifest...`;
  const finished = p.done + p.failed;
  const filled = p.total === 0 ? barWidth : Math.round((finished / p.total) * barWidth);
  const bar = barWidth > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ` : '';
  const eta = p.etaSeconds === null ? '--' : clock(p.etaSeconds);
  const state = p.status === 'running' ? '' : ` (${p.status})`;
  return `${bar}${finished}/${p.total}: ${p.done} done, ${p.failed} failed, ${p.running} running | ${p.rate.toFixed(1)} items/s | ETA ${eta}${state}`;
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** The outcome of an ended batch: its summary, the items that need attention, and the images. */
async function reportEnd(store: BlobStore, handle: BatchHandle, batchId: string, out: string | undefined): Promise<void> {
  let summary: BatchSummary;
  try {
    summary = await handle.result();
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    throw new UserError(
      `The batch ${batchId} did not finish: ${err.cause?.message ?? err.message}. The items that ended have their records under results/${batchId}/; fix the cause and submit the same manifest again to run the rest.`,
    );
  }
  const c = summary.counts;
  const lines = [
    `batch ${batchId} ${summary.status} in ${summary.wallSeconds.toFixed(1)} s: ${summary.total} items, ${summary.itemsPerSecond.toFixed(2)} items/s`,
    `  succeeded ${c.succeeded}, failed ${c.failed}, cancelled ${c.cancelled}, invalid ${c.invalid}, skipped ${c.skipped} (succeeded in an earlier submission)`,
  ];
  const attention = c.failed + c.cancelled + c.invalid;
  const records = out !== undefined || attention > 0 ? await readResults(store, summary) : [];
  const problems = records.filter((r) => r.status === 'failed' || r.status === 'invalid');
  for (const r of problems.slice(0, LISTED_PROBLEMS)) lines.push(`  line ${r.line}${r.itemId ? ` (${r.itemId})` : ''} ${r.status}: ${r.error ?? 'no reason recorded'}`);
  if (problems.length > LISTED_PROBLEMS) lines.push(`  ... and ${problems.length - LISTED_PROBLEMS} more in the results manifest`);
  lines.push(`results: ${location(summary.resultsUri)}`, `summary: ${location(summary.summaryUri)}`);
  if (out !== undefined) {
    const written = await copyImages(store, records, out);
    lines.push(`images: ${written} written to ${path.resolve(out)}/<id>.png`);
  }
  lines.push(`report: imagent report ${batchId}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function readResults(store: BlobStore, summary: BatchSummary): Promise<ItemResult[]> {
  const text = (await store.getUri(summary.resultsUri)).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ItemResult);
}

async function copyImages(store: BlobStore, records: readonly ItemResult[], out: string): Promise<number> {
  const dir = path.resolve(out);
  mkdirSync(dir, { recursive: true });
  const todo = records.filter((r) => r.status === 'succeeded' && r.finalImage !== null && r.itemId !== null);
  for (let i = 0; i < todo.length; i += COPY_PARALLEL) {
    await Promise.all(todo.slice(i, i + COPY_PARALLEL).map(async (r) => writeFile(path.join(dir, `${r.itemId}.png`), await store.getImage(r.finalImage!))));
  }
  return todo.length;
}

const ENDED: Record<string, BatchView['status']> = { TERMINATED: 'terminated', TIMED_OUT: 'timed_out', CANCELLED: 'cancelled' };

async function viewOf(handle: BatchHandle, status: string): Promise<BatchView> {
  // An ended batch still answers the query (a worker replays its history) when a worker is up.
  const progress = await handle.query(progressQuery).catch(() => undefined);
  if (status === 'RUNNING') return progress ?? { ...emptyProgress(handle.workflowId), concurrency: null };
  if (status !== 'COMPLETED') {
    return { ...(progress ?? emptyProgress(handle.workflowId)), status: ENDED[status] ?? 'failed', running: 0, etaSeconds: null, concurrency: progress?.concurrency ?? null };
  }
  const summary = await handle.result();
  const c = summary.counts;
  return {
    batchId: summary.batchId,
    status: summary.status,
    total: summary.total,
    done: c.succeeded + c.skipped,
    failed: c.failed + c.cancelled + c.invalid,
    running: 0,
    counts: c,
    concurrency: progress?.concurrency ?? null,
    rate: summary.itemsPerSecond,
    etaSeconds: 0,
    runs: summary.runs,
    summary,
  };
}

function emptyProgress(batchId: string): BatchProgress {
  return {
    batchId,
    status: 'running',
    total: -1,
    done: 0,
    failed: 0,
    running: 0,
    counts: { succeeded: 0, failed: 0, cancelled: 0, invalid: 0, skipped: 0 },
    concurrency: 0,
    rate: 0,
    etaSeconds: null,
    runs: 1,
  };
}

function where(cluster: Cluster): string {
  return cluster.embedded ? 'the embedded default' : `namespace ${cluster.namespace}`;
}

function backboneLabel(config: Config): string {
  return config.backbone === 'sim' ? 'the sim backbone (a simulator, not a real image model)' : `the ${config.backbone} backbone`;
}

function location(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}

function sleep(ms: number): Promise<null> {
  return new Promise((resolve) => setTimeout(() => resolve(null), ms));
}
