// Types and schemas of durable batches: the manifest line, the batch input and state, and the
// per-item result record. Pure data only (imported by workflow code).
import { defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import { agentOptionsSchema, itemIdSchema, type ActionName, type ImageRef, type RunMetrics } from './types';

export { itemIdSchema, type BatchLink } from './types';

export const DEFAULT_BATCH_CONCURRENCY = 16;
export const MAX_BATCH_CONCURRENCY = 1000;
/** Lines read per manifest page; one page is the most the workflow ever holds at once. */
export const MANIFEST_PAGE_LINES = 100;

const itemOptionsSchema = agentOptionsSchema.pick({ tMax: true, n: true, pool: true, seed: true }).partial().strict();

/** One line of a manifest (JSON Lines). */
export const manifestLineSchema = z
  .object({
    id: itemIdSchema,
    prompt: z.string().trim().min(1, 'prompt must not be empty').max(4000, 'prompt is longer than 4000 characters'),
    /** A URI in the store, a file path, or an http(s) URL (fetched once into the store). */
    image: z.string().min(1, 'image must not be empty').optional(),
    options: itemOptionsSchema.optional(),
  })
  .strict();
export type ManifestLine = z.infer<typeof manifestLineSchema>;

/** A manifest line ready to run: validated, its image imported into the store. */
export interface BatchItem {
  id: string;
  /** 1-based line number in the manifest. */
  line: number;
  prompt: string;
  image?: ImageRef;
  options?: z.infer<typeof itemOptionsSchema>;
}

export interface InvalidLine {
  line: number;
  /** The id when one could be read. */
  id?: string;
  reason: string;
}

export interface ManifestPage {
  items: BatchItem[];
  invalid: InvalidLine[];
  /** Items whose result record already says they succeeded (a re-submitted batch). */
  alreadyDone: { id: string; line: number }[];
  nextOffset: number;
  nextLine: number;
  eof: boolean;
}

export const batchInputSchema = z
  .object({
    manifest: z.string().regex(/^(file|s3):\/\/|^\//, 'manifest must be an s3:// or file:// URI or an absolute path'),
    concurrency: z.number().int().min(1).max(MAX_BATCH_CONCURRENCY).default(DEFAULT_BATCH_CONCURRENCY),
    /** Defaults for every item; a line's own options win. */
    options: agentOptionsSchema.partial().strict().default({}),
  })
  .strict();
export type BatchInput = z.input<typeof batchInputSchema>;

/** What one run of the batch workflow hands the next across continue-as-new. */
export interface BatchState {
  input: z.infer<typeof batchInputSchema>;
  concurrency: number;
  total: number;
  offset: number;
  nextLine: number;
  eof: boolean;
  /** Read but not yet started (at most one page). */
  pending: BatchItem[];
  /** Started and not yet reported, by item id. */
  inFlight: Record<string, { line: number }>;
  counts: BatchCounts;
  paused: boolean;
  cancelled: boolean;
  startedAtMs: number;
  runs: number;
  largestHistory: number;
}

export interface BatchCounts {
  succeeded: number;
  failed: number;
  cancelled: number;
  invalid: number;
  /** Succeeded in an earlier submission of the same batch id; not run again. */
  skipped: number;
}

export type BatchStatus = 'running' | 'paused' | 'cancelling' | 'finishing' | 'completed' | 'cancelled';

export interface BatchProgress {
  batchId: string;
  status: BatchStatus;
  total: number;
  done: number;
  failed: number;
  running: number;
  counts: BatchCounts;
  concurrency: number;
  /** Items finished per second since the batch started. */
  rate: number;
  /** Seconds to go at the current rate; null until there is a rate. */
  etaSeconds: number | null;
  runs: number;
}

export type ItemStatus = 'succeeded' | 'failed' | 'cancelled' | 'invalid';

/** Sent by an agent child to its batch when it ends, however it ends. */
export interface ItemReport {
  itemId: string;
  status: Exclude<ItemStatus, 'invalid'>;
}

/** How a child tells its batch it ended; delivered to the batch's workflow id, whichever run. */
export const itemDoneSignal = defineSignal<[ItemReport]>('itemDone');

/** `results/<batchId>/<itemId>.json` (invalid lines: `results/<batchId>/_line-<n>.json`). */
export interface ItemResult {
  batchId: string;
  itemId: string | null;
  line: number;
  status: ItemStatus;
  workflowId: string | null;
  prompt: string | null;
  finalImage: ImageRef | null;
  steps: number;
  actions: ActionName[];
  score: number | null;
  metrics: RunMetrics | null;
  error: string | null;
}

export interface BatchSummary {
  batchId: string;
  manifest: string;
  total: number;
  counts: BatchCounts;
  status: 'completed' | 'cancelled';
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  itemsPerSecond: number;
  runs: number;
  largestHistory: number;
  resultsUri: string;
  summaryUri: string;
}

export function resultKey(batchId: string, itemId: string): string {
  return `results/${batchId}/${itemId}.json`;
}

export function invalidLineKey(batchId: string, line: number): string {
  return `results/${batchId}/_line-${line}.json`;
}
