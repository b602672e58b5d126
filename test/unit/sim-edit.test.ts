import { PNG } from 'pngjs';
import { BackboneError } from '../../backbones/backbone';
import { EDIT_SUCCESS, applyEdit, describeEdit, editFailures, parseEdit, type EditOp } from '../../backbones/sim/edit';
import { checkEdit } from '../../backbones/sim/groundtruth';
import { SimBackbone } from '../../backbones/sim/index';
import { parsePrompt } from '../../backbones/sim/language';
import { layoutScene } from '../../backbones/sim/layout';
import { renderInstances } from '../../backbones/sim/render';
import { mulberry32 } from '../../backbones/sim/rng';
import type { Instance } from '../../backbones/sim/scene';
import { readImage } from '../../backbones/sim/vision';

/** A faithful drawing of a prompt (no generator errors), as an edit source. */
function draw(prompt: string, seed = 1, size = 512): Instance[] {
  return layoutScene(parsePrompt(prompt).scene, mulberry32(seed), size);
}

describe('reading edit instructions', () => {
  const cases: Array<[string, EditOp[]]> = [
    ['make the cup red', [{ kind: 'recolor', target: { cls: 'cup', plural: false }, color: 'red' }]],
    ['Turn the apples green.', [{ kind: 'recolor', target: { cls: 'apple', plural: true }, color: 'green' }]],
    ['change the colour of the red cup to blue', [{ kind: 'recolor', target: { cls: 'cup', color: 'red', plural: false }, color: 'blue' }]],
    ['the cup should be yellow', [{ kind: 'recolor', target: { cls: 'cup', plural: false }, color: 'yellow' }]],
    ['remove the dog', [{ kind: 'remove', target: { cls: 'dog', plural: false } }]],
    ['remove two apples', [{ kind: 'remove', target: { cls: 'apple', plural: true }, count: 2 }]],
    ['get rid of a cat', [{ kind: 'remove', target: { cls: 'cat', plural: false }, count: 1 }]],
    ['add a cat to the right of the dog', [{ kind: 'add', object: { cls: 'cat', count: 1 }, relation: 'right of', anchor: { cls: 'dog', plural: false } }]],
    ['add two pink donuts', [{ kind: 'add', object: { cls: 'donut', count: 2, color: 'pink' } }]],
    ['put a cat on the bench', [{ kind: 'add', object: { cls: 'cat', count: 1 }, relation: 'above', anchor: { cls: 'bench', plural: false } }]],
    ['move the cup above the apples', [{ kind: 'move', target: { cls: 'cup', plural: false }, relation: 'above', anchor: { cls: 'apple', plural: true } }]],
    ['put the cat below the table', [{ kind: 'move', target: { cls: 'cat', plural: false }, relation: 'below', anchor: { cls: 'dining table', plural: false } }]],
    ['change the number of apples to three', [{ kind: 'count', target: { cls: 'apple', plural: true }, count: 3 }]],
    ['there should be exactly four birds', [{ kind: 'count', target: { cls: 'bird', plural: true }, count: 4 }]],
    ['replace the dog with a white horse', [{ kind: 'replace', target: { cls: 'dog', plural: false }, object: { cls: 'horse', count: 1, color: 'white' } }]],
    ['replace the animal that gives milk with a horse', [{ kind: 'replace', target: { cls: 'cow', plural: false }, object: { cls: 'horse', count: 1 } }]],
    ['make the cup the colour of a ripe banana', [{ kind: 'recolor', target: { cls: 'cup', plural: false }, color: 'yellow' }]],
    [
      'make the cup red and then remove the dog; add a kite',
      [
        { kind: 'recolor', target: { cls: 'cup', plural: false }, color: 'red' },
        { kind: 'remove', target: { cls: 'dog', plural: false } },
        { kind: 'add', object: { cls: 'kite', count: 1 } },
      ],
    ],
  ];

  test.each(cases)('reads "%s"', (instruction, ops) => {
    const parsed = parseEdit(instruction);
    expect(parsed.ops).toEqual(ops);
    expect(parsed.unparsed).toEqual([]);
  });

  test('reads its own wording back as the same edits', () => {
    for (const [, ops] of cases) expect(parseEdit(describeEdit(ops)).ops).toEqual(ops);
  });

  test('counts an edit asked for twice as one edit with emphasis', () => {
    expect(parseEdit('Make the cup red. Make sure to make the cup red.')).toMatchObject({ ops: [cases[0][1][0]], emphasis: [2] });
  });

  test('sets aside what is not an edit', () => {
    expect(parseEdit('make it look nicer').ops).toEqual([]);
    expect(parseEdit('make it look nicer').unparsed).toEqual(['make it look nicer']);
  });
});

describe('applying edits', () => {
  const source = draw('two red apples to the left of a blue cup and a black dog');

  test.each([
    ['make the cup red', 'recolor'],
    ['remove the dog', 'remove'],
    ['add a white cat to the right of the dog', 'add'],
    ['change the number of apples to three', 'count'],
    ['move the cup above the apples', 'move'],
    ['replace the dog with a white horse', 'replace'],
  ] as const)('"%s" succeeds about as often as documented', (instruction, kind) => {
    let correct = 0;
    const runs = 300;
    for (let seed = 0; seed < runs; seed++) {
      const result = applyEdit(source, instruction, seed, 512);
      const check = checkEdit(source, instruction, result.instances);
      if (check.correct) correct++;
      // An edit the sim reports as applied is always right in the exact check.
      if (result.outcomes.every((o) => o.applied)) expect(check.failures).toEqual([]);
    }
    expect(Math.abs(correct / runs - EDIT_SUCCESS[kind])).toBeLessThan(0.12);
  });

  test('an applied edit leaves no failure visible in the image itself', () => {
    const instruction = 'add a white cat to the right of the dog and make the cup red';
    const ops = parseEdit(instruction).ops;
    for (let seed = 0; seed < 40; seed++) {
      const result = applyEdit(source, instruction, seed, 512);
      if (result.outcomes.every((o) => o.applied)) expect(editFailures(result.instances, ops)).toEqual([]);
    }
  });

  test('an instruction it does not understand changes nothing', () => {
    expect(applyEdit(source, 'make it look nicer', 3, 512).instances).toEqual(source);
  });

  test('edits an image through its pixels and reads the result back', async () => {
    const sim = new SimBackbone();
    const png = renderInstances(source, 512);
    let seed = 0;
    let out: Buffer;
    do {
      out = await sim.edit({ image: png, instruction: 'make the cup red', seed: seed++ });
    } while (!checkEdit(source, 'make the cup red', readImage(out)).correct && seed < 20);
    expect(readImage(out).filter((i) => i.cls === 'cup').map((i) => i.color)).toEqual(['red']);
    const again = (): Promise<Buffer> => sim.edit({ image: png, instruction: 'make the cup red', seed: 4 });
    expect((await again()).equals(await again())).toBe(true);
  });

  test('refuses to edit an image the sim did not draw, permanently', async () => {
    const photo = new PNG({ width: 64, height: 64 });
    for (let i = 0; i < photo.data.length; i++) photo.data[i] = (i * 37) % 256;
    const error = await new SimBackbone().edit({ image: PNG.sync.write(photo), instruction: 'make the cup red', seed: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackboneError);
    expect(error).toMatchObject({ code: 'InvalidImage', permanent: true });
  });
});
