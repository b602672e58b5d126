// Run metrics, computed the same way by the workflow and by `imagent inspect` from a history.
import type { BackboneCalls, Observation, RunMetrics } from './types';

export function noCalls(): BackboneCalls {
  return { chat: 0, generate: 0, edit: 0 };
}

export function addCalls(a: BackboneCalls, b: BackboneCalls): BackboneCalls {
  return { chat: a.chat + b.chat, generate: a.generate + b.generate, edit: a.edit + b.edit };
}

/** Per-run metrics; PSR / AUR / AVR are fractions of this run's controller calls. */
export function runMetrics(O: readonly Observation[], stoppedBy: RunMetrics['stoppedBy'], wallMs: number): RunMetrics {
  const decisions = O.map((o) => o.decision);
  const rate = (pick: (d: Observation['decision']) => boolean) =>
    decisions.length === 0 ? 1 : decisions.filter(pick).length / decisions.length;
  return {
    steps: O.filter((o) => o.action !== 'stop').length,
    stoppedBy,
    calls: O.reduce((acc, o) => addCalls(acc, o.calls), noCalls()),
    controllerCalls: decisions.length,
    psr: rate((d) => d.parse.found),
    aur: rate((d) => d.parse.found && d.parse.unique),
    avr: rate((d) => d.parse.found && d.parse.unique && d.parse.valid && d.allowed),
    fallbacks: decisions.filter((d) => d.fallback !== undefined).length,
    modelMs: O.reduce((acc, o) => acc + o.modelMs, 0),
    wallMs,
  };
}
