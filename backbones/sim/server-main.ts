// The sim server as its own process (`imagent sim-server` runs the same function): a stand-in
// model server for GPU workers on machines without a GPU, and the thing crash faults kill.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { describeZodError } from '../../workflows/types';
import { startSimServer, type SimServer } from './server';

const number = (flag: string) => z.coerce.number({ error: `--${flag} must be a number` });
const rate = (flag: string) =>
  number(flag).min(0, `--${flag} must be between 0 and 1`).max(1, `--${flag} must be between 0 and 1`).default(0);

const flagsSchema = z.object({
  port: number('port').int('--port must be an integer').min(0).max(65535, '--port must be at most 65535').default(0),
  host: z.string().min(1).default('127.0.0.1'),
  'latency-scale': number('latency-scale').min(0, '--latency-scale must not be negative').default(0),
  'transient-rate': rate('transient-rate'),
  'oom-rate': rate('oom-rate'),
  'hang-rate': rate('hang-rate'),
  'crash-rate': rate('crash-rate'),
  seed: number('seed').int('--seed must be an integer').default(0),
  'no-edit': z.boolean().default(false),
});

const USAGE =
  'usage: sim-server [--port N] [--host H] [--latency-scale X] [--transient-rate P] [--oom-rate P] [--hang-rate P] [--crash-rate P] [--seed N] [--no-edit]';

/**
 * Starts the sim server from command-line flags (without the node and script arguments), prints
 * its URL once it listens and closes it on SIGTERM or SIGINT.
 */
export async function runSimServerFromArgs(argv: readonly string[]): Promise<SimServer> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'latency-scale': { type: 'string' },
        'transient-rate': { type: 'string' },
        'oom-rate': { type: 'string' },
        'hang-rate': { type: 'string' },
        'crash-rate': { type: 'string' },
        seed: { type: 'string' },
        'no-edit': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const parsed = flagsSchema.safeParse(values);
  if (!parsed.success) throw new Error(`${describeZodError(parsed.error, 'flags')}\n${USAGE}`);
  const flags = parsed.data;
  const server = await startSimServer({
    port: flags.port,
    host: flags.host,
    sim: { canEdit: !flags['no-edit'], latencyScale: flags['latency-scale'] },
    faults: {
      transientRate: flags['transient-rate'],
      oomRate: flags['oom-rate'],
      hangRate: flags['hang-rate'],
      crashRate: flags['crash-rate'],
      seed: flags.seed,
    },
  });
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`sim server: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`sim server listening on ${server.url}\n`);
  return server;
}

if (require.main === module) {
  runSimServerFromArgs(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`sim server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
