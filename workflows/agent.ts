// The ImAgent loop (the paper's Algorithm 1) as a deterministic Temporal workflow: initialise the
// state, then up to T_max times decide, stop or act, and record the observation.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  defineQuery,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DecideOutput, ModelActivities } from '../activities/model';
import type { ControlActivities } from '../activities/control';
import {
  ACTION_IMPLEMENTATIONS,
  ActionNotApplicable,
  deriveSeed,
  evaluate,
  type ActionOutcome,
  type StepContext,
} from './actions';
import { addCalls, noCalls, runMetrics } from './metrics';
import { itemDoneSignal, type ItemReport } from './batch-types';
import { modelActivity, OBSERVE_LOCAL_ACTIVITY, STORAGE_ACTIVITY } from './policy';
import {
  ACTIONS,
  ACTIONS_NEEDING_IMAGE,
  agentInputSchema,
  batchLinkSchema,
  describeZodError,
  gpuTaskQueue,
  type ActionName,
  type AgentInput,
  type AgentResult,
  type BatchLink,
  type ParsedAgentInput,
  type BackboneCapabilities,
  type HistoryEntry,
  type ImageRef,
  type Observation,
  type RunMetrics,
} from './types';

export const trajectoryQuery = defineQuery<Observation[]>('trajectory');

export interface AgentStatus {
  step: number;
  tMax: number;
  phase: 'starting' | 'deciding' | 'acting' | 'evaluating' | 'done';
  action?: ActionName;
}
export const statusQuery = defineQuery<AgentStatus>('status');

const { observe } = proxyLocalActivities<ControlActivities>(OBSERVE_LOCAL_ACTIVITY);
const control = proxyActivities<ControlActivities>(STORAGE_ACTIVITY);

/** Actions the controller may pick in this state; what falls outside triggers the fallback. */
function allowedActions(produced: boolean, backbone: BackboneCapabilities): ActionName[] {
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

function failureOf(err: unknown): { type: string; message: string } | null {
  if (err instanceof ActionNotApplicable) return { type: 'ActionNotApplicable', message: err.message };
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return { type: err.cause.type ?? 'ApplicationFailure', message: err.cause.message };
  }
  if (err instanceof ActivityFailure) return { type: err.cause?.name ?? 'ActivityFailure', message: err.cause?.message ?? err.message };
  return null;
}

export async function agentWorkflow(input: AgentInput): Promise<AgentResult> {
  const parsed = agentInputSchema.safeParse(input);
  // A run started by a batch reports back however it ends, even on invalid input.
  const link = parsed.success ? parsed.data.batch : batchLinkSchema.safeParse((input as { batch?: unknown }).batch).data;
  try {
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(`The agent input is invalid: ${describeZodError(parsed.error)}.`, 'InvalidInput');
    }
    const result = await runAgent(parsed.data);
    if (link) await reportToBatch(link, 'succeeded', input.prompt, result, null);
    return result;
  } catch (err) {
    if (link) {
      const status = isCancellation(err) ? 'cancelled' : 'failed';
      await CancellationScope.nonCancellable(() => reportToBatch(link, status, input.prompt, null, messageOf(err)));
    }
    throw err;
  }
}

function messageOf(err: unknown): string {
  if (err instanceof ApplicationFailure) return `${err.type ?? 'Error'}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** Writes the item's result record (idempotently), then tells the batch the item ended. */
async function reportToBatch(
  link: BatchLink,
  status: ItemReport['status'],
  prompt: string,
  result: AgentResult | null,
  error: string | null,
): Promise<void> {
  await control.writeItemResult({
    batchId: link.batchId,
    itemId: link.itemId,
    line: link.line,
    status,
    workflowId: workflowInfo().workflowId,
    prompt,
    finalImage: result?.finalImage ?? null,
    steps: result?.metrics.steps ?? 0,
    actions: result?.trajectory.map((o) => o.action) ?? [],
    score: result?.finalScore ?? null,
    metrics: result?.metrics ?? null,
    error,
  });
  try {
    await getExternalWorkflowHandle(link.batchWorkflowId).signal(itemDoneSignal, { itemId: link.itemId, status });
  } catch {
    // The batch has closed (cancelled or terminated); the result record above is what counts.
  }
}

async function runAgent(parsed: ParsedAgentInput): Promise<AgentResult> {
  const { prompt: P0, image: I0, options } = parsed;
  const { workflowId } = workflowInfo();
  const taskQueue = gpuTaskQueue(options);
  const mode = I0 ? 'editing' : 'generation';
  const seedBase = options.seed ?? workflowId;
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
  const status: AgentStatus = { step: 0, tMax: options.tMax, phase: 'starting' };
  setHandler(trajectoryQuery, () => O);
  setHandler(statusQuery, () => status);

  const backbone = await proxyActivities<ModelActivities>({ ...modelActivity('chat', options.heartbeatSeconds), taskQueue, activityId: '0/describe-backbone' }).describeBackbone({
    backbone: options.backbone,
  });
  // Naive generation is also naive editing: in editing mode it edits the source image.
  const fallbackAction: ActionName = 'naive_generation';
  let stoppedBy: RunMetrics['stoppedBy'] = 't_max';

  for (let t = 1; t <= options.tMax; t++) {
    const stepStarted = Date.now();
    const ctx: StepContext = {
      step: t,
      mode,
      backbone: options.backbone,
      taskQueue,
      n: options.n,
      size: options.size,
      heartbeatSeconds: options.heartbeatSeconds,
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

    Object.assign(status, { step: t, phase: 'deciding', action: undefined });
    const decision = await proxyActivities<ModelActivities>({ ...modelActivity('chat', options.heartbeatSeconds), taskQueue, activityId: `${t}/decide` }).decide({
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
    const reason = fallbackReason(decision, allowed);
    const action: ActionName = reason === null && decision.action !== null ? decision.action : fallbackAction;

    const base = {
      step: t,
      decision: {
        raw: decision.raw,
        reasoning: decision.reasoning,
        named: decision.named,
        parse: decision.parse,
        allowed: reason === null,
        ...(reason === null ? {} : { fallback: `${reason}; ran ${fallbackAction} instead` }),
      },
      action,
      promptBefore: Pt,
      imageBefore: It,
      startedAt: new Date(stepStarted).toISOString(),
    };

    if (action === 'stop') {
      const observation: Observation = {
        ...base,
        promptAfter: Pt,
        imageAfter: It,
        score: ItScore,
        durationMs: Date.now() - stepStarted,
        modelMs: decision.modelMs,
        calls: { ...noCalls(), chat: 1 },
      };
      O.push(await observe(observation));
      stoppedBy = 'controller';
      break;
    }

    status.phase = 'acting';
    status.action = action;
    let outcome: ActionOutcome;
    try {
      outcome = await ACTION_IMPLEMENTATIONS[action](ctx);
    } catch (err) {
      const failure = failureOf(err);
      if (failure === null) throw err;
      // A permanent failure of one action is an observation, not the end of the run: the state
      // is unchanged and the controller sees the failed step next time.
      const observation: Observation = {
        ...base,
        promptAfter: Pt,
        imageAfter: It,
        error: failure,
        durationMs: Date.now() - stepStarted,
        modelMs: decision.modelMs,
        calls: { ...noCalls(), chat: 1 },
      };
      O.push(await observe(observation));
      continue;
    }

    let calls = addCalls({ ...noCalls(), chat: 1 }, outcome.calls);
    let modelMs = decision.modelMs + outcome.modelMs;
    let score = outcome.score;
    let scoreReasoning = outcome.scoreReasoning;
    if (score === undefined) {
      status.phase = 'evaluating';
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
    const observation: Observation = {
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
    };
    O.push(await observe(observation));
  }

  status.phase = 'done';
  if (!produced || It === undefined) {
    const errors = O.flatMap((o) => (o.error ? [`step ${o.step}: ${o.error.message}`] : []));
    throw ApplicationFailure.nonRetryable(
      `No image was produced in ${O.length} steps${errors.length > 0 ? ` (${errors.join('; ')})` : ''}. Check the GPU workers' logs and the backbone configuration.`,
      'NoImageProduced',
    );
  }
  return {
    workflowId,
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
