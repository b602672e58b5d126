// The sim model behind the OpenAI-compatible HTTP subset the `openai` backbone speaks, with
// injectable faults (overload, GPU out of memory, hangs, crashes) so the network path and the
// retry machinery are tested for real on CPU.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { BackboneError, type ChatMessage } from '../backbone';
import { DEFAULT_IMAGE_SIZE, describeZodError } from '../../workflows/types';
import { SimBackbone, type SimOptions } from './index';
import { MultipartError, multipartBoundary, parseMultipart } from './multipart';
import { mulberry32 } from './rng';

/** The one model id this server serves. */
export const SIM_MODEL_ID = 'sim';

/** Bodies above this are refused; a 2048x2048 PNG in base64 is far below it. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

const rate = (name: string) => z.number().min(0, `${name} must be between 0 and 1`).max(1, `${name} must be between 0 and 1`).default(0);

const faultsSchema = z
  .object({
    transientRate: rate('transientRate'),
    oomRate: rate('oomRate'),
    hangRate: rate('hangRate'),
    crashRate: rate('crashRate'),
    seed: z.number().int().default(0),
  })
  .strict()
  .refine((f) => f.transientRate + f.oomRate + f.hangRate + f.crashRate <= 1, 'the fault rates add up to more than 1');
export type SimServerFaults = z.input<typeof faultsSchema>;

export interface SimServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  sim?: SimOptions;
  faults?: SimServerFaults;
  /** What a crash fault does; by default the process kills itself, as a crashed model server would die. */
  onCrash?: () => void;
}

export type FaultKind = 'transient' | 'oom' | 'hang' | 'crash';

export interface SimServerStats {
  requests: number;
  /** Keyed "METHOD /path". */
  byRoute: Record<string, number>;
  faults: Record<FaultKind, number>;
}

export interface SimServer {
  /** The API root, for example http://127.0.0.1:8000/v1. */
  url: string;
  port: number;
  /** Stops listening and drops every open connection, hung ones included. */
  close(): Promise<void>;
  stats(): SimServerStats;
}

/** An answer that is not a success, in OpenAI's error shape. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function badField(field: string, problem: string, code = 'invalid_value'): HttpError {
  return new HttpError(400, `${field}: ${problem}`, 'invalid_request_error', code);
}

function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, describeZodError(parsed.error, 'body'), 'invalid_request_error', 'invalid_value');
  return parsed.data;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const isPng = (bytes: Buffer) => bytes.subarray(0, 8).equals(PNG_SIGNATURE);

const modelField = z.string({ error: 'is required (the sim serves "sim")' }).min(1, 'must not be empty');
const seedField = z.number({ error: 'must be an integer' }).int('must be an integer').optional();

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({
    url: z.string().regex(/^data:image\/png;base64,/, 'must be a data:image/png;base64 URL (the sim reads no remote images)'),
  }),
});
const chatBodySchema = z.object({
  model: modelField,
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'user', 'assistant']),
        content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textPart, imagePart]))]),
      }),
      { error: 'is required: an array of messages' },
    )
    .min(1, 'must hold at least one message'),
  seed: seedField,
  temperature: z.number().min(0).max(2).optional(),
});

const generationBodySchema = z.object({
  model: modelField,
  prompt: z.string({ error: 'is required' }).min(1, 'must not be empty'),
  n: z.literal(1, { error: 'the sim makes one image per request; send n=1' }).optional(),
  size: z
    .string()
    .regex(/^\d+x\d+$/, 'must be WIDTHxHEIGHT, for example 512x512')
    .optional(),
  response_format: z.literal('b64_json', { error: 'the sim answers b64_json only' }).optional(),
  seed: seedField,
});

const editFieldsSchema = z.object({
  model: modelField,
  prompt: z.string({ error: 'is required' }).min(1, 'must not be empty'),
  n: z.literal('1', { error: 'the sim makes one image per request; send n=1' }).optional(),
  response_format: z.literal('b64_json', { error: 'the sim answers b64_json only' }).optional(),
  seed: z.string().regex(/^-?\d+$/, 'must be an integer').optional(),
});

function decodeDataUrl(url: string, field: string): Buffer {
  const png = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
  if (!isPng(png)) throw badField(field, 'is not a PNG image', 'InvalidImage');
  return png;
}

function checkModel(model: string): void {
  if (model !== SIM_MODEL_ID) {
    throw new HttpError(404, `model: "${model}" does not exist; this server serves "${SIM_MODEL_ID}".`, 'invalid_request_error', 'model_not_found');
  }
}

/** A sim failure as the HTTP answer a real model server would give. */
function httpErrorFor(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof BackboneError) {
    if (err.permanent) return new HttpError(400, err.message, 'invalid_request_error', err.code);
    if (err.code === 'BackboneOutOfMemory') return new HttpError(503, err.message, 'server_error', err.code);
    if (err.code === 'BackboneRateLimited') return new HttpError(429, err.message, 'rate_limit_error', err.code, { 'retry-after': '1' });
    return new HttpError(503, err.message, 'server_error', err.code, { 'retry-after': '1' });
  }
  return new HttpError(500, `The sim failed: ${err instanceof Error ? err.message : String(err)}`, 'server_error');
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body: larger than ${MAX_BODY_BYTES} bytes.`, 'invalid_request_error');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw badField('body', `is not valid JSON (${err instanceof Error ? err.message : String(err)})`, 'invalid_json');
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const roughTokens = (text: string) => Math.ceil(text.length / 4);

export async function startSimServer(options: SimServerOptions = {}): Promise<SimServer> {
  const faults = faultsSchema.safeParse(options.faults ?? {});
  if (!faults.success) throw new Error(`Invalid sim server faults: ${describeZodError(faults.error, 'faults')}.`);
  const { transientRate, oomRate, hangRate, crashRate, seed } = faults.data;
  const drawFault = mulberry32(seed);
  const onCrash = options.onCrash ?? (() => process.kill(process.pid, 'SIGKILL'));
  const sim = new SimBackbone(options.sim);
  const defaultSize = options.sim?.size ?? DEFAULT_IMAGE_SIZE;
  const stats: SimServerStats = { requests: 0, byRoute: {}, faults: { transient: 0, oom: 0, hang: 0, crash: 0 } };
  let completions = 0;

  /** One draw per model request; the rates partition [0, 1), so each is honoured exactly in expectation. */
  function fault(): FaultKind | undefined {
    const r = drawFault();
    let edge = crashRate;
    if (r < edge) return 'crash';
    if (r < (edge += hangRate)) return 'hang';
    if (r < (edge += oomRate)) return 'oom';
    if (r < (edge += transientRate)) return 'transient';
    return undefined;
  }

  async function modelRoute(req: IncomingMessage, res: ServerResponse, signal: AbortSignal, route: string): Promise<void> {
    const body = await readBody(req);
    const kind = fault();
    if (kind) {
      stats.faults[kind] += 1;
      if (kind === 'crash') {
        onCrash();
        req.socket.destroy();
        return;
      }
      if (kind === 'hang') return; // the socket stays open until the client gives up or close()
      if (kind === 'oom') {
        throw new HttpError(
          503,
          'CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.35 GiB total capacity; 77.80 GiB already allocated). The sim injected this fault.',
          'server_error',
        );
      }
      throw new HttpError(503, 'The model server is overloaded; retry later.', 'server_error', null, { 'retry-after': '1' });
    }
    const created = Math.floor(Date.now() / 1000);
    if (route === 'POST /v1/chat/completions') {
      const input = validate(chatBodySchema, parseJson(body));
      checkModel(input.model);
      const messages: ChatMessage[] = input.messages.map((m, i) => {
        if (typeof m.content === 'string') return { role: m.role, text: m.content };
        const text = m.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
        const images = m.content.flatMap((p, j) =>
          p.type === 'image_url' ? [{ png: decodeDataUrl(p.image_url.url, `messages.${i}.content.${j}.image_url.url`) }] : [],
        );
        return images.length > 0 ? { role: m.role, text, images } : { role: m.role, text };
      });
      const content = await sim.chat({ messages, seed: input.seed, temperature: input.temperature, signal });
      const promptTokens = roughTokens(messages.map((m) => m.text).join('\n'));
      const completionTokens = roughTokens(content);
      completions += 1;
      send(res, 200, {
        id: `chatcmpl-sim-${completions}`,
        object: 'chat.completion',
        created,
        model: SIM_MODEL_ID,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      });
      return;
    }
    if (route === 'POST /v1/images/generations') {
      const input = validate(generationBodySchema, parseJson(body));
      checkModel(input.model);
      const [width, height] = input.size ? input.size.split('x').map(Number) : [undefined, undefined];
      if (width !== undefined && (width < 64 || width > 2048 || height === undefined || height < 64 || height > 2048)) {
        throw badField('size', 'each side must be between 64 and 2048 pixels');
      }
      const png = await sim.generate({
        prompt: input.prompt,
        seed: input.seed ?? 0,
        width: width ?? defaultSize,
        height: height ?? defaultSize,
        signal,
      });
      send(res, 200, { created, data: [{ b64_json: png.toString('base64') }] });
      return;
    }
    // POST /v1/images/edits
    let parts;
    try {
      parts = parseMultipart(body, multipartBoundary(req.headers['content-type']));
    } catch (err) {
      if (err instanceof MultipartError) throw badField('body', `is not valid multipart/form-data: ${err.message}`, 'invalid_multipart');
      throw err;
    }
    const image = parts.find((p) => p.name === 'image' || p.name === 'image[]');
    if (!image) throw badField('image', 'is required: a PNG file part', 'missing_field');
    if (!isPng(image.data)) throw badField('image', 'is not a PNG image', 'InvalidImage');
    const fields = Object.fromEntries(parts.filter((p) => p.filename === undefined).map((p) => [p.name, p.data.toString('utf8')]));
    const input = validate(editFieldsSchema, fields);
    checkModel(input.model);
    if (!sim.capabilities.canEdit) {
      throw new HttpError(400, 'This sim server was started without editing (--no-edit).', 'invalid_request_error', 'UnsupportedOperation');
    }
    const png = await sim.edit({ image: image.data, instruction: input.prompt, seed: input.seed === undefined ? 0 : Number(input.seed), signal });
    send(res, 200, { created, data: [{ b64_json: png.toString('base64') }] });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method ?? 'GET'} ${path}`;
    stats.requests += 1;
    stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
    // A client that hangs up stops the sim's simulated GPU time too.
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    try {
      switch (route) {
        case 'GET /v1/models':
          send(res, 200, {
            object: 'list',
            data: [
              {
                id: SIM_MODEL_ID,
                object: 'model',
                created: 0,
                owned_by: 'imagent-sim',
                imagent: { canEdit: sim.capabilities.canEdit, canThink: sim.capabilities.canThink, simulated: true },
              },
            ],
          });
          return;
        case 'POST /v1/chat/completions':
        case 'POST /v1/images/generations':
        case 'POST /v1/images/edits':
          await modelRoute(req, res, gone.signal, route);
          return;
        default:
          throw new HttpError(404, `No route ${route}; the sim server answers GET /v1/models and POST /v1/chat/completions, /v1/images/generations, /v1/images/edits.`, 'invalid_request_error', 'not_found');
      }
    } catch (err) {
      if (gone.signal.aborted || res.headersSent) return;
      const http = httpErrorFor(err);
      send(res, http.status, { error: { message: http.message, type: http.type, code: http.code } }, http.headers);
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`The sim server could not listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 0} (${err.code ?? err.message}); choose another --port.`, { cause: err })),
    );
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/v1`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
    stats: () => ({ requests: stats.requests, byRoute: { ...stats.byRoute }, faults: { ...stats.faults } }),
  };
}
