import { BackboneError } from '../../backbones/backbone';
import { SIM_LATENCY_SECONDS, SimBackbone, scoreEdit, scoreGeneration } from '../../backbones/sim/index';
import { readImage } from '../../backbones/sim/vision';

const PROMPT = 'two red apples to the left of a blue cup';
const request = (seed: number, prompt = PROMPT) => ({ prompt, seed, width: 512, height: 512 });

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
}

describe('SimBackbone', () => {
  test('says what it is', () => {
    expect(new SimBackbone().capabilities).toEqual({ name: 'sim', canEdit: true, canThink: true, simulated: true });
    expect(new SimBackbone({ canEdit: false }).capabilities.canEdit).toBe(false);
  });

  test('draws the same bytes for the same prompt and seed, and varies with the seed', async () => {
    const sim = new SimBackbone();
    // Buffer.equals: jest's deep equality walks a PNG byte by byte, which takes seconds.
    expect((await sim.generate(request(7))).equals(await new SimBackbone().generate(request(7)))).toBe(true);
    const images = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => sim.generate(request(seed))));
    expect(new Set(images.map((png) => png.toString('base64'))).size).toBeGreaterThan(3);
    const other = new SimBackbone({ seed: 99 });
    expect((await other.generate(request(7))).equals(await new SimBackbone({ seed: 99 }).generate(request(7)))).toBe(true);
    expect((await other.generate(request(7))).equals(await sim.generate(request(7)))).toBe(false);
  });

  test('draws a readable PNG of the requested size, most often right for a simple prompt', async () => {
    const sim = new SimBackbone();
    let correct = 0;
    for (let seed = 0; seed < 40; seed++) {
      const png = await sim.generate({ prompt: 'a photo of a cat', seed, width: 256, height: 256 });
      expect(png.readUInt32BE(16)).toBe(256);
      if (scoreGeneration('a photo of a cat', png).correct) correct++;
    }
    expect(correct).toBeGreaterThan(32);
  });

  test('generates and reads a 512 px image in milliseconds', async () => {
    const sim = new SimBackbone();
    const started = performance.now();
    for (let seed = 0; seed < 20; seed++) readImage(await sim.generate(request(seed, 'three green bananas above a yellow bowl and two cats')));
    expect((performance.now() - started) / 20).toBeLessThan(150);
  });

  test('edits its own images and refuses when configured without editing', async () => {
    const png = await new SimBackbone().generate(request(1));
    const edited = await new SimBackbone().edit({ image: png, instruction: 'add a dog', seed: 3 });
    expect(scoreEdit(png, 'add a dog', edited).total).toBeGreaterThan(0);
    const error = await failure(new SimBackbone({ canEdit: false }).edit({ image: png, instruction: 'add a dog', seed: 3 }));
    expect(error).toBeInstanceOf(BackboneError);
    expect(error).toMatchObject({ code: 'UnsupportedOperation', permanent: true });
  });

  test('rejects requests it cannot serve with a permanent error', async () => {
    const sim = new SimBackbone();
    expect(await failure(sim.generate({ prompt: PROMPT, seed: 1, width: 512, height: 256 }))).toMatchObject({ code: 'BackboneBadRequest', permanent: true });
    expect(await failure(sim.chat({ messages: [{ role: 'system', text: 'hello' }] }))).toMatchObject({ code: 'BackboneBadRequest' });
    expect(await failure(sim.edit({ image: Buffer.from('not a png'), instruction: 'add a dog', seed: 1 }))).toMatchObject({ code: 'InvalidImage', permanent: true });
  });

  test('validates its options with sentences that name the field', () => {
    expect(() => new SimBackbone({ instructionNoise: 2 })).toThrow(/instructionNoise/);
    expect(() => new SimBackbone({ faults: { transientRate: 0.7, oomRate: 0.5 } })).toThrow(/cannot exceed 1/);
    expect(() => new SimBackbone({ latencyScale: -1 })).toThrow(/latencyScale/);
  });
});

describe('SimBackbone faults and latency', () => {
  test('injects transient and out-of-memory failures as retryable errors', async () => {
    const transient = await failure(new SimBackbone({ faults: { transientRate: 1 } }).generate(request(1)));
    expect(transient).toMatchObject({ code: 'BackboneUnavailable', permanent: false });
    const oom = await failure(new SimBackbone({ faults: { oomRate: 1 } }).chat({ messages: [{ role: 'user', text: 'hi' }] }));
    expect(oom).toMatchObject({ code: 'BackboneOutOfMemory', permanent: false });
    expect((oom as Error).message).toContain('CUDA out of memory');
  });

  test('fails about as often as configured, so a retry usually succeeds', async () => {
    const sim = new SimBackbone({ faults: { transientRate: 0.3 }, seed: 5 });
    let failed = 0;
    for (let k = 0; k < 300; k++) {
      try {
        await sim.chat({ messages: [{ role: 'user', text: 'hi' }] });
      } catch {
        failed++;
      }
    }
    expect(failed / 300).toBeGreaterThan(0.2);
    expect(failed / 300).toBeLessThan(0.4);
  });

  test('a hang lasts until the request is aborted', async () => {
    const sim = new SimBackbone({ faults: { hangRate: 1 } });
    const controller = new AbortController();
    let settled = false;
    const call = sim.generate({ ...request(1), signal: controller.signal }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    const reason = new Error('cancelled by the test');
    controller.abort(reason);
    expect(await failure(call)).toBe(reason);
  });

  test('spends the modelled time per operation and gives it up when aborted', async () => {
    const sim = new SimBackbone({ latencyScale: 0.1 });
    let started = performance.now();
    await sim.chat({ messages: [{ role: 'user', text: 'hi' }] });
    expect(performance.now() - started).toBeGreaterThanOrEqual(SIM_LATENCY_SECONDS.chat * 100 - 5);
    started = performance.now();
    await sim.generate(request(1));
    expect(performance.now() - started).toBeGreaterThanOrEqual(SIM_LATENCY_SECONDS.generate * 100 - 5);

    const slow = new SimBackbone({ latencyScale: 100 });
    const controller = new AbortController();
    started = performance.now();
    const call = slow.generate({ ...request(1), signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const error = await failure(call);
    expect(error).toBeInstanceOf(Error);
    expect(performance.now() - started).toBeLessThan(1000);

    const before = new AbortController();
    before.abort();
    await expect(new SimBackbone().chat({ messages: [{ role: 'user', text: 'hi' }], signal: before.signal })).rejects.toBeDefined();
  });
});
