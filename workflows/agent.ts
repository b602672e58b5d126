// The agent workflow: the ImAgent loop (workflows/loop.ts) run durably, with every model call an
// activity on the GPU pool's task queue and every observation recorded in the event history.
import {
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities } from '../activities/control';
import type { ModelActivities } from '../activities/model';
import { itemDoneSignal, type ItemReport } from './batch-types';
import { runAgentLoop, type Phase } from './loop';
import { modelActivity, OBSERVE_LOCAL_ACTIVITY, STORAGE_ACTIVITY } from './policy';
import {
  agentInputSchema,
  batchLinkSchema,
  describeZodError,
  gpuTaskQueue,
  type ActionName,
  type AgentInput,
  type AgentResult,
  type BatchLink,
  type Observation,
  type ParsedAgentInput,
} from './types';

export const trajectoryQuery = defineQuery<Observation[]>('trajectory');

export interface AgentStatus {
  step: number;
  tMax: number;
  phase: 'starting' | Phase;
  action?: ActionName;
}
export const statusQuery = defineQuery<AgentStatus>('status');

const { observe } = proxyLocalActivities<ControlActivities>(OBSERVE_LOCAL_ACTIVITY);
const control = proxyActivities<ControlActivities>(STORAGE_ACTIVITY);

export async function agentWorkflow(input: AgentInput): Promise<AgentResult> {
  const parsed = agentInputSchema.safeParse(input);
  // A run started by a batch reports back however it ends, even on invalid input.
  const link = parsed.success ? parsed.data.batch : batchLinkSchema.safeParse((input as { batch?: unknown }).batch).data;
  try {
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(`The agent input is invalid: ${describeZodError(parsed.error)}.`, 'InvalidInput');
    }
    const result = await runAgent(parsed.data);
    // A cancel arriving as the run finishes must not cancel its report, or the batch would wait
    // for a report that never comes.
    if (link) await CancellationScope.nonCancellable(() => reportToBatch(link, 'succeeded', input.prompt, result, null));
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
  const { workflowId } = workflowInfo();
  const taskQueue = gpuTaskQueue(parsed.options);
  const status: AgentStatus = { step: 0, tMax: parsed.options.tMax, phase: 'starting' };
  const trajectory: Observation[] = [];
  setHandler(trajectoryQuery, () => trajectory);
  setHandler(statusQuery, () => status);
  return runAgentLoop(parsed, {
    runId: workflowId,
    model: (step, id) =>
      proxyActivities<ModelActivities>({
        ...modelActivity(id.startsWith('generate') || id.startsWith('edit') ? 'image' : 'chat', parsed.options.heartbeatSeconds),
        taskQueue,
        activityId: `${step}/${id}`,
      }),
    async observe(observation) {
      const recorded = await observe(observation);
      trajectory.push(recorded);
      return recorded;
    },
    onPhase(step, phase, action) {
      Object.assign(status, { step, phase, action });
    },
  });
}
