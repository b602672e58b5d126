// The sim server over raw HTTP: injected faults, validation of what clients send, and the server
// as its own process (including the crash fault that kills it).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PNG } from 'pngjs';
import { SimBackbone } from '../../backbones/sim';
import { startSimServer, type SimServer } from '../../backbones/sim/server';

const ROOT = join(__dirname, '..', '..');
const PROMPT = 'two red apples to the left of a blue cup';

function post(server: SimServer, path: string, body: unknown, init: RequestInit = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

async function errorOf(response: Response): Promise<{ status: number; message: string; type: string; code: string | null }> {
  const body = (await response.json()) as { error: { message: string; type: string; code: string | null } };
  return { status: response.status, ...body.error };
}

/** A multipart body written by hand, so malformed ones can be sent too. */
function multipart(boundary: string, parts: Array<{ name: string; value: string | Buffer; filename?: string }>, close = true): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename ? `; filename="${part.filename}"` : '';
    const type = part.filename ? '\r\nContent-Type: image/png' : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}${type}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n'));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const generation = { model: 'sim', prompt: PROMPT, size: '64x64', seed: 1, response_format: 'b64_json' };

describe('sim server faults', () => {
  it('honours the fault rates roughly over 200 requests with a fixed seed, and counts each fault in stats', async () => {
    let crashes = 0;
    const server = await startSimServer({
      faults: { transientRate: 0.2, oomRate: 0.1, hangRate: 0.1, crashRate: 0.05, seed: 7 },
      onCrash: () => {
        crashes += 1;
      },
    });
    const seen = { ok: 0, transient: 0, oom: 0, dropped: 0, hung: 0, other: 0 };
    let settled = 0;
    let closing = false;
    const requests = Array.from({ length: 200 }, async () => {
      try {
        const response = await post(server, '/images/generations', generation);
        const text = await response.text();
        if (response.status === 200) seen.ok += 1;
        else if (response.status === 503 && text.includes('overloaded') && response.headers.get('retry-after') === '1') seen.transient += 1;
        else if (response.status === 503 && text.includes('CUDA out of memory')) seen.oom += 1;
        else seen.other += 1;
      } catch {
        // Cut without an answer: by a crash while serving, or by close() for a request left hanging.
        if (closing) seen.hung += 1;
        else seen.dropped += 1;
      } finally {
        settled += 1;
      }
    });
    // Hung requests never settle on their own: wait for everything else, then close the server.
    const deadline = Date.now() + 60_000;
    while (settled + server.stats().faults.hang < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const { faults, requests: count, byRoute } = server.stats();
    closing = true;
    await server.close();
    await Promise.all(requests);

    expect(count).toBe(200);
    expect(byRoute['POST /v1/images/generations']).toBe(200);
    expect(seen.other).toBe(0);
    expect(seen.transient).toBe(faults.transient);
    expect(seen.oom).toBe(faults.oom);
    expect(seen.dropped).toBe(faults.crash);
    expect(seen.hung).toBe(faults.hang);
    expect(crashes).toBe(faults.crash);
    expect(seen.ok).toBe(200 - faults.transient - faults.oom - faults.hang - faults.crash);
    expect(faults.transient).toBeGreaterThanOrEqual(20);
    expect(faults.transient).toBeLessThanOrEqual(60);
    expect(faults.oom).toBeGreaterThanOrEqual(6);
    expect(faults.oom).toBeLessThanOrEqual(35);
    expect(faults.hang).toBeGreaterThanOrEqual(6);
    expect(faults.hang).toBeLessThanOrEqual(35);
    expect(faults.crash).toBeGreaterThanOrEqual(2);
    expect(faults.crash).toBeLessThanOrEqual(22);
  });

  it('injects the same faults in the same order for the same seed', async () => {
    const statuses = async () => {
      const server = await startSimServer({ faults: { transientRate: 0.3, oomRate: 0.2, seed: 11 } });
      try {
        const out: number[] = [];
        for (let i = 0; i < 30; i++) {
          const response = await post(server, '/images/generations', generation);
          const text = await response.text();
          out.push(response.status === 503 && text.includes('CUDA') ? 507 : response.status);
        }
        return out;
      } finally {
        await server.close();
      }
    };
    const first = await statuses();
    expect(first).toEqual(await statuses());
    expect(new Set(first)).toEqual(new Set([200, 503, 507]));
  });

  it('leaves model listing alone: faults apply to model calls only', async () => {
    const server = await startSimServer({ faults: { transientRate: 1 } });
    try {
      const response = await fetch(`${server.url}/models`);
      expect(response.status).toBe(200);
      expect(server.stats().faults.transient).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('sim server requests', () => {
  let server: SimServer;
  beforeAll(async () => {
    server = await startSimServer();
  });
  afterAll(() => server.close());

  it('lists the sim model with its capabilities under our imagent convention', async () => {
    const body = (await (await fetch(`${server.url}/models`)).json()) as { data: Array<{ id: string; imagent: unknown }> };
    expect(body.data).toEqual([expect.objectContaining({ id: 'sim', imagent: { canEdit: true, canThink: true, simulated: true } })]);
  });

  it('answers chat in the OpenAI shape', async () => {
    const response = await post(server, '/chat/completions', { model: 'sim', messages: [{ role: 'user', content: 'Say something.' }], seed: 1 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'sim',
      choices: [{ index: 0, message: { role: 'assistant', content: expect.any(String) }, finish_reason: 'stop' }],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) },
    });
    expect(typeof body.id).toBe('string');
  });

  it('refuses a body that is not JSON, naming the body', async () => {
    const error = await errorOf(await post(server, '/images/generations', '{"model": "sim", '));
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_json' });
    expect(error.message).toMatch(/^body: is not valid JSON/);
  });

  it('refuses missing and invalid fields, naming each', async () => {
    const missing = await errorOf(await post(server, '/images/generations', { model: 'sim', seed: 'one' }));
    expect(missing.status).toBe(400);
    expect(missing.message).toContain('prompt: is required');
    expect(missing.message).toContain('seed:');
    const badSize = await errorOf(await post(server, '/images/generations', { ...generation, size: 'big' }));
    expect(badSize.message).toContain('size: must be WIDTHxHEIGHT');
    const remoteImage = await errorOf(
      await post(server, '/chat/completions', {
        model: 'sim',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
      }),
    );
    expect(remoteImage.message).toContain('messages.0.content.1.image_url.url');
  });

  it('answers an unknown model with 404 model_not_found and an unknown route with 404', async () => {
    const model = await errorOf(await post(server, '/images/generations', { ...generation, model: 'dall-e-3' }));
    expect(model).toMatchObject({ status: 404, code: 'model_not_found' });
    expect(model.message).toContain('"sim"');
    expect((await errorOf(await post(server, '/images/variations', {}))).status).toBe(404);
  });

  it('edits from multipart/form-data and reports a permanent sim error as 400 with its code', async () => {
    const source = await new SimBackbone().generate({ prompt: PROMPT, seed: 2, width: 128, height: 128 });
    const ok = await fetch(`${server.url}/images/edits`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: multipart('xyz', [
        { name: 'image', value: source, filename: 'source.png' },
        { name: 'prompt', value: 'make the cup green' },
        { name: 'model', value: 'sim' },
        { name: 'seed', value: '4' },
        { name: 'response_format', value: 'b64_json' },
      ]),
    });
    expect(ok.status).toBe(200);
    const { data } = (await ok.json()) as { data: Array<{ b64_json: string }> };
    expect(Buffer.from(data[0].b64_json, 'base64').subarray(1, 4).toString()).toBe('PNG');

    // A PNG the sim did not draw: the sim itself refuses it, permanently.
    const photo = new PNG({ width: 64, height: 64 });
    photo.data.fill(128);
    const foreign = PNG.sync.write(photo);
    const refused = await errorOf(
      await fetch(`${server.url}/images/edits`, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
        body: multipart('xyz', [
          { name: 'image', value: foreign, filename: 'x.png' },
          { name: 'prompt', value: 'make it blue' },
          { name: 'model', value: 'sim' },
        ]),
      }),
    );
    expect(refused.status).toBe(400);
    expect(refused.code).toBe('InvalidImage');
  });

  it('refuses malformed multipart bodies, naming what is wrong', async () => {
    const send = (contentType: string, body: Buffer) => fetch(`${server.url}/images/edits`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const fields = [
      { name: 'prompt', value: 'make it blue' },
      { name: 'model', value: 'sim' },
    ];
    const noBoundary = await errorOf(await send('multipart/form-data', multipart('b', fields)));
    expect(noBoundary.status).toBe(400);
    expect(noBoundary.message).toContain('no boundary');
    const unclosed = await errorOf(await send('multipart/form-data; boundary=b', Buffer.from('--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi')));
    expect(unclosed.message).toMatch(/^body: is not valid multipart\/form-data: part 1 is not closed/);
    const noImage = await errorOf(await send('multipart/form-data; boundary=b', multipart('b', fields)));
    expect(noImage.message).toMatch(/^image: is required/);
    const notPng = await errorOf(await send('multipart/form-data; boundary=b', multipart('b', [{ name: 'image', value: 'GIF89a', filename: 'a.gif' }, ...fields])));
    expect(notPng).toMatchObject({ status: 400, code: 'InvalidImage' });
    expect(notPng.message).toMatch(/^image: is not a PNG/);
    const png = await new SimBackbone().generate({ prompt: PROMPT, seed: 2, width: 64, height: 64 });
    const badSeed = await errorOf(
      await send('multipart/form-data; boundary=b', multipart('b', [{ name: 'image', value: png, filename: 'a.png' }, ...fields, { name: 'seed', value: 'x' }])),
    );
    expect(badSeed.message).toMatch(/^seed: must be an integer/);
  });

  it('drops the connection without an answer when a crash fault fires in-process', async () => {
    let crashed = 0;
    const crashing = await startSimServer({ faults: { crashRate: 1 }, onCrash: () => (crashed += 1) });
    try {
      await expect(post(crashing, '/images/generations', generation)).rejects.toThrow('fetch failed');
      expect(crashed).toBe(1);
      expect(crashing.stats().faults.crash).toBe(1);
    } finally {
      await crashing.close();
    }
  });
});

describe('sim server as its own process', () => {
  type Child = ChildProcessByStdio<null, Readable, Readable>;

  function startProcess(args: string[]): Child {
    return spawn(process.execPath, ['--require', 'tsx/cjs', join(ROOT, 'backbones', 'sim', 'server-main.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  function firstLine(child: Child): Promise<string> {
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.once('exit', (code) => reject(new Error(`the sim server exited (${code}) before it listened: ${err}`)));
    });
  }

  function exited(child: Child): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
    return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  it('prints its URL when ready, answers /v1/models and exits cleanly on SIGTERM', async () => {
    const child = startProcess(['--port', '0', '--no-edit', '--seed', '3']);
    try {
      const line = await firstLine(child);
      const match = /^sim server listening on (http:\/\/127\.0\.0\.1:\d+\/v1)$/.exec(line);
      expect(match).not.toBeNull();
      const body = (await (await fetch(`${match?.[1]}/models`)).json()) as { data: Array<{ id: string; imagent: { canEdit: boolean } }> };
      expect(body.data[0]).toMatchObject({ id: 'sim', imagent: { canEdit: false } });
      child.kill('SIGTERM');
      expect(await exited(child)).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('dies abruptly on a crash fault (crash rate 1)', async () => {
    const child = startProcess(['--crash-rate', '1']);
    try {
      const url = (await firstLine(child)).replace('sim server listening on ', '');
      await expect(
        fetch(`${url}/images/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(generation) }),
      ).rejects.toThrow('fetch failed');
      expect(await exited(child)).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses an invalid flag, naming it, and exits non-zero', async () => {
    const child = startProcess(['--oom-rate', '2']);
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    expect(await exited(child)).toEqual({ code: 1, signal: null });
    expect(err).toContain('--oom-rate must be between 0 and 1');
  });
});
