// A durable batch over a manifest: a sliding window of agent children with deterministic ids
// `<batchId>/<itemId>`, fed page by page, reporting back by signal, and continuing as new when
// Temporal suggests it so that a batch of any size keeps a bounded history.
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { BatchActivities } from '../activities/batch';
import { agentWorkflow } from './agent';
import {
  batchInputSchema,
  MAX_BATCH_CONCURRENCY,
  type BatchInput,
  type BatchItem,
  type BatchProgress,
  type BatchState,
  type BatchSummary,
  type ItemReport,
  itemDoneSignal,
} from './batch-types';
import { STORAGE_ACTIVITY } from './policy';
import { describeZodError } from './types';

export const progressQuery = defineQuery<BatchProgress>('progress');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal('cancel');
/** Changes the window while the batch runs; returns the previous size. */
export const setConcurrencyUpdate = defineUpdate<number, [number]>('setConcurrency');

const batch = proxyActivities<BatchActivities>(STORAGE_ACTIVITY);

/** Our own ceiling besides Temporal's suggestion, so a history never approaches its limits. */
const MAX_EVENTS_PER_RUN = 20_000;

function initialState(raw: BatchInput): BatchState {
  const parsed = batchInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`The batch input is invalid: ${describeZodError(parsed.error)}.`, 'InvalidInput');
  }
  return {
    input: parsed.data,
    concurrency: parsed.data.concurrency,
    total: -1,
    offset: 0,
    nextLine: 1,
    eof: false,
    pending: [],
    inFlight: {},
    counts: { succeeded: 0, failed: 0, cancelled: 0, invalid: 0, skipped: 0 },
    paused: false,
    cancelled: false,
    startedAtMs: Date.now(),
    runs: 1,
    largestHistory: 0,
  };
}

/** The state of one run, carried across continue-as-new. */
interface RunState extends BatchState {
  /** Reports from runs this batch was not tracking, by item id (see the itemDone handler). */
  earlyReports: Record<string, ItemReport['status']>;
}

export async function batchWorkflow(input: BatchInput, carried?: BatchState & Partial<RunState>): Promise<BatchSummary> {
  const state: RunState = carried ? { earlyReports: {}, ...carried, runs: carried.runs + 1 } : { ...initialState(input), earlyReports: {} };
  const batchId = workflowInfo().workflowId;
  const running = () => Object.keys(state.inFlight).length;
  let finishing = false;

  setHandler(progressQuery, () => progressOf(state, batchId, finishing));
  setHandler(pauseSignal, () => void (state.paused = true));
  setHandler(resumeSignal, () => void (state.paused = false));
  setHandler(cancelSignal, () => void (state.cancelled = true));
  setHandler(itemDoneSignal, (report) => {
    if (report.itemId in state.inFlight) {
      delete state.inFlight[report.itemId];
      state.counts[report.status] += 1;
      return;
    }
    // A run that an earlier submission of this batch started can end after this submission read
    // its line (before its record was written) and before this one starts it. Its report is kept
    // so that the item is not started again, which would run it twice or, while that run is still
    // closing, wait for a report that has already come. A duplicate report is kept and never used.
    state.earlyReports[report.itemId] = report.status;
  });
  setHandler(
    setConcurrencyUpdate,
    (size) => {
      const previous = state.concurrency;
      state.concurrency = size;
      return previous;
    },
    {
      validator: (size) => {
        if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_CONCURRENCY) {
          throw new Error(`Concurrency must be a whole number from 1 to ${MAX_BATCH_CONCURRENCY}, not ${size}.`);
        }
      },
    },
  );

  if (state.total < 0) {
    state.total = (await batch.checkManifest({ batchId, manifest: state.input.manifest })).lines;
  }

  try {
    await feed(state, batchId, input);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // The batch workflow itself was cancelled: treat it as the cancel signal, cleanly.
    state.cancelled = true;
  }

  return CancellationScope.nonCancellable(async () => {
    if (state.cancelled) {
      // Stop starting items, cancel the running ones, and wait for each to report how it ended.
      state.pending = [];
      await Promise.all(Object.keys(state.inFlight).map((itemId) => cancelChild(batchId, itemId)));
      await condition(() => running() === 0, '10 minutes');
    }
    finishing = true;
    state.largestHistory = Math.max(state.largestHistory, workflowInfo().historyLength);
    return batch.finalizeBatch({
      batchId,
      manifest: state.input.manifest,
      total: state.total,
      counts: state.counts,
      status: state.cancelled ? 'cancelled' : 'completed',
      startedAtMs: state.startedAtMs,
      runs: state.runs,
      largestHistory: state.largestHistory,
    });
  });
}

/** Keeps the window full until the manifest is done or the batch is cancelled. */
async function feed(state: RunState, batchId: string, input: BatchInput): Promise<void> {
  const running = () => Object.keys(state.inFlight).length;
  while (!state.cancelled) {
    const { historyLength, continueAsNewSuggested } = workflowInfo();
    state.largestHistory = Math.max(state.largestHistory, historyLength);
    if (continueAsNewSuggested || historyLength > MAX_EVENTS_PER_RUN) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof batchWorkflow>(input, state);
    }
    if (state.pending.length === 0 && !state.eof) {
      const page = await batch.readManifestPage({ batchId, manifest: state.input.manifest, offset: state.offset, line: state.nextLine });
      state.pending = page.items;
      state.offset = page.nextOffset;
      state.nextLine = page.nextLine;
      state.eof = page.eof;
      state.counts.invalid += page.invalid.length;
      state.counts.skipped += page.alreadyDone.length;
      for (const done of page.alreadyDone) delete state.earlyReports[done.id];
      continue;
    }
    if (state.pending.length === 0 && state.eof && running() === 0) return;

    await condition(
      () =>
        state.cancelled ||
        (state.pending.length === 0 && !state.eof) ||
        (state.pending.length === 0 && state.eof && running() === 0) ||
        (!state.paused && state.pending.length > 0 && running() < state.concurrency),
    );
    if (state.cancelled) return;

    const room = state.paused ? 0 : state.concurrency - running();
    const starting = state.pending.splice(0, Math.max(0, room));
    await Promise.all(starting.map((item) => startItem(state, batchId, item)));
  }
}

async function startItem(state: RunState, batchId: string, item: BatchItem): Promise<void> {
  const reported = state.earlyReports[item.id];
  if (reported !== undefined && patched('batch-early-reports')) {
    delete state.earlyReports[item.id];
    state.counts[reported] += 1;
    return;
  }
  state.inFlight[item.id] = { line: item.line };
  try {
    await startChild(agentWorkflow, {
      workflowId: `${batchId}/${item.id}`,
      args: [
        {
          prompt: item.prompt,
          image: item.image,
          options: { ...state.input.options, ...item.options },
          batch: { batchWorkflowId: batchId, batchId, itemId: item.id, line: item.line },
        },
      ],
      // Children outlive continue-as-new and report by signal to the batch's workflow id.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    // Still running from an earlier submission of this batch: it reports to this workflow id too.
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw err;
  }
}

async function cancelChild(batchId: string, itemId: string): Promise<void> {
  try {
    await getExternalWorkflowHandle(`${batchId}/${itemId}`).cancel();
  } catch {
    // Already finished: its report is on the way or has arrived.
  }
}

function progressOf(state: BatchState, batchId: string, finishing: boolean): BatchProgress {
  const { succeeded, failed, cancelled, invalid, skipped } = state.counts;
  const done = succeeded + skipped;
  const finished = done + failed + cancelled + invalid;
  const elapsedS = Math.max(0.001, (Date.now() - state.startedAtMs) / 1000);
  const rate = finished / elapsedS;
  const remaining = Math.max(0, state.total - finished);
  return {
    batchId,
    status: finishing ? 'finishing' : state.cancelled ? 'cancelling' : state.paused ? 'paused' : 'running',
    total: state.total,
    done,
    failed: failed + invalid + cancelled,
    running: Object.keys(state.inFlight).length,
    counts: state.counts,
    concurrency: state.concurrency,
    rate,
    etaSeconds: rate > 0 ? remaining / rate : null,
    runs: state.runs,
  };
}
