// `imagent run`: start (or attach to) one agent run and show its steps live.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { agentWorkflow, trajectoryQuery } from '../workflows';
import { CONTROL_TASK_QUEUE, type AgentInput, type AgentResult, type Observation } from '../workflows/types';
import { installRuntimeLogging } from '../workers/logging';
import { loadConfig } from './config';
import { openCluster, type Cluster } from './embedded';
import { UserError } from './errors';
import { formatMetrics, formatObservation, imageLocation, formatScore } from './format';

export interface RunFlags {
  image?: string;
  tMax?: number;
  n?: number;
  pool?: string;
  id?: string;
  seed?: string;
  out?: string;
  json?: boolean;
}

const POLL_MS = 200;

export async function runCommand(prompt: string, flags: RunFlags): Promise<void> {
  const config = loadConfig();
  installRuntimeLogging('ERROR');
  if (flags.image && !existsSync(flags.image)) throw new UserError(`The image ${flags.image} does not exist; give the path of a PNG to edit.`);
  const cluster = await openCluster(config);
  try {
    const result = await runAgent(cluster, prompt, flags, config.backbone);
    if (flags.out) {
      const out = resolve(flags.out);
      mkdirSync(dirname(out), { recursive: true });
      if (result.finalImage.uri.startsWith('file://')) copyFileSync(imageLocation(result.finalImage), out);
      else await import('node:fs/promises').then(async (fs) => fs.writeFile(out, await cluster.store.getImage(result.finalImage)));
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(`\n${formatMetrics(result.metrics)}\n`);
    process.stdout.write(`final image (${formatScore(result.finalScore)}): ${flags.out ? resolve(flags.out) : imageLocation(result.finalImage)}\n`);
    process.stdout.write(`inspect later with: imagent inspect ${result.workflowId}\n`);
  } finally {
    await cluster.close();
  }
}

async function runAgent(cluster: Cluster, prompt: string, flags: RunFlags, backbone: string): Promise<AgentResult> {
  const image = flags.image ? await cluster.store.putImage(readFileSync(flags.image)).catch((err: Error) => {
    throw new UserError(`Could not use ${flags.image} as the image to edit: ${err.message}`);
  }) : undefined;
  const input: AgentInput = {
    prompt,
    image,
    options: {
      ...(flags.tMax === undefined ? {} : { tMax: flags.tMax }),
      ...(flags.n === undefined ? {} : { n: flags.n }),
      ...(flags.pool === undefined ? {} : { pool: flags.pool }),
      ...(flags.seed === undefined ? {} : { seed: flags.seed }),
      backbone,
    },
  };
  const workflowId = flags.id ?? `run-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${Math.random().toString(36).slice(2, 8)}`;
  let handle: WorkflowHandle<typeof agentWorkflow>;
  try {
    handle = await cluster.client.workflow.start(agentWorkflow, { taskQueue: CONTROL_TASK_QUEUE, workflowId, args: [input] });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    handle = cluster.client.workflow.getHandle(workflowId);
    if (!flags.json) process.stdout.write(`attaching to the existing run ${workflowId}\n`);
  }
  if (!flags.json) {
    const model = backbone === 'sim' ? 'the sim backbone (a simulator, not a real image model)' : `the ${backbone} backbone`;
    const where = cluster.embedded ? 'the embedded default' : `namespace ${cluster.namespace}`;
    process.stdout.write(`imagent: "${prompt}"${image ? ' (editing)' : ''} as workflow ${workflowId} on ${where} with ${model}\n\n`);
  }
  const printed = new Set<number>();
  const show = (trajectory: readonly Observation[]) => {
    if (flags.json) return;
    for (const o of trajectory) {
      if (printed.has(o.step)) continue;
      printed.add(o.step);
      process.stdout.write(`${formatObservation(o)}\n`);
    }
  };
  const done = handle.result();
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    await Promise.race([done.catch(() => undefined), sleep(POLL_MS)]);
    if (!finished) show(await handle.query(trajectoryQuery).catch(() => []));
  }
  const result = await done;
  show(result.trajectory);
  return result;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
