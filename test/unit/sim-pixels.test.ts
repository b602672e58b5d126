import { PNG } from 'pngjs';
import { BackboneError } from '../../backbones/backbone';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from '../../backbones/sim/font';
import { layoutScene } from '../../backbones/sim/layout';
import { BACKGROUND_RGB, COCO_CLASSES, COLOR_RGB, MARKER_OFF_RGB, MARKER_ON_RGB } from '../../backbones/sim/palette';
import { SIGNATURE_SIZE, renderInstances } from '../../backbones/sim/render';
import { COLORS, RELATIONS, type Instance, type Relation, type Scene } from '../../backbones/sim/scene';
import { readImage, relationHolds, sceneFromInstances } from '../../backbones/sim/vision';

/** A small seeded generator (xorshift32) so every scene here is reproducible. */
function seeded(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}

function pick<T>(items: readonly T[], rng: () => number): T {
  return items[Math.floor(rng() * items.length)];
}

/** A scene of 1-4 groups of distinct classes, counts 1-4, some colours left open, and tree-shaped (so satisfiable) relations. */
function randomScene(rng: () => number): Scene {
  const groupCount = 1 + Math.floor(rng() * 4);
  const objects: Scene['objects'] = [];
  while (objects.length < groupCount) {
    const cls = pick(COCO_CLASSES, rng);
    const color = rng() < 0.2 ? undefined : pick(COLORS, rng);
    if (objects.some((o) => o.cls === cls)) continue;
    objects.push({ cls, count: 1 + Math.floor(rng() * 4), ...(color ? { color } : {}) });
  }
  const relations: Scene['relations'] = [];
  for (let i = 1; i < groupCount; i++) {
    if (rng() < 0.3) continue;
    const earlier = Math.floor(rng() * i);
    const [subject, object] = rng() < 0.5 ? [i, earlier] : [earlier, i];
    relations.push({ subject, relation: pick(RELATIONS, rng), object });
  }
  return { objects, relations };
}

const key = (i: Instance): string => `${i.cls}|${i.color}|${i.x}|${i.y}|${i.w}|${i.h}`;
const sorted = (instances: Instance[]): string[] => instances.map(key).sort();

function expectRoundTrip(instances: Instance[], size = 512): void {
  expect(sorted(readImage(renderInstances(instances, size)))).toEqual(sorted(instances));
}

function groupOf(instances: Instance[], scene: Scene, objectIndex: number, colors: Map<number, string>): Instance[] {
  const o = scene.objects[objectIndex];
  return instances.filter((i) => i.cls === o.cls && i.color === (o.color ?? colors.get(objectIndex)));
}

/** Colours layout chose for groups whose colour the scene left open: the first instance of each group, in order. */
function chosenColors(scene: Scene, instances: Instance[]): Map<number, string> {
  const colors = new Map<number, string>();
  let at = 0;
  scene.objects.forEach((o, i) => {
    colors.set(i, instances[at].color);
    at += o.count;
  });
  return colors;
}

function expectSeparatedAndInside(instances: Instance[], size: number): void {
  for (const i of instances) {
    expect(i.x).toBeGreaterThanOrEqual(0);
    expect(i.y).toBeGreaterThanOrEqual(0);
    expect(i.x + i.w).toBeLessThanOrEqual(size);
    expect(i.y + i.h).toBeLessThanOrEqual(size);
    expect(i.x >= SIGNATURE_SIZE || i.y >= SIGNATURE_SIZE).toBe(true);
  }
  for (let a = 0; a < instances.length; a++) {
    for (let b = a + 1; b < instances.length; b++) {
      const p = instances[a];
      const q = instances[b];
      const apart = p.x + p.w < q.x || q.x + q.w < p.x || p.y + p.h < q.y || q.y + q.h < p.y;
      expect(apart).toBe(true);
    }
  }
}

/** Test images are written quickly; compression settings do not change the pixels. */
const FAST_WRITE = { deflateLevel: 1, filterType: 0 };

function pngOf(width: number, height: number, fill: (x: number, y: number) => [number, number, number]): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = fill(x, y);
      const i = (y * width + x) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png, FAST_WRITE);
}

function expectNotSim(read: () => unknown): void {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(BackboneError);
    const e = error as BackboneError;
    expect(e.code).toBe('InvalidImage');
    expect(e.permanent).toBe(true);
    expect(e.message).toMatch(/not drawn by the sim backbone/);
    return;
  }
  throw new Error('expected readImage to reject the image');
}

describe('palette and font', () => {
  it('lists the 80 COCO classes once each, singular, in standard order', () => {
    expect(COCO_CLASSES).toHaveLength(80);
    expect(new Set(COCO_CLASSES).size).toBe(80);
    expect(COCO_CLASSES[0]).toBe('person');
    expect(COCO_CLASSES[9]).toBe('traffic light');
    expect(COCO_CLASSES[79]).toBe('toothbrush');
  });

  it('keeps every colour the sim draws at least 80 apart in some channel', () => {
    const all = [...COLORS.map((c) => COLOR_RGB[c]), BACKGROUND_RGB, MARKER_ON_RGB, MARKER_OFF_RGB];
    for (let a = 0; a < all.length; a++) {
      for (let b = a + 1; b < all.length; b++) {
        const gap = Math.max(...[0, 1, 2].map((c) => Math.abs(all[a][c] - all[b][c])));
        expect(gap).toBeGreaterThan(80);
      }
    }
  });

  it('has a visible glyph for every letter and digit of the class names', () => {
    for (const ch of 'abcdefghijklmnopqrstuvwxyz0123456789') {
      const bitmap = glyph(ch);
      expect(bitmap).toHaveLength(GLYPH_WIDTH * GLYPH_HEIGHT);
      expect(bitmap.some((v) => v === 1)).toBe(true);
    }
  });
});

describe('round trip: vision reads back exactly what render drew', () => {
  it('recovers class, colour and box for 300 random scenes', () => {
    const rng = seeded(1);
    for (let n = 0; n < 300; n++) {
      const instances = layoutScene(randomScene(rng), rng, 512);
      expectRoundTrip(instances);
    }
  });

  it('recovers every class in every colour', () => {
    const rng = seeded(2);
    for (const cls of COCO_CLASSES) {
      const scene: Scene = { objects: COLORS.map((color) => ({ cls, color, count: 1 })), relations: [] };
      const instances = layoutScene(scene, rng, 512);
      expect(instances).toHaveLength(COLORS.length);
      expectRoundTrip(instances);
    }
  });

  it('still reads crowded scenes with small boxes (10 groups of 4)', () => {
    const rng = seeded(3);
    for (let n = 0; n < 10; n++) {
      const objects = Array.from({ length: 10 }, (_, i) => ({ cls: COCO_CLASSES[(n * 10 + i) % 80], count: 4, color: COLORS[i] }));
      const instances = layoutScene({ objects, relations: [] }, rng, 512);
      expect(instances).toHaveLength(40);
      expectSeparatedAndInside(instances, 512);
      expectRoundTrip(instances);
    }
  });

  it('works at other canvas sizes', () => {
    const rng = seeded(4);
    for (const size of [128, 256, 1024]) {
      for (let n = 0; n < 10; n++) {
        const instances = layoutScene(randomScene(rng), rng, size);
        expectSeparatedAndInside(instances, size);
        expectRoundTrip(instances, size);
      }
    }
  });

  it('reads an RGBA re-encoding of a sim image the same as the original', () => {
    const instances = layoutScene(randomScene(seeded(5)), seeded(6), 512);
    const original = PNG.sync.read(renderInstances(instances, 512));
    const rgba = PNG.sync.write(original, { ...FAST_WRITE, colorType: 6 });
    expect(sorted(readImage(rgba))).toEqual(sorted(instances));
  });

  it('reads a recoloured object in its new colour', () => {
    const scene: Scene = { objects: [{ cls: 'apple', count: 2, color: 'red' }, { cls: 'cup', count: 1, color: 'blue' }], relations: [] };
    const instances = layoutScene(scene, seeded(7), 512);
    for (const color of COLORS) {
      const edited = instances.map((i, n) => (n === 0 ? { ...i, color } : i));
      const read = readImage(renderInstances(edited, 512));
      expect(sorted(read)).toEqual(sorted(edited));
      expect(read.filter((i) => i.cls === 'apple' && i.color === color && i.x === instances[0].x)).toHaveLength(1);
    }
  });

  it('reads an image edited by other means as it looks: a painted-over object is gone', () => {
    const scene: Scene = { objects: [{ cls: 'dog', count: 1, color: 'brown' }, { cls: 'cat', count: 1, color: 'white' }], relations: [] };
    const [dog, cat] = layoutScene(scene, seeded(8), 512);
    const png = PNG.sync.read(renderInstances([dog, cat], 512));
    for (let y = dog.y; y < dog.y + dog.h; y++) {
      for (let x = dog.x; x < dog.x + dog.w; x++) {
        const i = (y * 512 + x) * 4;
        [png.data[i], png.data[i + 1], png.data[i + 2]] = BACKGROUND_RGB;
      }
    }
    expect(readImage(PNG.sync.write(png, FAST_WRITE))).toEqual([cat]);
  });
});

describe('determinism', () => {
  it('gives the same layout and the same bytes for the same scene and seed', () => {
    const scene = randomScene(seeded(9));
    const a = layoutScene(scene, seeded(10), 512);
    const b = layoutScene(scene, seeded(10), 512);
    expect(b).toEqual(a);
    expect(renderInstances(b, 512).equals(renderInstances(a, 512))).toBe(true);
  });

  it('varies the layout with the seed', () => {
    const scene: Scene = { objects: [{ cls: 'cow', count: 3 }, { cls: 'bird', count: 2 }], relations: [] };
    const layouts = new Set(Array.from({ length: 10 }, (_, s) => JSON.stringify(layoutScene(scene, seeded(s + 100), 512))));
    expect(layouts.size).toBeGreaterThan(5);
  });
});

describe('layout honours relations', () => {
  it.each(RELATIONS)('places the subject "%s" the object, as vision reads it', (relation: Relation) => {
    const rng = seeded(11);
    for (let n = 0; n < 40; n++) {
      const scene: Scene = {
        objects: [
          { cls: pick(COCO_CLASSES, rng), count: 1 + Math.floor(rng() * 4), color: 'red' },
          { cls: pick(COCO_CLASSES, rng), count: 1 + Math.floor(rng() * 4), color: 'blue' },
        ],
        relations: [{ subject: 0, relation, object: 1 }],
      };
      const read = readImage(renderInstances(layoutScene(scene, rng, 512), 512));
      const subject = read.filter((i) => i.color === 'red');
      const object = read.filter((i) => i.color === 'blue');
      expect(relationHolds(subject, object, relation)).toBe(true);
    }
  });

  it('honours every relation of random tree-shaped scenes, with up to 16 instances', () => {
    const rng = seeded(12);
    let checked = 0;
    for (let n = 0; n < 300; n++) {
      const scene = randomScene(rng);
      const instances = layoutScene(scene, rng, 512);
      expectSeparatedAndInside(instances, 512);
      const colors = chosenColors(scene, instances);
      for (const r of scene.relations) {
        const subject = groupOf(instances, scene, r.subject, colors);
        const object = groupOf(instances, scene, r.object, colors);
        expect(relationHolds(subject, object, r.relation)).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('honours chains and mixed axes: a left of b left of c, d below b', () => {
    const scene: Scene = {
      objects: ['cat', 'dog', 'cow', 'bird'].map((cls, i) => ({ cls, count: 2, color: COLORS[i] })),
      relations: [
        { subject: 0, relation: 'left of', object: 1 },
        { subject: 1, relation: 'left of', object: 2 },
        { subject: 3, relation: 'below', object: 1 },
        { subject: 3, relation: 'right of', object: 0 },
      ],
    };
    for (let seed = 0; seed < 20; seed++) {
      const instances = layoutScene(scene, seeded(seed + 1), 512);
      const g = (i: number): Instance[] => instances.filter((x) => x.color === COLORS[i]);
      for (const r of scene.relations) expect(relationHolds(g(r.subject), g(r.object), r.relation)).toBe(true);
    }
  });

  it('keeps the earlier of two contradictory relations and still draws everything', () => {
    const scene: Scene = {
      objects: [
        { cls: 'apple', count: 2, color: 'red' },
        { cls: 'cup', count: 1, color: 'blue' },
      ],
      relations: [
        { subject: 0, relation: 'left of', object: 1 },
        { subject: 0, relation: 'right of', object: 1 },
      ],
    };
    const instances = layoutScene(scene, seeded(13), 512);
    expect(instances).toHaveLength(3);
    const apples = instances.filter((i) => i.cls === 'apple');
    const cups = instances.filter((i) => i.cls === 'cup');
    expect(relationHolds(apples, cups, 'left of')).toBe(true);
  });

  it('draws objects whose colour the scene leaves open in one rng-chosen colour per group', () => {
    const scene: Scene = { objects: [{ cls: 'kite', count: 3 }], relations: [] };
    const instances = layoutScene(scene, seeded(14), 512);
    expect(new Set(instances.map((i) => i.color)).size).toBe(1);
    expect(COLORS).toContain(instances[0].color);
  });
});

describe('sceneFromInstances', () => {
  it('groups by class and colour with counts and lists one direction per ordered pair', () => {
    const box = (cls: string, color: Instance['color'], x: number, y: number): Instance => ({ cls, color, x, y, w: 40, h: 40 });
    const instances = [box('apple', 'red', 20, 200), box('apple', 'red', 80, 200), box('cup', 'blue', 300, 210), box('apple', 'green', 60, 400)];
    const scene = sceneFromInstances(instances);
    expect(scene.objects).toEqual([
      { cls: 'apple', color: 'red', count: 2 },
      { cls: 'cup', color: 'blue', count: 1 },
      { cls: 'apple', color: 'green', count: 1 },
    ]);
    expect(scene.relations).toEqual(
      expect.arrayContaining([
        { subject: 0, relation: 'left of', object: 1 },
        { subject: 1, relation: 'right of', object: 0 },
        { subject: 0, relation: 'above', object: 2 },
        { subject: 2, relation: 'below', object: 0 },
        { subject: 2, relation: 'left of', object: 1 },
        { subject: 1, relation: 'right of', object: 2 },
      ]),
    );
    expect(scene.relations).toHaveLength(6);
  });

  it('judges by the larger centroid offset, ties counting as side by side', () => {
    const at = (x: number, y: number): Instance[] => [{ cls: 'cat', color: 'black', x, y, w: 10, h: 10 }];
    expect(relationHolds(at(0, 0), at(50, 50), 'left of')).toBe(true);
    expect(relationHolds(at(0, 0), at(50, 50), 'next to')).toBe(true);
    expect(relationHolds(at(0, 0), at(50, 51), 'above')).toBe(true);
    expect(relationHolds(at(0, 0), at(50, 51), 'left of')).toBe(false);
    expect(relationHolds(at(60, 0), at(0, 10), 'right of')).toBe(true);
    expect(relationHolds(at(0, 80), at(10, 0), 'below')).toBe(true);
    expect(relationHolds([], at(0, 0), 'left of')).toBe(false);
  });
});

describe('images the sim did not draw', () => {
  it('rejects random noise', () => {
    const rng = seeded(15);
    const noise = (): [number, number, number] => [Math.floor(rng() * 256), Math.floor(rng() * 256), Math.floor(rng() * 256)];
    expectNotSim(() => readImage(pngOf(256, 256, noise)));
  });

  it('rejects a plain white PNG', () => {
    expectNotSim(() => readImage(pngOf(512, 512, () => [255, 255, 255])));
  });

  it('rejects bytes that are not a PNG', () => {
    expectNotSim(() => readImage(Buffer.from('GIF89a not really an image')));
    expectNotSim(() => readImage(Buffer.alloc(0)));
  });

  it('rejects a sim image whose signature corner was painted over', () => {
    const png = PNG.sync.read(renderInstances(layoutScene(randomScene(seeded(16)), seeded(17), 512), 512));
    for (let y = 0; y < SIGNATURE_SIZE; y++) {
      for (let x = 0; x < SIGNATURE_SIZE; x++) [png.data[(y * 512 + x) * 4], png.data[(y * 512 + x) * 4 + 1], png.data[(y * 512 + x) * 4 + 2]] = BACKGROUND_RGB;
    }
    expectNotSim(() => readImage(PNG.sync.write(png, FAST_WRITE)));
  });

  it('accepts an empty sim canvas and reads no objects', () => {
    expect(readImage(renderInstances([], 512))).toEqual([]);
  });
});

describe('speed', () => {
  it('renders and reads a 512x512 scene of 12 objects in well under 50 ms', () => {
    const scene: Scene = {
      objects: [
        { cls: 'apple', count: 4, color: 'red' },
        { cls: 'traffic light', count: 4, color: 'white' },
        { cls: 'teddy bear', count: 4, color: 'black' },
      ],
      relations: [{ subject: 0, relation: 'left of', object: 1 }],
    };
    const instances = layoutScene(scene, seeded(18), 512);
    for (let warm = 0; warm < 5; warm++) readImage(renderInstances(instances, 512));
    const runs = 20;
    const start = performance.now();
    for (let n = 0; n < runs; n++) readImage(renderInstances(instances, 512));
    expect((performance.now() - start) / runs).toBeLessThan(50);
  });
});
