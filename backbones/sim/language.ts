// The sim's reading of English prompts: words -> Scene, and Scene -> an explicit prompt. Like a
// real model it takes what it understands and ignores the rest; nothing here throws on odd input.
// It also notes how often each constraint is stated, because restating a constraint makes a
// generator more likely to honour it (errors.ts), and which world-knowledge phrases were used.
import { KNOWLEDGE, type KnowledgeEntry } from './knowledge';
import type { ColorName, Relation, Scene, SceneObject, SceneRelation } from './scene';
import { COLOR_SYNONYMS, LONGEST_NOUN_WORDS, MAX_COUNT, NOUN_FORMS, NUMBER_VALUES, isColorName, nounFor, numberWord } from './world';

/** A knowledge phrase the prompt used, and the object whose class, colour or count it gave. */
export interface KnowledgeUse {
  entry: KnowledgeEntry;
  object: number;
}

/**
 * How many times each constraint is stated. Index i of `object`, `color` and `count` is
 * scene.objects[i]; index j of `relation` is scene.relations[j]. "exactly" counts as one more
 * statement of a count.
 */
export interface Emphasis {
  object: number[];
  color: number[];
  count: number[];
  relation: number[];
}

export interface ParsedPrompt {
  scene: Scene;
  knowledge: KnowledgeUse[];
  emphasis: Emphasis;
  /** Per object: its count came from a vague word ("some", "several") or a bare plural. */
  vagueCount: boolean[];
  /** Words that played no part in the scene, for reports. */
  ignored: string[];
}

/** One constraint of a scene, for restating it (describeScene) or reporting it (groundtruth). */
export type Constraint =
  | { kind: 'object' | 'color' | 'count'; object: number }
  | { kind: 'relation'; relation: number };

/**
 * What a bare plural ("apples") or "some apples" asks for. A prompt that does not say how many
 * still needs one number for scoring; two is the smallest that is plural.
 */
export const BARE_PLURAL_COUNT = 2;

const VAGUE_COUNT_WORDS: ReadonlyMap<string, number> = new Map([
  ['some', 2],
  ['multiple', 2],
  ['several', 3],
  ['few', 3],
  ['many', 4],
]);

/** Words that open a new noun phrase frame ("a photo of"): the article before them counts nothing. */
const FRAME_WORDS = new Set([
  'photo', 'photograph', 'picture', 'image', 'painting', 'drawing', 'illustration', 'render', 'rendering',
  'sketch', 'scene', 'view', 'shot', 'portrait', 'artwork',
]);

/**
 * Words that may sit between an object and a colour or count said after it ("the cup is red",
 * "the apples must be exactly two") without changing what the colour or count belongs to.
 */
const LINK_WORDS = new Set([
  'is', 'are', 'be', 'must', 'should', 'in', 'painted', 'coloured', 'colour', 'that', 'which', 'clearly',
  'visible', 'shown', 'drawn', 'it', 'they', 'all', 'each', 'make', 'sure', 'of', 'also', 'very',
  'entirely', 'completely', 'fully', 'number', 'total', 'altogether', 'bright',
]);

/** Words before "orange" that make it the colour rather than the fruit ("painted orange"). */
const COLOR_CONTEXT = new Set(['in', 'is', 'are', 'be', 'painted', 'coloured', 'all']);

const RELATION_PHRASES: ReadonlyArray<readonly [readonly string[], Relation]> = (
  [
    ['on the left side of', 'left of'],
    ['on the right side of', 'right of'],
    ['to the left of', 'left of'],
    ['to the right of', 'right of'],
    ['on the left of', 'left of'],
    ['on the right of', 'right of'],
    ['left of', 'left of'],
    ['right of', 'right of'],
    ['on top of', 'above'],
    ['above', 'above'],
    ['over', 'above'],
    ['atop', 'above'],
    ['below', 'below'],
    ['under', 'below'],
    ['underneath', 'below'],
    ['beneath', 'below'],
    ['next to', 'next to'],
    ['beside', 'next to'],
    ['alongside', 'next to'],
    ['close to', 'next to'],
    ['near', 'next to'],
  ] as const
)
  .map(([phrase, relation]) => [phrase.split(' '), relation] as const)
  .sort((a, b) => b[0].length - a[0].length);

const RELATION_TEXT: Readonly<Record<Relation, string>> = {
  'left of': 'to the left of',
  'right of': 'to the right of',
  above: 'above',
  below: 'below',
  'next to': 'next to',
};

export const INVERSE_RELATION: Readonly<Record<Relation, Relation>> = {
  'left of': 'right of',
  'right of': 'left of',
  above: 'below',
  below: 'above',
  'next to': 'next to',
};

export function relationText(relation: Relation): string {
  return RELATION_TEXT[relation];
}

type Token = { kind: 'word'; text: string } | { kind: 'sep'; text: string } | { kind: 'knowledge'; entry: KnowledgeEntry };

/** Lower case, one spelling of "colour", plain apostrophes: prompts and the knowledge table alike. */
function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/\bcolor/g, 'colour');
}

function words(text: string): Token[] {
  const tokens: Token[] = [];
  for (const match of normalise(text).matchAll(/[a-z0-9]+(?:['-][a-z0-9]+)*|[,;.!?:]/g)) {
    const part = match[0];
    tokens.push(/^[,;.!?:]$/.test(part) ? { kind: 'sep', text: part } : { kind: 'word', text: part });
  }
  return tokens;
}

const KNOWLEDGE_WORDS: ReadonlyArray<{ entry: KnowledgeEntry; words: string[] }> = KNOWLEDGE.map((entry) => ({
  entry,
  words: words(entry.phrase).map((t) => (t.kind === 'word' ? t.text : '')),
})).sort((a, b) => b.words.length - a.words.length);

const ARTICLES = new Set(['a', 'an', 'the']);

function matchesAt(tokens: readonly Token[], at: number, phrase: readonly string[]): boolean {
  for (let k = 0; k < phrase.length; k++) {
    const token = tokens[at + k];
    if (token === undefined || token.kind !== 'word') return false;
    // "an animal that gives milk" names it as well as "the animal that gives milk" does.
    const same = token.text === phrase[k] || (k === 0 && ARTICLES.has(phrase[k]) && ARTICLES.has(token.text));
    if (!same) return false;
  }
  return true;
}

/**
 * Tokens with every knowledge phrase replaced by one knowledge token. A count phrase only counts
 * in its frame, "as many <objects> as <phrase>", which becomes "<count> <objects>".
 */
function tokenize(text: string): Token[] {
  const raw = words(text);
  const out: Token[] = [];
  let i = 0;
  while (i < raw.length) {
    const found = KNOWLEDGE_WORDS.find((k) => matchesAt(raw, i, k.words));
    if (found && found.entry.kind !== 'count') {
      out.push({ kind: 'knowledge', entry: found.entry });
      i += found.words.length;
      continue;
    }
    if (found && found.entry.kind === 'count') {
      const as = out.length - 1;
      const last = out[as];
      let start = -1;
      for (let k = as - 2; k >= Math.max(0, as - 8); k--) {
        const a = out[k];
        const b = out[k + 1];
        if (a.kind === 'word' && a.text === 'as' && b.kind === 'word' && b.text === 'many') {
          start = k;
          break;
        }
      }
      if (last !== undefined && last.kind === 'word' && last.text === 'as' && start >= 0) {
        const objects = out.slice(start + 2, as);
        out.length = start;
        out.push({ kind: 'knowledge', entry: found.entry }, ...objects);
        i += found.words.length;
        continue;
      }
    }
    out.push(raw[i]);
    i++;
  }
  return out;
}

interface Pending {
  count?: number;
  /** Said with a number word, not just an article. */
  countExplicit: boolean;
  countVague: boolean;
  exact: boolean;
  countKnowledge?: KnowledgeEntry;
  color?: ColorName;
  colorKnowledge?: KnowledgeEntry;
  definite: boolean;
  /** An unknown word came after the colour or count: it probably belongs to that word ("a red collar"). */
  stale: boolean;
}

const emptyPending = (): Pending => ({ countExplicit: false, countVague: false, exact: false, definite: false, stale: false });

/** Builds the scene as the parser walks the tokens. */
class SceneBuilder {
  readonly objects: SceneObject[] = [];
  readonly relations: SceneRelation[] = [];
  readonly emphasis: Emphasis = { object: [], color: [], count: [], relation: [] };
  readonly vagueCount: boolean[] = [];
  readonly knowledge: KnowledgeUse[] = [];
  pending: Pending = emptyPending();
  pendingRelation?: Relation;
  last?: number;

  /** A noun: a new object, more of an existing one, or a reference back to one ("the cup"). */
  mention(cls: string, plural: boolean | null, classKnowledge?: KnowledgeEntry): void {
    const p = this.pending;
    let target = p.definite ? this.findReference(cls, p.color) : -1;
    if (target >= 0) {
      this.emphasis.object[target]++;
      this.restate(target, p);
    } else {
      const count = p.count ?? (plural === true ? BARE_PLURAL_COUNT : 1);
      const vague = p.count === undefined ? plural === true : p.countVague;
      const countStatements = p.countExplicit && !p.countVague ? 1 + (p.exact ? 1 : 0) : 0;
      target = this.objects.findIndex((o) => o.cls === cls && o.color === p.color);
      if (target >= 0) {
        // "a cat and another cat": one group of two, as an image would show it.
        this.objects[target].count = Math.min(MAX_COUNT, this.objects[target].count + count);
        this.emphasis.object[target]++;
      } else {
        target = this.objects.length;
        this.objects.push(p.color === undefined ? { cls, count } : { cls, count, color: p.color });
        this.emphasis.object.push(1);
        this.emphasis.color.push(p.color === undefined ? 0 : 1);
        this.emphasis.count.push(countStatements);
        this.vagueCount.push(vague);
        if (p.colorKnowledge) this.knowledge.push({ entry: p.colorKnowledge, object: target });
        if (p.countKnowledge) this.knowledge.push({ entry: p.countKnowledge, object: target });
      }
    }
    if (classKnowledge) this.knowledge.push({ entry: classKnowledge, object: target });
    this.link(target);
    this.last = target;
    this.pending = emptyPending();
  }

  /**
   * The object "the <cls>" refers to: the one of that class in the named colour, else one whose
   * colour is still open, else (no colour named) the first of the class.
   */
  findReference(cls: string, color: ColorName | undefined): number {
    const same = (i: number): boolean => this.objects[i].cls === cls;
    const indices = this.objects.map((_o, i) => i).filter(same);
    const open = indices.find((i) => this.objects[i].color === undefined);
    if (color !== undefined) return indices.find((i) => this.objects[i].color === color) ?? open ?? -1;
    return open ?? indices[0] ?? -1;
  }

  /** A colour or count said again about an existing object; a contradicting one is ignored. */
  restate(target: number, p: Pending): void {
    const object = this.objects[target];
    if (p.color !== undefined) {
      if (object.color === undefined) {
        object.color = p.color;
        this.emphasis.color[target] = 1;
        if (p.colorKnowledge) this.knowledge.push({ entry: p.colorKnowledge, object: target });
      } else if (object.color === p.color) {
        this.emphasis.color[target]++;
      }
    }
    if (p.count !== undefined && p.countExplicit) {
      if (this.vagueCount[target] && !p.countVague) {
        object.count = p.count;
        this.vagueCount[target] = false;
        this.emphasis.count[target] = 1 + (p.exact ? 1 : 0);
        if (p.countKnowledge) this.knowledge.push({ entry: p.countKnowledge, object: target });
      } else if (object.count === p.count) {
        this.emphasis.count[target] += 1 + (p.exact ? 1 : 0);
      }
    }
  }

  link(target: number): void {
    const relation = this.pendingRelation;
    this.pendingRelation = undefined;
    if (relation === undefined || this.last === undefined || this.last === target) return;
    this.addRelation(this.last, relation, target);
  }

  /**
   * Records "subject relation object". Saying it again, or its mirror image ("B right of A"),
   * is emphasis; a relation that contradicts an earlier one about the same pair is ignored
   * (the first statement wins, as a reader would assume a slip).
   */
  addRelation(subject: number, relation: Relation, object: number): void {
    for (let j = 0; j < this.relations.length; j++) {
      const r = this.relations[j];
      const same = r.subject === subject && r.object === object && r.relation === relation;
      const mirror = r.subject === object && r.object === subject && r.relation === INVERSE_RELATION[relation];
      if (same || mirror) {
        this.emphasis.relation[j]++;
        return;
      }
      const samePair = (r.subject === subject && r.object === object) || (r.subject === object && r.object === subject);
      if (samePair) return;
    }
    this.relations.push({ subject, relation, object });
    this.emphasis.relation.push(1);
  }

  /** A colour or count left over after its object ("a car the colour of a lemon", "the cup is red"). */
  flush(): void {
    const p = this.pending;
    const leftover = p.color !== undefined || (p.count !== undefined && p.countExplicit);
    if (leftover && !p.stale && this.last !== undefined) this.restate(this.last, p);
    this.pending = emptyPending();
  }

  setColor(color: ColorName, knowledge?: KnowledgeEntry): void {
    if (this.pending.color !== undefined) return;
    this.pending.color = color;
    this.pending.colorKnowledge = knowledge;
    this.pending.stale = false;
  }

  setCount(count: number, explicit: boolean, vague: boolean, knowledge?: KnowledgeEntry): void {
    const p = this.pending;
    // "a" only counts when no number was given ("a single cat", "exactly one").
    if (!explicit && p.count !== undefined) return;
    p.count = Math.max(1, Math.min(MAX_COUNT, count));
    p.countExplicit = explicit;
    p.countVague = vague;
    p.countKnowledge = knowledge;
    p.stale = false;
  }
}

function colorOf(word: string): ColorName | undefined {
  if (isColorName(word)) return word;
  return COLOR_SYNONYMS[word];
}

function matchNoun(tokens: readonly Token[], at: number): { cls: string; plural: boolean | null; length: number; text: string } | undefined {
  for (let length = LONGEST_NOUN_WORDS; length >= 1; length--) {
    const parts: string[] = [];
    for (let k = 0; k < length; k++) {
      const token = tokens[at + k];
      if (token === undefined || token.kind !== 'word') break;
      parts.push(token.text);
    }
    if (parts.length !== length) continue;
    const text = parts.join(' ');
    const form = NOUN_FORMS.get(text);
    if (form) return { ...form, length, text };
  }
  return undefined;
}

function matchRelation(tokens: readonly Token[], at: number): { relation: Relation; length: number } | undefined {
  for (const [phrase, relation] of RELATION_PHRASES) {
    if (phrase.every((w, k) => {
      const token = tokens[at + k];
      return token !== undefined && token.kind === 'word' && token.text === w;
    })) {
      return { relation, length: phrase.length };
    }
  }
  // Plain "on" ("a cat on a bench") means above, but not in "on the left" without "of".
  const on = tokens[at];
  if (on?.kind === 'word' && on.text === 'on') {
    const next = tokens[at + 1];
    const after = tokens[at + 2];
    if (next?.kind === 'knowledge' && next.entry.kind !== 'color') return { relation: 'above', length: 1 };
    if (next?.kind !== 'word') return undefined;
    if (next.text === 'the' && after?.kind === 'word' && (after.text === 'left' || after.text === 'right')) return undefined;
    const opensNounPhrase =
      ARTICLES.has(next.text) || NUMBER_VALUES.has(next.text) || colorOf(next.text) !== undefined || matchNoun(tokens, at + 1) !== undefined;
    if (opensNounPhrase) return { relation: 'above', length: 1 };
  }
  return undefined;
}

/** "orange" is the colour when an object follows it or a linking word precedes it; else the fruit. */
function orangeIsColor(tokens: readonly Token[], at: number): boolean {
  const next = tokens[at + 1];
  if (next?.kind === 'knowledge' && next.entry.kind === 'class') return true;
  if (next?.kind === 'word' && (matchNoun(tokens, at + 1) !== undefined || colorOf(next.text) !== undefined)) return true;
  const before = tokens[at - 1];
  return before?.kind === 'word' && COLOR_CONTEXT.has(before.text);
}

export function parsePrompt(text: string): ParsedPrompt {
  const tokens = tokenize(text);
  const b = new SceneBuilder();
  const ignored: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i];
    if (token.kind === 'sep') {
      b.flush();
      if (token.text !== ',') b.pendingRelation = undefined;
      i++;
      continue;
    }
    if (token.kind === 'knowledge') {
      const entry = token.entry;
      if (entry.kind === 'class') b.mention(entry.value, null, entry);
      else if (entry.kind === 'color') b.setColor(entry.value, entry);
      else b.setCount(entry.value, true, false, entry);
      i++;
      continue;
    }
    const word = token.text;
    const noun = matchNoun(tokens, i);
    if (noun && !(noun.text === 'orange' && orangeIsColor(tokens, i))) {
      b.mention(noun.cls, noun.plural);
      i += noun.length;
      continue;
    }
    const relation = matchRelation(tokens, i);
    if (relation) {
      b.flush();
      if (b.last !== undefined) b.pendingRelation = relation.relation;
      i += relation.length;
      continue;
    }
    const next = tokens[i + 1];
    const nextWord = next?.kind === 'word' ? next.text : undefined;
    const color = colorOf(word);
    const number = NUMBER_VALUES.get(word);
    if (color !== undefined) {
      b.setColor(color);
    } else if (number !== undefined) {
      b.setCount(number, true, false);
    } else if (word === 'a' || word === 'an') {
      b.setCount(1, false, false);
    } else if (word === 'single') {
      b.setCount(1, true, false);
    } else if ((word === 'pair' || word === 'couple') && nextWord === 'of') {
      b.setCount(2, true, word === 'couple');
      i++;
    } else if (VAGUE_COUNT_WORDS.has(word)) {
      b.setCount(VAGUE_COUNT_WORDS.get(word) ?? BARE_PLURAL_COUNT, true, true);
    } else if (word === 'exactly' || word === 'precisely') {
      b.pending.exact = true;
    } else if (word === 'the' || word === 'there') {
      b.pending.definite = true;
    } else if (word === 'and') {
      b.flush();
    } else if (FRAME_WORDS.has(word)) {
      b.pending = emptyPending();
    } else if (!LINK_WORDS.has(word)) {
      ignored.push(word);
      b.pending.stale = true;
    }
    i++;
  }
  b.flush();
  return {
    scene: { objects: b.objects, relations: b.relations },
    knowledge: b.knowledge,
    emphasis: b.emphasis,
    vagueCount: b.vagueCount,
    ignored,
  };
}

/** "exactly two red apples" */
export function objectPhrase(object: SceneObject): string {
  const color = object.color === undefined ? '' : `${object.color} `;
  return `exactly ${numberWord(object.count)} ${color}${nounFor(object.cls, object.count)}`;
}

/**
 * "the apples", or "the red apples" where the class alone would be ambiguous. Colour is left out
 * otherwise, so restating a relation or a count does not also restate a colour.
 */
export function referencePhrase(scene: Scene, index: number, withColor = false): string {
  const object = scene.objects[index];
  const shared = scene.objects.some((o, i) => i !== index && o.cls === object.cls);
  const color = object.color !== undefined && (shared || withColor) ? `${object.color} ` : '';
  return `the ${color}${nounFor(object.cls, object.count)}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function verb(object: SceneObject): string {
  return object.count === 1 ? 'is' : 'are';
}

/** One sentence that says a constraint again; the second time it is said, it is said differently. */
export function restatement(scene: Scene, constraint: Constraint, second: boolean): string {
  let sentence: string;
  if (constraint.kind === 'relation') {
    const r = scene.relations[constraint.relation];
    const subject = scene.objects[r.subject];
    sentence = `${referencePhrase(scene, r.subject)} ${verb(subject)} ${relationText(r.relation)} ${referencePhrase(scene, r.object)}`;
  } else {
    const object = scene.objects[constraint.object];
    if (constraint.kind === 'color' && object.color !== undefined) {
      sentence = `${referencePhrase(scene, constraint.object)} ${verb(object)} ${object.color}`;
    } else if (constraint.kind === 'count') {
      sentence = `there ${verb(object)} ${objectPhrase(object)}`;
    } else {
      sentence = `${referencePhrase(scene, constraint.object)} must be clearly visible`;
    }
  }
  return second ? `Make sure ${sentence}.` : `${capitalise(sentence)}.`;
}

/**
 * An explicit prompt for a scene, every count said with "exactly": "exactly two red apples, to
 * the left of exactly one blue cup". Relations between neighbours in the list are said inline,
 * the rest as sentences. Each constraint in `restate` is then said again (twice if listed twice),
 * which is how enhancement and revision stress what matters. parsePrompt reads the result back
 * as the same scene.
 */
export function describeScene(scene: Scene, restate: readonly Constraint[] = []): string {
  const n = scene.objects.length;
  if (n === 0) return '';
  const inline = new Set<number>();
  let text = '';
  for (let i = 0; i < n; i++) {
    text += objectPhrase(scene.objects[i]);
    if (i === n - 1) break;
    const r = scene.relations.findIndex((rel, j) => !inline.has(j) && rel.subject === i && rel.object === i + 1);
    if (r >= 0) {
      inline.add(r);
      text += `, ${relationText(scene.relations[r].relation)} `;
    } else {
      text += i === n - 2 ? ' and ' : ', ';
    }
  }
  const sentences = [capitalise(text) + '.'];
  scene.relations.forEach((_r, j) => {
    if (!inline.has(j)) sentences.push(restatement(scene, { kind: 'relation', relation: j }, false));
  });
  const said = new Map<string, number>();
  for (const constraint of restate) {
    const key = JSON.stringify(constraint);
    const times = said.get(key) ?? 0;
    said.set(key, times + 1);
    sentences.push(restatement(scene, constraint, times > 0));
  }
  return sentences.join(' ');
}

/**
 * The text with every knowledge phrase replaced by what it names ("as many birds as a tricycle
 * has wheels" -> "three birds"), lower case. `resolve` picks the value for each phrase; by
 * default the right one, and an unreliable model can pass a wrong one.
 */
export function resolveKnowledgeText(
  text: string,
  resolve: (entry: KnowledgeEntry) => string | number = (entry) => entry.value,
): { text: string; used: KnowledgeEntry[] } {
  const used: KnowledgeEntry[] = [];
  let out = '';
  for (const token of tokenize(text)) {
    let part: string;
    if (token.kind === 'knowledge') {
      used.push(token.entry);
      const value = resolve(token.entry);
      if (typeof value === 'number') part = numberWord(value);
      else if (token.entry.kind !== 'class') part = value;
      // Keep the phrase's article, so "remove the animal that gives milk" stays "remove the cow".
      else part = `${/^(the|a|an) /.exec(token.entry.phrase)?.[1] ?? ''} ${nounFor(value, 1)}`.trim();
    } else {
      part = token.text;
    }
    out += token.kind === 'sep' || out === '' ? part : ` ${part}`;
  }
  return { text: out, used };
}
