// `imagent report`: aggregate batches (from their result records in the store) and single runs
// (rebuilt from history) into one report: success, controller format rates, the step-by-step
// action trend, self-evaluation scores and backbone cost per image.
import { WorkflowNotFoundError } from '@temporalio/client';
import { openBlobStore, type BlobStore } from '../storage/blobstore';
import { installRuntimeLogging } from '../workers/logging';
import type { BatchSummary, ItemResult } from '../workflows/batch-types';
import { ACTIONS, DEFAULT_BACKBONE, itemIdSchema } from '../workflows/types';
import { loadConfig } from './config';
import { openCluster, type Cluster } from './embedded';
import { UserError } from './errors';
import { inspectWorkflow } from './inspect';
import { buildReport, itemFromInspection, itemFromResult, REPORT_STATUSES, SIM_BACKBONE, type Report, type ReportItem } from './report-model';

export interface ReportSource {
  id: string;
  kind: 'batch' | 'run';
  /** A batch's summary status (or 'running' without a summary); a run's workflow status. */
  status: string;
  items: number;
}

const READ_PARALLEL = 32;

export async function reportCommand(ids: string[], flags: { json?: boolean }): Promise<void> {
  const config = loadConfig();
  installRuntimeLogging('ERROR');
  const store = openBlobStore(config.storeUri);
  // Temporal is needed only for single runs and the backbone's name: open it when first asked.
  let opening: Promise<Cluster> | undefined;
  const temporal = () => (opening ??= openCluster(config, { workers: false }));
  try {
    const sources: ReportSource[] = [];
    const items: ReportItem[] = [];
    for (const id of [...new Set(ids)]) {
      const loaded = await loadSource(id, store, temporal);
      sources.push(loaded.source);
      items.push(...loaded.items);
    }
    const report = buildReport(items);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ sources, ...report }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${formatReport(sources, report)}\n`);
  } finally {
    await opening?.then(
      (cluster) => cluster.close(),
      () => undefined,
    );
  }
}

async function loadSource(id: string, store: BlobStore, temporal: () => Promise<Cluster>): Promise<{ source: ReportSource; items: ReportItem[] }> {
  if (itemIdSchema.safeParse(id).success) {
    const keys = (await store.list(`results/${id}/`)).filter((k) => k.endsWith('.json'));
    const summary = await readSummary(store, id);
    if (keys.length > 0 || summary) return loadBatch(id, keys, summary, store, temporal);
  }
  const { client } = await temporal();
  let type: string;
  try {
    type = (await client.workflow.getHandle(id).describe()).type;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    throw new UserError(
      `No batch or run with id "${id}" was found: no results under results/${id}/ in ${store.uri} and no workflow with that id in Temporal. Check the id (imagent batch and imagent run print it), IMAGENT_STORE and TEMPORAL_ADDRESS.`,
    );
  }
  // A batch that has not finished an item yet.
  if (type === 'batchWorkflow') return loadBatch(id, [], undefined, store, temporal);
  const inspection = await inspectWorkflow(client, id);
  return { source: { id, kind: 'run', status: inspection.status, items: 1 }, items: [itemFromInspection(inspection)] };
}

async function readSummary(store: BlobStore, batchId: string): Promise<BatchSummary | undefined> {
  const key = `batches/${batchId}/summary.json`;
  if (!(await store.exists(key))) return undefined;
  return JSON.parse((await store.get(key)).toString('utf8')) as BatchSummary;
}

async function loadBatch(
  batchId: string,
  keys: string[],
  summary: BatchSummary | undefined,
  store: BlobStore,
  temporal: () => Promise<Cluster>,
): Promise<{ source: ReportSource; items: ReportItem[] }> {
  const records = await readRecords(store, keys, summary);
  const backbone = await backboneOf(records, temporal);
  return {
    source: { id: batchId, kind: 'batch', status: summary?.status ?? 'running', items: records.length },
    items: records.map((r) => itemFromResult(r, backbone)),
  };
}

/**
 * A finished batch's results manifest is one read; while a batch runs (or runs again) the records
 * themselves are the truth, so they are read when the manifest does not hold all of them.
 */
async function readRecords(store: BlobStore, keys: string[], summary: BatchSummary | undefined): Promise<ItemResult[]> {
  if (summary) {
    const lines = (await store.getUri(summary.resultsUri).catch(() => Buffer.alloc(0))).toString('utf8').split('\n').filter((l) => l.trim() !== '');
    if (lines.length === keys.length) return lines.map((l) => JSON.parse(l) as ItemResult);
  }
  const records: ItemResult[] = [];
  for (let i = 0; i < keys.length; i += READ_PARALLEL) {
    records.push(...(await Promise.all(keys.slice(i, i + READ_PARALLEL).map(async (k) => JSON.parse((await store.get(k)).toString('utf8')) as ItemResult))));
  }
  return records.sort((a, b) => a.line - b.line);
}

/** The backbone a batch's runs asked for, read from one run's input; null when Temporal cannot say. */
async function backboneOf(records: readonly ItemResult[], temporal: () => Promise<Cluster>): Promise<string | null> {
  const workflowId = records.find((r) => r.workflowId !== null)?.workflowId;
  if (!workflowId) return null;
  try {
    const { input } = await inspectWorkflow((await temporal()).client, workflowId);
    return input ? (input.options?.backbone ?? DEFAULT_BACKBONE) : null;
  } catch {
    // History can be gone (retention) or Temporal unreachable; the report then says "unknown".
    return null;
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number, digits = 2) => x.toFixed(digits);

/** Pads every column to its widest cell; columns listed in `right` are right-aligned. */
export function alignColumns(rows: readonly string[][], right: ReadonlySet<number> = new Set()): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]) : i === row.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

export function formatReport(sources: readonly ReportSource[], report: Report): string {
  const out: string[] = [];
  for (const s of sources) out.push(`${s.kind} ${s.id} (${s.status}): ${s.items} item${s.items === 1 ? '' : 's'}`);
  const { names, simulated } = report.backbone;
  const label = names.length === 0 ? 'unknown' : names.map((n) => (n === SIM_BACKBONE ? `${n} (a simulator, not a real image model)` : n)).join(', ');
  out.push(`backbone: ${label}${simulated === null && names.includes(SIM_BACKBONE) ? ' (some runs used the simulator)' : ''}`, '');

  const rows: string[][] = [['items', String(report.items), '']];
  for (const s of REPORT_STATUSES) {
    if (report.statuses[s] === 0 && s !== 'succeeded') continue;
    rows.push([`  ${s}`, String(report.statuses[s]), report.items === 0 ? '' : pct(report.statuses[s] / report.items)]);
  }
  out.push(...alignColumns(rows, new Set([1, 2])));
  out.push(`success rate: ${pct(report.successRate)}`);
  const c = report.controller;
  out.push(c ? `controller: PSR ${pct(c.psr)}  AUR ${pct(c.aur)}  AVR ${pct(c.avr)}  over ${c.calls} calls (${c.fallbacks} fallbacks)` : 'controller: no calls recorded');
  out.push(`steps: ${report.averageSteps === null ? 'n/a' : `${num(report.averageSteps)} on average`}`);
  const p = report.perImage;
  out.push(
    p
      ? `per image (${p.images}): chat ${num(p.chat)}, generate ${num(p.generate)}, edit ${num(p.edit)} backbone calls; ${num(p.modelSeconds, 3)} model-seconds`
      : 'per image: no images produced',
  );

  if (report.actionTrend.length > 0) {
    out.push('', 'action chosen at each step (share of the runs that reached the step)');
    const trend = [['step', 'runs', ...ACTIONS]];
    for (const step of report.actionTrend) {
      trend.push([String(step.step), String(step.runs), ...ACTIONS.map((a) => (step.counts[a] === 0 ? '-' : `${pct(step.shares[a])} (${step.counts[a]})`))]);
    }
    out.push(...alignColumns(trend, new Set(trend[0].map((_, i) => i))));
  }

  const s = report.scores;
  out.push('', `self-evaluation of the final images: ${s.scored} scored${s.unreadable > 0 ? `, ${s.unreadable} unreadable` : ''}`);
  if (s.scored > 0) {
    out.push(`  mean ${num(s.mean ?? 0)}, median ${num(s.median ?? 0, 1)}`);
    const peak = Math.max(...s.histogram);
    const bars = s.histogram.map((count, k) => [String(k), String(count), '#'.repeat(Math.round((count / peak) * 40))]);
    out.push(...alignColumns(bars, new Set([0, 1])).map((l) => `  ${l}`));
  }
  return out.join('\n');
}
