// Rebuilds an agent run from its event history alone: the observations the workflow recorded
// (local-activity markers), its input, its outcome, and what is still in flight or retrying.
// Works for running, completed, failed, cancelled and terminated workflows alike.
import { UserError } from './errors';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { runMetrics } from '../workflows/metrics';
import type { AgentInput, AgentResult, ImageRef, Observation, RunMetrics } from '../workflows/types';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;
const EventType = temporal.api.enums.v1.EventType;

const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
const OBSERVE_ACTIVITY = 'observe';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out' | 'continued_as_new';

export interface ActivityActivity {
  activityId: string;
  activityType: string;
  taskQueue: string;
  /** Failed attempts that Temporal retried (or will retry). */
  failedAttempts: number;
  lastFailure?: string;
  state: 'scheduled' | 'started' | 'completed' | 'failed' | 'timed_out' | 'cancelled';
  /** Worker identity that ran the last attempt. */
  worker?: string;
}

export interface Inspection {
  workflowId: string;
  runId: string;
  workflowType: string;
  status: RunStatus;
  input?: AgentInput;
  trajectory: Observation[];
  metrics: RunMetrics;
  finalImage?: ImageRef;
  failure?: string;
  activities: ActivityActivity[];
  historyEvents: number;
  historyBytes: number;
}

function decode<T>(payload: Payload | null | undefined): T | undefined {
  if (!payload) return undefined;
  return defaultPayloadConverter.fromPayload<T>(payload);
}

function failureMessage(failure: temporal.api.failure.v1.IFailure | null | undefined): string | undefined {
  if (!failure) return undefined;
  const parts: string[] = [];
  for (let f: temporal.api.failure.v1.IFailure | null | undefined = failure; f; f = f.cause) {
    const type = f.applicationFailureInfo?.type;
    parts.push(type ? `${type}: ${f.message ?? ''}` : (f.message ?? ''));
  }
  return parts.filter((p) => p.length > 0).join(' <- ');
}

function observationFromMarker(event: HistoryEvent): Observation | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (!marker || marker.markerName !== LOCAL_ACTIVITY_MARKER) return undefined;
  const meta = decode<{ activity_type?: string }>(marker.details?.data?.payloads?.[0]);
  if (meta?.activity_type !== OBSERVE_ACTIVITY) return undefined;
  return decode<Observation>(marker.details?.result?.payloads?.[0]);
}

const TERMINAL: Partial<Record<number, RunStatus>> = {
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED]: 'completed',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED]: 'failed',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED]: 'cancelled',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED]: 'terminated',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT]: 'timed_out',
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW]: 'continued_as_new',
};

/** Pure: an inspection from a list of history events. */
export function inspectHistory(workflowId: string, events: readonly HistoryEvent[]): Inspection {
  const trajectory: Observation[] = [];
  const activities = new Map<string, ActivityActivity>();
  const byScheduledId = new Map<string, ActivityActivity>();
  let status: RunStatus = 'running';
  let input: AgentInput | undefined;
  let result: AgentResult | undefined;
  let failure: string | undefined;
  let runId = '';
  let workflowType = '';
  let firstTime: number | undefined;
  let lastTime: number | undefined;
  let historyBytes = 0;

  for (const event of events) {
    historyBytes += temporal.api.history.v1.HistoryEvent.encode(event).len;
    const time = event.eventTime ? Number(event.eventTime.seconds ?? 0) * 1000 + Math.floor((event.eventTime.nanos ?? 0) / 1e6) : undefined;
    if (time !== undefined) {
      firstTime ??= time;
      lastTime = time;
    }
    const type = event.eventType ?? 0;
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      input = decode<AgentInput>(started.input?.payloads?.[0]);
      runId = started.originalExecutionRunId ?? '';
      workflowType = started.workflowType?.name ?? '';
    }
    const observation = observationFromMarker(event);
    if (observation) trajectory.push(observation);

    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const activity: ActivityActivity = {
        activityId: scheduled.activityId ?? '',
        activityType: scheduled.activityType?.name ?? '',
        taskQueue: scheduled.taskQueue?.name ?? '',
        failedAttempts: 0,
        state: 'scheduled',
      };
      activities.set(activity.activityId, activity);
      byScheduledId.set(String(event.eventId), activity);
    }
    const attemptStarted = event.activityTaskStartedEventAttributes;
    if (attemptStarted) {
      const activity = byScheduledId.get(String(attemptStarted.scheduledEventId));
      if (activity) {
        activity.state = 'started';
        activity.worker = attemptStarted.identity ?? undefined;
        // Started is written once, with the final attempt number and the last retried failure.
        activity.failedAttempts = Math.max(0, (attemptStarted.attempt ?? 1) - 1);
        activity.lastFailure = failureMessage(attemptStarted.lastFailure) ?? activity.lastFailure;
      }
    }
    const ended =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    if (ended) {
      const activity = byScheduledId.get(String(ended.scheduledEventId));
      if (activity) {
        if (event.activityTaskCompletedEventAttributes) activity.state = 'completed';
        else if (event.activityTaskFailedEventAttributes) {
          activity.state = 'failed';
          activity.failedAttempts += 1;
          activity.lastFailure = failureMessage(event.activityTaskFailedEventAttributes.failure);
        } else if (event.activityTaskTimedOutEventAttributes) {
          activity.state = 'timed_out';
          activity.failedAttempts += 1;
          activity.lastFailure = failureMessage(event.activityTaskTimedOutEventAttributes.failure);
        } else activity.state = 'cancelled';
      }
    }

    const terminal = TERMINAL[type];
    if (terminal) status = terminal;
    if (event.workflowExecutionCompletedEventAttributes) {
      result = decode<AgentResult>(event.workflowExecutionCompletedEventAttributes.result?.payloads?.[0]);
    }
    failure =
      failureMessage(event.workflowExecutionFailedEventAttributes?.failure) ??
      (event.workflowExecutionTerminatedEventAttributes ? `terminated: ${event.workflowExecutionTerminatedEventAttributes.reason ?? ''}` : undefined) ??
      (event.workflowExecutionTimedOutEventAttributes ? 'the workflow timed out' : undefined) ??
      (event.workflowExecutionCanceledEventAttributes ? 'the workflow was cancelled' : undefined) ??
      failure;
  }

  const lastStop = trajectory.at(-1)?.action === 'stop';
  const wallMs = firstTime !== undefined && lastTime !== undefined ? lastTime - firstTime : 0;
  const produced = [...trajectory].reverse().find((o) => o.imageAfter && !o.error && o.action !== 'stop');
  return {
    workflowId,
    runId,
    workflowType,
    status,
    input,
    trajectory,
    metrics: result?.metrics ?? runMetrics(trajectory, lastStop ? 'controller' : 't_max', wallMs),
    finalImage: result?.finalImage ?? produced?.imageAfter,
    failure,
    activities: [...activities.values()],
    historyEvents: events.length,
    historyBytes,
  };
}

export async function inspectWorkflow(client: Client, workflowId: string, runId?: string): Promise<Inspection> {
  const handle = client.workflow.getHandle(workflowId, runId);
  let history;
  try {
    history = await handle.fetchHistory();
  } catch (err) {
    // fetchHistory reports a missing workflow as a gRPC NOT_FOUND (code 5).
    if ((err as Error).name === 'WorkflowNotFoundError' || (err as { code?: number }).code === 5) {
      throw new UserError(`No workflow with id "${workflowId}" exists in this namespace. Check the id (imagent run prints it) and TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.`);
    }
    throw err;
  }
  return inspectHistory(workflowId, history.events ?? []);
}
