// Timeouts and retry policies for every activity, defined once.
import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';

/**
 * Transient model failures (connection errors, 5xx, GPU out of memory) retry with backoff.
 * Permanent ones arrive as non-retryable failures from the activities and are never retried.
 * Twenty attempts with a 60 s ceiling give a flaky GPU about a quarter of an hour; a pool with no
 * live workers does not consume attempts at all (tasks wait in the queue), so an outage of any
 * length only delays the run.
 */
export const MODEL_RETRY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '60s',
  maximumAttempts: 20,
};

/**
 * Model calls heartbeat while in flight; a worker that dies or a GPU that hangs stops the
 * heartbeats and the call is retried elsewhere after `heartbeatSeconds` (an agent option).
 */
export function modelActivity(kind: 'chat' | 'image', heartbeatSeconds: number): ActivityOptions {
  return {
    // Chat calls (controller, rewriting, planning, scoring) are short; images take longer.
    startToCloseTimeout: kind === 'chat' ? '5 minutes' : '10 minutes',
    heartbeatTimeout: `${heartbeatSeconds} seconds`,
    retry: MODEL_RETRY,
  };
}

/** Storage work on the control queue. */
export const STORAGE_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
};

/** Recording an observation: a local activity whose result lands in history as a marker. */
export const OBSERVE_LOCAL_ACTIVITY: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
};
