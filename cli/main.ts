// The `imagent` command: run the agent, run and steer batches, inspect and report, or serve as a worker.
import { Command, InvalidArgumentError } from 'commander';
import { runCommand } from './run';
import { inspectCommand } from './inspect-command';
import { workerCommand } from './worker';
import { batchCommand, batchConcurrencyCommand, batchSignalCommand, batchStatusCommand } from './batch';
import { reportCommand } from './report';
import { MAX_BATCH_CONCURRENCY } from '../workflows/batch-types';
import { runSimServerFromArgs } from '../backbones/sim/server-main';
import { UserError } from './errors';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

export function buildProgram(): Command {
  const program = new Command('imagent')
    .description('Durable, test-time-scaled image generation on Temporal (the ImAgent method).')
    .showHelpAfterError();

  program
    .command('run')
    .description('Run the agent on one prompt (and an image to edit) and print each step as it happens.')
    .argument('<prompt>', 'what to generate, or the edit instruction when --image is given')
    .option('--image <file>', 'a PNG to edit (editing mode)')
    .option('--t-max <steps>', 'most steps the agent may take', integer('--t-max', 1, 32))
    .option('--n <candidates>', 'candidates per Best-of-N step', integer('--n', 1, 32))
    .option('--pool <name>', 'GPU pool to run the model calls on')
    .option('--id <workflowId>', 'workflow id (re-using one attaches to that run)')
    .option('--seed <seed>', 'seed base (default: the workflow id); the same seed reproduces a run\'s draws')
    .option('--out <file>', 'copy the final image here')
    .option('--json', 'print the result as JSON instead of the live view')
    .action(runCommand);

  program
    .command('inspect')
    .description('Rebuild a run\'s trajectory from its event history (running, completed or failed).')
    .argument('<workflowId>')
    .option('--json', 'print JSON')
    .action(inspectCommand);

  const batch = program
    .command('batch')
    .description('Run the agent on every line of a JSON Lines manifest, durably, and watch it (Ctrl-C detaches).')
    .enablePositionalOptions()
    .argument('<manifest>', 'a .jsonl file or s3:// URI; each line {"id", "prompt", "image"?, "options"?: {"tMax", "n", "pool", "seed"}}')
    .option('--id <batchId>', 'batch id (default: from the manifest\'s content, so the same manifest resumes its batch)')
    .option('--concurrency <k>', 'items running at once (default 16)', integer('--concurrency', 1, MAX_BATCH_CONCURRENCY))
    .option('--t-max <steps>', 'most steps per item', integer('--t-max', 1, 32))
    .option('--n <candidates>', 'candidates per Best-of-N step', integer('--n', 1, 32))
    .option('--pool <name>', 'GPU pool to run the model calls on')
    .option('--out <dir>', 'write each succeeded item\'s final image to DIR/<id>.png at the end')
    .action(batchCommand);
  batch
    .command('status')
    .description('Show a batch\'s progress until it ends (re-attaches after Ctrl-C), or how it ended.')
    .argument('<batchId>')
    .option('--json', 'print one progress object and exit')
    .option('--out <dir>', 'write each succeeded item\'s final image to DIR/<id>.png at the end')
    .action(batchStatusCommand);
  for (const [kind, what] of [
    ['pause', 'Stop starting new items; running ones finish.'],
    ['resume', 'Start new items again after a pause.'],
    ['cancel', 'Stop starting new items and cancel the running ones; the batch ends with a summary.'],
  ] as const) {
    batch
      .command(kind)
      .description(what)
      .argument('<batchId>')
      .action((batchId: string) => batchSignalCommand(kind, batchId));
  }
  batch
    .command('concurrency')
    .description('Change how many items a running batch runs at once.')
    .argument('<batchId>')
    .argument('<k>', 'items at once', integer('Concurrency', 1, MAX_BATCH_CONCURRENCY))
    .action(batchConcurrencyCommand);

  program
    .command('report')
    .description('Aggregate batches and runs: success, PSR/AUR/AVR, the action chosen at each step, scores, cost per image.')
    .argument('<ids...>', 'batch ids and agent workflow ids')
    .option('--json', 'print JSON')
    .action(reportCommand);

  program
    .command('worker')
    .description('Serve as a worker of a real cluster (needs TEMPORAL_ADDRESS).')
    .requiredOption('--role <role>', 'control (workflows and storage, CPU) or gpu (model calls)')
    .option('--pool <name>', 'GPU pool whose queue to poll (role gpu)')
    .option('--slots <n>', 'concurrent model calls (role gpu)', integer('--slots', 1, 256))
    .option('--backbone <kind>', 'sim or openai (role gpu; default IMAGENT_BACKBONE or sim)')
    .option('--backbone-url <url>', 'base URL of an OpenAI-compatible model server (implies --backbone openai)')
    .action(workerCommand);

  program
    .command('sim-server')
    .description('Serve the sim backbone over the OpenAI-compatible HTTP subset (a stand-in GPU model server).')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[flags...]', '--port N --host H --latency-scale X --transient-rate P --oom-rate P --hang-rate P --crash-rate P --seed N --no-edit')
    .action(async (rest: string[]) => {
      await runSimServerFromArgs(rest);
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    // Stack traces help us, not users; IMAGENT_DEBUG=1 shows them.
    const debug = process.env.IMAGENT_DEBUG === '1' && !(err instanceof UserError);
    const message = err instanceof Error ? (debug ? (err.stack ?? err.message) : err.message) : String(err);
    process.stderr.write(`imagent: ${message}\n`);
    process.exitCode = 1;
  }
}
