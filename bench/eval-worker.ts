// A worker process of runJobs (evaluate.ts): runs the jobs it is sent, one at a time, and sends
// back each record.
import { JobRunner, type Job, type JobRecord } from './evaluate';

const runner = new JobRunner();

process.on('message', (message: { index: number; job: Job } | { done: true }) => {
  if ('done' in message) {
    process.disconnect();
    return;
  }
  runner
    .run(message.job)
    .then((record: JobRecord) => process.send?.({ index: message.index, record }))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
});
