// The OpenAI-compatible backbone over real HTTP: against the sim server for the happy paths and
// injected faults, and against tiny hand-written servers for answers the sim never gives.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BackboneError } from '../../backbones/backbone';
import { OpenAIBackbone, openAIConfigFromEnv, type OpenAIConfig } from '../../backbones/openai';
import { SimBackbone } from '../../backbones/sim';
import { startSimServer, type SimServer } from '../../backbones/sim/server';
import { parseScore } from '../../prompts/parse';
import { renderScoring } from '../../prompts/render';

const PROMPT = 'two red apples to the left of a blue cup';

function simConfig(server: SimServer, extra: Partial<OpenAIConfig> = {}): OpenAIConfig {
  return { baseUrl: server.url, chatModel: 'sim', imageModel: 'sim', ...extra };
}

/** A one-handler HTTP server for answers the sim never gives; remembers the requests it saw. */
async function tinyServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The error a promise rejects with; fails the test if it resolves. */
async function failure(promise: Promise<unknown>): Promise<BackboneError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(BackboneError);
    return err as BackboneError;
  }
  throw new Error('expected the call to fail');
}

const generateSmall = (backbone: OpenAIBackbone, extra: Partial<{ signal: AbortSignal; width: number }> = {}) =>
  backbone.generate({ prompt: PROMPT, seed: 1, width: extra.width ?? 64, height: 64, signal: extra.signal });

describe('OpenAIBackbone against the sim server', () => {
  let server: SimServer;
  let backbone: OpenAIBackbone;
  const sim = new SimBackbone();

  beforeAll(async () => {
    server = await startSimServer();
    backbone = await OpenAIBackbone.connect(simConfig(server));
  });
  afterAll(() => server.close());

  it('discovers from GET /models that the server can edit and is a simulator', () => {
    expect(backbone.capabilities).toEqual({ name: 'openai', canEdit: true, canThink: true, simulated: true });
  });

  it('sends images in chat as data URLs the model reads from their pixels', async () => {
    const image = await sim.generate({ prompt: PROMPT, seed: 4, width: 256, height: 256 });
    const messages = [{ role: 'user' as const, text: renderScoring({ mode: 'generation', originalPrompt: PROMPT }), images: [{ png: image }] }];
    const overHttp = await backbone.chat({ messages, seed: 9, temperature: 0 });
    expect(overHttp).toBe(await sim.chat({ messages, seed: 9 }));
    expect(parseScore(overHttp).score).not.toBeNull();
  });

  it('generates the same bytes as the in-process sim for the same prompt and seed', async () => {
    const request = { prompt: PROMPT, seed: 42, width: 256, height: 256 };
    const png = await backbone.generate(request);
    expect(png.equals(await sim.generate(request))).toBe(true);
  });

  it('edits through multipart/form-data, with the same result as the in-process sim', async () => {
    const source = await sim.generate({ prompt: PROMPT, seed: 5, width: 256, height: 256 });
    const request = { image: source, instruction: 'make the cup green', seed: 3 };
    const edited = await backbone.edit(request);
    expect(edited.equals(await sim.edit(request))).toBe(true);
  });

  it('refuses an edit of a non-PNG image before calling the server', async () => {
    const before = server.stats().byRoute['POST /v1/images/edits'] ?? 0;
    const err = await failure(backbone.edit({ image: Buffer.from('GIF89a not a png'), instruction: 'make it blue', seed: 1 }));
    expect(err.code).toBe('InvalidImage');
    expect(err.permanent).toBe(true);
    expect(server.stats().byRoute['POST /v1/images/edits'] ?? 0).toBe(before);
  });

  it('maps a 400 for an invalid field to a permanent BackboneBadRequest naming the field', async () => {
    const err = await failure(generateSmall(backbone, { width: 4096 }));
    expect(err.code).toBe('BackboneBadRequest');
    expect(err.permanent).toBe(true);
    expect(err.message).toContain('400');
    expect(err.message).toContain('/images/generations');
    expect(err.message).toContain('size');
  });

  it('maps an unknown model (404) to BackboneBadRequest that points at the configuration', async () => {
    const wrong = new OpenAIBackbone(simConfig(server, { imageModel: 'bagel' }));
    const err = await failure(generateSmall(wrong));
    expect(err.code).toBe('BackboneBadRequest');
    expect(err.message).toContain('404');
    expect(err.message).toContain('IMAGENT_OPENAI_BASE_URL');
  });
});

describe('OpenAIBackbone capabilities', () => {
  it('discovers that a server without editing cannot edit, and never calls it to edit', async () => {
    const server = await startSimServer({ sim: { canEdit: false } });
    try {
      const backbone = await OpenAIBackbone.connect(simConfig(server, { editModel: 'sim' }));
      expect(backbone.capabilities.canEdit).toBe(false);
      const png = await generateSmall(backbone);
      const err = await failure(backbone.edit({ image: png, instruction: 'make the cup green', seed: 1 }));
      expect(err.code).toBe('UnsupportedOperation');
      expect(err.permanent).toBe(true);
      expect(server.stats().byRoute['POST /v1/images/edits']).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('lets configuration override discovery, and falls back to the edit model where the server says nothing', async () => {
    const plain = await tinyServer((_req, res) => json(res, 200, { object: 'list', data: [{ id: 'm', object: 'model' }] }));
    try {
      const withEdit = await OpenAIBackbone.connect({ baseUrl: plain.url, chatModel: 'm', imageModel: 'm', editModel: 'm-edit' });
      expect(withEdit.capabilities).toMatchObject({ canEdit: true, simulated: false });
      const without = await OpenAIBackbone.connect({ baseUrl: plain.url, chatModel: 'm', imageModel: 'm' });
      expect(without.capabilities.canEdit).toBe(false);
      const overridden = await OpenAIBackbone.connect({ baseUrl: plain.url, chatModel: 'm', imageModel: 'm', capabilities: { canEdit: true, canThink: false } });
      expect(overridden.capabilities).toMatchObject({ canEdit: true, canThink: false });
    } finally {
      await plain.close();
    }
  });
});

describe('OpenAIBackbone failure classification', () => {
  it('maps the sim server overload (503, Retry-After: 1) to a transient BackboneUnavailable with retryAfterMs 1000', async () => {
    const server = await startSimServer({ faults: { transientRate: 1 } });
    try {
      const err = await failure(generateSmall(new OpenAIBackbone(simConfig(server))));
      expect(err.code).toBe('BackboneUnavailable');
      expect(err.permanent).toBe(false);
      expect(err.retryAfterMs).toBe(1000);
      expect(err.message).toContain('503');
      expect(err.message).toContain('overloaded');
    } finally {
      await server.close();
    }
  });

  it('maps "CUDA out of memory" to a transient BackboneOutOfMemory', async () => {
    const server = await startSimServer({ faults: { oomRate: 1 } });
    try {
      const err = await failure(generateSmall(new OpenAIBackbone(simConfig(server))));
      expect(err.code).toBe('BackboneOutOfMemory');
      expect(err.permanent).toBe(false);
      expect(err.message).toContain('CUDA out of memory');
    } finally {
      await server.close();
    }
  });

  it('times out a server that never answers, as a transient failure', async () => {
    const server = await startSimServer({ faults: { hangRate: 1 } });
    try {
      const started = Date.now();
      const err = await failure(generateSmall(new OpenAIBackbone(simConfig(server, { timeoutMs: 300 }))));
      expect(Date.now() - started).toBeLessThan(5000);
      expect(err.code).toBe('BackboneUnavailable');
      expect(err.permanent).toBe(false);
      expect(err.message).toContain('300 ms');
    } finally {
      await server.close();
    }
  });

  it('times out a server that sends headers and then stalls in the body, as a transient failure', async () => {
    const server = await tinyServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"created": 0, "data": [');
    });
    try {
      const err = await failure(generateSmall(new OpenAIBackbone({ baseUrl: server.url, chatModel: 'm', imageModel: 'm', timeoutMs: 300 })));
      expect(err.code).toBe('BackboneUnavailable');
      expect(err.message).toContain('300 ms');
    } finally {
      await server.close();
    }
  });

  it('maps a connection dropped mid-answer to a transient BackboneUnavailable', async () => {
    const server = await tinyServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"created": 0, "data": [');
      setTimeout(() => req.socket.destroy(), 20);
    });
    try {
      const err = await failure(generateSmall(new OpenAIBackbone({ baseUrl: server.url, chatModel: 'm', imageModel: 'm' })));
      expect(err.code).toBe('BackboneUnavailable');
      expect(err.permanent).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("aborts the request promptly when the caller's signal aborts, with the caller's reason", async () => {
    const server = await startSimServer({ faults: { hangRate: 1 } });
    try {
      const backbone = new OpenAIBackbone(simConfig(server, { timeoutMs: 60_000 }));
      const controller = new AbortController();
      const reason = new Error('activity cancelled');
      setTimeout(() => controller.abort(reason), 100);
      const started = Date.now();
      await expect(generateSmall(backbone, { signal: controller.signal })).rejects.toBe(reason);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await server.close();
    }
  });

  it('maps a refused connection to a transient BackboneUnavailable', async () => {
    const closed = await tinyServer(() => undefined);
    await closed.close();
    const err = await failure(generateSmall(new OpenAIBackbone({ baseUrl: closed.url, chatModel: 'm', imageModel: 'm' })));
    expect(err.code).toBe('BackboneUnavailable');
    expect(err.permanent).toBe(false);
    expect(err.message).toContain('ECONNREFUSED');
    await expect(OpenAIBackbone.connect({ baseUrl: closed.url, chatModel: 'm', imageModel: 'm' })).rejects.toMatchObject({ code: 'BackboneUnavailable' });
  });

  it('maps 401 to a permanent BackboneUnauthorized that says which key to set, and sends the key as a bearer token', async () => {
    const server = await tinyServer((_req, res) => json(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } }));
    try {
      const backbone = new OpenAIBackbone({ baseUrl: server.url, apiKey: 'wrong-key', chatModel: 'm', imageModel: 'm' });
      const err = await failure(backbone.chat({ messages: [{ role: 'user', text: 'hello' }] }));
      expect(err.code).toBe('BackboneUnauthorized');
      expect(err.permanent).toBe(true);
      expect(err.message).toContain('Incorrect API key provided.');
      expect(err.message).toContain('IMAGENT_OPENAI_API_KEY');
      expect(server.seen[0].headers.authorization).toBe('Bearer wrong-key');
    } finally {
      await server.close();
    }
  });

  it('maps content_policy_violation to a permanent BackboneContentRefused', async () => {
    const server = await tinyServer((_req, res) =>
      json(res, 400, { error: { message: 'Your request was rejected by the safety system.', type: 'invalid_request_error', code: 'content_policy_violation' } }),
    );
    try {
      const err = await failure(generateSmall(new OpenAIBackbone({ baseUrl: server.url, chatModel: 'm', imageModel: 'm' })));
      expect(err.code).toBe('BackboneContentRefused');
      expect(err.permanent).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('maps a chat answer cut by the content filter, or a refusal, to BackboneContentRefused', async () => {
    const answers = [
      { choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'content_filter' }] },
      { choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' }, finish_reason: 'stop' }] },
    ];
    const server = await tinyServer((_req, res) => json(res, 200, answers.shift()));
    try {
      const backbone = new OpenAIBackbone({ baseUrl: server.url, chatModel: 'm', imageModel: 'm' });
      expect((await failure(backbone.chat({ messages: [{ role: 'user', text: 'x' }] }))).code).toBe('BackboneContentRefused');
      const refused = await failure(backbone.chat({ messages: [{ role: 'user', text: 'x' }] }));
      expect(refused.code).toBe('BackboneContentRefused');
      expect(refused.message).toContain('I cannot help with that.');
    } finally {
      await server.close();
    }
  });

  it('maps 429 to BackboneRateLimited and honours a Retry-After HTTP date', async () => {
    const server = await tinyServer((_req, res) =>
      json(res, 429, { error: { message: 'Rate limit reached.', type: 'requests', code: 'rate_limit_exceeded' } }, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }),
    );
    try {
      const err = await failure(generateSmall(new OpenAIBackbone({ baseUrl: server.url, chatModel: 'm', imageModel: 'm' })));
      expect(err.code).toBe('BackboneRateLimited');
      expect(err.permanent).toBe(false);
      expect(err.retryAfterMs).toBeGreaterThan(25_000);
      expect(err.retryAfterMs).toBeLessThanOrEqual(30_000);
    } finally {
      await server.close();
    }
  });

  it('rejects an image answer that is not a PNG as BackboneBadRequest, saying so', async () => {
    const server = await tinyServer((_req, res) => json(res, 200, { created: 0, data: [{ b64_json: Buffer.from('GIF89a....').toString('base64') }] }));
    try {
      const err = await failure(generateSmall(new OpenAIBackbone({ baseUrl: server.url, chatModel: 'm', imageModel: 'm' })));
      expect(err.code).toBe('BackboneBadRequest');
      expect(err.message).toContain('not a PNG');
    } finally {
      await server.close();
    }
  });

  it('rejects a malformed JSON answer with an error that says the body is not JSON', async () => {
    const server = await tinyServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>gateway</html>');
    });
    try {
      const backbone = new OpenAIBackbone({ baseUrl: server.url, chatModel: 'm', imageModel: 'm' });
      const err = await failure(backbone.chat({ messages: [{ role: 'user', text: 'x' }] }));
      expect(err.code).toBe('BackboneBadRequest');
      expect(err.message).toContain('is not JSON');
      expect(err.message).toContain('<html>gateway</html>');
    } finally {
      await server.close();
    }
  });

  it('rejects a JSON answer of the wrong shape, naming the missing field', async () => {
    const server = await tinyServer((_req, res) => json(res, 200, { created: 0, images: [] }));
    try {
      const err = await failure(generateSmall(new OpenAIBackbone({ baseUrl: server.url, chatModel: 'm', imageModel: 'm' })));
      expect(err.code).toBe('BackboneBadRequest');
      expect(err.message).toContain('data');
    } finally {
      await server.close();
    }
  });
});

describe('openAIConfigFromEnv', () => {
  it('reads the configuration, defaulting the image model to the chat model and the key to OPENAI_API_KEY', () => {
    expect(
      openAIConfigFromEnv({
        IMAGENT_OPENAI_BASE_URL: 'http://gpu-host:8000/v1/',
        OPENAI_API_KEY: 'sk-test',
        IMAGENT_OPENAI_CHAT_MODEL: 'bagel',
        IMAGENT_OPENAI_CAN_EDIT: 'false',
      }),
    ).toEqual({
      baseUrl: 'http://gpu-host:8000/v1',
      apiKey: 'sk-test',
      chatModel: 'bagel',
      imageModel: 'bagel',
      editModel: undefined,
      capabilities: { canEdit: false },
      timeoutMs: undefined,
    });
    expect(
      openAIConfigFromEnv({
        IMAGENT_OPENAI_BASE_URL: 'https://api.openai.com/v1',
        IMAGENT_OPENAI_API_KEY: 'sk-ours',
        OPENAI_API_KEY: 'sk-theirs',
        IMAGENT_OPENAI_CHAT_MODEL: 'gpt-4o',
        IMAGENT_OPENAI_IMAGE_MODEL: 'dall-e-3',
        IMAGENT_OPENAI_EDIT_MODEL: 'dall-e-2',
        IMAGENT_OPENAI_TIMEOUT_MS: '60000',
      }),
    ).toMatchObject({ apiKey: 'sk-ours', imageModel: 'dall-e-3', editModel: 'dall-e-2', capabilities: undefined, timeoutMs: 60000 });
  });

  it('names each missing or invalid variable and what to set', () => {
    expect(() => openAIConfigFromEnv({})).toThrow(/IMAGENT_OPENAI_BASE_URL: is not set; set it to .*IMAGENT_OPENAI_CHAT_MODEL: is not set/);
    expect(() =>
      openAIConfigFromEnv({ IMAGENT_OPENAI_BASE_URL: 'gpu-host:8000', IMAGENT_OPENAI_CHAT_MODEL: 'm', IMAGENT_OPENAI_CAN_EDIT: 'maybe', IMAGENT_OPENAI_TIMEOUT_MS: '10' }),
    ).toThrow(/IMAGENT_OPENAI_BASE_URL: must be an http\(s\) URL.*IMAGENT_OPENAI_CAN_EDIT: must be true or false.*IMAGENT_OPENAI_TIMEOUT_MS: must be at least 1000/);
  });
});
