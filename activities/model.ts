// Model activities: every backbone call the agent makes. They run on GPU workers, read and write
// images through the BlobStore (only references cross Temporal), and turn backbone errors into
// typed Temporal failures: permanent ones are non-retryable, transient ones retry with backoff.
import { Context } from '@temporalio/activity';
import type { Backbone, ChatImage } from '../backbones/backbone';
import {
  parseBoxedText,
  parseControllerAnswer,
  parseEnhancement,
  parseScore,
} from '../prompts/parse';
import {
  renderController,
  renderEnhancement,
  renderRefinement,
  renderRevision,
  renderScoring,
  type Mode,
} from '../prompts/render';
import type { BlobStore } from '../storage/blobstore';
import type {
  ActionName,
  BackboneCapabilities,
  Decision,
  HistoryEntry,
  ImageRef,
} from '../workflows/types';
import { toActivityFailure } from './failures';

export interface BackboneRegistry {
  get(name: string): Backbone | undefined;
  names(): string[];
}

export interface ModelDeps {
  backbones: BackboneRegistry;
  store: BlobStore;
  /** Longest gap between heartbeats; a third of the call's heartbeat timeout when that is shorter. */
  heartbeatIntervalMs?: number;
}

/** What every model activity reports besides its result: time the model was busy. */
export interface Timed {
  modelMs: number;
}

interface Base {
  backbone: string;
}

interface PromptContext extends Base {
  mode: Mode;
  originalPrompt: string;
  currentPrompt: string;
  /** The source image when editing; attached first so the model can see what was asked to change. */
  source?: ImageRef;
  seed: number;
}

export interface DecideInput extends PromptContext {
  image?: ImageRef;
  iteration: number;
  tMax: number;
  history: HistoryEntry[];
  offered: ActionName[];
}
export type DecideOutput = Decision & Timed;

export type EnhanceInput = PromptContext;
export interface EnhanceOutput extends Timed {
  raw: string;
  plan: string;
  prompt: string | null;
}

export interface ReviseInput extends PromptContext {
  image: ImageRef;
}
export interface ReviseOutput extends Timed {
  raw: string;
  prompt: string | null;
}

export type PlanEditInput = ReviseInput;
export interface PlanEditOutput extends Timed {
  raw: string;
  instruction: string | null;
}

export interface GenerateInput extends Base {
  prompt: string;
  seed: number;
  size: number;
}
export interface EditInput extends Base {
  image: ImageRef;
  instruction: string;
  seed: number;
}
export interface ImageOutput extends Timed {
  image: ImageRef;
}

export interface ScoreInput extends Base {
  mode: Mode;
  originalPrompt: string;
  image: ImageRef;
  source?: ImageRef;
  seed: number;
}
export interface ScoreOutput extends Timed {
  raw: string;
  score: number | null;
  reasoning: string;
}

/**
 * The activity context when running as a Temporal activity; none when the same functions are
 * called directly (the benchmarks' plain in-process loop), which then runs without heartbeats.
 */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export function createModelActivities(deps: ModelDeps) {
  const heartbeatEvery = deps.heartbeatIntervalMs ?? 5_000;

  function backboneNamed(name: string): Backbone {
    const backbone = deps.backbones.get(name);
    if (!backbone) {
      throw toActivityFailure(
        Object.assign(new Error(`This GPU worker does not serve backbone "${name}"; it serves ${deps.backbones.names().join(', ')}. Start the workflow with one of those, or start a worker for "${name}".`), {
          code: 'BackboneNotServed',
          permanent: true,
        }),
      );
    }
    return backbone;
  }

  /**
   * Runs one backbone call, heartbeating while it is in flight so a dead worker is noticed within
   * the heartbeat timeout, and passing Temporal's cancellation on to the call.
   */
  async function call<T>(work: (signal: AbortSignal | undefined) => Promise<T>): Promise<{ value: T; modelMs: number }> {
    const ctx = activityContext();
    const started = performance.now();
    const every = Math.max(100, Math.min(heartbeatEvery, (ctx?.info.heartbeatTimeoutMs ?? Infinity) / 3));
    const timer = ctx ? setInterval(() => ctx.heartbeat(), every) : undefined;
    try {
      const value = await work(ctx?.cancellationSignal);
      return { value, modelMs: Math.round(performance.now() - started) };
    } catch (err) {
      throw toActivityFailure(err);
    } finally {
      clearInterval(timer);
    }
  }

  async function images(...refs: (ImageRef | undefined)[]): Promise<ChatImage[]> {
    const present = refs.filter((r): r is ImageRef => r !== undefined);
    try {
      return await Promise.all(present.map(async (ref) => ({ png: await deps.store.getImage(ref) })));
    } catch (err) {
      throw toActivityFailure(err);
    }
  }

  async function chat(backbone: string, text: string, attached: ChatImage[], seed: number) {
    const model = backboneNamed(backbone);
    return call((signal) => model.chat({ messages: [{ role: 'user', text, images: attached }], seed, signal }));
  }

  async function store(png: Buffer): Promise<ImageRef> {
    try {
      return await deps.store.putImage(png);
    } catch (err) {
      throw toActivityFailure(err);
    }
  }

  return {
    async describeBackbone(input: Base): Promise<BackboneCapabilities> {
      return Promise.resolve({ ...backboneNamed(input.backbone).capabilities });
    },

    async decide(input: DecideInput): Promise<DecideOutput> {
      const text = renderController({
        mode: input.mode,
        originalPrompt: input.originalPrompt,
        currentPrompt: input.currentPrompt,
        iteration: input.iteration,
        tMax: input.tMax,
        hasImage: input.image !== undefined,
        history: input.history,
        offered: input.offered,
      });
      const { value: raw, modelMs } = await chat(input.backbone, text, await images(input.source, input.image), input.seed);
      return { ...parseControllerAnswer(raw), modelMs };
    },

    async enhance(input: EnhanceInput): Promise<EnhanceOutput> {
      const text = renderEnhancement(input);
      const { value: raw, modelMs } = await chat(input.backbone, text, await images(input.source), input.seed);
      return { raw, ...parseEnhancement(raw), modelMs };
    },

    async revise(input: ReviseInput): Promise<ReviseOutput> {
      const text = renderRevision(input);
      const { value: raw, modelMs } = await chat(input.backbone, text, await images(input.source, input.image), input.seed);
      return { raw, prompt: parseBoxedText(raw), modelMs };
    },

    async planEdit(input: PlanEditInput): Promise<PlanEditOutput> {
      const text = renderRefinement(input);
      const { value: raw, modelMs } = await chat(input.backbone, text, await images(input.source, input.image), input.seed);
      return { raw, instruction: parseBoxedText(raw), modelMs };
    },

    async generate(input: GenerateInput): Promise<ImageOutput> {
      const model = backboneNamed(input.backbone);
      const { value: png, modelMs } = await call((signal) =>
        model.generate({ prompt: input.prompt, seed: input.seed, width: input.size, height: input.size, signal }),
      );
      return { image: await store(png), modelMs };
    },

    async edit(input: EditInput): Promise<ImageOutput> {
      const model = backboneNamed(input.backbone);
      const [source] = await images(input.image);
      const { value: png, modelMs } = await call((signal) =>
        model.edit({ image: source.png, instruction: input.instruction, seed: input.seed, signal }),
      );
      return { image: await store(png), modelMs };
    },

    async score(input: ScoreInput): Promise<ScoreOutput> {
      const text = renderScoring(input);
      const { value: raw, modelMs } = await chat(input.backbone, text, await images(input.source, input.image), input.seed);
      return { raw, ...parseScore(raw), modelMs };
    },
  };
}

export type ModelActivities = ReturnType<typeof createModelActivities>;
