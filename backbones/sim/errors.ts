// The sim generator's mistakes. Given what a prompt asks for, decides (by seed) what actually gets
// drawn, imitating how text-to-image models fail on compositional prompts (GenEval's categories)
// and on world knowledge (WISE). The rates below were set once, from what public benchmarks show
// of models of BAGEL's and Janus-Pro's generation, before any agent ran against them; they are
// not tuned to make any policy look good, and changing them needs a reason of the same kind.
import { pick, rngFor, chance } from './rng';
import { COLORS, type Scene, type SceneObject, type SceneRelation } from './scene';
import { INVERSE_RELATION, type ParsedPrompt } from './language';
import { COCO_CLASSES, MAX_COUNT } from './world';

/**
 * Chance that a group is missing from the image at all, before the scene's size is counted. Even
 * single-object prompts fail now and then (GenEval "single object" is about 0.97-0.99 for good models).
 */
export const DROP_BASE = 0.03;
/**
 * Added to each group's drop chance for every other group in the scene: two-object prompts lose
 * one object far more often than one-object prompts (GenEval "two objects" ~0.8-0.9), and it gets
 * worse as scenes grow.
 */
export const DROP_PER_OTHER_OBJECT = 0.07;
/** Added per instance beyond one per group: crowded scenes lose objects too. */
export const DROP_PER_EXTRA_INSTANCE = 0.01;
/**
 * Chance that a group with a requested colour comes out in another colour. Single-colour prompts
 * are mostly right (GenEval "colors" ~0.8-0.9).
 */
export const COLOR_WRONG = 0.08;
/**
 * Chance, when two or more groups have colours, that one group takes another's colour (attribute
 * leakage, GenEval's hardest colour category: "colour attribution" ~0.3-0.6).
 */
export const COLOR_LEAK = 0.25;
/**
 * Off-by-one chance per object beyond the first: two is easy, four is hard (GenEval "counting"
 * ~0.5-0.8, falling with the number asked for).
 */
export const COUNT_ERROR_PER_EXTRA = 0.15;
/** Chance that a relation comes out wrong: position is what generators get wrong most (GenEval "position" ~0.1-0.5). */
export const RELATION_VIOLATED = 0.35;
/**
 * Chance that the generator does not resolve a world-knowledge phrase and draws some other class,
 * colour or count: WISE scores of about 0.5 for vanilla unified models.
 */
export const KNOWLEDGE_UNRESOLVED = 0.5;
/**
 * Every error rate is multiplied by this for each extra time its constraint is stated (the
 * object named again, its colour or count restated, "exactly" before a count, a relation said
 * again). Explicit prompts help, with diminishing returns, as prompt rewriting does for real
 * generators.
 */
export const EMPHASIS_FACTOR = 0.7;
/** Extra statements beyond this many help no further. */
export const MAX_EMPHASIS = 2;
/** Multiplier on an object's rates when its count was vague ("some", "several", a bare plural). */
export const VAGUE_FACTOR = 1.3;
/**
 * Multiplier on every other rate per knowledge phrase in the prompt: a prompt that needs reasoning
 * leaves the generator less attention for layout and attributes.
 */
export const KNOWLEDGE_LOAD_FACTOR = 1.15;
/** No error is certain: even the worst prompt sometimes comes out right. */
export const MAX_RATE = 0.85;
/** A count phrase left unresolved becomes a count in this range (other than the right one). */
export const UNRESOLVED_COUNT_MAX = 5;

export type SimErrorKind = 'knowledge' | 'dropped' | 'color' | 'leak' | 'count' | 'relation';

export interface SimError {
  kind: SimErrorKind;
  /** The object or relation index in the intended scene. */
  index: number;
  detail: string;
}

export interface DrawPlan {
  /**
   * The scene to lay out. Dropped objects are gone; a violated left/right/above/below relation is
   * replaced by its inverse, so the layout is sure to break it; a violated "next to" is left out,
   * and the layout places the pair freely (which can still put them side by side by chance).
   */
  scene: Scene;
  errors: SimError[];
}

function emphasised(rate: number, statements: number): number {
  const extra = Math.max(0, Math.min(MAX_EMPHASIS, statements - 1));
  return rate * EMPHASIS_FACTOR ** extra;
}

function capped(rate: number): number {
  return Math.min(MAX_RATE, rate);
}

function describe(object: SceneObject): string {
  return `${object.count} ${object.color ?? ''} ${object.cls}`.replace(/\s+/g, ' ');
}

/** What the generator draws for `parsed` (the reading of `prompt`) with this seed. */
export function applyErrors(parsed: ParsedPrompt, prompt: string, seed: number): DrawPlan {
  const rng = rngFor('errors', seed, prompt);
  const errors: SimError[] = [];
  const objects: SceneObject[] = parsed.scene.objects.map((o) => ({ ...o }));
  const { emphasis } = parsed;
  const load = KNOWLEDGE_LOAD_FACTOR ** parsed.knowledge.length;

  for (const use of parsed.knowledge) {
    if (!chance(rng, KNOWLEDGE_UNRESOLVED)) continue;
    const object = objects[use.object];
    const entry = use.entry;
    if (entry.kind === 'class') {
      object.cls = pick(rng, COCO_CLASSES.filter((c) => c !== entry.value));
    } else if (entry.kind === 'color') {
      object.color = pick(rng, COLORS.filter((c) => c !== entry.value));
    } else {
      const counts = Array.from({ length: UNRESOLVED_COUNT_MAX }, (_x, k) => k + 1).filter((c) => c !== entry.value);
      object.count = pick(rng, counts);
    }
    errors.push({ kind: 'knowledge', index: use.object, detail: `"${entry.phrase}" not resolved` });
  }

  const n = objects.length;
  const instances = objects.reduce((sum, o) => sum + o.count, 0);
  const dropped = new Set<number>();
  objects.forEach((object, i) => {
    const rate = load * (parsed.vagueCount[i] ? VAGUE_FACTOR : 1);
    const drop = DROP_BASE + DROP_PER_OTHER_OBJECT * (n - 1) + DROP_PER_EXTRA_INSTANCE * Math.max(0, instances - n);
    if (chance(rng, capped(emphasised(drop * rate, emphasis.object[i])))) {
      dropped.add(i);
      errors.push({ kind: 'dropped', index: i, detail: `${describe(object)} dropped` });
      return;
    }
    const color = object.color;
    if (color !== undefined && chance(rng, capped(emphasised(COLOR_WRONG * rate, emphasis.color[i])))) {
      object.color = pick(rng, COLORS.filter((c) => c !== color));
      errors.push({ kind: 'color', index: i, detail: `${object.cls} drawn ${object.color}, not ${color}` });
    }
    if (object.count >= 2) {
      const offByOne = COUNT_ERROR_PER_EXTRA * (object.count - 1) * rate;
      if (chance(rng, capped(emphasised(offByOne, emphasis.count[i])))) {
        const before = object.count;
        object.count += object.count < MAX_COUNT && chance(rng, 0.5) ? 1 : -1;
        errors.push({ kind: 'count', index: i, detail: `${object.cls}: ${object.count} drawn, not ${before}` });
      }
    }
  });

  const colored = objects.map((_o, i) => i).filter((i) => !dropped.has(i) && objects[i].color !== undefined);
  if (colored.length >= 2) {
    const leastStated = Math.min(...colored.map((i) => emphasis.color[i]));
    if (chance(rng, capped(emphasised(COLOR_LEAK * load, leastStated)))) {
      const from = pick(rng, colored);
      const to = pick(rng, colored.filter((i) => i !== from));
      if (objects[to].color !== objects[from].color) {
        errors.push({ kind: 'leak', index: to, detail: `${objects[to].cls} took the ${objects[from].color} of the ${objects[from].cls}` });
        objects[to].color = objects[from].color;
      }
    }
  }

  const relations: SceneRelation[] = [];
  parsed.scene.relations.forEach((r, j) => {
    if (dropped.has(r.subject) || dropped.has(r.object)) return;
    if (chance(rng, capped(emphasised(RELATION_VIOLATED * load, emphasis.relation[j])))) {
      errors.push({ kind: 'relation', index: j, detail: `${objects[r.subject].cls} not ${r.relation} ${objects[r.object].cls}` });
      if (r.relation !== 'next to') relations.push({ ...r, relation: INVERSE_RELATION[r.relation] });
      return;
    }
    relations.push({ ...r });
  });

  // Renumber what is left after drops.
  const newIndex = new Map<number, number>();
  const kept: SceneObject[] = [];
  objects.forEach((o, i) => {
    if (dropped.has(i)) return;
    newIndex.set(i, kept.length);
    kept.push(o);
  });
  return {
    scene: {
      objects: kept,
      relations: relations.map((r) => ({ subject: newIndex.get(r.subject) ?? -1, relation: r.relation, object: newIndex.get(r.object) ?? -1 })),
    },
    errors,
  };
}
