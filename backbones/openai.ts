// The Backbone over any OpenAI-compatible HTTP endpoint: OpenAI itself, vLLM-Omni, our Python model
// server and the sim server. Every HTTP failure is classified here, once, as transient or permanent.
import { z } from 'zod';
import { describeZodError, type BackboneCapabilities } from '../workflows/types';
import { BackboneError, type Backbone, type ChatRequest, type EditRequest, type GenerateRequest } from './backbone';

export interface OpenAIConfig {
  /** The API root, for example http://gpu-host:8000/v1 (no trailing slash needed). */
  baseUrl: string;
  apiKey?: string;
  chatModel: string;
  imageModel: string;
  /** Model for /images/edits; configuring one means the endpoint can edit unless discovery says otherwise. */
  editModel?: string;
  /** Overrides what discovery finds. */
  capabilities?: Partial<Pick<BackboneCapabilities, 'canEdit' | 'canThink'>>;
  /** Per request, including reading the answer. Default 300000 (five minutes: a slow GPU generation). */
  timeoutMs?: number;
  /** Extra fields for image requests (for example guidance or steps); ours win on a clash. */
  extra?: Record<string, unknown>;
}

export const DEFAULT_OPENAI_TIMEOUT_MS = 300_000;

/**
 * Our convention for servers that know what they serve: a model entry in GET /models may carry
 * `imagent: { canEdit, canThink, simulated? }`. The sim server and our model server do.
 */
const modelsSchema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      imagent: z.object({ canEdit: z.boolean(), canThink: z.boolean(), simulated: z.boolean().optional() }).optional(),
    }),
  ),
});
type DiscoveredCapabilities = NonNullable<z.infer<typeof modelsSchema>['data'][number]['imagent']>;

const chatResponseSchema = z.object({
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullish(),
        message: z.object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
        }),
      }),
    )
    .min(1, 'the answer has no choices'),
});

const imageResponseSchema = z.object({
  data: z
    .array(z.object({ b64_json: z.string().nullish(), url: z.string().nullish() }))
    .min(1, 'the answer has no images'),
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function isPng(bytes: Buffer): boolean {
  return bytes.length > PNG_SIGNATURE.length && bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE);
}

function toDataUrl(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** What one request was, for error messages that say where it went. */
interface Call {
  method: 'GET' | 'POST';
  url: string;
  baseUrl: string;
}

function where(call: Call): string {
  return `${call.method} ${call.url}`;
}

/** The server's own words from an error body: OpenAI's {error:{message}}, vLLM's {message}, FastAPI's {detail}. */
function serverMessage(body: string): { message: string; code?: string; type?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const text = body.trim().replace(/\s+/g, ' ');
    return { message: text.length > 300 ? `${text.slice(0, 300)}...` : text };
  }
  const record = (value: unknown): Record<string, unknown> | undefined =>
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  const top = record(parsed);
  const inner = record(top?.error) ?? top;
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' ? value : value === undefined || value === null ? undefined : JSON.stringify(value);
  return {
    message: text(inner?.message) ?? text(top?.detail) ?? text(top?.error) ?? body.slice(0, 300),
    code: typeof inner?.code === 'string' ? inner.code : undefined,
    type: typeof inner?.type === 'string' ? inner.type : undefined,
  };
}

/** Retry-After is either delay-seconds or an HTTP-date. */
function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const CONTENT_REFUSAL_CODES = new Set(['content_policy_violation', 'content_filter']);

/**
 * The one place an HTTP answer that is not a success becomes a BackboneError.
 *
 * | status / body                                   | code                   | retried |
 * | body code content_policy_violation/content_filter | BackboneContentRefused | no      |
 * | 5xx whose body says "out of memory"             | BackboneOutOfMemory    | yes     |
 * | 429                                             | BackboneRateLimited    | yes     |
 * | 408, 500, 502, 503, 504, other 5xx              | BackboneUnavailable    | yes     |
 * | 501; 4xx with body code UnsupportedOperation    | UnsupportedOperation   | no      |
 * | 4xx with body code InvalidImage                 | InvalidImage           | no      |
 * | 401, 403                                        | BackboneUnauthorized   | no      |
 * | 400, 404, 422 and any other status              | BackboneBadRequest     | no      |
 */
function errorForStatus(call: Call, status: number, body: string, retryAfterHeader: string | null): BackboneError {
  const server = serverMessage(body);
  const said = server.message ? `: "${server.message}"` : '';
  const head = `${where(call)} answered ${status}${said}.`;
  const retryAfterMs = parseRetryAfter(retryAfterHeader);

  if (CONTENT_REFUSAL_CODES.has(server.code ?? '') || CONTENT_REFUSAL_CODES.has(server.type ?? '')) {
    return new BackboneError('BackboneContentRefused', `${head} The model refused this content; change the prompt or image.`);
  }
  if (status >= 500 && /out of memory/i.test(body)) {
    return new BackboneError(
      'BackboneOutOfMemory',
      `${head} The GPU ran out of memory; the call will be retried. If it keeps happening, give the GPU worker fewer slots or ask for smaller images.`,
      { retryAfterMs },
    );
  }
  if (status === 429) {
    return new BackboneError(
      'BackboneRateLimited',
      `${head} The server is rate limiting this client; the call will be retried${retryAfterMs !== undefined ? ` after ${retryAfterMs} ms` : ''}. If it persists, lower the GPU worker's slots or raise the server's limit.`,
      { retryAfterMs },
    );
  }
  if (status === 501) {
    return new BackboneError('UnsupportedOperation', `${head} The server does not implement this endpoint; use a server that does, or a backbone configured without it.`);
  }
  if (status === 408 || status >= 500) {
    return new BackboneError(
      'BackboneUnavailable',
      `${head} The model server is busy, restarting or failing; the call will be retried. If it persists, check the server at ${call.baseUrl}.`,
      { retryAfterMs },
    );
  }
  if (status === 401 || status === 403) {
    return new BackboneError(
      'BackboneUnauthorized',
      `${head} The server rejected the credentials; set IMAGENT_OPENAI_API_KEY (or OPENAI_API_KEY) to a key it accepts.`,
    );
  }
  // Servers that speak our codes (the sim server, our model server) can say exactly what is wrong.
  if (server.code === 'InvalidImage' || server.code === 'UnsupportedOperation') {
    return new BackboneError(server.code, `${head} This will not succeed on retry; change the image or the action.`);
  }
  const hint =
    status === 404
      ? `Check IMAGENT_OPENAI_BASE_URL (usually ending in /v1) and that the server serves this model and endpoint.`
      : `The request itself was rejected and will not be retried; check the model names and options for this server.`;
  return new BackboneError('BackboneBadRequest', `${head} ${hint}`);
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

/** Fields of an error without instanceof: fetch's errors come from another realm under test runners. */
function errorLike(value: unknown): ErrorLike {
  return typeof value === 'object' && value !== null ? value : { message: String(value) };
}

/** A request that got no HTTP answer: refused, reset, timed out or cancelled by the caller. */
function errorForNoAnswer(call: Call, err: unknown, timeoutMs: number, caller: AbortSignal | undefined): unknown {
  // Cancellation (Temporal's, for one) is not a backbone failure: hand back the caller's own reason.
  if (caller?.aborted) return caller.reason ?? err;
  const error = errorLike(err);
  if (error.name === 'TimeoutError') {
    return new BackboneError(
      'BackboneUnavailable',
      `${where(call)} got no complete answer within ${timeoutMs} ms; the call will be retried. If the server is healthy but slow, raise IMAGENT_OPENAI_TIMEOUT_MS.`,
      { cause: err },
    );
  }
  // undici reports "fetch failed" and puts the socket error (ECONNREFUSED, ECONNRESET, ...) in cause.
  const cause = error.cause === undefined ? undefined : errorLike(error.cause);
  const detail = [cause?.code, cause?.message, error.message].find((d): d is string => typeof d === 'string' && d.length > 0) ?? 'unknown error';
  return new BackboneError(
    'BackboneUnavailable',
    `${where(call)} failed before the server answered (${detail}); the call will be retried. Check that the model server at ${call.baseUrl} is running and reachable.`,
    { cause: err },
  );
}

function badAnswer(call: Call, problem: string): BackboneError {
  return new BackboneError(
    'BackboneBadRequest',
    `${where(call)} answered 200 but ${problem}. Check that IMAGENT_OPENAI_BASE_URL points at an OpenAI-compatible API and that the model supports this request.`,
  );
}

function parseAnswer<T>(call: Call, body: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const start = body.trim().slice(0, 80).replace(/\s+/g, ' ');
    throw badAnswer(call, `its body is not JSON (it starts with "${start || '(empty)'}")`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw badAnswer(call, `its body is not the expected shape (${describeZodError(parsed.error, 'body')})`);
  return parsed.data;
}

export class OpenAIBackbone implements Backbone {
  readonly capabilities: BackboneCapabilities;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  /** Capabilities come from `config.capabilities`, then `discovered`, then the configured models. Prefer connect(). */
  constructor(
    private readonly config: OpenAIConfig,
    discovered?: DiscoveredCapabilities,
  ) {
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = config.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS;
    this.capabilities = {
      name: 'openai',
      canEdit: config.capabilities?.canEdit ?? discovered?.canEdit ?? config.editModel !== undefined,
      // Any chat model can write a plan before the prompt; a server says otherwise through discovery.
      canThink: config.capabilities?.canThink ?? discovered?.canThink ?? true,
      simulated: discovered?.simulated ?? false,
    };
  }

  /** Asks the server what it serves (GET /models), then builds the backbone. */
  static async connect(config: OpenAIConfig, signal?: AbortSignal): Promise<OpenAIBackbone> {
    const probe = new OpenAIBackbone(config);
    return new OpenAIBackbone(config, await probe.discover(signal));
  }

  private async discover(signal?: AbortSignal): Promise<DiscoveredCapabilities | undefined> {
    let body: string;
    try {
      body = await this.request(this.callFor('GET', '/models'), undefined, signal);
    } catch (err) {
      // Servers without a model list are fine: the configuration decides. Anything else (down,
      // wrong key) is worth failing on now rather than at the first model call.
      if (err instanceof BackboneError && err.code === 'BackboneBadRequest') return undefined;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return undefined;
    }
    const parsed = modelsSchema.safeParse(json);
    if (!parsed.success) return undefined;
    // The chat model plays the controller, so its entry speaks first.
    const wanted = [this.config.chatModel, this.config.imageModel, this.config.editModel];
    return wanted.map((id) => parsed.data.data.find((m) => m.id === id)?.imagent).find((c) => c !== undefined);
  }

  async chat(request: ChatRequest): Promise<string> {
    const messages = request.messages.map((m) => ({
      role: m.role,
      content: [
        { type: 'text', text: m.text },
        ...(m.images ?? []).map((image) => ({ type: 'image_url', image_url: { url: toDataUrl(image.png) } })),
      ],
    }));
    const body = { model: this.config.chatModel, messages, seed: request.seed, temperature: request.temperature };
    const call = this.callFor('POST', '/chat/completions');
    const answer = parseAnswer(call, await this.request(call, JSON.stringify(body), request.signal), chatResponseSchema);
    const choice = answer.choices[0];
    if (choice.finish_reason === 'content_filter' || choice.message.refusal) {
      const reason = choice.message.refusal ? `: "${choice.message.refusal}"` : ' (finish_reason content_filter)';
      throw new BackboneError('BackboneContentRefused', `${where(call)}: the model refused to answer${reason}. Change the prompt or image.`);
    }
    if (typeof choice.message.content !== 'string') throw badAnswer(call, 'the first choice has no text content');
    return choice.message.content;
  }

  async generate(request: GenerateRequest): Promise<Buffer> {
    const body = {
      ...this.config.extra,
      model: this.config.imageModel,
      prompt: request.prompt,
      n: 1,
      size: `${request.width}x${request.height}`,
      response_format: 'b64_json',
      seed: request.seed,
    };
    const call = this.callFor('POST', '/images/generations');
    return this.pngFrom(call, await this.request(call, JSON.stringify(body), request.signal));
  }

  async edit(request: EditRequest): Promise<Buffer> {
    if (!this.capabilities.canEdit) {
      throw new BackboneError(
        'UnsupportedOperation',
        `The OpenAI-compatible backbone at ${this.baseUrl} cannot edit images; configure IMAGENT_OPENAI_EDIT_MODEL (and IMAGENT_OPENAI_CAN_EDIT=true) for a server that can.`,
      );
    }
    if (!isPng(request.image)) {
      throw new BackboneError('InvalidImage', 'The image to edit is not a PNG; only PNG images can be sent for editing.');
    }
    const form = new FormData();
    for (const [key, value] of Object.entries(this.config.extra ?? {})) {
      form.set(key, typeof value === 'string' ? value : JSON.stringify(value));
    }
    form.set('image', new Blob([request.image], { type: 'image/png' }), 'image.png');
    form.set('prompt', request.instruction);
    form.set('model', this.config.editModel ?? this.config.imageModel);
    form.set('n', '1');
    form.set('seed', String(request.seed));
    form.set('response_format', 'b64_json');
    const call = this.callFor('POST', '/images/edits');
    return this.pngFrom(call, await this.request(call, form, request.signal));
  }

  private pngFrom(call: Call, body: string): Buffer {
    const first = parseAnswer(call, body, imageResponseSchema).data[0];
    if (!first.b64_json) {
      throw badAnswer(call, first.url ? 'it sent a URL instead of b64_json (the server ignored response_format)' : 'its first image has no b64_json');
    }
    const png = Buffer.from(first.b64_json, 'base64');
    if (!isPng(png)) {
      const start = png.subarray(0, 8).toString('hex');
      throw badAnswer(call, `its image is not a PNG (the bytes start ${start || '(empty)'}); ask the server for PNG output`);
    }
    return png;
  }

  private callFor(method: Call['method'], path: string): Call {
    return { method, url: `${this.baseUrl}${path}`, baseUrl: this.baseUrl };
  }

  /** One HTTP exchange; returns the body of a 2xx answer and throws a BackboneError (or the caller's abort reason) otherwise. */
  private async request(call: Call, body: string | FormData | undefined, caller?: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = caller ? AbortSignal.any([caller, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (typeof body === 'string') headers['content-type'] = 'application/json';
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await fetch(call.url, { method: call.method, headers, body, signal });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      text = await response.text();
    } catch (err) {
      throw errorForNoAnswer(call, err, this.timeoutMs, caller);
    }
    if (status < 200 || status >= 300) throw errorForStatus(call, status, text, retryAfter);
    return text;
  }
}

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const envSchema = z.object({
  IMAGENT_OPENAI_BASE_URL: z
    .string({ error: "is not set; set it to the server's API root, for example http://gpu-host:8000/v1" })
    .trim()
    .regex(/^https?:\/\/[^\s/]+/, 'must be an http(s) URL such as http://gpu-host:8000/v1'),
  IMAGENT_OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  IMAGENT_OPENAI_CHAT_MODEL: z
    .string({ error: 'is not set; set it to the model id that answers chat (see GET /v1/models)' })
    .trim()
    .min(1, 'is blank; set it to the model id that answers chat (see GET /v1/models)'),
  IMAGENT_OPENAI_IMAGE_MODEL: z.string().trim().min(1).optional(),
  IMAGENT_OPENAI_EDIT_MODEL: z.string().trim().min(1).optional(),
  IMAGENT_OPENAI_CAN_EDIT: booleanFlag.optional(),
  IMAGENT_OPENAI_TIMEOUT_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int('must be a whole number of milliseconds')
    .min(1000, 'must be at least 1000 (one second); a model call takes longer than that')
    .optional(),
});

export class OpenAIConfigError extends Error {
  override name = 'OpenAIConfigError';
}

/**
 * Reads the OpenAI-compatible backbone's configuration from the environment. The image model
 * defaults to the chat model: a unified model (BAGEL, Janus-Pro) serves both under one id.
 */
export function openAIConfigFromEnv(env: NodeJS.ProcessEnv = process.env): OpenAIConfig {
  // A variable set to the empty string (common in container manifests) counts as not set.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new OpenAIConfigError(`The OpenAI-compatible backbone is not configured: ${describeZodError(parsed.error, 'environment')}.`);
  }
  const e = parsed.data;
  return {
    baseUrl: e.IMAGENT_OPENAI_BASE_URL.replace(/\/+$/, ''),
    apiKey: e.IMAGENT_OPENAI_API_KEY ?? e.OPENAI_API_KEY,
    chatModel: e.IMAGENT_OPENAI_CHAT_MODEL,
    imageModel: e.IMAGENT_OPENAI_IMAGE_MODEL ?? e.IMAGENT_OPENAI_CHAT_MODEL,
    editModel: e.IMAGENT_OPENAI_EDIT_MODEL,
    capabilities: e.IMAGENT_OPENAI_CAN_EDIT === undefined ? undefined : { canEdit: e.IMAGENT_OPENAI_CAN_EDIT },
    timeoutMs: e.IMAGENT_OPENAI_TIMEOUT_MS,
  };
}
