// What every benchmark module receives from bench/run.ts.
import { availableParallelism, cpus, totalmem } from 'node:os';
import type { BenchStack } from './cluster';

export interface BenchContext {
  quick: boolean;
  /** The shared Temporal stack, started on first use. */
  stack(): Promise<BenchStack>;
  /** A folder for this run's temporary files. */
  scratch: string;
  log(message: string): void;
}

/** "2 CPUs (Intel Xeon ...), 23 GiB": where the figures were measured. */
export function machineDescription(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${availableParallelism()} CPUs (${model}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}
