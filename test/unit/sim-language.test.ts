import { KNOWLEDGE } from '../../backbones/sim/knowledge';
import { describeScene, parsePrompt, resolveKnowledgeText, type Constraint } from '../../backbones/sim/language';
import { COCO_CLASSES as PALETTE_CLASSES } from '../../backbones/sim/palette';
import { mulberry32, pick } from '../../backbones/sim/rng';
import { COLORS, RELATIONS, type Scene } from '../../backbones/sim/scene';
import { CLASS_INFO, COCO_CLASSES, NUMBER_WORDS, isCocoClass } from '../../backbones/sim/world';

/** The scene as a sorted, comparable text: relation order and object order aside, the same scene. */
function canonical(scene: Scene): string {
  const name = (i: number): string => {
    const o = scene.objects[i];
    return `${o.count} ${o.color ?? '*'} ${o.cls}`;
  };
  const objects = scene.objects.map((_o, i) => name(i)).sort();
  const relations = scene.relations.map((r) => `${name(r.subject)} ${r.relation} ${name(r.object)}`).sort();
  return JSON.stringify({ objects, relations });
}

function sceneOf(objects: Scene['objects'], relations: Scene['relations'] = []): string {
  return canonical({ objects, relations });
}

describe('the sim reads natural prompts', () => {
  const cases: Array<[string, Scene['objects'], Scene['relations']?]> = [
    ['two red apples to the left of a blue cup', [{ cls: 'apple', count: 2, color: 'red' }, { cls: 'cup', count: 1, color: 'blue' }], [{ subject: 0, relation: 'left of', object: 1 }]],
    ['a photo of a cat and a dog', [{ cls: 'cat', count: 1 }, { cls: 'dog', count: 1 }]],
    ['three green bananas above a yellow bowl', [{ cls: 'banana', count: 3, color: 'green' }, { cls: 'bowl', count: 1, color: 'yellow' }], [{ subject: 0, relation: 'above', object: 1 }]],
    ['a photo of four giraffes', [{ cls: 'giraffe', count: 4 }]],
    ['a photo of a dog right of a teddy bear', [{ cls: 'dog', count: 1 }, { cls: 'teddy bear', count: 1 }], [{ subject: 0, relation: 'right of', object: 1 }]],
    ['a photo of a tv below a cow', [{ cls: 'tv', count: 1 }, { cls: 'cow', count: 1 }], [{ subject: 0, relation: 'below', object: 1 }]],
    ['a photo of a purple cake and a red bus', [{ cls: 'cake', count: 1, color: 'purple' }, { cls: 'bus', count: 1, color: 'red' }]],
    ['a photo of an orange handbag', [{ cls: 'handbag', count: 1, color: 'orange' }]],
    ['a photo of an orange and a banana', [{ cls: 'orange', count: 1 }, { cls: 'banana', count: 1 }]],
    ['2 white sheep next to 1 black dog', [{ cls: 'sheep', count: 2, color: 'white' }, { cls: 'dog', count: 1, color: 'black' }], [{ subject: 0, relation: 'next to', object: 1 }]],
    ['A Brown Horse Beside A Pink Bicycle.', [{ cls: 'horse', count: 1, color: 'brown' }, { cls: 'bicycle', count: 1, color: 'pink' }], [{ subject: 0, relation: 'next to', object: 1 }]],
    ['a cat sitting on a bench', [{ cls: 'cat', count: 1 }, { cls: 'bench', count: 1 }], [{ subject: 0, relation: 'above', object: 1 }]],
    ['a hot dog on top of a dining table', [{ cls: 'hot dog', count: 1 }, { cls: 'dining table', count: 1 }], [{ subject: 0, relation: 'above', object: 1 }]],
    ['five traffic lights and a stop sign', [{ cls: 'traffic light', count: 5 }, { cls: 'stop sign', count: 1 }]],
    ['a pair of scissors under a computer mouse', [{ cls: 'scissors', count: 1 }, { cls: 'mouse', count: 1 }], [{ subject: 0, relation: 'below', object: 1 }]],
    ['two pairs of skis', [{ cls: 'skis', count: 2 }]],
    ['a couple of knives', [{ cls: 'knife', count: 2 }]],
    ['three mice and a keyboard', [{ cls: 'mouse', count: 3 }, { cls: 'keyboard', count: 1 }]],
    ['a man on the left of a woman', [{ cls: 'person', count: 2 }]],
    ['a red car, a blue car and a yellow car', [{ cls: 'car', count: 1, color: 'red' }, { cls: 'car', count: 1, color: 'blue' }, { cls: 'car', count: 1, color: 'yellow' }]],
    ['a cat and another cat', [{ cls: 'cat', count: 2 }]],
    ['a photo of a dog. The dog is brown.', [{ cls: 'dog', count: 1, color: 'brown' }]],
    ['a sofa in front of a television', [{ cls: 'couch', count: 1 }, { cls: 'tv', count: 1 }]],
    ['a dog with a red collar', [{ cls: 'dog', count: 1 }]],
    ['a crimson umbrella near a navy suitcase', [{ cls: 'umbrella', count: 1, color: 'red' }, { cls: 'suitcase', count: 1, color: 'blue' }], [{ subject: 0, relation: 'next to', object: 1 }]],
    ['apples', [{ cls: 'apple', count: 2 }]],
  ];

  test.each(cases)('reads "%s"', (prompt, objects, relations = []) => {
    expect(canonical(parsePrompt(prompt).scene)).toBe(sceneOf(objects, relations));
  });

  test('resolves knowledge phrases and reports which ones it met', () => {
    const parsed = parsePrompt('as many birds as a tricycle has wheels on the animal that gives milk, and a car the colour of a ripe banana');
    expect(canonical(parsed.scene)).toBe(
      sceneOf(
        [{ cls: 'bird', count: 3 }, { cls: 'cow', count: 1 }, { cls: 'car', count: 1, color: 'yellow' }],
        [{ subject: 0, relation: 'above', object: 1 }],
      ),
    );
    expect(parsed.knowledge.map((k) => k.entry.phrase).sort()).toEqual(['a tricycle has wheels', 'the animal that gives milk', 'the colour of a ripe banana']);
    expect(parsed.knowledge.find((k) => k.entry.kind === 'count')?.object).toBe(0);
  });

  test('accepts American spelling and an article other than the one in the table', () => {
    const parsed = parsePrompt('an animal that gives milk and a bus the color of the sky on a clear day');
    expect(canonical(parsed.scene)).toBe(sceneOf([{ cls: 'cow', count: 1 }, { cls: 'bus', count: 1, color: 'blue' }]));
  });

  test('ignores what it cannot read instead of failing', () => {
    const rng = mulberry32(7);
    const vocabulary = ['the', 'of', 'red', 'zzz', ',', '.', 'left', 'two', 'cat', 'as', 'many', 'on', 'orange', '!!', 'exactly', 'there', 'and'];
    for (let k = 0; k < 300; k++) {
      const text = Array.from({ length: 1 + Math.floor(rng() * 20) }, () => pick(rng, vocabulary)).join(' ');
      const parsed = parsePrompt(text);
      for (const o of parsed.scene.objects) {
        expect(isCocoClass(o.cls)).toBe(true);
        expect(o.count).toBeGreaterThanOrEqual(1);
      }
      for (const r of parsed.scene.relations) expect(r.subject).not.toBe(r.object);
    }
    expect(parsePrompt('a beautiful sunset over misty mountains').scene.objects).toEqual([]);
    expect(parsePrompt('a beautiful sunset over misty mountains').ignored).toContain('sunset');
  });

  test('every COCO class is readable by its singular and plural names', () => {
    for (const info of CLASS_INFO) {
      expect(parsePrompt(`a photo of one ${info.singular}`).scene.objects).toEqual([{ cls: info.cls, count: 1 }]);
      expect(parsePrompt(`a photo of three ${info.plural}`).scene.objects).toEqual([{ cls: info.cls, count: 3 }]);
    }
  });

  test('number words and digits from one to ten count alike', () => {
    NUMBER_WORDS.forEach((word, i) => {
      expect(parsePrompt(`${word} cups`).scene.objects[0].count).toBe(i + 1);
      expect(parsePrompt(`${i + 1} cups`).scene.objects[0].count).toBe(i + 1);
    });
  });

  test('keeps the class list in the same order as the palette the pixel side reads', () => {
    expect(COCO_CLASSES).toEqual(PALETTE_CLASSES);
    expect(CLASS_INFO.map((c) => c.cls)).toEqual([...PALETTE_CLASSES]);
    expect(new Set(COCO_CLASSES).size).toBe(80);
  });
});

describe('describeScene writes prompts the sim reads back exactly', () => {
  test('the explicit form spells out every count', () => {
    const scene = parsePrompt('two red apples to the left of a blue cup').scene;
    expect(describeScene(scene)).toBe('Exactly two red apples, to the left of exactly one blue cup.');
  });

  test('round-trips random scenes', () => {
    const rng = mulberry32(11);
    for (let k = 0; k < 400; k++) {
      const n = 1 + Math.floor(rng() * 4);
      const objects: Scene['objects'] = [];
      while (objects.length < n) {
        const cls = pick(rng, COCO_CLASSES);
        const color = rng() < 0.3 ? undefined : pick(rng, COLORS);
        if (objects.some((o) => o.cls === cls && o.color === color)) continue;
        objects.push(color === undefined ? { cls, count: 1 + Math.floor(rng() * 10) } : { cls, color, count: 1 + Math.floor(rng() * 10) });
      }
      const relations: Scene['relations'] = [];
      for (let i = 1; i < n; i++) {
        if (rng() < 0.3) continue;
        const j = Math.floor(rng() * i);
        const [subject, object] = rng() < 0.5 ? [i, j] : [j, i];
        relations.push({ subject, relation: pick(rng, RELATIONS), object });
      }
      const scene = { objects, relations };
      const text = describeScene(scene);
      expect({ text, scene: canonical(parsePrompt(text).scene) }).toEqual({ text, scene: canonical(scene) });
    }
  });

  test('restating a constraint is read as emphasis on that constraint only', () => {
    const scene = parsePrompt('two red apples to the left of a blue cup and a dog').scene;
    const plain = parsePrompt(describeScene(scene));
    const restate: Constraint[] = [{ kind: 'color', object: 0 }, { kind: 'color', object: 0 }, { kind: 'relation', relation: 0 }, { kind: 'object', object: 2 }];
    const text = describeScene(scene, restate);
    const stressed = parsePrompt(text);
    expect(canonical(stressed.scene)).toBe(canonical(scene));
    expect(stressed.emphasis.color[0]).toBe(plain.emphasis.color[0] + 2);
    expect(stressed.emphasis.color[1]).toBe(plain.emphasis.color[1]);
    expect(stressed.emphasis.relation[0]).toBe(plain.emphasis.relation[0] + 1);
    expect(stressed.emphasis.object[2]).toBe(plain.emphasis.object[2] + 1);
    expect(text).toContain('Make sure the apples are red.');
  });

  test('"exactly" and number words count as stating a count; articles and vague words do not', () => {
    expect(parsePrompt('exactly two apples').emphasis.count).toEqual([2]);
    expect(parsePrompt('two apples').emphasis.count).toEqual([1]);
    expect(parsePrompt('an apple').emphasis.count).toEqual([0]);
    const vague = parsePrompt('several apples');
    expect(vague.emphasis.count).toEqual([0]);
    expect(vague.vagueCount).toEqual([true]);
  });
});

describe('resolveKnowledgeText', () => {
  test('replaces each kind of phrase with what it names', () => {
    expect(resolveKnowledgeText('Replace the animal that gives milk with as many birds as a tricycle has wheels').text).toBe(
      'replace the cow with three birds',
    );
    expect(resolveKnowledgeText('make the cup the colour of a ripe banana').text).toBe('make the cup yellow');
  });

  test('uses the value a caller picks, for an unreliable model', () => {
    const entry = KNOWLEDGE.find((k) => k.phrase === 'the animal that gives milk');
    expect(entry).toBeDefined();
    expect(resolveKnowledgeText('the animal that gives milk', () => 'horse').text).toBe('the horse');
  });
});
