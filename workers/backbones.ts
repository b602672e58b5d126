// The backbones a GPU worker serves, built from configuration.
import type { Backbone } from '../backbones/backbone';
import { OpenAIBackbone, openAIConfigFromEnv } from '../backbones/openai';
import { SimBackbone } from '../backbones/sim';

export interface BackboneChoice {
  kind: 'sim' | 'openai';
  /** Seconds multiplier of the sim's latency model (0: instant). */
  simLatencyScale?: number;
  /** Overrides IMAGENT_OPENAI_BASE_URL. */
  baseUrl?: string;
}

/** Registered under the kind's name, which is what workflows name in options.backbone. */
export async function createBackbones(choice: BackboneChoice, env: NodeJS.ProcessEnv = process.env): Promise<Record<string, Backbone>> {
  if (choice.kind === 'sim') return { sim: new SimBackbone({ latencyScale: choice.simLatencyScale ?? 0 }) };
  const config = openAIConfigFromEnv(choice.baseUrl ? { ...env, IMAGENT_OPENAI_BASE_URL: choice.baseUrl } : env);
  return { openai: await OpenAIBackbone.connect(config) };
}
