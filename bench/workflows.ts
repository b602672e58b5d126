// The workflow bundle of the orchestration benchmarks: imagent's workflows, plus one that runs
// the same agent loop under a fixed policy (Best-of-N at every step), so a fan-out step can be
// measured through Temporal exactly as the agent workflow runs it.
import { proxyLocalActivities, workflowInfo, proxyActivities } from '@temporalio/workflow';
import type { ControlActivities } from '../activities/control';
import type { ModelActivities } from '../activities/model';
import { runAgentLoop } from '../workflows/loop';
import { modelActivity, OBSERVE_LOCAL_ACTIVITY } from '../workflows/policy';
import { agentInputSchema, gpuTaskQueue, type ActionName, type AgentInput, type AgentResult } from '../workflows/types';

export * from '../workflows';

const { observe } = proxyLocalActivities<ControlActivities>(OBSERVE_LOCAL_ACTIVITY);

/** The agent loop with `action` at every step instead of the controller, with agentWorkflow's activity options. */
export async function fixedPolicyWorkflow(input: AgentInput, action: ActionName): Promise<AgentResult> {
  const parsed = agentInputSchema.parse(input);
  const taskQueue = gpuTaskQueue(parsed.options);
  return runAgentLoop(parsed, {
    runId: workflowInfo().workflowId,
    model: (step, id) =>
      proxyActivities<ModelActivities>({
        ...modelActivity(id.startsWith('generate') || id.startsWith('edit') ? 'image' : 'chat', parsed.options.heartbeatSeconds),
        taskQueue,
        activityId: `${step}/${id}`,
      }),
    observe,
    policy: () => action,
  });
}
