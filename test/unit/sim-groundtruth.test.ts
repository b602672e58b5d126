import { checkEdit, checkImage, expectedAfterEdit } from '../../backbones/sim/groundtruth';
import { parsePrompt } from '../../backbones/sim/language';
import type { Instance, Scene } from '../../backbones/sim/scene';

const box = (cls: string, color: Instance['color'], x: number, y: number): Instance => ({ cls, color, x, y, w: 60, h: 60 });
const intended = (prompt: string): Scene => parsePrompt(prompt).scene;

describe('exact scoring against the intended scene', () => {
  const prompt = 'two red apples to the left of a blue cup';

  test('an image that shows everything is correct', () => {
    const shown = [box('apple', 'red', 40, 100), box('apple', 'red', 40, 250), box('cup', 'blue', 350, 170)];
    expect(checkImage(intended(prompt), shown)).toEqual({ correct: true, satisfied: 5, total: 5, failures: [], details: [] });
  });

  test('names each kind of failure and counts what still holds', () => {
    const wrongColour = checkImage(intended(prompt), [box('apple', 'green', 40, 100), box('apple', 'green', 40, 250), box('cup', 'blue', 350, 170)]);
    expect(wrongColour).toMatchObject({ correct: false, satisfied: 4, total: 5 });
    expect(wrongColour.failures).toEqual(['colour: the apples are green instead of red']);

    const wrongCount = checkImage(intended(prompt), [box('apple', 'red', 40, 100), box('cup', 'blue', 350, 170)]);
    expect(wrongCount.failures).toEqual(['count: 1 apple instead of 2']);

    const missing = checkImage(intended(prompt), [box('apple', 'red', 40, 100), box('apple', 'red', 40, 250)]);
    expect(missing.satisfied).toBe(2);
    expect(missing.details.map((d) => d.kind)).toEqual(['missing', 'color', 'relation']);

    const misplaced = checkImage(intended(prompt), [box('apple', 'red', 400, 100), box('apple', 'red', 400, 250), box('cup', 'blue', 50, 170)]);
    expect(misplaced.failures).toEqual(['position: the red apples are not to the left of the blue cup']);
    expect(misplaced.satisfied).toBe(4);
  });

  test('a half-right colour is still wrong', () => {
    const result = checkImage(intended(prompt), [box('apple', 'red', 40, 100), box('apple', 'green', 40, 250), box('cup', 'blue', 350, 170)]);
    expect(result.failures).toEqual(['colour: the apples are red and green instead of red']);
  });

  test('tells apart groups of one class in different colours', () => {
    const scene = intended('a red car and a blue car');
    expect(checkImage(scene, [box('car', 'red', 40, 40), box('car', 'blue', 300, 40)]).correct).toBe(true);
    const swapped = checkImage(scene, [box('car', 'red', 40, 40), box('car', 'red', 300, 40)]);
    expect(swapped.correct).toBe(false);
    expect(swapped.failures).toContain('missing: blue car');
  });

  test('ignores unrequested objects in generation but not in strict mode', () => {
    const shown = [box('cat', 'black', 40, 40), box('dog', 'brown', 300, 300)];
    expect(checkImage(intended('a photo of a cat'), shown).correct).toBe(true);
    const strict = checkImage(intended('a photo of a cat'), shown, { strict: true });
    expect(strict).toMatchObject({ correct: false, satisfied: 1, total: 2, failures: ['unexpected: 1 brown dog'] });
  });

  test('scores a detected scene the same way as instances', () => {
    const detected: Scene = {
      objects: [{ cls: 'cup', count: 1, color: 'blue' }, { cls: 'apple', count: 2, color: 'red' }],
      relations: [{ subject: 0, relation: 'right of', object: 1 }],
    };
    expect(checkImage(intended(prompt), detected).correct).toBe(true);
    expect(checkImage(intended('an apple next to a cup'), { ...detected, objects: [detected.objects[0], { cls: 'apple', count: 1, color: 'red' }] }).correct).toBe(true);
  });
});

describe('exact scoring of edits', () => {
  const source = [box('apple', 'red', 40, 100), box('apple', 'red', 40, 250), box('cup', 'blue', 350, 170), box('dog', 'black', 350, 400)];

  test('expects the source with the instruction applied', () => {
    expect(expectedAfterEdit(source, 'make the cup red and remove the dog')).toEqual({
      objects: [{ cls: 'apple', color: 'red', count: 2 }, { cls: 'cup', color: 'red', count: 1 }],
      relations: [],
    });
    expect(expectedAfterEdit(source, 'add a white cat to the right of the dog')).toEqual({
      objects: [
        { cls: 'apple', color: 'red', count: 2 },
        { cls: 'cup', color: 'blue', count: 1 },
        { cls: 'dog', color: 'black', count: 1 },
        { cls: 'cat', color: 'white', count: 1 },
      ],
      relations: [{ subject: 3, relation: 'right of', object: 2 }],
    });
    expect(expectedAfterEdit(source, 'change the number of apples to three').objects[0]).toEqual({ cls: 'apple', color: 'red', count: 3 });
    expect(expectedAfterEdit(source, 'replace the dog with a horse').objects.map((o) => o.cls)).toEqual(['apple', 'cup', 'horse']);
  });

  test('fails an edit that changed something it should have left alone', () => {
    const result = [box('apple', 'red', 40, 100), box('apple', 'red', 40, 250), box('cup', 'red', 350, 170), box('dog', 'white', 350, 400)];
    const check = checkEdit(source, 'make the cup red', result);
    expect(check.correct).toBe(false);
    expect(check.failures).toEqual(['colour: the dog is white instead of black']);
    expect(checkEdit(source, 'make the cup red', [...result.slice(0, 3), source[3]]).correct).toBe(true);
  });
});
