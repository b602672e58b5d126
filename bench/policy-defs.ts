// The policies the test-time-scaling benchmarks compare (the paper's single-action ablation,
// extended). Specs are plain data so they travel to evaluation worker processes; the function a
// spec stands for is built where the loop runs.
import { rngFor } from '../backbones/sim/rng';
import type { PolicyView } from '../workflows/loop';
import { DEFAULT_N, DEFAULT_T_MAX, type ActionName } from '../workflows/types';

export type PolicyKind =
  /** The ImAgent controller: the backbone decides each step. */
  | { kind: 'controller' }
  /** The same action at every step. */
  | { kind: 'single'; action: ActionName }
  /** Uniform over the allowed actions (STOP included once an image exists), seeded. */
  | { kind: 'random' }
  /** A fixed sequence, one action per step. */
  | { kind: 'sequence'; actions: ActionName[] };

export type PolicySpec = PolicyKind & {
  name: string;
  /** What tables and charts call it. */
  short: string;
  /** What the policy list in the summary says it is. */
  label: string;
  tMax: number;
  n: number;
};

const SINGLE_ACTIONS: ReadonlyArray<[ActionName, string, string]> = [
  ['naive_generation', 'naive x5', 'naive generation at every step'],
  ['prompt_enhancement', 'enhance x5', 'prompt enhancement at every step'],
  ['prompt_revision', 'revise x5', 'prompt revision at every step'],
  ['image_detail_refinement', 'refine x5', 'image detail refinement at every step'],
  ['best_of_n', 'best-of-N x5', 'Best-of-N at every step'],
];

/** The policies of the side-by-side comparison, in the order the summary lists them. */
export const POLICIES: readonly PolicySpec[] = [
  { name: 'naive', short: 'naive only', label: 'one naive generation (the vanilla backbone)', kind: 'single', action: 'naive_generation', tMax: 1, n: DEFAULT_N },
  ...SINGLE_ACTIONS.map(([action, short, label]): PolicySpec => ({ name: `only-${action}`, short, label, kind: 'single', action, tMax: DEFAULT_T_MAX, n: DEFAULT_N })),
  { name: 'random', short: 'random', label: 'a random policy', kind: 'random', tMax: DEFAULT_T_MAX, n: DEFAULT_N },
  {
    name: 'pipeline',
    short: 'pipeline',
    label: 'a fixed pipeline: enhance, revise, refine, Best-of-N',
    kind: 'sequence',
    actions: ['prompt_enhancement', 'prompt_revision', 'image_detail_refinement', 'best_of_n'],
    tMax: 4,
    n: DEFAULT_N,
  },
  { name: 'imagent', short: 'ImAgent', label: 'the ImAgent controller', kind: 'controller', tMax: DEFAULT_T_MAX, n: DEFAULT_N },
];

export function controllerSpec(tMax: number, n: number): PolicySpec {
  return { name: `imagent-t${tMax}-n${n}`, short: `ImAgent T${tMax} N${n}`, label: `the ImAgent controller, T_max ${tMax}, N ${n}`, kind: 'controller', tMax, n };
}

export function bestOfNSpec(n: number): PolicySpec {
  return { name: `bon-once-n${n}`, short: `BoN once N${n}`, label: `one Best-of-N step, N ${n}`, kind: 'single', action: 'best_of_n', tMax: 1, n };
}

/** The loop's policy port for a spec, or undefined for the controller. `key` seeds the random policy. */
export function policyFunction(spec: PolicySpec, key: string): ((view: PolicyView) => ActionName) | undefined {
  switch (spec.kind) {
    case 'controller':
      return undefined;
    case 'single': {
      const action = spec.action;
      return () => action;
    }
    case 'sequence': {
      const actions = spec.actions;
      return (view) => actions[Math.min(view.step, actions.length) - 1];
    }
    case 'random':
      return (view) => {
        const rng = rngFor('random-policy', key, view.step);
        return view.allowed[Math.floor(rng() * view.allowed.length)];
      };
  }
}
