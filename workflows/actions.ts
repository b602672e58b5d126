// The five actions of the ImAgent action space, each composed of model activities on the GPU
// pool's task queue. Each maps (Pt, It) to (Pt+1, It+1) plus what the observation should record.
//
// Choices the paper leaves open, made here:
// - Templates receive both the original request P0 and the current prompt Pt; self-evaluation
//   always grades against P0.
// - In editing mode the prompt-driven actions (naive, enhancement, revision, best-of-N) edit the
//   SOURCE image I0 with the current instruction, because Pt is an instruction about I0 and
//   re-applying "add a cat" to an image that already has one would add a second. Detail
//   refinement edits the CURRENT image It: its instruction is a correction of It.
// - Best-of-N: an unparseable score ranks below every readable score; ties go to the lowest
//   candidate index, so the choice is deterministic.
import type { ModelActivities } from '../activities/model';
import { addCalls, noCalls } from './metrics';
import type { ActionName, BackboneCalls, Candidate, ImageRef } from './types';

export type Mode = 'generation' | 'editing';

export interface StepContext {
  step: number;
  mode: Mode;
  backbone: string;
  /** Model calls of this step; `id` names the call, e.g. "generate-2". */
  model(id: string): ModelActivities;
  n: number;
  size: number;
  /** The options' seed, or the workflow id. */
  seedBase: string;
  originalPrompt: string;
  source?: ImageRef;
  prompt: string;
  image?: ImageRef;
}

export interface ActionOutcome {
  prompt: string;
  image: ImageRef;
  plan?: string;
  candidates?: Candidate[];
  chosen?: number;
  /** Set when the action graded its own result (Best-of-N); otherwise the loop grades it. */
  score?: number | null;
  scoreReasoning?: string;
  modelMs: number;
  calls: BackboneCalls;
}

/** Raised when an action cannot produce an image for a reason that is not a failure of Temporal's. */
export class ActionNotApplicable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ActionNotApplicable';
  }
}

/** Deterministic 32-bit seed from (workflow id, step, role, candidate): FNV-1a over the key. */
export function deriveSeed(base: string, step: number, role: string, candidate = 0): number {
  const key = `${base}|${step}|${role}|${candidate}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function seed(ctx: StepContext, role: string, candidate = 0): number {
  return deriveSeed(ctx.seedBase, ctx.step, role, candidate);
}

/** One image from a prompt: generation from text, or an edit of the source when editing. */
async function render(ctx: StepContext, prompt: string, candidate: number, id: string) {
  if (ctx.mode === 'editing') {
    if (!ctx.source) throw new ActionNotApplicable('Editing mode has no source image.');
    const out = await ctx.model(`edit${id}`).edit({
      backbone: ctx.backbone,
      image: ctx.source,
      instruction: prompt,
      seed: seed(ctx, 'image', candidate),
    });
    return { ...out, calls: { ...noCalls(), edit: 1 } };
  }
  const out = await ctx.model(`generate${id}`).generate({
    backbone: ctx.backbone,
    prompt,
    seed: seed(ctx, 'image', candidate),
    size: ctx.size,
  });
  return { ...out, calls: { ...noCalls(), generate: 1 } };
}

function requireImage(ctx: StepContext): ImageRef {
  if (!ctx.image) throw new ActionNotApplicable('This action needs a current image and there is none yet.');
  return ctx.image;
}

/** Self-evaluation of one image against the original request (0-10). */
export async function evaluate(ctx: StepContext, image: ImageRef, candidate?: number) {
  const id = candidate === undefined ? 'score' : `score-${candidate}`;
  return ctx.model(id).score({
    backbone: ctx.backbone,
    mode: ctx.mode,
    originalPrompt: ctx.originalPrompt,
    image,
    source: ctx.source,
    seed: seed(ctx, 'score', candidate ?? 0),
  });
}

function promptContext(ctx: StepContext, role: string) {
  return {
    backbone: ctx.backbone,
    mode: ctx.mode,
    originalPrompt: ctx.originalPrompt,
    currentPrompt: ctx.prompt,
    source: ctx.source,
    seed: seed(ctx, role),
  };
}

/** 1. Naive generation (or naive editing): one image from the current prompt. */
async function naiveGeneration(ctx: StepContext): Promise<ActionOutcome> {
  const out = await render(ctx, ctx.prompt, 0, '');
  return { prompt: ctx.prompt, image: out.image, modelMs: out.modelMs, calls: out.calls };
}

/**
 * Renders from a rewritten prompt. A rewrite with no readable prompt keeps the current one: the
 * rewrite's text still tells the operator what the model thought, but the image is not made from
 * a guess at its intent.
 */
async function renderRewrite(ctx: StepContext, rewrite: { prompt: string | null; plan: string; modelMs: number }): Promise<ActionOutcome> {
  const prompt = rewrite.prompt ?? ctx.prompt;
  const out = await render(ctx, prompt, 0, '');
  return {
    prompt,
    image: out.image,
    plan: rewrite.plan,
    modelMs: rewrite.modelMs + out.modelMs,
    calls: addCalls({ ...noCalls(), chat: 1 }, out.calls),
  };
}

/** 2. Prompt enhancement: a <think> plan that makes the prompt explicit, then one image from it. */
async function promptEnhancement(ctx: StepContext): Promise<ActionOutcome> {
  return renderRewrite(ctx, await ctx.model('enhance').enhance(promptContext(ctx, 'enhance')));
}

/** 3. Prompt revision: compare the current image with the request, refine the prompt, render. */
async function promptRevision(ctx: StepContext): Promise<ActionOutcome> {
  const revision = await ctx.model('revise').revise({ ...promptContext(ctx, 'revise'), image: requireImage(ctx) });
  return renderRewrite(ctx, { prompt: revision.prompt, plan: revision.raw, modelMs: revision.modelMs });
}

/** 4. Image detail refinement: plan a minimal edit of the current image, then apply it. */
async function imageDetailRefinement(ctx: StepContext): Promise<ActionOutcome> {
  const image = requireImage(ctx);
  const planned = await ctx.model('plan-edit').planEdit({ ...promptContext(ctx, 'plan-edit'), image });
  if (planned.instruction === null) {
    throw new ActionNotApplicable('The model wrote no editing instruction that could be read, so the image was left as it was.');
  }
  const edited = await ctx.model('edit').edit({
    backbone: ctx.backbone,
    image,
    instruction: planned.instruction,
    seed: seed(ctx, 'image'),
  });
  return {
    prompt: ctx.prompt,
    image: edited.image,
    plan: planned.instruction,
    modelMs: planned.modelMs + edited.modelMs,
    calls: { chat: 1, generate: 0, edit: 1 },
  };
}

/** Index of the best candidate: readable scores beat unreadable ones, ties go to the lowest index. */
export function argmaxCandidate(scores: readonly (number | null)[]): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) {
    const current = scores[i];
    const leader = scores[best];
    if (current !== null && (leader === null || current > leader)) best = i;
  }
  return best;
}

/**
 * 5. Best-of-N: N renders started at once (they fan out across the GPU pool), then N scores at
 * once, and the best is kept. Candidates that fail permanently drop out; the step fails only if
 * all of them do.
 */
async function bestOfN(ctx: StepContext): Promise<ActionOutcome> {
  const indices = Array.from({ length: ctx.n }, (_, i) => i);
  const renders = await Promise.allSettled(indices.map((i) => render(ctx, ctx.prompt, i, `-${i}`)));
  const made = renders.flatMap((r, i) => (r.status === 'fulfilled' ? [{ index: i, ...r.value }] : []));
  if (made.length === 0) {
    throw (renders[0] as PromiseRejectedResult).reason;
  }
  const graded = await Promise.allSettled(made.map((m) => evaluate(ctx, m.image, m.index)));
  const candidates: Candidate[] = made.map((m, k) => {
    const g = graded[k];
    return {
      image: m.image,
      seed: seed(ctx, 'image', m.index),
      score: g.status === 'fulfilled' ? g.value.score : null,
      reasoning: g.status === 'fulfilled' ? g.value.reasoning : `Scoring failed: ${String(g.reason)}`,
    };
  });
  const chosen = argmaxCandidate(candidates.map((c) => c.score));
  const slowest = (xs: number[]) => (xs.length === 0 ? 0 : Math.max(...xs));
  const scoreTimes = graded.flatMap((g) => (g.status === 'fulfilled' ? [g.value.modelMs] : []));
  const calls = made.reduce((acc, m) => addCalls(acc, m.calls), noCalls());
  return {
    prompt: ctx.prompt,
    image: candidates[chosen].image,
    candidates,
    chosen,
    score: candidates[chosen].score,
    scoreReasoning: candidates[chosen].reasoning,
    modelMs: slowest(made.map((m) => m.modelMs)) + slowest(scoreTimes),
    calls: { ...calls, chat: calls.chat + made.length },
  };
}

export const ACTION_IMPLEMENTATIONS: Readonly<Record<Exclude<ActionName, 'stop'>, (ctx: StepContext) => Promise<ActionOutcome>>> = {
  naive_generation: naiveGeneration,
  prompt_enhancement: promptEnhancement,
  prompt_revision: promptRevision,
  image_detail_refinement: imageDetailRefinement,
  best_of_n: bestOfN,
};
