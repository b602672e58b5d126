// The ImAgent loop (the paper's Algorithm 1): initialise the state, then up to T_max times decide,
// stop or act, and record the observation. Deterministic, with every side effect behind LoopPorts:
// the agent workflow supplies Temporal activities and history markers; benchmarks supply direct
// calls, which gives the plain in-process loop the same code to compare against.
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { DecideOutput, ModelActivities } from '../activities/model';
import { ACTION_IMPLEMENTATIONS, ActionNotApplicable, deriveSeed, evaluate, type ActionOutcome, type StepContext } from './actions';
import { addCalls, noCalls, runMetrics } from './metrics';
import {
  ACTIONS,
  ACTIONS_NEEDING_IMAGE,
  type ActionName,
  type AgentResult,
  type BackboneCapabilities,
  type HistoryEntry,
  type ImageRef,
  type Observation,
  type ParsedAgentInput,
  type RunMetrics,
} from './types';

export type Phase = 'deciding' | 'acting' | 'evaluating' | 'done';

/** What a fixed (non-controller) policy sees when it picks the next action. */
export interface PolicyView {
  step: number;
  tMax: number;
  allowed: readonly ActionName[];
  history: readonly HistoryEntry[];
}

export interface LoopPorts {
  /** Identifies the run; the seed base when options.seed is absent. */
  runId: string;
  /** Model calls for one step; `id` names the call ("decide", "generate-2", "score"). */
  model(step: number, id: string): ModelActivities;
  /** Records one observation and returns it as recorded. */
  observe(observation: Observation): Promise<Observation>;
  onPhase?(step: number, phase: Phase, action?: ActionName): void;
  /**
   * Replaces the controller with a fixed policy (for ablations): no controller call is made and
   * the policy's choice goes through the same validity check and fallback.
   */
  policy?(view: PolicyView): ActionName;
}

/** Naive generation is also naive editing: in editing mode it edits the source image. */
const FALLBACK_ACTION: ActionName = 'naive_generation';

/** Actions the controller may pick in this state; what falls outside triggers the fallback. */
export function allowedActions(produced: boolean, backbone: BackboneCapabilities): ActionName[] {
  return ACTIONS.filter((a) => {
    if (!produced && ACTIONS_NEEDING_IMAGE.includes(a)) return false;
    if (a === 'image_detail_refinement' && !backbone.canEdit) return false;
    return true;
  });
}

/** Why the decided action cannot run here, or null when it can. */
function fallbackReason(decision: DecideOutput, allowed: readonly ActionName[]): string | null {
  if (!decision.parse.found) return 'no \\boxed{} action was found in the controller output';
  if (!decision.parse.unique) return `the controller named several actions (${decision.named.join(', ')})`;
  if (!decision.parse.valid || decision.action === null) return `"${decision.named[0] ?? ''}" is not an action`;
  if (!allowed.includes(decision.action)) return `${decision.action} is not possible in this state`;
  return null;
}

/** A permanent failure of an action, as the observation records it; null for anything else. */
function failureOf(err: unknown): { type: string; message: string } | null {
  if (err instanceof ActionNotApplicable) return { type: 'ActionNotApplicable', message: err.message };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && (err instanceof ActivityFailure || cause.nonRetryable)) {
    return { type: cause.type ?? 'ApplicationFailure', message: cause.message };
  }
  if (err instanceof ActivityFailure) return { type: err.cause?.name ?? 'ActivityFailure', message: err.cause?.message ?? err.message };
  return null;
}

function policyDecision(action: ActionName): DecideOutput {
  return {
    raw: '',
    reasoning: `fixed policy chose ${action}`,
    action,
    named: [action],
    parse: { found: true, unique: true, valid: true },
    modelMs: 0,
  };
}

export async function runAgentLoop(input: ParsedAgentInput, ports: LoopPorts): Promise<AgentResult> {
  const { prompt: P0, image: I0, options } = input;
  const mode = I0 ? 'editing' : 'generation';
  const seedBase = options.seed ?? ports.runId;
  const startedMs = Date.now();

  // State s_t = {P0, I0, Pt, It, O}.
  let Pt = P0;
  let It: ImageRef | undefined = I0;
  let ItScore: number | null = null;
  // Whether the agent has made an image yet. In editing mode It starts as the source image, but
  // the controller's "current image" is the latest result, so until one exists the same no-image
  // actions apply as in generation.
  let produced = false;
  const O: Observation[] = [];

  const backbone = await ports.model(0, 'describe-backbone').describeBackbone({ backbone: options.backbone });
  let stoppedBy: RunMetrics['stoppedBy'] = 't_max';

  for (let t = 1; t <= options.tMax; t++) {
    const stepStarted = Date.now();
    const ctx: StepContext = {
      step: t,
      mode,
      backbone: options.backbone,
      model: (id) => ports.model(t, id),
      n: options.n,
      size: options.size,
      seedBase,
      originalPrompt: P0,
      source: I0,
      prompt: Pt,
      image: produced ? It : undefined,
    };
    const history: HistoryEntry[] = O.filter((o) => o.action !== 'stop' && !o.error).map((o) => ({
      step: o.step,
      action: o.action,
      prompt: o.promptAfter,
      score: o.score ?? null,
    }));
    const allowed = allowedActions(produced, backbone);

    ports.onPhase?.(t, 'deciding');
    const decision = ports.policy
      ? policyDecision(ports.policy({ step: t, tMax: options.tMax, allowed, history }))
      : await ports.model(t, 'decide').decide({
          backbone: options.backbone,
          mode,
          originalPrompt: P0,
          currentPrompt: Pt,
          source: I0,
          image: produced ? It : undefined,
          iteration: t,
          tMax: options.tMax,
          history,
          offered: allowed,
          seed: deriveSeed(seedBase, t, 'decide'),
        });
    const controllerCalls = ports.policy ? noCalls() : { ...noCalls(), chat: 1 };
    const reason = fallbackReason(decision, allowed);
    const action: ActionName = reason === null && decision.action !== null ? decision.action : FALLBACK_ACTION;

    const base = {
      step: t,
      decision: {
        raw: decision.raw,
        reasoning: decision.reasoning,
        named: decision.named,
        parse: decision.parse,
        allowed: reason === null,
        ...(reason === null ? {} : { fallback: `${reason}; ran ${FALLBACK_ACTION} instead` }),
      },
      action,
      promptBefore: Pt,
      imageBefore: It,
      startedAt: new Date(stepStarted).toISOString(),
    };

    if (action === 'stop') {
      O.push(
        await ports.observe({
          ...base,
          promptAfter: Pt,
          imageAfter: It,
          score: ItScore,
          durationMs: Date.now() - stepStarted,
          modelMs: decision.modelMs,
          calls: controllerCalls,
        }),
      );
      stoppedBy = 'controller';
      break;
    }

    ports.onPhase?.(t, 'acting', action);
    let outcome: ActionOutcome;
    try {
      outcome = await ACTION_IMPLEMENTATIONS[action](ctx);
    } catch (err) {
      const failure = failureOf(err);
      if (failure === null) throw err;
      // A permanent failure of one action is an observation, not the end of the run: the state
      // is unchanged and the controller sees the failed step next time.
      O.push(
        await ports.observe({
          ...base,
          promptAfter: Pt,
          imageAfter: It,
          error: failure,
          durationMs: Date.now() - stepStarted,
          modelMs: decision.modelMs,
          calls: controllerCalls,
        }),
      );
      continue;
    }

    let calls = addCalls(controllerCalls, outcome.calls);
    let modelMs = decision.modelMs + outcome.modelMs;
    let score = outcome.score;
    let scoreReasoning = outcome.scoreReasoning;
    if (score === undefined) {
      ports.onPhase?.(t, 'evaluating', action);
      const graded = await evaluate(ctx, outcome.image);
      score = graded.score;
      scoreReasoning = graded.reasoning;
      calls = addCalls(calls, { ...noCalls(), chat: 1 });
      modelMs += graded.modelMs;
    }

    Pt = outcome.prompt;
    It = outcome.image;
    produced = true;
    ItScore = score;
    O.push(
      await ports.observe({
        ...base,
        promptAfter: Pt,
        imageAfter: It,
        ...(outcome.plan === undefined ? {} : { plan: outcome.plan }),
        ...(outcome.candidates === undefined ? {} : { candidates: outcome.candidates, chosen: outcome.chosen }),
        score,
        scoreReasoning,
        durationMs: Date.now() - stepStarted,
        modelMs,
        calls,
      }),
    );
  }

  ports.onPhase?.(O.length, 'done');
  if (!produced || It === undefined) {
    const errors = O.flatMap((o) => (o.error ? [`step ${o.step}: ${o.error.message}`] : []));
    throw ApplicationFailure.nonRetryable(
      `No image was produced in ${O.length} steps${errors.length > 0 ? ` (${errors.join('; ')})` : ''}. Check the GPU workers' logs and the backbone configuration.`,
      'NoImageProduced',
    );
  }
  return {
    workflowId: ports.runId,
    prompt: P0,
    mode,
    backbone,
    finalImage: It,
    finalPrompt: Pt,
    finalScore: ItScore,
    trajectory: O,
    metrics: runMetrics(O, stoppedBy, Date.now() - startedMs),
  };
}
