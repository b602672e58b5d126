// The sim's image editing: reads edit instructions ("make the cup red", "remove the dog", "add a
// cat to the right of the dog", "change the number of apples to three"), applies them to the
// objects read from an image, and says what the result should be for scoring. Each edit succeeds
// with a documented probability; when it fails the result is a plausible partial edit.
import { KNOWLEDGE_UNRESOLVED, EMPHASIS_FACTOR, MAX_EMPHASIS } from './errors';
import type { KnowledgeEntry } from './knowledge';
import { INVERSE_RELATION, objectPhrase, parsePrompt, relationText, resolveKnowledgeText } from './language';
import { SIGNATURE_SIZE } from './render';
import { chance, pick, rngFor } from './rng';
import { COLORS, type ColorName, type Instance, type Relation, type Scene, type SceneObject, type SceneRelation } from './scene';
import { layoutScene } from './layout';
import { relationHolds, sceneFromInstances } from './vision';
import { COCO_CLASSES, COLOR_SYNONYMS, MAX_COUNT, NUMBER_VALUES, isColorName, nounFor, numberWord } from './world';

/** The objects an edit acts on: all of a class, or those of one colour. */
export interface Target {
  cls: string;
  color?: ColorName;
  /** For wording only: "the apples" rather than "the apple". */
  plural: boolean;
}

export type EditOp =
  | { kind: 'add'; object: SceneObject; relation?: Relation; anchor?: Target }
  /** Without a count, every matching object goes. */
  | { kind: 'remove'; target: Target; count?: number }
  | { kind: 'recolor'; target: Target; color: ColorName }
  | { kind: 'move'; target: Target; relation: Relation; anchor: Target }
  | { kind: 'count'; target: Target; count: number }
  | { kind: 'replace'; target: Target; object: SceneObject };

export type EditKind = EditOp['kind'];

/**
 * Chance that one edit comes out right. Instruction editors (BAGEL among them) do simple additions,
 * removals and colour changes well on public editing benchmarks; changing a count and above all
 * moving an object are the spatial edits they fail most.
 */
export const EDIT_SUCCESS: Readonly<Record<EditKind, number>> = {
  add: 0.8,
  remove: 0.85,
  recolor: 0.85,
  move: 0.6,
  count: 0.7,
  replace: 0.8,
};

export interface ParsedEdit {
  ops: EditOp[];
  /** How many times each op was asked for: saying an edit twice makes it likelier (errors.ts). */
  emphasis: number[];
  knowledge: KnowledgeEntry[];
  /** Clauses that were not understood as an edit. */
  unparsed: string[];
}

const COLOR_WORDS = `(${[...COLORS, ...Object.keys(COLOR_SYNONYMS)].join('|')})`;
const VERBS =
  'add|insert|draw|include|introduce|remove|delete|erase|take|get|make|turn|paint|colour|recolour|change|set|adjust|move|shift|relocate|position|put|place|replace|swap|there';
const CLAUSE_SPLIT = new RegExp(`[.;!\\n]+|,?\\s+(?:and\\s+)?then\\s+|,\\s*(?=(?:${VERBS})\\b)|\\s+and\\s+(?=(?:${VERBS})\\b)`);
const LEAD_IN = /^(?:please|also|now|then|and|finally|make sure(?: to| that)?)\s+/;

function toColor(word: string): ColorName | undefined {
  return isColorName(word) ? word : COLOR_SYNONYMS[word];
}

/** The first object a noun phrase names, and whether it gave a number (not just "a" or "the"). */
function nounPhrase(text: string): { object: SceneObject; explicitCount: boolean; scene: Scene } | undefined {
  const parsed = parsePrompt(text);
  const object = parsed.scene.objects[0];
  if (object === undefined) return undefined;
  return { object, explicitCount: parsed.emphasis.count[0] > 0, scene: parsed.scene };
}

function targetOf(text: string): Target | undefined {
  const np = nounPhrase(text);
  if (!np) return undefined;
  const { cls, color, count } = np.object;
  return color === undefined ? { cls, plural: count > 1 } : { cls, color, plural: count > 1 };
}

/** The relation from the first named object to the second, with the second as a target. */
function placement(scene: Scene): { relation: Relation; anchor: Target } | undefined {
  const r = scene.relations.find((rel) => rel.subject === 0);
  if (!r) return undefined;
  const anchor = scene.objects[r.object];
  const target: Target = anchor.color === undefined ? { cls: anchor.cls, plural: anchor.count > 1 } : { cls: anchor.cls, color: anchor.color, plural: anchor.count > 1 };
  return { relation: r.relation, anchor: target };
}

function parseClause(clause: string): EditOp | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^(?:replace|swap)\s+(.+?)\s+(?:with|for|by)\s+(.+)$/.exec(clause))) {
    const target = targetOf(m[1]);
    const np = nounPhrase(m[2]);
    return target && np ? { kind: 'replace', target, object: np.object } : undefined;
  }
  if ((m = /^(?:remove|delete|erase|take away|take out|get rid of)\s+(.+)$/.exec(clause))) {
    const np = nounPhrase(m[1]);
    const target = targetOf(m[1]);
    if (!np || !target) return undefined;
    const one = /^(?:a|an)\s/.test(m[1]);
    return np.explicitCount || one ? { kind: 'remove', target, count: np.object.count } : { kind: 'remove', target };
  }
  if ((m = /^(?:change|set|adjust|make)\s+the\s+(?:number|count)\s+of\s+(.+?)\s+(?:to|into|equal to)\s+(\S+)$/.exec(clause))) {
    const target = targetOf(m[1]);
    const count = NUMBER_VALUES.get(m[2]);
    return target && count !== undefined ? { kind: 'count', target, count } : undefined;
  }
  if ((m = /^there\s+(?:should|must)\s+be\s+(.+)$/.exec(clause))) {
    const np = nounPhrase(m[1]);
    const target = targetOf(m[1]);
    return np && target && np.explicitCount ? { kind: 'count', target, count: np.object.count } : undefined;
  }
  if (
    (m = new RegExp(`^(?:change|set)\\s+the\\s+colour\\s+of\\s+(.+?)\\s+to\\s+${COLOR_WORDS}$`).exec(clause)) ||
    (m = new RegExp(`^(?:make|turn|paint|colour|recolour|change)\\s+(.+?)\\s+(?:to\\s+|into\\s+)?${COLOR_WORDS}$`).exec(clause)) ||
    (m = new RegExp(`^(.+?)\\s+(?:is|are|should be|must be|becomes?)\\s+${COLOR_WORDS}$`).exec(clause))
  ) {
    const target = targetOf(m[1]);
    const color = toColor(m[2]);
    return target && color ? { kind: 'recolor', target, color } : undefined;
  }
  if ((m = /^(move|shift|relocate|position|put|place)\s+(.+)$/.exec(clause))) {
    const np = nounPhrase(m[2]);
    const where = np ? placement(np.scene) : undefined;
    const moving = /^(?:move|shift|relocate|position)$/.test(m[1]) || /^the\s/.test(m[2]);
    if (np && where && moving) {
      const target = targetOf(m[2]);
      return target ? { kind: 'move', target, ...where } : undefined;
    }
    if (np && !moving) return where ? { kind: 'add', object: np.object, ...where } : { kind: 'add', object: np.object };
    return undefined;
  }
  if ((m = /^(?:add|insert|draw|include|introduce)\s+(.+)$/.exec(clause))) {
    const np = nounPhrase(m[1]);
    if (!np) return undefined;
    const where = placement(np.scene);
    return where ? { kind: 'add', object: np.object, ...where } : { kind: 'add', object: np.object };
  }
  return undefined;
}

/**
 * The edits an instruction asks for, in order. Knowledge phrases are resolved first, by `resolve`
 * (the right value unless the caller plays an unreliable model). Saying the same edit twice
 * counts once, with emphasis.
 */
export function parseEdit(instruction: string, resolve?: (entry: KnowledgeEntry) => string | number): ParsedEdit {
  const { text, used } = resolveKnowledgeText(instruction, resolve);
  const ops: EditOp[] = [];
  const emphasis: number[] = [];
  const unparsed: string[] = [];
  for (const piece of text.split(CLAUSE_SPLIT)) {
    let clause = piece.replace(/\s*,\s*$/, '').trim();
    while (LEAD_IN.test(clause)) clause = clause.replace(LEAD_IN, '');
    if (clause === '') continue;
    const op = parseClause(clause);
    if (!op) {
      unparsed.push(clause);
      continue;
    }
    const key = JSON.stringify(op);
    const seen = ops.findIndex((o) => JSON.stringify(o) === key);
    if (seen >= 0) emphasis[seen]++;
    else {
      ops.push(op);
      emphasis.push(1);
    }
  }
  return { ops, emphasis, knowledge: used, unparsed };
}

function targetPhrase(target: Target): string {
  const color = target.color === undefined ? '' : `${target.color} `;
  return `the ${color}${nounFor(target.cls, target.plural ? 2 : 1)}`;
}

/** One edit as an instruction parseEdit reads back as the same edit. */
export function editOpText(op: EditOp): string {
  switch (op.kind) {
    case 'add': {
      const where = op.relation && op.anchor ? ` ${relationText(op.relation)} ${targetPhrase(op.anchor)}` : '';
      return `add ${objectPhrase(op.object)}${where}`;
    }
    case 'remove':
      return op.count === undefined
        ? `remove ${targetPhrase(op.target)}`
        : `remove ${numberWord(op.count)} ${op.target.color ?? ''} ${nounFor(op.target.cls, op.count)}`.replace(/\s+/g, ' ');
    case 'recolor':
      return `make ${targetPhrase(op.target)} ${op.color}`;
    case 'move':
      return `move ${targetPhrase(op.target)} ${relationText(op.relation)} ${targetPhrase(op.anchor)}`;
    case 'count':
      return `change the number of ${op.target.color === undefined ? '' : `${op.target.color} `}${nounFor(op.target.cls, 2)} to ${numberWord(op.count)}`;
    case 'replace':
      return `replace ${targetPhrase(op.target)} with ${objectPhrase(op.object)}`;
  }
}

/** Several edits as one instruction, each said once, or twice where listed in `stress`. */
export function describeEdit(ops: readonly EditOp[], stress: readonly number[] = []): string {
  const sentences = ops.map((op) => `${capitalise(editOpText(op))}.`);
  for (const k of stress) if (ops[k]) sentences.push(`Make sure to ${editOpText(ops[k])}.`);
  return sentences.join(' ');
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function matches(target: Target, cls: string, color: ColorName | undefined): boolean {
  return cls === target.cls && (target.color === undefined || color === target.color);
}

/**
 * The scene an edit should leave: the source's groups (class, colour, count) with the edits
 * applied, and only the relations the instruction asks for. Relations between untouched objects
 * are not required, because moving one object may change them legitimately.
 */
export function expectedEditScene(source: readonly Instance[], ops: readonly EditOp[]): Scene {
  const objects: SceneObject[] = sceneFromInstances(source).objects.map((o) => ({ ...o }));
  const relations: SceneRelation[] = [];
  const first = (target: Target): number => objects.findIndex((o) => o.count > 0 && matches(target, o.cls, o.color));
  const addObject = (object: SceneObject): number => {
    // An uncoloured addition of a class already shown joins it, as applyEdit draws it.
    const same = objects.findIndex((o) => o.count > 0 && o.cls === object.cls && (object.color === undefined || o.color === object.color));
    if (same >= 0) {
      objects[same].count = Math.min(MAX_COUNT * 2, objects[same].count + object.count);
      return same;
    }
    objects.push({ ...object });
    return objects.length - 1;
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'add': {
        const added = addObject(op.object);
        const anchor = op.anchor ? first(op.anchor) : -1;
        if (op.relation && anchor >= 0 && anchor !== added) relations.push({ subject: added, relation: op.relation, object: anchor });
        break;
      }
      case 'remove': {
        if (op.count === undefined) {
          for (const o of objects) if (matches(op.target, o.cls, o.color)) o.count = 0;
        } else {
          const g = first(op.target);
          if (g >= 0) objects[g].count = Math.max(0, objects[g].count - op.count);
        }
        break;
      }
      case 'recolor':
        for (const o of objects) if (o.count > 0 && matches(op.target, o.cls, o.color)) o.color = op.color;
        break;
      case 'count': {
        const g = first(op.target);
        if (g >= 0) objects[g].count = op.count;
        else objects.push(op.target.color === undefined ? { cls: op.target.cls, count: op.count } : { cls: op.target.cls, color: op.target.color, count: op.count });
        break;
      }
      case 'move': {
        const subject = first(op.target);
        const anchor = first(op.anchor);
        if (subject >= 0 && anchor >= 0 && subject !== anchor) relations.push({ subject, relation: op.relation, object: anchor });
        break;
      }
      case 'replace':
        for (const o of objects) if (matches(op.target, o.cls, o.color)) o.count = 0;
        addObject(op.object);
        break;
    }
  }
  // Recolouring can make two groups alike; they are one group in an image.
  const merged: SceneObject[] = [];
  const index = new Map<number, number>();
  objects.forEach((o, i) => {
    if (o.count <= 0) return;
    const same = merged.findIndex((m) => m.cls === o.cls && m.color === o.color);
    if (same >= 0) {
      merged[same].count += o.count;
      index.set(i, same);
    } else {
      index.set(i, merged.length);
      merged.push(o);
    }
  });
  const kept: SceneRelation[] = [];
  for (const r of relations) {
    const subject = index.get(r.subject);
    const object = index.get(r.object);
    if (subject === undefined || object === undefined || subject === object) continue;
    if (!kept.some((k) => k.subject === subject && k.object === object && k.relation === r.relation)) {
      kept.push({ subject, relation: r.relation, object });
    }
  }
  return { objects: merged, relations: kept };
}

/**
 * What an image still gets wrong about the edits, judged from that image alone (no source): an
 * added object missing or misplaced, a removed one still there, a wrong colour or count. What
 * only a comparison with the source could show (how many were added) is not checked here.
 */
export interface EditFailure {
  /** Index of the edit in `ops`. */
  op: number;
  kind: 'missing' | 'position' | 'still there' | 'colour' | 'count';
  text: string;
}

export function editFailures(instances: readonly Instance[], ops: readonly EditOp[]): EditFailure[] {
  const failures: EditFailure[] = [];
  const of = (target: Target): Instance[] => instances.filter((i) => matches(target, i.cls, i.color));
  ops.forEach((op, index) => {
    const fail = (kind: EditFailure['kind'], detail: string): void => {
      failures.push({ op: index, kind, text: `${kind}: ${detail}` });
    };
    switch (op.kind) {
      case 'add': {
        const added = of({ cls: op.object.cls, color: op.object.color, plural: false });
        if (added.length === 0) fail('missing', objectPhrase(op.object));
        else if (op.relation && op.anchor && !relationHolds(added, of(op.anchor), op.relation)) {
          fail('position', `${targetPhrase({ ...op.object, plural: op.object.count > 1 })} not ${relationText(op.relation)} ${targetPhrase(op.anchor)}`);
        }
        break;
      }
      case 'remove':
        if (op.count === undefined && of(op.target).length > 0) fail('still there', targetPhrase(op.target));
        break;
      case 'recolor': {
        const all = instances.filter((i) => i.cls === op.target.cls);
        const stale = op.target.color === undefined ? all.filter((i) => i.color !== op.color) : of(op.target).filter((i) => i.color !== op.color);
        if (all.length === 0) fail('missing', targetPhrase(op.target));
        else if (stale.length > 0 || !all.some((i) => i.color === op.color)) fail('colour', `${targetPhrase(op.target)} not ${op.color}`);
        break;
      }
      case 'count': {
        const found = of(op.target).length;
        if (found !== op.count) fail('count', `${found} ${nounFor(op.target.cls, 2)}, not ${op.count}`);
        break;
      }
      case 'move':
        if (!relationHolds(of(op.target), of(op.anchor), op.relation)) {
          fail('position', `${targetPhrase(op.target)} not ${relationText(op.relation)} ${targetPhrase(op.anchor)}`);
        }
        break;
      case 'replace':
        if (of(op.target).length > 0) fail('still there', targetPhrase(op.target));
        if (of({ cls: op.object.cls, color: op.object.color, plural: false }).length === 0) fail('missing', objectPhrase(op.object));
        break;
    }
  });
  return failures;
}

/** Room kept between boxes, so neighbouring objects of one colour never touch (vision would merge them). */
const GAP = 8;
/** The smallest box worth placing: below this the class badge does not fit. */
const MIN_SIDE = 20;
/** Box sizes tried, as fractions of the typical box, when the canvas is crowded. */
const SHRINK_STEPS = [1, 0.8, 0.6, 0.4];

function canvasMargin(size: number): number {
  return Math.max(SIGNATURE_SIZE + 4, Math.round(size * 0.04));
}

function overlaps(a: Instance, b: Instance): boolean {
  return a.x < b.x + b.w + GAP && b.x < a.x + a.w + GAP && a.y < b.y + b.h + GAP && b.y < a.y + a.h + GAP;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function centre(instances: readonly Instance[]): { x: number; y: number } | undefined {
  if (instances.length === 0) return undefined;
  const x = instances.reduce((s, i) => s + i.x + i.w / 2, 0) / instances.length;
  const y = instances.reduce((s, i) => s + i.y + i.h / 2, 0) / instances.length;
  return { x, y };
}

/**
 * A free box for a new object where `accept` holds, near `near` when given (the closest few
 * spots, one picked by rng), anywhere otherwise. Shrinks the box when the canvas is crowded.
 */
function findSpot(
  placed: readonly Instance[],
  base: { cls: string; color: ColorName; w: number; h: number },
  size: number,
  rng: () => number,
  accept: (box: Instance) => boolean,
  near?: { x: number; y: number },
): Instance | undefined {
  const margin = canvasMargin(size);
  for (const scale of SHRINK_STEPS) {
    const w = Math.max(MIN_SIDE, Math.round(base.w * scale));
    const h = Math.max(MIN_SIDE, Math.round(base.h * scale));
    const step = Math.max(4, Math.round(Math.min(w, h) / 4));
    const spots: Instance[] = [];
    for (let y = margin; y + h <= size - margin; y += step) {
      for (let x = margin; x + w <= size - margin; x += step) {
        const box: Instance = { cls: base.cls, color: base.color, x, y, w, h };
        if (!placed.some((p) => overlaps(p, box)) && accept(box)) spots.push(box);
      }
    }
    if (spots.length === 0) continue;
    if (!near) return pick(rng, spots);
    const distance = (b: Instance): number => (b.x + b.w / 2 - near.x) ** 2 + (b.y + b.h / 2 - near.y) ** 2;
    spots.sort((a, b) => distance(a) - distance(b));
    return pick(rng, spots.slice(0, 5));
  }
  return undefined;
}

export interface EditOutcome {
  op: EditOp;
  applied: boolean;
  detail: string;
}

export interface EditResult {
  instances: Instance[];
  outcomes: EditOutcome[];
  unparsed: string[];
}

/** Places up to `count` new objects of one kind where `accept` holds. Returns how many fit. */
function placeNew(
  instances: Instance[],
  kind: { cls: string; color: ColorName },
  count: number,
  size: number,
  rng: () => number,
  accept: (box: Instance) => boolean,
  near?: { x: number; y: number },
  like?: { w: number; h: number },
): number {
  const w = like?.w ?? (instances.length > 0 ? median(instances.map((i) => i.w)) : Math.round(size / 4));
  const h = like?.h ?? (instances.length > 0 ? median(instances.map((i) => i.h)) : Math.round(size / 4));
  let placed = 0;
  for (let k = 0; k < count; k++) {
    const box = findSpot(instances, { ...kind, w, h }, size, rng, accept, near);
    if (!box) break;
    instances.push(box);
    placed++;
  }
  return placed;
}

/**
 * When there is no free room for what an edit needs (no space right of an object at the canvas
 * edge), the editor recomposes the picture: the same objects, `more` of one kind added, laid out
 * afresh with the edit's relation first and the image's other relations kept where they fit.
 */
function recompose(
  instances: Instance[],
  kind: { cls: string; color: ColorName },
  more: number,
  size: number,
  rng: () => number,
  relation?: Relation,
  anchor?: Target,
): void {
  const scene = sceneFromInstances(instances);
  let g = scene.objects.findIndex((o) => o.cls === kind.cls && o.color === kind.color);
  if (g < 0) {
    g = scene.objects.length;
    scene.objects.push({ ...kind, count: more });
  } else {
    scene.objects[g].count += more;
  }
  const a = anchor ? scene.objects.findIndex((o, k) => k !== g && matches(anchor, o.cls, o.color)) : -1;
  const relations: SceneRelation[] = [
    ...(relation && a >= 0 ? [{ subject: g, relation, object: a }] : []),
    ...scene.relations.filter((r) => r.subject !== g && r.object !== g),
  ];
  const laid = layoutScene({ objects: scene.objects, relations }, rng, size);
  instances.length = 0;
  instances.push(...laid);
}

/** The colour an uncoloured addition gets: that of the same class already shown, else any. */
function colorForNew(instances: readonly Instance[], object: SceneObject, rng: () => number): ColorName {
  return object.color ?? instances.find((i) => i.cls === object.cls)?.color ?? pick(rng, COLORS);
}

function otherColor(rng: () => number, ...not: ColorName[]): ColorName {
  return pick(rng, COLORS.filter((c) => !not.includes(c)));
}

/** Applies one edit; on failure leaves the partial result a real editor tends to. */
function applyOp(instances: Instance[], op: EditOp, success: boolean, size: number, rng: () => number): string {
  const of = (target: Target): Instance[] => instances.filter((i) => matches(target, i.cls, i.color));
  const without = (gone: readonly Instance[]): void => {
    const keep = instances.filter((i) => !gone.includes(i));
    instances.length = 0;
    instances.push(...keep);
  };
  switch (op.kind) {
    case 'add': {
      const color = colorForNew(instances, op.object, rng);
      const anchor = op.anchor ? of(op.anchor) : [];
      const relation = op.relation && anchor.length > 0 ? op.relation : undefined;
      // Failure: one too few, or the right number in the wrong place.
      const short = !success && chance(rng, 0.5);
      const count = short ? op.object.count - 1 : op.object.count;
      const wanted = relation && !success && !short ? INVERSE_RELATION[relation] : relation;
      const accept = wanted ? (box: Instance): boolean => relationHolds([box], anchor, wanted) : (): boolean => true;
      const near = centre(anchor) ?? centre(instances.filter((i) => i.cls === op.object.cls && i.color === color));
      const kind = { cls: op.object.cls, color };
      const placed = placeNew(instances, kind, count, size, rng, accept, near);
      if (placed < count) recompose(instances, kind, count - placed, size, rng, wanted, op.anchor);
      return `added ${count} ${color} ${nounFor(op.object.cls, count === 1 ? 1 : 2)}`;
    }
    case 'remove': {
      const found = of(op.target);
      const asked = op.count ?? found.length;
      const count = Math.min(found.length, success ? asked : Math.max(0, asked - 1));
      without(found.slice(found.length - count));
      return `removed ${count} of ${found.length}`;
    }
    case 'recolor': {
      const found = of(op.target);
      if (!success && chance(rng, 0.5)) return 'colour left unchanged';
      const color = success ? op.color : otherColor(rng, op.color, ...(op.target.color ? [op.target.color] : []));
      for (const inst of found) inst.color = color;
      return `recoloured ${found.length} to ${color}`;
    }
    case 'count': {
      const found = of(op.target);
      const asked = success ? op.count : Math.max(0, op.count + (op.count > found.length ? -1 : 1));
      if (asked < found.length) {
        without(found.slice(asked));
        return `now ${asked}`;
      }
      const kind = { cls: op.target.cls, color: op.target.color ?? found[0]?.color ?? pick(rng, COLORS) };
      const placed = placeNew(instances, kind, asked - found.length, size, rng, () => true, centre(found));
      if (found.length + placed < asked) recompose(instances, kind, asked - found.length - placed, size, rng);
      return `now ${asked}`;
    }
    case 'move': {
      const found = of(op.target);
      const anchor = of(op.anchor).filter((i) => !found.includes(i));
      if (found.length === 0 || anchor.length === 0) return 'nothing to move';
      if (!success && chance(rng, 0.5)) return 'left in place';
      const relation = success ? op.relation : INVERSE_RELATION[op.relation];
      without(found);
      const moved: Instance[] = [];
      for (const inst of found) {
        const box = findSpot(instances, inst, size, rng, (b) => relationHolds([b], anchor, relation), centre(anchor));
        if (!box) break;
        moved.push(box);
        instances.push(box);
      }
      if (moved.length < found.length) {
        without(moved);
        instances.push(...found);
        recompose(instances, { cls: found[0].cls, color: found[0].color }, 0, size, rng, relation, op.anchor);
      }
      return `moved ${found.length} ${relation} the ${op.anchor.cls}`;
    }
    case 'replace': {
      const found = of(op.target);
      const color = op.object.color ?? pick(rng, COLORS);
      if (!success && chance(rng, 0.5)) return 'nothing replaced';
      // Failure of the other kind: the new object arrives but the old one stays.
      if (success) without(found);
      const reused = success ? found.slice(0, op.object.count).map((f) => ({ ...f, cls: op.object.cls, color })) : [];
      instances.push(...reused);
      const like = found[0] ? { w: found[0].w, h: found[0].h } : undefined;
      const kind = { cls: op.object.cls, color };
      const more = op.object.count - reused.length;
      const placed = placeNew(instances, kind, more, size, rng, () => true, centre(found), like);
      if (placed < more) recompose(instances, kind, more - placed, size, rng);
      return `replaced with ${op.object.count}`;
    }
  }
}

/**
 * The instances after an instruction, for an image of `size` pixels. Each edit succeeds with
 * EDIT_SUCCESS for its kind (saying it twice shrinks the failure chance by EMPHASIS_FACTOR), and
 * knowledge phrases in the instruction go unresolved with KNOWLEDGE_UNRESOLVED, as in generation.
 * An instruction with nothing the sim understands changes nothing.
 */
export function applyEdit(source: readonly Instance[], instruction: string, seed: number, size: number): EditResult {
  const rng = rngFor('edit', seed, instruction);
  const resolve = (entry: KnowledgeEntry): string | number => {
    if (!chance(rng, KNOWLEDGE_UNRESOLVED)) return entry.value;
    if (entry.kind === 'class') return pick(rng, COCO_CLASSES.filter((c) => c !== entry.value));
    if (entry.kind === 'color') return otherColor(rng, entry.value);
    return pick(rng, [1, 2, 3, 4, 5].filter((c) => c !== entry.value));
  };
  const parsed = parseEdit(instruction, resolve);
  const instances = source.map((i) => ({ ...i }));
  const outcomes = parsed.ops.map((op, k): EditOutcome => {
    const extra = Math.min(MAX_EMPHASIS, parsed.emphasis[k] - 1);
    const failure = (1 - EDIT_SUCCESS[op.kind]) * EMPHASIS_FACTOR ** extra;
    const applied = !chance(rng, failure);
    return { op, applied, detail: applyOp(instances, op, applied, size, rng) };
  });
  return { instances, outcomes, unparsed: parsed.unparsed };
}
