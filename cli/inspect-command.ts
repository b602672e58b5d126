// `imagent inspect`: print a run's trajectory rebuilt from its event history.
import { installRuntimeLogging } from '../workers/logging';
import { loadConfig } from './config';
import { openCluster } from './embedded';
import { formatMetrics, formatObservation, imageLocation } from './format';
import { inspectWorkflow } from './inspect';

export async function inspectCommand(workflowId: string, flags: { json?: boolean }): Promise<void> {
  installRuntimeLogging('ERROR');
  const cluster = await openCluster(loadConfig(), { workers: false });
  try {
    const inspection = await inspectWorkflow(cluster.client, workflowId);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(inspection, null, 2)}\n`);
      return;
    }
    const prompt = inspection.input?.prompt ?? '(unknown prompt)';
    process.stdout.write(`workflow ${workflowId}: ${inspection.status}\nprompt: ${prompt}${inspection.input?.image ? ' (editing)' : ''}\n\n`);
    for (const o of inspection.trajectory) process.stdout.write(`${formatObservation(o)}\n`);
    const inFlight = inspection.activities.filter((a) => a.state === 'scheduled' || a.state === 'started');
    for (const a of inFlight) process.stdout.write(`in flight: ${a.activityId} (${a.activityType}) on ${a.taskQueue}\n`);
    const retried = inspection.activities.filter((a) => a.failedAttempts > 0);
    for (const a of retried) {
      process.stdout.write(`retried: ${a.activityId} (${a.activityType}) failed ${a.failedAttempts} time(s); last: ${a.lastFailure ?? 'unknown'}\n`);
    }
    if (inspection.failure) process.stdout.write(`failure: ${inspection.failure}\n`);
    process.stdout.write(`\n${formatMetrics(inspection.metrics)}\n`);
    if (inspection.finalImage) process.stdout.write(`final image: ${imageLocation(inspection.finalImage)}\n`);
    process.stdout.write(`history: ${inspection.historyEvents} events, ${(inspection.historyBytes / 1024).toFixed(1)} KiB\n`);
  } finally {
    await cluster.close();
  }
}
