// Configuration from the environment, validated once. No configuration at all means the embedded
// default: a local dev server, both workers in this process, the sim backbone, a file store.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { describeZodError } from '../workflows/types';
import { UserError } from './errors';

const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'use host:port, for example temporal.internal:7233').optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  IMAGENT_HOME: z.string().min(1).default('.imagent'),
  IMAGENT_STORE: z
    .string()
    .regex(/^(file|s3):\/\//, 'use file:///absolute/dir or s3://bucket/prefix')
    .optional(),
  IMAGENT_BACKBONE: z.enum(['sim', 'openai']).default('sim'),
  IMAGENT_GPU_SLOTS: z.coerce.number().int().min(1).max(256).optional(),
  IMAGENT_SIM_LATENCY: z.coerce.number().min(0).max(100).default(0),
});

export interface Config {
  /** Absent: start the embedded default. */
  temporalAddress?: string;
  namespace: string;
  home: string;
  storeUri: string;
  backbone: 'sim' | 'openai';
  gpuSlots?: number;
  simLatencyScale: number;
}

export class ConfigError extends UserError {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`The environment is not a valid imagent configuration: ${describeZodError(parsed.error, 'environment')}.`);
  }
  const e = parsed.data;
  const home = resolve(e.IMAGENT_HOME);
  return {
    temporalAddress: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    home,
    storeUri: e.IMAGENT_STORE ?? pathToFileURL(resolve(home, 'blobs')).href,
    backbone: e.IMAGENT_BACKBONE,
    gpuSlots: e.IMAGENT_GPU_SLOTS,
    simLatencyScale: e.IMAGENT_SIM_LATENCY,
  };
}
