// Deterministic readers for the model's answers to the prompt templates: the controller's boxed
// action, self-evaluation scores, revised prompts, edit instructions and enhancement plans.
// Pure functions, no Node APIs: activities call them so that what was read is recorded in history.
import { ACTION_ALIASES, ACTIONS, type ActionName, type Decision } from '../workflows/types';

/** Reasoning is kept for the trajectory, not re-read; a runaway answer must not bloat history. */
export const MAX_REASONING_CHARS = 2000;

const BOX_OPEN_SOURCE = String.raw`\\+boxed\s*\{`;

// LaTeX commands a model wraps plain words in; only their argument matters.
const LATEX_WRAPPER =
  /\\+(?:text|texttt|textbf|textit|textsf|textrm|mathrm|mathtt|mathbf|mathit|mathsf|operatorname|emph)\s*\{([^{}]*)\}/g;

/**
 * Every `\boxed{...}` content in order, trimmed (empty boxes included as ''). Braces nest
 * (`\boxed{\text{a}}`); `\{` and `\}` are literal braces; `\\boxed` (a double-escaped answer) counts;
 * a box that never closes is ignored and the search goes on after its opening brace.
 */
export function extractBoxed(text: string): string[] {
  const contents: string[] = [];
  const open = new RegExp(BOX_OPEN_SOURCE, 'g');
  for (let match = open.exec(text); match !== null; match = open.exec(text)) {
    const start = match.index + match[0].length;
    const end = closingBrace(text, start);
    if (end === -1) continue;
    contents.push(text.slice(start, end).trim());
    open.lastIndex = end + 1;
  }
  return contents;
}

/** Index of the brace that closes one already opened just before `from`, or -1. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === '{' || next === '}' || next === '\\') i++;
    } else if (ch === '{') {
      depth++;
    } else if (ch === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function unwrapLatex(text: string): string {
  let previous: string;
  let current = text;
  do {
    previous = current;
    current = current.replace(LATEX_WRAPPER, '$1');
  } while (current !== previous);
  return current;
}

/** Lowercase snake_case key of a name with wrappers, quotes, labels and punctuation removed. */
function nameKey(name: string): string {
  let previous: string;
  let current = name;
  do {
    previous = current;
    current = unwrapLatex(current)
      .replace(/\\+_/g, '_')
      .trim()
      .replace(/^(?:action|answer)\s*[:=]\s*/i, '')
      .replace(/^["'`*$<“‘]+|["'`*$>”’]+$/g, '')
      .replace(/[.,;:!?]+$/, '');
  } while (current !== previous);
  return current.toLowerCase().replace(/[\s_-]+/g, '_');
}

const ALIAS_INDEX: ReadonlyMap<string, ActionName> = new Map(
  ACTIONS.flatMap((action) => [action, ...ACTION_ALIASES[action]].map((alias) => [nameKey(alias), action] as const)),
);

/**
 * The canonical action a name refers to, in either of the paper's vocabularies, or null.
 * Case, surrounding whitespace, `\text{}`-style wrappers, quotes, backticks, trailing punctuation,
 * spaces or dashes for underscores and a leading "action:" are all tolerated.
 */
export function normaliseActionName(name: string): ActionName | null {
  return ALIAS_INDEX.get(nameKey(name)) ?? null;
}

// Several names in one box: "a, b", "a or b", "a and b", "a / b", one per line, ...
const NAME_SEPARATOR = /\s*[,;/|&\n]\s*|\s+(?:or|and)\s+/i;

/** The names one box holds, as written; a box with a single name is returned whole. */
function namesInBox(content: string): string[] {
  const parts = unwrapLatex(content)
    .split(NAME_SEPARATOR)
    .map((part) => part.trim())
    .filter((part) => nameKey(part) !== '');
  if (parts.length > 1) return parts;
  return nameKey(content) === '' ? [] : [content];
}

function labelPattern(word: string, flags: string): RegExp {
  return new RegExp(String.raw`\*{0,2}\b${word}\b\*{0,2}\s*:\**`, flags);
}

/**
 * The text after the first `startWord:` label (or from the beginning) up to the last `endWord:`
 * label after it or the first box, whichever comes first; the last label so that the word
 * used in passing ("the answer: ...") does not cut the reasoning short.
 */
function labelledSection(raw: string, startWord: string, endWord: string): string {
  const start = labelPattern(startWord, 'i').exec(raw);
  const rest = start ? raw.slice(start.index + start[0].length) : raw;
  const labels = [...rest.matchAll(labelPattern(endWord, 'gi'))];
  const lastLabel = labels.length > 0 ? labels[labels.length - 1].index : undefined;
  const box = new RegExp(BOX_OPEN_SOURCE).exec(rest);
  const end = Math.min(lastLabel ?? rest.length, box ? box.index : rest.length);
  return capReasoning(rest.slice(0, end).trim());
}

function capReasoning(text: string): string {
  return text.length <= MAX_REASONING_CHARS ? text : `${text.slice(0, MAX_REASONING_CHARS - 1).trimEnd()}…`;
}

/**
 * Reads the controller's `Reasoning: ... Answer: \boxed{action}` reply.
 *
 * The paper defines its robustness metrics in one line each; these are the operational
 * definitions, one flag per controller call, averaged over calls to get the rates:
 * - PSR (`found`): at least one `\boxed{}` names something (an empty box, or a box holding only
 *   wrappers or punctuation, names nothing). Action names written outside any box do not count:
 *   the paper reads the answer from the box only.
 * - AUR (`unique`): across all boxes, the names resolve to exactly one distinct action. The same
 *   action boxed twice, or in two vocabularies, is unique; two different actions are not; unknown
 *   names count as distinct from each other and from every known action. One box holding several
 *   names ("a, b", "a or b", "a / b") counts as several.
 * - AVR (`valid`): unique, and that one action is in the vocabulary. The workflow then checks
 *   whether the action is allowed in the current state (an image exists, the backbone can edit).
 * `action` is set only when all three hold; otherwise it is null and the workflow falls back.
 */
export function parseControllerAnswer(raw: string): Decision {
  const reasoning = labelledSection(raw, 'reasoning', 'answer');
  const named: string[] = [];
  for (const content of extractBoxed(raw)) {
    for (const name of namesInBox(content)) if (!named.includes(name)) named.push(name);
  }
  const distinct = new Set(named.map((name) => normaliseActionName(name) ?? `unknown:${nameKey(name)}`));
  const found = named.length > 0;
  const unique = distinct.size === 1;
  const only = unique ? normaliseActionName(named[0]) : null;
  const valid = only !== null;
  return {
    raw,
    reasoning,
    action: found && unique && valid ? only : null,
    named,
    parse: { found, unique, valid },
  };
}

export interface ScoreAnswer {
  /**
   * The 0-10 self-evaluation, or null when it cannot be read or lies outside [0, 10].
   * Null is not zero: best-of-N ranks an unreadable score below every readable one.
   */
  score: number | null;
  reasoning: string;
}

const NUMBER = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)`;
const PLAIN_SCORE = new RegExp(`^${NUMBER}$`);
const RATIO_SCORE = new RegExp(String.raw`^(${NUMBER})\s*(?:/|out\s+of)\s*(${NUMBER})$`, 'i');
const LEADING_SCORE = new RegExp(String.raw`^${NUMBER}(?:\s*(?:/|out\s+of)\s*${NUMBER})?`, 'i');

/** A score as written in a box: `7`, `7.5`, `7/10`, `3/5` (scaled to 10), `7 out of 10`, `score: 9`. */
function readScoreValue(text: string): number | null {
  let previous: string;
  let current = unwrapLatex(text).replace(/\\+[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, '$1/$2');
  do {
    previous = current;
    current = current
      .trim()
      .replace(/^(?:score|rating)\s*[:=]\s*/i, '')
      .replace(/^["'`*$]+|["'`*$]+$/g, '')
      .replace(/[.,;!]+$/, '');
  } while (current !== previous);
  let value = Number.NaN;
  if (PLAIN_SCORE.test(current)) {
    value = Number(current);
  } else {
    const ratio = RATIO_SCORE.exec(current);
    if (ratio) {
      const [top, bottom] = [Number(ratio[1]), Number(ratio[2])];
      value = bottom === 10 ? top : bottom > 0 ? (top * 10) / bottom : Number.NaN;
    }
  }
  return Number.isFinite(value) && value >= 0 && value <= 10 ? value : null;
}

/**
 * Reads a self-evaluation (`Reasoning: ... Score: \boxed{7}`). The last box decides; with no box,
 * the last `Score: N` line is read instead.
 */
export function parseScore(raw: string): ScoreAnswer {
  const reasoning = labelledSection(raw, 'reasoning', 'score');
  const boxes = extractBoxed(raw).filter((content) => content !== '');
  if (boxes.length > 0) return { score: readScoreValue(boxes[boxes.length - 1]), reasoning };
  const labels = [...raw.matchAll(/\bscore\**\s*[:=]\s*\**[ \t]*([^\n]*)/gi)];
  const line = labels.length > 0 ? labels[labels.length - 1][1] : '';
  const leading = LEADING_SCORE.exec(line.trim());
  return { score: leading ? readScoreValue(leading[0]) : null, reasoning };
}

/** A box's prose with wrappers, LaTeX escapes, line breaks and surrounding quotes removed. */
function cleanBoxedText(content: string): string | null {
  let text = unwrapLatex(content)
    .replace(/\\+([_&%$#])/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  while (text.length >= 2 && /^["'`“‘]/.test(text) && /["'`”’]$/.test(text)) text = text.slice(1, -1).trim();
  return text === '' ? null : text;
}

/**
 * The content of the last box, for the revision (`Revised prompt: \boxed{...}`) and refinement
 * (`Instruction: \boxed{...}`) templates; null when there is no box or it is empty.
 */
export function parseBoxedText(raw: string): string | null {
  const boxes = extractBoxed(raw);
  return boxes.length === 0 ? null : cleanBoxedText(boxes[boxes.length - 1]);
}

export interface Enhancement {
  /** The `<think>` plan, '' when the model did not think aloud. */
  plan: string;
  /** The prompt to generate from, or null when none was written. */
  prompt: string | null;
}

const PROMPT_LABEL =
  /^\**\s*(?:(?:final|enhanced|improved|rewritten|revised|refined|detailed|explicit|new)\s+)?(?:prompt|answer)\s*\**\s*:\s*\**/i;

/**
 * Reads the enhancement template's `<think>plan</think> \boxed{prompt}` reply. The prompt is the
 * last box after `</think>`, else the text there with a "Prompt:" label stripped. Without any
 * think block the whole reply is read that way. An unclosed `<think>` makes everything after it
 * the plan; only a box inside it can still give the prompt.
 */
export function parseEnhancement(raw: string): Enhancement {
  const open = /<think>/i.exec(raw);
  if (open === null) return { plan: '', prompt: promptFrom(raw) };
  const inside = raw.slice(open.index + open[0].length);
  const close = /<\/think>/i.exec(inside);
  if (close === null) return { plan: inside.trim(), prompt: lastBoxText(inside) };
  return {
    plan: inside.slice(0, close.index).trim(),
    prompt: promptFrom(inside.slice(close.index + close[0].length)),
  };
}

function lastBoxText(text: string): string | null {
  const boxes = extractBoxed(text).filter((content) => content !== '');
  return boxes.length === 0 ? null : cleanBoxedText(boxes[boxes.length - 1]);
}

/** The last box when the text has one; otherwise the text itself, label and stray box opener removed. */
function promptFrom(text: string): string | null {
  if (extractBoxed(text).length > 0) return lastBoxText(text);
  return cleanBoxedText(text.replace(new RegExp(BOX_OPEN_SOURCE, 'g'), '').trim().replace(PROMPT_LABEL, ''));
}

/** The first sentence of a reasoning text, on one line and at most `maxChars` long, for live display. */
export function summariseReasoning(text: string, maxChars = 160): string {
  const flat = text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\**reasoning\**\s*:\**\s*/i, '');
  const sentence = /^.*?[.!?](?= |$)/.exec(flat);
  const first = sentence ? sentence[0] : flat;
  if (first.length <= maxChars) return first;
  const cut = first.slice(0, Math.max(0, maxChars - 1));
  const space = cut.lastIndexOf(' ');
  return `${(space > maxChars / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
