// The runs whose histories are recorded and replayed: together they exercise every action.
import type { AgentOptions } from '../../workflows/types';

export interface ReplayCase {
  workflowId: string;
  prompt: string;
  /** When set, the case is an edit of an image the sim draws from this prompt. */
  sourcePrompt?: string;
  options: Partial<AgentOptions>;
}

export const REPLAY_CASES: readonly ReplayCase[] = [
  { workflowId: 'replay-generation', prompt: 'as many apples as a tricycle has wheels next to the animal that gives milk', options: { tMax: 5, n: 4 } },
  { workflowId: 'replay-editing', prompt: 'make the cup blue and add a dog to the right of the cup', sourcePrompt: 'a red cup', options: { tMax: 4, n: 2 } },
];
