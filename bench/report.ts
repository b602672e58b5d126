// Writes SUMMARY.md and the PNG charts from the results JSON files in a results folder: every
// figure the summary quotes comes from those files, so a partial run (--only) re-renders the rest.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIM_LATENCY_SECONDS } from '../backbones/sim';
import { SCORE_JITTER, SELF_CHECK_MISS } from '../backbones/sim/chat';
import { EDIT_SUCCESS } from '../backbones/sim/edit';
import * as simErrors from '../backbones/sim/errors';
import { barChart, lineChart, type Series } from './charts';
import type { FanoutResult } from './fanout';
import type { FootprintResult } from './footprint';
import type { OrchestrationResult } from './orchestration';
import type { PoliciesResult, PolicySummary } from './policies';
import { POLICIES } from './policy-defs';
import type { Spread } from './stats';
import { EDIT_CATEGORIES, GENERATION_CATEGORIES } from './suites/schema';
import { N_VALUES, type SweepsResult } from './sweeps';
import type { ThroughputResult } from './throughput';

interface Provenance {
  machine: string;
  seconds: number;
  recordedAt: string;
  commit?: string;
  loadAverage?: number[];
}

/** The goals the issue sets, checked against the results. */
const GOALS = {
  efficiencyAt1s: 0.95,
  fanoutRatioN4: 1.2,
  utilisation: 0.9,
  /** "a few tens of KB at most" per agent workflow history. */
  historyBytes: 50_000,
};

function read<T>(dir: string, name: string): (T & Provenance) | undefined {
  const path = join(dir, `${name}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T & Provenance) : undefined;
}

function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string => `| ${cells.map(String).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

const sentence = (text: string): string => `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
const pct = (x: number, digits = 1): string => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : 'n/a');
const pctSpread = (s: Spread): string => (s.n > 1 ? `${(s.mean * 100).toFixed(1)} ± ${(s.std * 100).toFixed(1)}` : (s.mean * 100).toFixed(1));
const verdict = (met: boolean): string => (met ? '**met**' : '**not met**');

function provenance(r: Provenance): string {
  const load = r.loadAverage ? `; load average at the start ${r.loadAverage.map((l) => l.toFixed(1)).join(', ')}` : '';
  return `_Recorded ${r.recordedAt} on ${r.machine}${r.commit ? ` at commit ${r.commit}` : ''}; took ${r.seconds.toFixed(0)} s${load}._`;
}

function orchestrationSection(r: OrchestrationResult & Provenance, dir: string): string {
  const latencies = [...new Set(r.rows.map((x) => x.latencyScale))];
  const row = (l: number, mode: string) => r.rows.find((x) => x.latencyScale === l && x.mode === mode);
  writeFileSync(
    join(dir, 'orchestration.png'),
    barChart({
      title: 'Efficiency: model time on the critical path / wall time',
      yLabel: 'efficiency (%)',
      categories: latencies.map((l) => `${l} s per generation`),
      groups: ['temporal', 'plain'].map((mode) => ({ name: mode === 'temporal' ? 'imagent (Temporal)' : 'plain in-process loop', values: latencies.map((l) => (row(l, mode)?.efficiency ?? NaN) * 100) })),
      yMin: 0,
      yMax: 100,
      references: [{ y: GOALS.efficiencyAt1s * 100, label: 'goal at 1 s: 95%' }],
    }),
  );
  const at1 = row(1, 'temporal');
  return [
    '## 1. Orchestration overhead per step',
    '',
    sentence(r.setup),
    '',
    table(
      ['latency per generation', 'runner', 'runs', 'steps', 'wall (s)', 'model on critical path (s)', 'orchestration per step (ms)', 'of which inside steps (ms/step)', 'per-run remainder (ms/run)', 'efficiency'],
      r.rows.map((x) => [`${x.generationSeconds} s`, x.mode === 'temporal' ? 'imagent (Temporal)' : 'plain in-process loop', x.runs, x.steps, x.wallSeconds, x.modelSeconds, x.overheadMsPerStep, x.inStepMsPerStep, x.perRunMs, pct(x.efficiency)]),
    ),
    '',
    `Both runners took the same actions on every prompt: ${r.sameTrajectories ? 'yes' : 'no'}. Steps count every controller decision, the final STOP included; model time is the sim's time inside each call (its latency model plus its own CPU work), summed over the trajectory's \`modelMs\`. Orchestration per step is (wall - model) / steps; it splits into the time inside the steps (each step's recorded \`durationMs\` less its model time: activity dispatch, workflow tasks, the observation's local activity) and a per-run remainder (starting the workflow, the backbone description activity, completing it and the client receiving the result).`,
    '',
    'Where the orchestration time goes, per step, from the Temporal runs\' event histories (workflow tasks waiting for the control worker and running on it, activity tasks waiting for a GPU slot, and the activities\' run time beyond the model\'s: image reads and writes in the store):',
    '',
    table(
      ['latency per generation', 'workflow task wait (ms/step)', 'workflow task run (ms/step)', 'activity wait (ms/step)', 'activity run less model (ms/step)'],
      r.rows.flatMap((x) => (x.perStep ? [[`${x.generationSeconds} s`, x.perStep.workflowTaskQueueMs, x.perStep.workflowTaskRunMs, x.perStep.activityQueueMs, x.perStep.activityRunLessModelMs]] : [])),
    ),
    '',
    queueNote(r),
    '',
    at1 ? `Goal: efficiency at least 95% at 1 s per generation: ${pct(at1.efficiency)}, ${verdict(at1.efficiency >= GOALS.efficiencyAt1s)}.` : 'Goal: no run at 1 s per generation in these results.',
    '',
    '![orchestration](orchestration.png)',
    '',
    provenance(r),
  ].join('\n');
}

/** What the history breakdown says about latency 0 against the slowest latency measured. */
function queueNote(r: OrchestrationResult): string {
  const temporal = r.rows.filter((x) => x.mode === 'temporal' && x.perStep !== undefined);
  const fast = temporal.find((x) => x.latencyScale === 0)?.perStep;
  const slow = temporal.at(-1);
  if (!fast || !slow?.perStep || slow.latencyScale === 0) return '';
  return `With no model latency, tasks wait longer for a worker to take them: ${fast.workflowTaskQueueMs} ms per step for workflow tasks and ${fast.activityQueueMs} ms for activity tasks, against ${slow.perStep.workflowTaskQueueMs} and ${slow.perStep.activityQueueMs} ms at ${slow.generationSeconds} s per generation; at latency 0 the orchestration per step is mostly that waiting.`;
}

function fanoutSection(r: FanoutResult & Provenance, dir: string): string {
  const series: Series[] = [
    { name: 'imagent (Temporal), step wall time', points: r.rows.map((x) => ({ x: x.n, y: x.temporalStepSeconds })) },
    { name: 'plain in-process loop (concurrent)', points: r.rows.map((x) => ({ x: x.n, y: x.plainStepSeconds })) },
    { name: 'sequential loop (one GPU)', points: r.rows.map((x) => ({ x: x.n, y: x.sequentialSeconds })) },
  ];
  writeFileSync(
    join(dir, 'fanout.png'),
    lineChart({
      title: 'Best-of-N step wall time on 8 slots',
      xLabel: 'N (candidates)',
      yLabel: 'seconds',
      xLog: true,
      series,
      yMin: 0,
      references: [
        { y: r.oneCandidateSeconds, label: `one candidate (generation + scoring): ${r.oneCandidateSeconds} s` },
        { y: r.oneCandidateSeconds * GOALS.fanoutRatioN4, label: 'goal for N = 4: 1.2x one candidate' },
      ],
    }),
  );
  const n4 = r.rows.find((x) => x.n === 4);
  return [
    '## 2. Best-of-N fan-out',
    '',
    sentence(r.setup),
    '',
    table(
      ['N', 'imagent step (s)', 'its model time (s)', 'x one candidate', 'x nominal 1.25 s', 'end to end (s)', 'plain loop step (s)', 'sequential loop (s)', 'speed-up over sequential'],
      r.rows.map((x) => [x.n, x.temporalStepSeconds, x.temporalModelSeconds, x.ratioToOneCandidate, x.ratioToNominal, x.temporalEndToEndSeconds, x.plainStepSeconds, x.sequentialSeconds, `${x.speedupOverSequential}x`]),
    ),
    '',
    `One candidate's time is the measured model time of the N = 1 step (${r.oneCandidateSeconds} s; nominal ${r.nominalOneCandidateSeconds} s). "Model time" of a Best-of-N step is its critical path: the slowest generation plus the slowest scoring. It grows with N here although the latency model runs candidates in parallel, because the sim's own CPU work (drawing and reading 512 px images) shares one Node thread on a 2-CPU machine; a GPU pool has no such coupling.`,
    '',
    n4 ? `Goal: N = 4 within 1.2x of one candidate's time: ${n4.ratioToOneCandidate}x, ${verdict(n4.ratioToOneCandidate <= GOALS.fanoutRatioN4)}.` : '',
    '',
    '![fanout](fanout.png)',
    '',
    provenance(r),
  ].join('\n');
}

function throughputSection(r: ThroughputResult & Provenance, dir: string): string {
  const busy = r.runs.find((x) => x.latencyScale > 0);
  const ceiling = r.runs.find((x) => x.latencyScale === 0);
  if (busy) {
    writeFileSync(
      join(dir, 'throughput.png'),
      lineChart({
        title: `Busy GPU slots during the batch (${busy.items} items, ${busy.latencyScale} s per generation)`,
        xLabel: 'seconds since the batch started',
        yLabel: 'busy slots (of S)',
        series: [{ name: 'busy slots, per second', points: busy.busySlotsTimeline.map((y, x) => ({ x, y })) }],
        yMin: 0,
        yMax: r.slots + 1,
        references: [{ y: r.slots, label: `S = ${r.slots}` }],
      }),
    );
  }
  return [
    '## 3. Batch throughput and utilisation',
    '',
    sentence(r.setup),
    '',
    table(
      ['latency per generation', 'items', 'succeeded', 'makespan (s)', 'items/s', 'slot utilisation', 'busy slot-s', 'ideal makespan (s)', 'nominal ideal (s)', 'steps/item', 'calls/item'],
      r.runs.map((x) => [`${x.latencyScale} s`, x.items, x.succeeded, x.makespanSeconds, x.itemsPerSecond, pct(x.utilisation), x.busySlotSeconds, x.idealSeconds, x.nominalIdealSeconds, x.meanSteps, x.meanCalls]),
    ),
    '',
    `Utilisation is busy slot-seconds (measured around every backbone call on the GPU workers) over S x makespan; the ideal makespan is total model seconds / S, so makespan / ideal is 1 / utilisation. The nominal ideal counts only the latency model (no sim CPU time). Items per second at latency 0 is the control plane's ceiling on this machine: ${ceiling ? `${ceiling.itemsPerSecond} items/s (${(ceiling.itemsPerSecond * ceiling.meanCalls).toFixed(0)} model calls/s)` : 'not measured'}.`,
    '',
    table(
      ['latency per generation', 'CPUs busy, whole machine', 'Temporal server', 'this process (client, control worker)', 'GPU worker processes'],
      r.runs.filter((x) => x.cpu !== undefined).map((x) => [`${x.latencyScale} s`, `${x.cpu.machine} of ${Math.round(x.cpu.machineCpus)}`, x.cpu.temporalServer, x.cpu.controlAndClient, x.cpu.gpuWorkers]),
    ),
    '',
    'CPU figures are CPU-seconds per second of the batch, from /proc; the whole-machine figure includes any other work on the machine.',
    '',
    busy ? `Goal: utilisation at least 90% at ${busy.latencyScale} s per generation: ${pct(busy.utilisation)}, ${verdict(busy.utilisation >= GOALS.utilisation)}.` : '',
    '',
    busy ? '![throughput](throughput.png)' : '',
    '',
    provenance(r),
  ].join('\n');
}

function footprintSection(r: FootprintResult & Provenance, dir: string): string {
  writeFileSync(
    join(dir, 'footprint.png'),
    lineChart({
      title: `Worker RSS across a ${r.items}-item batch`,
      xLabel: 'items finished',
      yLabel: 'RSS (MiB)',
      series: [
        { name: 'control worker', points: r.trace.done.map((x, i) => ({ x, y: r.trace.controlMiB[i] })) },
        { name: 'GPU worker (8 slots)', points: r.trace.done.map((x, i) => ({ x, y: r.trace.gpuMiB[i] })) },
      ],
      yMin: 0,
    }),
  );
  const h = r.agentHistory;
  const mem = (name: string, m: FootprintResult['control']) => [name, m.idleMiB, ...m.quartersMiB, m.peakMiB, m.secondHalfSlopeMiBPer1000Items];
  return [
    '## 4. Footprint',
    '',
    sentence(r.setup),
    '',
    table(
      ['agent workflow history', 'mean', 'p95', 'max'],
      [
        ['events', h.eventsMean, '', h.eventsMax],
        ['bytes', h.bytesMean, h.bytesP95, h.bytesMax],
      ],
    ),
    '',
    `Histories holding PNG bytes (raw or base64): ${h.withImages} of ${h.sampled}. Goal: a few tens of KB at most and no images: ${verdict(h.bytesMax <= GOALS.historyBytes && h.withImages === 0)} (max ${(h.bytesMax / 1000).toFixed(1)} KB).`,
    '',
    `Batch workflow: largest history ${r.batchHistory.largestEvents} events over ${r.batchHistory.runs} run(s) (continue-as-new); its last run holds ${r.batchHistory.lastRunEvents} events, ${(r.batchHistory.lastRunBytes / 1e6).toFixed(2)} MB (largest shares: ${Object.entries(r.batchHistory.lastRunBytesByType)
      .slice(0, 3)
      .map(([type, bytes]) => `${type.toLowerCase()} ${((100 * bytes) / r.batchHistory.lastRunBytes).toFixed(0)}%`)
      .join(', ')}). ${r.succeeded} of ${r.items} items succeeded in ${r.makespanSeconds} s.`,
    '',
    table(
      ['worker process', 'idle RSS (MiB)', 'RSS, 1st quarter of the batch', '2nd quarter', '3rd quarter', '4th quarter', 'peak RSS (MiB)', 'slope in the 2nd half (MiB per 1000 items)'],
      [mem('control', r.control), mem('GPU', r.gpu)],
    ),
    '',
    'RSS per quarter is the median of the samples taken while that quarter of the items was finishing.',
    '',
    '![footprint](footprint.png)',
    '',
    provenance(r),
  ].join('\n');
}

function policiesSection(r: PoliciesResult & Provenance, dir: string): string {
  const ps = r.policies;
  writeFileSync(
    join(dir, 'policies.png'),
    barChart({
      title: `Accuracy by policy (ground truth, ${r.seeds.length} seed(s); bars: mean, whiskers: std over seeds)`,
      yLabel: 'fully correct (%)',
      categories: ps.map((p) => p.short),
      groups: [
        { name: `generation (${r.generationItems} prompts)`, values: ps.map((p) => p.generation.mean * 100), errors: ps.map((p) => p.generation.std * 100) },
        { name: `editing (${r.editingItems} requests)`, values: ps.map((p) => p.editing.mean * 100), errors: ps.map((p) => p.editing.std * 100) },
      ],
      yMin: 0,
      yMax: 100,
    }),
  );
  writeFileSync(
    join(dir, 'policies-cost.png'),
    lineChart({
      title: 'Generation accuracy against model-seconds per image',
      xLabel: 'nominal model-seconds per image (all calls)',
      yLabel: 'generation accuracy (%)',
      series: [{ name: 'policies', scatter: true, points: ps.map((p) => ({ x: p.gpuSeconds.mean, y: p.generation.mean * 100, label: p.short })) }],
    }),
  );
  const imagent = ps.find((p) => p.name === 'imagent');
  const categories = [...GENERATION_CATEGORIES, ...EDIT_CATEGORIES.map((c) => `edit:${c}`)];
  const losses = imagent
    ? categories.flatMap((c) => {
        const mine = imagent.byCategory[c]?.mean ?? NaN;
        const better = ps.filter((p) => p.name !== 'imagent' && (p.byCategory[c]?.mean ?? -1) > mine);
        return better.length === 0 ? [] : [`${c} (${(mine * 100).toFixed(1)}%; better: ${better.map((p) => `${p.short} ${(p.byCategory[c].mean * 100).toFixed(1)}%`).join(', ')})`];
      })
    : [];
  const actionsOf = (p: PolicySummary): string =>
    Object.entries(p.actions)
      .sort((a, b) => b[1] - a[1])
      .map(([a, n]) => `${a} ${n}`)
      .join(', ');
  return [
    '## 6. Policies side by side',
    '',
    sentence(r.setup),
    '',
    'Policies (T_max is the most steps; N the Best-of-N candidates):',
    '',
    ...POLICIES.map((p) => `- **${p.short}**: ${p.label}; T_max ${p.tMax}${p.kind === 'controller' || p.kind === 'sequence' || (p.kind === 'single' && p.action === 'best_of_n') ? `, N ${p.n}` : ''}.${policyNote(p.name)}`),
    '',
    `Accuracy is the fraction of requests whose final image is fully correct by ground truth (every object, count, colour and relation; for edits, the source with the edit applied and nothing else changed). Values are % (mean ± std over ${r.seeds.length} seed(s)).`,
    '',
    table(
      ['policy', 'generation', 'editing', 'self-score (0-10)', 'self says done (>= 9)', 'PSR', 'AUR', 'AVR', 'steps', 'calls (chat/gen/edit)', 'model-s/image', 'critical-path s/image'],
      ps.map((p) => [
        p.short,
        pctSpread(p.generation),
        pctSpread(p.editing),
        p.selfScore.mean.toFixed(2),
        pct(p.selfClaimsCorrect),
        pct(p.psr),
        pct(p.aur),
        pct(p.avr),
        p.steps.mean.toFixed(2),
        `${p.calls.total.toFixed(1)} (${p.calls.chat.toFixed(1)}/${p.calls.generate.toFixed(1)}/${p.calls.edit.toFixed(1)})`,
        `${p.gpuSeconds.mean.toFixed(2)}${p.gpuSeconds.n > 1 ? ` ± ${p.gpuSeconds.std.toFixed(2)}` : ''}`,
        p.latencySeconds.toFixed(2),
      ]),
    ),
    '',
    'Accuracy per category (%):',
    '',
    table(
      ['category', ...ps.map((p) => p.short)],
      categories.map((c) => [c, ...ps.map((p) => (p.byCategory[c] ? pctSpread(p.byCategory[c]) : 'n/a'))]),
    ),
    '',
    'PSR / AUR / AVR are over every decision. For fixed policies there is no controller output to parse, so PSR and AUR are 1 by construction and AVR is the share of choices that were possible in the state (a revision or refinement before any image, or STOP, falls back to naive generation). Steps count image-producing steps. Every step\'s image is self-evaluated (one scoring call), naive only included.',
    '',
    imagent
      ? `Where the ImAgent controller loses: ${losses.length === 0 ? 'no category' : losses.join('; ')}.`
      : '',
    '',
    imagent ? `Actions the controller took: ${actionsOf(imagent)}.` : '',
    '',
    '![policies](policies.png)',
    '',
    '![policies-cost](policies-cost.png)',
    '',
    provenance(r),
  ].join('\n');
}

function policyNote(name: string): string {
  if (name === 'random') return ' Uniform over the allowed actions each step (STOP included once an image exists), seeded by (seed, item, step).';
  if (name === 'only-naive_generation') return ' Each step draws a fresh image; the last one counts.';
  if (name === 'only-prompt_revision' || name === 'only-image_detail_refinement') return ' Step 1 falls back to naive generation (no image yet).';
  return '';
}

function sweepsSection(r: SweepsResult & Provenance, dir: string): string {
  const controller = r.points.filter((p) => p.series === 'controller');
  // One line per N through its T_max values (labelled on the default N only, to keep the chart
  // readable); in the quick run (one axis at a time) the N axis at T_max 5 is a line of its own.
  const series: Series[] = N_VALUES.map((n) => controller.filter((p) => p.n === n))
    .filter((points) => points.length > 1)
    .map((points) => ({
      name: `ImAgent, N ${points[0].n}, T_max ${points.map((p) => p.tMax).join('/')}`,
      points: points.map((p) => ({ x: p.gpuSeconds, y: p.accuracy * 100, ...(p.n === 4 ? { label: `T${p.tMax}` } : {}) })),
    }));
  if (r.quick) {
    const atT5 = controller.filter((p) => p.tMax === 5);
    series.push({ name: 'ImAgent, T_max 5, N 1/2/4/8', dashed: true, points: atT5.map((p) => ({ x: p.gpuSeconds, y: p.accuracy * 100 })) });
  }
  const once = r.points.filter((p) => p.series === 'best-of-N once');
  series.push({ name: 'one Best-of-N step, N 1/2/4/8', dashed: true, points: once.map((p) => ({ x: p.gpuSeconds, y: p.accuracy * 100, label: `N${p.n}` })) });
  const lowest = Math.min(...r.points.map((p) => p.accuracy * 100));
  writeFileSync(
    join(dir, 'sweeps.png'),
    lineChart({
      title: 'Test-time scaling: accuracy against model-seconds per image',
      xLabel: 'nominal model-seconds per image, all calls (log scale)',
      yLabel: 'accuracy, all items (%)',
      series,
      xLog: true,
      xTicks: [1, 1.5, 2, 3, 4, 6, 8, 10].filter((t) => t >= Math.min(...r.points.map((p) => p.gpuSeconds)) * 0.9),
      yMin: Math.floor(lowest / 10) * 10,
      yMax: 100,
    }),
  );
  return [
    '## 7. Scaling sweeps',
    '',
    sentence(r.setup),
    '',
    table(
      ['series', 'T_max', 'N', 'runs', 'accuracy', 'generation', 'editing', 'model-s/image', 'critical-path s/image', 'steps'],
      r.points.map((p) => [p.series, p.tMax, p.n, p.runs, pct(p.accuracy), pct(p.generation), pct(p.editing), p.gpuSeconds, p.latencySeconds, p.steps]),
    ),
    '',
    '![sweeps](sweeps.png)',
    '',
    provenance(r),
  ].join('\n');
}

function simConstants(): string {
  const errors = Object.entries(simErrors)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
  const edits = Object.entries(EDIT_SUCCESS)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    '## 8. The sim\'s constants',
    '',
    'The benchmarks change none of them; they are the values SIM.md\'s reasoning set in `backbones/sim/` before these runs (quoted from the code at report time):',
    '',
    `- generation errors (errors.ts): ${errors};`,
    `- edit success (edit.ts): ${edits};`,
    `- self-evaluation (chat.ts): SELF_CHECK_MISS ${SELF_CHECK_MISS}, SCORE_JITTER ${SCORE_JITTER};`,
    `- latency (index.ts, seconds at scale 1): generate ${SIM_LATENCY_SECONDS.generate}, edit ${SIM_LATENCY_SECONDS.edit}, chat ${SIM_LATENCY_SECONDS.chat}.`,
  ].join('\n');
}

export function writeReport(dir: string, quick: boolean): void {
  const sections: string[] = [
    `# imagent benchmarks${quick ? ' (quick run)' : ''}`,
    `> Everything here runs on the **sim backbone**, a simulated unified model (SIM.md), not an image model: accuracy figures describe the sim world, and latencies come from its latency model. ${quick ? 'This is the quick run (`npm run bench -- --quick`): small samples, one seed; the full results are in `bench/results/`.' : 'Produced by `npm run bench`; `npm run bench -- --quick` gives a smaller run in `bench/results/quick/`.'}`,
  ];
  const orchestration = read<OrchestrationResult>(dir, 'orchestration');
  const fanout = read<FanoutResult>(dir, 'fanout');
  const throughput = read<ThroughputResult>(dir, 'throughput');
  const footprint = read<FootprintResult>(dir, 'footprint');
  const policies = read<PoliciesResult>(dir, 'policies');
  const sweeps = read<SweepsResult>(dir, 'sweeps');
  if (orchestration) sections.push(orchestrationSection(orchestration, dir));
  if (fanout) sections.push(fanoutSection(fanout, dir));
  if (throughput) sections.push(throughputSection(throughput, dir));
  if (footprint) sections.push(footprintSection(footprint, dir));
  sections.push(
    [
      '## 5. Suites',
      '',
      '`bench/suites/generation.jsonl` (350 prompts, 50 in each of single object, two objects, counting, colours, position, colour attribution and world knowledge) and `bench/suites/editing.jsonl` (105 requests, 15 each of add, remove, recolour, move, count, replace and world knowledge), written by `npx tsx bench/suites/build.ts` from the sim\'s vocabulary and knowledge table. Each line carries its ground truth: the sim\'s parse of the prompt (the scene, knowledge resolved) or, for edits, the source scene, the seed that draws it exactly, and the parsed edit.',
    ].join('\n'),
  );
  if (policies) sections.push(policiesSection(policies, dir));
  if (sweeps) sections.push(sweepsSection(sweeps, dir));
  sections.push(simConstants());
  writeFileSync(join(dir, 'SUMMARY.md'), sections.join('\n\n') + '\n');
}
