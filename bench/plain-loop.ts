// The agent loop without Temporal: the same runAgentLoop with model calls made directly in this
// process, in the shape of the paper's own loop. Benchmarks compare it with the workflow, and run
// the policy ablations through it.
import { createModelActivities, type ModelActivities } from '../activities/model';
import type { Backbone } from '../backbones/backbone';
import type { BlobStore } from '../storage/blobstore';
import { registryOf } from '../workers/gpu';
import { deriveSeed } from '../workflows/actions';
import { runAgentLoop, type PolicyView } from '../workflows/loop';
import { agentInputSchema, type ActionName, type AgentInput, type AgentResult } from '../workflows/types';

export interface PlainLoop {
  activities: ModelActivities;
  run(input: AgentInput, runId: string, policy?: (view: PolicyView) => ActionName): Promise<AgentResult>;
}

/** A plain loop over one backbone and store. Model calls run without an activity context (no heartbeats). */
export function plainLoop(backbone: Backbone, store: BlobStore): PlainLoop {
  const activities = createModelActivities({ backbones: registryOf({ sim: backbone }), store });
  return {
    activities,
    run: (input, runId, policy) =>
      runAgentLoop(agentInputSchema.parse(input), {
        runId,
        model: () => activities,
        observe: (observation) => Promise.resolve(observation),
        ...(policy === undefined ? {} : { policy }),
      }),
  };
}

/**
 * Best-of-N as a loop on one GPU does it: each candidate generated, then scored, one after another.
 * Same seeds as the agent's Best-of-N at step 1, so the candidates are the same images. Returns
 * the wall time in milliseconds.
 */
export async function sequentialBestOfN(activities: ModelActivities, prompt: string, n: number, seedBase: string, size: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const out = await activities.generate({ backbone: 'sim', prompt, seed: deriveSeed(seedBase, 1, 'image', i), size });
    await activities.score({ backbone: 'sim', mode: 'generation', originalPrompt: prompt, image: out.image, seed: deriveSeed(seedBase, 1, 'score', i) });
  }
  return performance.now() - started;
}
