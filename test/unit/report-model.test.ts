// Pins what `imagent report` computes from hand-written batch records and inspected runs.
import type { Inspection } from '../../cli/inspect';
import { buildReport, itemFromInspection, itemFromResult, type ReportItem } from '../../cli/report-model';
import type { ItemResult } from '../../workflows/batch-types';
import type { ActionName, Observation, RunMetrics } from '../../workflows/types';

function metrics(overrides: Partial<RunMetrics> = {}): RunMetrics {
  return {
    steps: 1,
    stoppedBy: 'controller',
    calls: { chat: 3, generate: 1, edit: 0 },
    controllerCalls: 2,
    psr: 1,
    aur: 1,
    avr: 1,
    fallbacks: 0,
    modelMs: 1000,
    wallMs: 1500,
    ...overrides,
  };
}

let line = 0;
function record(overrides: Partial<ItemResult> = {}): ItemResult {
  line += 1;
  const status = overrides.status ?? 'succeeded';
  return {
    batchId: 'b1',
    itemId: `item-${line}`,
    line,
    status,
    workflowId: status === 'invalid' ? null : `b1/item-${line}`,
    prompt: status === 'invalid' ? null : 'a photo of a dog',
    finalImage: null,
    steps: status === 'succeeded' ? 1 : 0,
    actions: status === 'succeeded' ? ['naive_generation', 'stop'] : [],
    score: status === 'succeeded' ? 8 : null,
    metrics: status === 'succeeded' ? metrics() : null,
    error: status === 'succeeded' ? null : 'it went wrong',
    ...overrides,
  };
}

const items = (records: ItemResult[], backbone: string | null = 'sim'): ReportItem[] => records.map((r) => itemFromResult(r, backbone));

describe('buildReport', () => {
  it('counts every status and takes the success rate over all items, invalid lines included', () => {
    const report = buildReport(
      items([record(), record(), record(), record({ status: 'failed' }), record({ status: 'cancelled' }), record({ status: 'invalid', itemId: null })]),
    );
    expect(report.items).toBe(6);
    expect(report.statuses).toEqual({ succeeded: 3, failed: 1, cancelled: 1, invalid: 1, running: 0 });
    expect(report.successRate).toBeCloseTo(0.5);
  });

  it('rates PSR, AUR and AVR over all controller calls, weighting each run by its calls', () => {
    const report = buildReport(
      items([
        record({ metrics: metrics({ controllerCalls: 4, psr: 1, aur: 0.5, avr: 0.25, fallbacks: 3 }) }),
        record({ metrics: metrics({ controllerCalls: 1, psr: 0, aur: 0, avr: 0, fallbacks: 1 }) }),
      ]),
    );
    // A plain mean of the two runs would say PSR 0.5; four of the five calls were well formed.
    expect(report.controller).toEqual({ calls: 5, psr: 4 / 5, aur: 2 / 5, avr: 1 / 5, fallbacks: 4 });
  });

  it('counts the action chosen at each step over the runs that reached that step, STOP included', () => {
    const runs: ActionName[][] = [
      ['naive_generation', 'stop'],
      ['prompt_enhancement', 'prompt_revision', 'stop'],
      ['naive_generation', 'best_of_n', 'image_detail_refinement'],
      ['best_of_n'],
    ];
    const report = buildReport(items(runs.map((actions) => record({ actions }))));
    expect(report.actionTrend.map((s) => [s.step, s.runs])).toEqual([
      [1, 4],
      [2, 3],
      [3, 2],
    ]);
    expect(report.actionTrend[0].counts).toMatchObject({ naive_generation: 2, prompt_enhancement: 1, best_of_n: 1, stop: 0 });
    expect(report.actionTrend[0].shares.naive_generation).toBeCloseTo(0.5);
    expect(report.actionTrend[1].counts).toMatchObject({ stop: 1, prompt_revision: 1, best_of_n: 1 });
    expect(report.actionTrend[1].shares.stop).toBeCloseTo(1 / 3);
    expect(report.actionTrend[2].counts).toMatchObject({ stop: 1, image_detail_refinement: 1 });
    expect(report.actionTrend[2].shares.stop).toBeCloseTo(0.5);
    for (const step of report.actionTrend) {
      expect(Object.values(step.counts).reduce((a, b) => a + b, 0)).toBe(step.runs);
      expect(Object.values(step.shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1);
    }
  });

  it('buckets final self-evaluation scores 0-10 with their mean and median, and counts unreadable ones apart', () => {
    const report = buildReport(
      items([
        record({ score: 10 }),
        record({ score: 9.5 }),
        record({ score: 7 }),
        record({ score: 7 }),
        record({ score: 0 }),
        record({ score: null }),
        record({ status: 'failed' }),
      ]),
    );
    expect(report.scores.histogram).toEqual([1, 0, 0, 0, 0, 0, 0, 2, 0, 1, 1]);
    expect(report.scores.scored).toBe(5);
    expect(report.scores.unreadable).toBe(1);
    expect(report.scores.mean).toBeCloseTo((10 + 9.5 + 7 + 7 + 0) / 5);
    expect(report.scores.median).toBe(7);
    expect(buildReport(items([record({ score: 4 }), record({ score: 9 })])).scores.median).toBe(6.5);
  });

  it('gives backbone calls and model-seconds per image produced, and average steps of the runs that finished', () => {
    const report = buildReport(
      items([
        record({ metrics: metrics({ steps: 1, calls: { chat: 3, generate: 1, edit: 0 }, modelMs: 1000 }) }),
        record({ metrics: metrics({ steps: 3, calls: { chat: 9, generate: 6, edit: 2 }, modelMs: 5000 }) }),
        record({ status: 'failed' }),
      ]),
    );
    expect(report.perImage).toEqual({ images: 2, chat: 6, generate: 3.5, edit: 1, modelSeconds: 3 });
    expect(report.averageSteps).toBe(2);
  });

  it('says the simulator produced the images only when every run is known to have used it', () => {
    expect(buildReport(items([record(), record()], 'sim')).backbone).toEqual({ names: ['sim'], simulated: true });
    expect(buildReport(items([record()], 'openai')).backbone).toEqual({ names: ['openai'], simulated: false });
    expect(buildReport(items([record()], null)).backbone).toEqual({ names: [], simulated: null });
    expect(buildReport([...items([record()], 'sim'), ...items([record()], 'openai')]).backbone.simulated).toBeNull();
  });

  it('reports nothing it cannot know for an empty input', () => {
    const report = buildReport([]);
    expect(report).toMatchObject({ items: 0, successRate: 0, controller: null, averageSteps: null, perImage: null, actionTrend: [] });
    expect(report.scores).toEqual({ scored: 0, unreadable: 0, histogram: Array(11).fill(0), mean: null, median: null });
  });
});

describe('itemFromInspection', () => {
  const observation = (step: number, action: ActionName, score: number | null, error?: Observation['error']): Observation => ({
    step,
    decision: { raw: '', reasoning: '', named: [action], parse: { found: true, unique: true, valid: true }, allowed: true },
    action,
    promptBefore: 'a dog',
    promptAfter: 'a dog',
    score,
    ...(error ? { error } : {}),
    startedAt: new Date(0).toISOString(),
    durationMs: 1,
    modelMs: 1,
    calls: { chat: 1, generate: 0, edit: 0 },
  });
  const inspection = (status: Inspection['status'], trajectory: Observation[]): Inspection => ({
    workflowId: 'run-1',
    runId: 'r',
    workflowType: 'agentWorkflow',
    status,
    input: { prompt: 'a dog', options: { backbone: 'sim', tMax: 5, n: 4, size: 512, heartbeatSeconds: 30 } },
    trajectory,
    metrics: metrics({ steps: trajectory.filter((o) => o.action !== 'stop').length }),
    activities: [],
    historyEvents: 10,
    historyBytes: 100,
  });

  it('reads a completed run: its actions, the final score from the last step that did not fail, and its backbone', () => {
    const item = itemFromInspection(
      inspection('completed', [observation(1, 'naive_generation', 6), observation(2, 'best_of_n', 9), observation(3, 'prompt_revision', null, { type: 'X', message: 'boom' })]),
    );
    expect(item).toMatchObject({ source: 'run-1', status: 'succeeded', actions: ['naive_generation', 'best_of_n', 'prompt_revision'], score: 9, backbone: 'sim' });
    expect(item.metrics).not.toBeNull();
  });

  it('reads a failed run as failed, without an image to score or a cost to count', () => {
    const item = itemFromInspection(inspection('terminated', [observation(1, 'naive_generation', 6)]));
    expect(item).toMatchObject({ status: 'failed', score: null, metrics: null });
  });
});
