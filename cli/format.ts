// Human-readable rendering of trajectories, shared by `imagent run` (live) and `imagent inspect`.
import { fileURLToPath } from 'node:url';
import { summariseReasoning } from '../prompts/parse';
import type { ImageRef, Observation, RunMetrics } from '../workflows/types';

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

/** A path people can open for file:// images; the URI otherwise. */
export function imageLocation(ref: ImageRef | undefined): string {
  if (!ref) return '(none)';
  return ref.uri.startsWith('file://') ? fileURLToPath(ref.uri) : ref.uri;
}

export function formatScore(score: number | null | undefined): string {
  if (score === undefined) return '';
  return score === null ? 'score ?' : `score ${Number.isInteger(score) ? score : score.toFixed(1)}/10`;
}

export function formatObservation(o: Observation): string {
  const head = [`step ${o.step}`.padEnd(8), o.action.padEnd(24), formatScore(o.score).padEnd(14), secs(o.durationMs)].join(' ');
  const lines = [head.trimEnd()];
  const reasoning = summariseReasoning(o.decision.reasoning);
  if (reasoning) lines.push(`         why: ${reasoning}`);
  if (o.decision.fallback) lines.push(`         fallback: ${o.decision.fallback}`);
  if (o.promptAfter !== o.promptBefore) lines.push(`         prompt: ${o.promptAfter}`);
  if (o.action === 'image_detail_refinement' && o.plan) lines.push(`         edit: ${o.plan}`);
  if (o.candidates) {
    const scores = o.candidates.map((c, i) => `${i === o.chosen ? '*' : ''}${c.score === null ? '?' : c.score}`).join(' ');
    lines.push(`         candidates: ${scores} (kept #${(o.chosen ?? 0) + 1})`);
  }
  if (o.error) lines.push(`         failed: ${o.error.type}: ${o.error.message}`);
  if (o.imageAfter && o.action !== 'stop' && !o.error) lines.push(`         image: ${imageLocation(o.imageAfter)}`);
  return lines.join('\n');
}

export function formatMetrics(m: RunMetrics): string {
  return [
    `steps ${m.steps} (${m.stoppedBy === 'controller' ? 'controller chose STOP' : 'T_max reached'})`,
    `backbone calls: chat ${m.calls.chat}, generate ${m.calls.generate}, edit ${m.calls.edit}`,
    `controller: PSR ${pct(m.psr)}  AUR ${pct(m.aur)}  AVR ${pct(m.avr)}  (${m.controllerCalls} calls, ${m.fallbacks} fallbacks)`,
    `time: ${secs(m.wallMs)} wall, ${secs(m.modelMs)} model`,
  ].join('\n');
}
