// The simulated unified model (SIM.md) behind the Backbone interface: generation through the
// error model and the pixel side, editing from pixels, chat through the template answerer, with
// a latency model and injected faults for orchestration and reliability tests.
import { z } from 'zod';
import type { BackboneCapabilities } from '../../workflows/types';
import { BackboneError, type Backbone, type ChatRequest, type EditRequest, type GenerateRequest } from '../backbone';
import { answer } from './chat';
import { applyEdit } from './edit';
import { applyErrors } from './errors';
import { checkEdit, checkImage, type CheckResult } from './groundtruth';
import { parsePrompt } from './language';
import { layoutScene } from './layout';
import { renderInstances } from './render';
import { hashString, mulberry32, rngFor } from './rng';
import { readImage } from './vision';

/** Seconds one operation keeps a real GPU busy, before latencyScale: a BAGEL-class model at 512 px. */
export const SIM_LATENCY_SECONDS = { generate: 1.0, edit: 1.0, chat: 0.25 } as const;
export type SimOperation = keyof typeof SIM_LATENCY_SECONDS;

const rate = z.number().min(0, 'a rate is a probability from 0 to 1').max(1, 'a rate is a probability from 0 to 1');

export const simOptionsSchema = z
  .object({
    canEdit: z.boolean().default(true),
    /** Probability that a controller answer breaks the answer format. */
    instructionNoise: rate.default(0),
    /** Multiplies SIM_LATENCY_SECONDS; 0 answers at once. */
    latencyScale: z.number().min(0, 'latencyScale cannot be negative').default(0),
    faults: z
      .object({
        /** Calls failing as a busy or restarting server would (HTTP 503): retryable. */
        transientRate: rate.default(0),
        /** Calls failing with "CUDA out of memory": retryable. */
        oomRate: rate.default(0),
        /** Calls that never answer until their signal aborts, to trip heartbeat and start-to-close timeouts. */
        hangRate: rate.default(0),
      })
      .strict()
      .refine((f) => f.transientRate + f.oomRate + f.hangRate <= 1, 'fault rates together cannot exceed 1')
      .default({ transientRate: 0, oomRate: 0, hangRate: 0 }),
    /** Mixed into every request seed: two sims with different seeds are two different "models". */
    seed: z.number().int().optional(),
    /** Canvas side when a generate request gives no usable width and height. */
    size: z.number().int().min(64, 'size must be at least 64 pixels').max(2048, 'size above 2048 is almost certainly a mistake').default(512),
  })
  .strict();

export type SimOptions = z.input<typeof simOptionsSchema>;
export type SimFaults = NonNullable<SimOptions['faults']>;

/** The signal's own reason when it is an Error (Temporal aborts with its cancellation failure). */
function aborted(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('The request was aborted before the sim answered.', { cause: reason });
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(aborted(signal));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Never resolves; rejects when `signal` aborts. A hang without a signal hangs for good, as a real one does. */
function hang(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(aborted(signal));
    else signal.addEventListener('abort', () => reject(aborted(signal)), { once: true });
  });
}

/** The width of a PNG from its header; readImage has already checked the bytes are a PNG. */
function pngWidth(png: Buffer): number {
  return png.readUInt32BE(16);
}

export class SimBackbone implements Backbone {
  readonly capabilities: BackboneCapabilities;
  private readonly options: z.output<typeof simOptionsSchema>;
  /** Faults come from their own stream, so a retried call can succeed where the first failed. */
  private readonly faultRng: () => number;

  constructor(options: SimOptions = {}) {
    this.options = simOptionsSchema.parse(options);
    this.capabilities = { name: 'sim', canEdit: this.options.canEdit, canThink: true, simulated: true };
    this.faultRng = mulberry32(this.options.seed ?? 0);
  }

  async chat(request: ChatRequest): Promise<string> {
    await this.begin('chat', request.signal);
    const users = request.messages.filter((m) => m.role === 'user');
    const last = users.at(-1);
    if (!last) throw new BackboneError('BackboneBadRequest', 'A chat request needs at least one user message.');
    const images = (last.images?.length ? last.images : users.flatMap((m) => m.images ?? [])).map((i) => i.png);
    return answer(last.text, images, { seed: this.seedFor(request.seed ?? 0), instructionNoise: this.options.instructionNoise });
  }

  async generate(request: GenerateRequest): Promise<Buffer> {
    await this.begin('generate', request.signal);
    const size = this.sizeFor(request.width, request.height);
    const seed = this.seedFor(request.seed);
    const plan = applyErrors(parsePrompt(request.prompt), request.prompt, seed);
    const instances = layoutScene(plan.scene, rngFor('layout', seed, request.prompt), size);
    return renderInstances(instances, size);
  }

  async edit(request: EditRequest): Promise<Buffer> {
    if (!this.options.canEdit) {
      throw new BackboneError('UnsupportedOperation', 'This sim backbone was configured without editing (canEdit: false), like Janus-Pro; use a backbone that can edit.');
    }
    await this.begin('edit', request.signal);
    const source = readImage(request.image);
    const size = pngWidth(request.image);
    const result = applyEdit(source, request.instruction, this.seedFor(request.seed), size);
    return renderInstances(result.instances, size);
  }

  /** Faults first, then the operation's latency; both give way to an aborted signal. */
  private async begin(operation: SimOperation, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw aborted(signal);
    const { transientRate, oomRate, hangRate } = this.options.faults;
    const draw = this.faultRng();
    if (draw < hangRate) await hang(signal);
    if (draw < hangRate + transientRate) {
      throw new BackboneError('BackboneUnavailable', `The sim backbone answered HTTP 503 (a simulated transient fault) to ${operation}; retrying should succeed.`);
    }
    const ms = SIM_LATENCY_SECONDS[operation] * this.options.latencyScale * 1000;
    if (ms > 0) await wait(ms, signal);
    if (draw < hangRate + transientRate + oomRate) {
      throw new BackboneError('BackboneOutOfMemory', `CUDA out of memory (simulated) during ${operation}: tried to allocate 2.00 GiB; retry later or on a GPU with more free memory.`);
    }
  }

  private seedFor(seed: number): number {
    return this.options.seed === undefined ? seed : hashString(`${this.options.seed}:${seed}`);
  }

  private sizeFor(width: number, height: number): number {
    if (!(width > 0 && height > 0)) return this.options.size;
    if (width !== height) {
      throw new BackboneError('BackboneBadRequest', `The sim draws square images only; asked for ${width}x${height}. Pass the same width and height.`);
    }
    if (!Number.isInteger(width) || width < 64 || width > 2048) {
      throw new BackboneError('BackboneBadRequest', `The sim draws from 64 to 2048 pixels a side, in whole pixels; asked for ${width}.`);
    }
    return width;
  }
}

/** Ground truth for benchmarks: how a generated image scores against its prompt, exactly. */
export function scoreGeneration(prompt: string, png: Buffer): CheckResult {
  return checkImage(parsePrompt(prompt).scene, readImage(png));
}

/** Ground truth for benchmarks: how an edit scores against its source and instruction, exactly. */
export function scoreEdit(source: Buffer, instruction: string, result: Buffer): CheckResult {
  return checkEdit(readImage(source), instruction, readImage(result));
}

export type { CheckResult } from './groundtruth';
