// What `imagent report` computes, as pure functions over batch result records and inspected runs:
// success, the controller's format rates, the step-by-step action trend, self-evaluation scores and
// backbone cost per image.
import type { Inspection } from './inspect';
import type { ItemResult, ItemStatus } from '../workflows/batch-types';
import { ACTIONS, DEFAULT_BACKBONE, type ActionName, type BackboneCalls, type RunMetrics } from '../workflows/types';

export type ReportStatus = ItemStatus | 'running';
export const REPORT_STATUSES: readonly ReportStatus[] = ['succeeded', 'failed', 'cancelled', 'invalid', 'running'];

/** One run as the report sees it, whether it came from a batch result record or a history. */
export interface ReportItem {
  /** The batch id, or the workflow id of a run inspected on its own. */
  source: string;
  itemId: string | null;
  status: ReportStatus;
  actions: ActionName[];
  /** The final image's self-evaluation, 0-10; null when unreadable or when there is no image. */
  score: number | null;
  /** Absent for runs that ended without a result (failed, cancelled, invalid lines). */
  metrics: RunMetrics | null;
  /** The backbone name the run asked for, when known. */
  backbone: string | null;
}

export interface ActionTrendStep {
  step: number;
  /** Runs that took this step at all. */
  runs: number;
  counts: Record<ActionName, number>;
  /** counts / runs. */
  shares: Record<ActionName, number>;
}

export interface Report {
  items: number;
  statuses: Record<ReportStatus, number>;
  /** succeeded / items (every item counts, invalid lines too). */
  successRate: number;
  /** Controller format rates over all controller calls of the runs with metrics; null without any. */
  controller: { calls: number; psr: number; aur: number; avr: number; fallbacks: number } | null;
  /** Mean steps (STOP excluded) of the succeeded runs; null without any. */
  averageSteps: number | null;
  /** How often each action was chosen at step 1..T ('stop' is a choice too). */
  actionTrend: ActionTrendStep[];
  scores: {
    scored: number;
    /** Runs with an image whose score could not be read. */
    unreadable: number;
    /** histogram[k] counts scores s with floor(s) = k (k = 0..10). */
    histogram: number[];
    mean: number | null;
    median: number | null;
  };
  /** Backbone calls and model time per image produced (succeeded runs). */
  perImage: { images: number; chat: number; generate: number; edit: number; modelSeconds: number } | null;
  backbone: {
    names: string[];
    /** True when every run used the sim backbone, false when none did, null when unknown or mixed. */
    simulated: boolean | null;
  };
}

export const SIM_BACKBONE = DEFAULT_BACKBONE;

export function itemFromResult(record: ItemResult, backbone: string | null): ReportItem {
  return {
    source: record.batchId,
    itemId: record.itemId,
    status: record.status,
    actions: record.actions,
    score: record.status === 'succeeded' ? record.score : null,
    metrics: record.metrics,
    backbone,
  };
}

const STATUS_OF: Record<Inspection['status'], ReportStatus> = {
  running: 'running',
  completed: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  terminated: 'failed',
  timed_out: 'failed',
  continued_as_new: 'running',
};

export function itemFromInspection(inspection: Inspection): ReportItem {
  const status = STATUS_OF[inspection.status];
  // The final image's score: the last step that did not fail carries it (a STOP step repeats it).
  const last = [...inspection.trajectory].reverse().find((o) => !o.error);
  return {
    source: inspection.workflowId,
    itemId: inspection.input?.batch?.itemId ?? null,
    status,
    actions: inspection.trajectory.map((o) => o.action),
    score: status === 'succeeded' ? (last?.score ?? null) : null,
    // A history always yields metrics; a run that ended without an image has no result to count.
    metrics: status === 'succeeded' || status === 'running' ? inspection.metrics : null,
    backbone: inspection.input ? (inspection.input.options?.backbone ?? DEFAULT_BACKBONE) : null,
  };
}

function zeroActions(): Record<ActionName, number> {
  return Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<ActionName, number>;
}

function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function actionTrend(items: readonly ReportItem[]): ActionTrendStep[] {
  const longest = items.reduce((max, item) => Math.max(max, item.actions.length), 0);
  const steps: ActionTrendStep[] = [];
  for (let t = 1; t <= longest; t++) {
    const counts = zeroActions();
    let runs = 0;
    for (const item of items) {
      const action = item.actions[t - 1];
      if (action === undefined) continue;
      runs += 1;
      counts[action] += 1;
    }
    const shares = zeroActions();
    for (const a of ACTIONS) shares[a] = runs === 0 ? 0 : counts[a] / runs;
    steps.push({ step: t, runs, counts, shares });
  }
  return steps;
}

export function scoreDistribution(items: readonly ReportItem[]): Report['scores'] {
  const withImage = items.filter((i) => i.status === 'succeeded');
  const scores = withImage.flatMap((i) => (i.score === null ? [] : [i.score])).sort((a, b) => a - b);
  const histogram = Array<number>(11).fill(0);
  for (const s of scores) histogram[Math.min(10, Math.max(0, Math.floor(s)))] += 1;
  return {
    scored: scores.length,
    unreadable: withImage.length - scores.length,
    histogram,
    mean: scores.length === 0 ? null : scores.reduce((a, b) => a + b, 0) / scores.length,
    median: median(scores),
  };
}

/** PSR / AUR / AVR are per-run fractions; weighting each by its controller calls gives the rate over all calls. */
export function controllerRates(metrics: readonly RunMetrics[]): Report['controller'] {
  const calls = metrics.reduce((n, m) => n + m.controllerCalls, 0);
  if (calls === 0) return null;
  const weighted = (pick: (m: RunMetrics) => number) => metrics.reduce((sum, m) => sum + pick(m) * m.controllerCalls, 0) / calls;
  return {
    calls,
    psr: weighted((m) => m.psr),
    aur: weighted((m) => m.aur),
    avr: weighted((m) => m.avr),
    fallbacks: metrics.reduce((n, m) => n + m.fallbacks, 0),
  };
}

function perImage(items: readonly ReportItem[]): Report['perImage'] {
  const produced = items.filter((i) => i.status === 'succeeded' && i.metrics !== null);
  if (produced.length === 0) return null;
  const calls = produced.reduce<BackboneCalls>(
    (acc, i) => ({ chat: acc.chat + i.metrics!.calls.chat, generate: acc.generate + i.metrics!.calls.generate, edit: acc.edit + i.metrics!.calls.edit }),
    { chat: 0, generate: 0, edit: 0 },
  );
  const modelMs = produced.reduce((ms, i) => ms + i.metrics!.modelMs, 0);
  const n = produced.length;
  return { images: n, chat: calls.chat / n, generate: calls.generate / n, edit: calls.edit / n, modelSeconds: modelMs / 1000 / n };
}

export function buildReport(items: readonly ReportItem[]): Report {
  const statuses = Object.fromEntries(REPORT_STATUSES.map((s) => [s, 0])) as Record<ReportStatus, number>;
  for (const item of items) statuses[item.status] += 1;
  // Running runs count towards the controller's rates (their calls happened) but not towards steps.
  const metrics = items.flatMap((i) => (i.metrics ? [i.metrics] : []));
  const finished = items.flatMap((i) => (i.metrics && i.status === 'succeeded' ? [i.metrics] : []));
  const names = [...new Set(items.flatMap((i) => (i.backbone === null ? [] : [i.backbone])))].sort();
  const known = items.every((i) => i.backbone !== null);
  return {
    items: items.length,
    statuses,
    successRate: items.length === 0 ? 0 : statuses.succeeded / items.length,
    controller: controllerRates(metrics),
    averageSteps: finished.length === 0 ? null : finished.reduce((n, m) => n + m.steps, 0) / finished.length,
    actionTrend: actionTrend(items),
    scores: scoreDistribution(items),
    perImage: perImage(items),
    backbone: {
      names,
      simulated: !known || names.length === 0 ? null : names.every((n) => n === SIM_BACKBONE) ? true : names.includes(SIM_BACKBONE) ? null : false,
    },
  };
}
