// Writes the benchmark suites (generation.jsonl, editing.jsonl) from the sim's vocabulary and
// knowledge table, deterministically: run it again and the files come out byte for byte the same.
// Ground truth is the sim's own parse of each prompt, stored beside it, and every prompt is checked
// to parse to the scene it was built for before it is written.
//   npx tsx bench/suites/build.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimBackbone, scoreGeneration } from '../../backbones/sim';
import { parseEdit, type EditOp } from '../../backbones/sim/edit';
import { KNOWLEDGE, type KnowledgeEntry } from '../../backbones/sim/knowledge';
import { parsePrompt, relationText } from '../../backbones/sim/language';
import { mulberry32, pick } from '../../backbones/sim/rng';
import { COLORS, type ColorName, type Relation, type Scene } from '../../backbones/sim/scene';
import { COCO_CLASSES, nounFor, numberWord } from '../../backbones/sim/world';
import { SUITE_IMAGE_SIZE } from './build-constants';
import {
  EDIT_CATEGORIES,
  GENERATION_CATEGORIES,
  type EditCategory,
  type EditItem,
  type GenerationCategory,
  type GenerationItem,
} from './schema';

/** Items per category: 7 x 50 = 350 generation prompts, 7 x 15 = 105 edit requests. */
const GENERATION_PER_CATEGORY = 50;
const EDITS_PER_CATEGORY = 15;
/** Seeds tried for an edit's source image until the sim draws the source prompt exactly right. */
const SOURCE_SEED_TRIES = 200;

/**
 * "orange" is both a class and a colour; the sim's parser reads it by context, but a suite
 * should test models, not that ambiguity, so the class is left out.
 */
const CLASSES = COCO_CLASSES.filter((c) => c !== 'orange');
const RELATIONS: readonly Relation[] = ['left of', 'right of', 'above', 'below'];
const INVERSE: Readonly<Record<Relation, Relation>> = {
  'left of': 'right of',
  'right of': 'left of',
  above: 'below',
  below: 'above',
  'next to': 'next to',
};

const rng = mulberry32(20260311);

function article(phrase: string): string {
  return /^[aeiou]/.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}

function one(cls: string, color?: ColorName): string {
  return article(`${color === undefined ? '' : `${color} `}${nounFor(cls, 1)}`);
}

function some(cls: string, count: number, color?: ColorName): string {
  return `${numberWord(count)} ${color === undefined ? '' : `${color} `}${nounFor(cls, count)}`;
}

/** k distinct items. */
function distinct<T>(items: readonly T[], k: number): T[] {
  const out: T[] = [];
  while (out.length < k) {
    const item = pick(rng, items);
    if (!out.includes(item)) out.push(item);
  }
  return out;
}

const entriesOf = <K extends KnowledgeEntry['kind']>(kind: K) =>
  KNOWLEDGE.filter((e): e is Extract<KnowledgeEntry, { kind: K }> => e.kind === kind);
const CLASS_PHRASES = entriesOf('class').filter((e) => e.value !== 'orange');
const COLOR_PHRASES = entriesOf('color');
/** Five at most: larger counts are a test of layout room, not of knowledge. */
const COUNT_PHRASES = entriesOf('count').filter((e) => e.value <= 5);

/** One generation prompt of a category, with what it must parse to. */
function generationPrompt(category: GenerationCategory, k: number): { prompt: string; expect: Scene } {
  const [a, b] = distinct(CLASSES, 2);
  const [c1, c2] = distinct(COLORS, 2);
  const relation = pick(rng, RELATIONS);
  switch (category) {
    case 'single_object':
      return { prompt: `a photo of ${one(a)}`, expect: { objects: [{ cls: a, count: 1 }], relations: [] } };
    case 'two_objects':
      return {
        prompt: `a photo of ${one(a)} and ${one(b)}`,
        expect: { objects: [{ cls: a, count: 1 }, { cls: b, count: 1 }], relations: [] },
      };
    case 'counting': {
      const n = 2 + (k % 3);
      return { prompt: `a photo of ${some(a, n)}`, expect: { objects: [{ cls: a, count: n }], relations: [] } };
    }
    case 'colors':
      return { prompt: `a photo of ${one(a, c1)}`, expect: { objects: [{ cls: a, count: 1, color: c1 }], relations: [] } };
    case 'position':
      return {
        prompt: `a photo of ${one(a)} ${relationText(relation)} ${one(b)}`,
        expect: { objects: [{ cls: a, count: 1 }, { cls: b, count: 1 }], relations: [{ subject: 0, relation, object: 1 }] },
      };
    case 'color_attribution':
      return {
        prompt: `a photo of ${one(a, c1)} and ${one(b, c2)}`,
        expect: { objects: [{ cls: a, count: 1, color: c1 }, { cls: b, count: 1, color: c2 }], relations: [] },
      };
    case 'world_knowledge': {
      // Four shapes in turn: a class, a colour, a count, and a class placed beside a coloured object.
      const entry = pick(rng, CLASS_PHRASES);
      if (k % 4 === 0) return { prompt: `a photo of ${entry.phrase}`, expect: { objects: [{ cls: entry.value, count: 1 }], relations: [] } };
      if (k % 4 === 1) {
        const color = pick(rng, COLOR_PHRASES);
        return { prompt: `a photo of ${one(a)} ${color.phrase}`, expect: { objects: [{ cls: a, count: 1, color: color.value }], relations: [] } };
      }
      if (k % 4 === 2) {
        const count = pick(rng, COUNT_PHRASES);
        return {
          prompt: `a photo of as many ${nounFor(a, 2)} as ${count.phrase}`,
          expect: { objects: [{ cls: a, count: count.value }], relations: [] },
        };
      }
      const other = CLASSES.filter((c) => c !== entry.value);
      const anchor = pick(rng, other);
      return {
        prompt: `a photo of ${entry.phrase} ${relationText(relation)} ${one(anchor, c1)}`,
        expect: {
          objects: [{ cls: entry.value, count: 1 }, { cls: anchor, count: 1, color: c1 }],
          relations: [{ subject: 0, relation, object: 1 }],
        },
      };
    }
  }
}

function sameScene(a: Scene, b: Scene): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function buildGeneration(): GenerationItem[] {
  const items: GenerationItem[] = [];
  for (const category of GENERATION_CATEGORIES) {
    const seen = new Set<string>();
    for (let k = 0; seen.size < GENERATION_PER_CATEGORY; k++) {
      const { prompt, expect } = generationPrompt(category, k);
      const parsed = parsePrompt(prompt);
      if (seen.has(prompt) || !sameScene(parsed.scene, expect)) continue;
      seen.add(prompt);
      items.push({
        id: `${category}-${String(seen.size).padStart(3, '0')}`,
        category,
        prompt,
        truth: { scene: parsed.scene, knowledge: parsed.knowledge.map((u) => ({ phrase: u.entry.phrase, value: u.entry.value })) },
      });
    }
  }
  return items;
}

/** One edit request: the source prompt, the instruction, and the single edit it must parse to. */
function editRequest(category: EditCategory, k: number): { source: string; instruction: string; kind: EditOp['kind'] } {
  const [a, b, c] = distinct(CLASSES, 3);
  const [c1, c2, c3] = distinct(COLORS, 3);
  const relation = pick(rng, RELATIONS);
  switch (category) {
    case 'add':
      return k % 2 === 0
        ? { source: `a photo of ${one(a, c1)}`, instruction: `add ${one(b, c2)} ${relationText(relation)} the ${nounFor(a, 1)}`, kind: 'add' }
        : { source: `a photo of ${one(a, c1)}`, instruction: `add ${one(b, c2)}`, kind: 'add' };
    case 'remove':
      return { source: `a photo of ${one(a, c1)} and ${one(b, c2)}`, instruction: `remove the ${nounFor(b, 1)}`, kind: 'remove' };
    case 'recolor':
      return { source: `a photo of ${one(a, c1)} and ${one(b, c2)}`, instruction: `make the ${nounFor(a, 1)} ${c3}`, kind: 'recolor' };
    case 'move':
      return {
        source: `a photo of ${one(a, c1)} ${relationText(relation)} ${one(b, c2)}`,
        instruction: `move the ${nounFor(a, 1)} ${relationText(INVERSE[relation])} the ${nounFor(b, 1)}`,
        kind: 'move',
      };
    case 'count': {
      const n = 2 + (k % 3);
      const m = n === 2 ? 3 : n - 1 - (k % 2);
      return {
        source: `a photo of ${some(a, n, c1)} and ${one(b, c2)}`,
        instruction: `change the number of ${nounFor(a, 2)} to ${numberWord(m)}`,
        kind: 'count',
      };
    }
    case 'replace':
      return { source: `a photo of ${one(a, c1)} and ${one(b, c2)}`, instruction: `replace the ${nounFor(a, 1)} with ${one(c, c3)}`, kind: 'replace' };
    case 'world_knowledge': {
      const entry = pick(rng, CLASS_PHRASES.filter((e) => e.value !== a));
      if (k % 3 === 0) return { source: `a photo of ${one(a, c1)}`, instruction: `add ${entry.phrase} ${relationText(relation)} the ${nounFor(a, 1)}`, kind: 'add' };
      if (k % 3 === 1) {
        const color = pick(rng, COLOR_PHRASES.filter((e) => e.value !== c1));
        return { source: `a photo of ${one(a, c1)} and ${one(b, c2)}`, instruction: `make the ${nounFor(a, 1)} ${color.phrase}`, kind: 'recolor' };
      }
      return { source: `a photo of ${one(a, c1)} and ${one(b, c2)}`, instruction: `replace the ${nounFor(b, 1)} with ${entry.phrase}`, kind: 'replace' };
    }
  }
}

/** The first seed whose source image the sim draws exactly as its prompt asks; null if none does. */
async function sourceSeedFor(prompt: string): Promise<number | null> {
  const sim = new SimBackbone();
  for (let seed = 1; seed <= SOURCE_SEED_TRIES; seed++) {
    const png = await sim.generate({ prompt, seed, width: SUITE_IMAGE_SIZE, height: SUITE_IMAGE_SIZE });
    if (scoreGeneration(prompt, png).correct) return seed;
  }
  return null;
}

async function buildEditing(): Promise<EditItem[]> {
  const items: EditItem[] = [];
  for (const category of EDIT_CATEGORIES) {
    const seen = new Set<string>();
    for (let k = 0; seen.size < EDITS_PER_CATEGORY; k++) {
      const { source, instruction, kind } = editRequest(category, k);
      const parsed = parseEdit(instruction);
      const key = `${source}|${instruction}`;
      if (seen.has(key) || parsed.ops.length !== 1 || parsed.ops[0].kind !== kind || parsed.unparsed.length > 0) continue;
      const sourceSeed = await sourceSeedFor(source);
      if (sourceSeed === null) continue;
      seen.add(key);
      items.push({
        id: `edit-${category}-${String(seen.size).padStart(3, '0')}`,
        category,
        sourcePrompt: source,
        sourceSeed,
        instruction,
        truth: { source: parsePrompt(source).scene, ops: parsed.ops, knowledge: parsed.knowledge.map((e) => ({ phrase: e.phrase, value: e.value })) },
      });
    }
  }
  return items;
}

function jsonl(rows: readonly object[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

async function main(): Promise<void> {
  const generation = buildGeneration();
  const editing = await buildEditing();
  writeFileSync(join(__dirname, 'generation.jsonl'), jsonl(generation));
  writeFileSync(join(__dirname, 'editing.jsonl'), jsonl(editing));
  console.log(`wrote ${generation.length} generation prompts and ${editing.length} edit requests to ${__dirname}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
