// The sim's understanding side: answers the five prompt templates the way a unified model would,
// seeing attached images only through their pixels (vision.readImage). It follows the paper's
// decision principles as a heuristic, and is imperfect in documented ways: it overlooks some
// flaws, its scores are noisy, and (when asked to be) it sometimes ignores the answer format.
import { detectTemplate, readField, type Mode } from '../../prompts/render';
import { ACTION_ALIASES, ACTIONS, type ActionName } from '../../workflows/types';
import { describeEdit, editFailures, expectedEditScene, parseEdit, type EditFailure, type EditOp, type Target } from './edit';
import { checkImage, type CheckResult, type Failure } from './groundtruth';
import { INVERSE_RELATION, describeScene, objectPhrase, parsePrompt, relationText, restatement, type Constraint, type ParsedPrompt } from './language';
import { chance, hashBytes, hashString, pick, rngFor } from './rng';
import type { Instance, Scene } from './scene';
import { readImage, sceneFromInstances } from './vision';
import { MAX_COUNT, nounFor, numberWord } from './world';

/**
 * Chance that the model overlooks one flaw of an image (per flaw and image, so every template
 * asked about the same image overlooks the same flaws). Vision-language models miss small
 * attribute and position errors now and then; self-evaluation is not ground truth.
 */
export const SELF_CHECK_MISS = 0.1;
/** Chance that a self-evaluation score lands one point above or below what the model saw (half each way). */
export const SCORE_JITTER = 0.3;
/** The score for a request with nothing the sim can check: neither praise nor blame. */
export const UNCHECKABLE_SCORE = 5;
/** At most this many fixes go into one refinement edit: the template asks for a minimal edit. */
export const MAX_REFINE_EDITS = 2;
/** Prompt revisions tried before the controller stops expecting more rewording to help. */
export const MAX_REVISIONS = 2;
/** Self-edits tried before the controller gives up on local fixes. */
export const MAX_SELF_EDITS = 2;

/** Names a confused model invents: none of them is an action. */
const UNKNOWN_ACTIONS = ['regenerate_image', 'improve_prompt', 'refine', 'generate_better', 'self_critique'];

export interface ChatOptions {
  seed: number;
  /** Probability that a controller answer breaks the format (no box, two actions, unknown action). */
  instructionNoise: number;
}

interface View {
  text: string;
  mode: Mode;
  original: string;
  current: string;
}

/** What the model sees in an image: the instances and a stable id for the image's pixels. */
interface Sight {
  instances: Instance[];
  hash: number;
}

function see(png: Buffer): Sight {
  return { instances: readImage(png), hash: hashBytes(png) };
}

function viewOf(text: string): View {
  const task = readField(text, 'Task') ?? '';
  const original = readField(text, 'Original request') ?? '';
  return {
    text,
    mode: task.startsWith('image editing') ? 'editing' : 'generation',
    original,
    current: readField(text, 'Current prompt') ?? original,
  };
}

/** The flaws the model notices: each real one, unless this image makes it overlook it. */
function noticed(result: CheckResult, sight: Sight): CheckResult {
  const details = result.details.filter((d) => !chance(rngFor('overlook', sight.hash, d.text), SELF_CHECK_MISS));
  const failed = new Set(details.map((d) => JSON.stringify(d.constraint ?? 'extra')));
  return { ...result, details, failures: details.map((d) => d.text), correct: details.length === 0, satisfied: result.total - failed.size };
}

function noticedEdits(failures: EditFailure[], sight: Sight): EditFailure[] {
  return failures.filter((f) => !chance(rngFor('overlook', sight.hash, f.text), SELF_CHECK_MISS));
}

function summary(instances: readonly Instance[]): string {
  if (instances.length === 0) return 'no objects';
  const scene = sceneFromInstances(instances);
  const amount = (n: number): string => (n <= MAX_COUNT ? numberWord(n) : String(n));
  return scene.objects.map((o) => `${amount(o.count)} ${o.color ?? ''} ${nounFor(o.cls, o.count)}`.replace(/\s+/g, ' ')).join(', ');
}

/** Answers one rendered template (or anything else) with the images attached to it. */
export function answer(text: string, images: readonly Buffer[], options: ChatOptions): string {
  const template = detectTemplate(text);
  if (template === null) {
    return 'I am the simulated image model. I can plan a prompt, check an image against a request, suggest an edit, grade a result or choose the next step when asked with one of the agent\'s templates; this message is none of those, so there is nothing for me to do with it.';
  }
  const view = viewOf(text);
  const sights = images.map(see);
  switch (template) {
    case 'controller':
      return controller(view, sights.at(-1), options);
    case 'enhancement':
      return enhancement(view);
    case 'revision':
      return revision(view, sights.at(-1));
    case 'refinement':
      return refinement(view, sights.at(-1));
    case 'scoring':
      return scoring(view, sights, options);
  }
}

// ---------------------------------------------------------------------------------------------
// Understanding the request and judging an image against it.

/** The generation request as the model understands it: it resolves world knowledge when reading. */
function intendedScene(view: View): ParsedPrompt {
  return parsePrompt(view.original);
}

/** Failures of one image as noticed; in editing mode, of the requested edits, judged on that image alone. */
interface Judgement {
  failures: string[];
  /** Only wrong colours or counts: a local edit can fix them. */
  localOnly: boolean;
  missing: boolean;
  /** Generation: the check behind the failures. */
  generation?: CheckResult;
  /** Editing: the requested edits and which of them the image fails. */
  edits?: { ops: EditOp[]; failures: EditFailure[] };
}

function judge(view: View, sight: Sight): Judgement {
  if (view.mode === 'editing') {
    const ops = parseEdit(view.original).ops;
    const failures = noticedEdits(editFailures(sight.instances, ops), sight);
    return {
      failures: failures.map((f) => f.text),
      localOnly: failures.length > 0 && failures.every((f) => f.kind === 'colour' || f.kind === 'count'),
      missing: failures.some((f) => f.kind === 'missing'),
      edits: { ops, failures },
    };
  }
  const result = noticed(checkImage(intendedScene(view).scene, sight.instances), sight);
  return {
    failures: result.failures,
    localOnly: result.details.length > 0 && result.details.every((d) => d.kind === 'color' || d.kind === 'count'),
    missing: result.details.some((d) => d.kind === 'missing'),
    generation: result,
  };
}

// ---------------------------------------------------------------------------------------------
// Controller.

interface ControllerState {
  iteration: number;
  tMax: number;
  taken: ActionName[];
  offered: string[];
}

function toAction(name: string): ActionName | undefined {
  const lower = name.trim().toLowerCase();
  return ACTIONS.find((a) => ACTION_ALIASES[a].includes(lower));
}

function controllerState(text: string): ControllerState {
  const [iteration, tMax] = (readField(text, 'Iteration') ?? '1 / 1').split('/').map((s) => Number.parseInt(s, 10));
  const takenField = readField(text, 'Actions so far') ?? 'none';
  const taken = takenField === 'none' ? [] : takenField.split(',').flatMap((n) => toAction(n) ?? []);
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'Available actions:');
  const offered: string[] = [];
  for (let k = start + 1; start >= 0 && k < lines.length && lines[k].startsWith('- '); k++) {
    offered.push(lines[k].slice(2).split(':')[0].trim());
  }
  return { iteration: Number.isFinite(iteration) ? iteration : 1, tMax: Number.isFinite(tMax) ? tMax : 1, taken, offered };
}

/** The offered name for an action, if it is offered. */
function offeredName(state: ControllerState, action: ActionName): string | undefined {
  return state.offered.find((name) => toAction(name) === action);
}

/** Whether the current prompt already spells out everything the request asks, knowledge resolved. */
function explicitPrompt(view: View, intended: Scene): boolean {
  if (view.mode === 'editing') {
    const parsed = parseEdit(view.current);
    return parsed.ops.length > 0 && parsed.knowledge.length === 0;
  }
  const current = parsePrompt(view.current);
  return current.knowledge.length === 0 && checkImage(intended, current.scene).correct && current.emphasis.count.every((n) => n > 0);
}

function isComplex(view: View): boolean {
  if (view.mode === 'editing') {
    const parsed = parseEdit(view.current);
    return parsed.knowledge.length > 0 || parsed.ops.length >= 2 || parsed.ops.length === 0;
  }
  const parsed = parsePrompt(view.current);
  const { objects, relations } = parsed.scene;
  const attributes = objects.some((o) => o.color !== undefined || o.count > 1) || relations.length > 0;
  return parsed.knowledge.length > 0 || (objects.length >= 2 && attributes);
}

function decide(view: View, sight: Sight | undefined, state: ControllerState): { action: ActionName; reasoning: string } {
  const count = (a: ActionName): number => state.taken.filter((t) => t === a).length;
  const imageNow = sight !== undefined && (view.mode === 'generation' || state.taken.length > 0);
  if (!imageNow) {
    const complex = isComplex(view) && count('prompt_enhancement') === 0;
    const what = view.mode === 'editing' ? 'instruction' : 'request';
    return complex
      ? { action: 'prompt_enhancement', reasoning: `No result yet, and the ${what} needs reasoning or has several parts, so I will plan it out first.` }
      : { action: 'naive_generation', reasoning: `No result yet, and the ${what} is short and literal, so a direct attempt is the best first step.` };
  }
  const judgement = judge(view, sight);
  const seen = `I see ${summary(sight.instances)}.`;
  if (judgement.failures.length === 0) {
    return { action: 'stop', reasoning: `${seen} Every part of the request is there, so the image is done.` };
  }
  const problems = `${seen} Problems: ${judgement.failures.join('; ')}.`;
  const intended = intendedScene(view).scene;
  const explicit = explicitPrompt(view, intended);
  const imageSteps = state.taken.filter((a) => a !== 'stop').length;
  const lastStep = state.iteration >= state.tMax;
  if ((!explicit || judgement.missing) && count('prompt_revision') < MAX_REVISIONS) {
    return { action: 'prompt_revision', reasoning: `${problems} The prompt does not yet spell out what went wrong, so I will revise it.` };
  }
  if (judgement.localOnly && offeredName(state, 'image_detail_refinement') && count('image_detail_refinement') < MAX_SELF_EDITS) {
    return { action: 'image_detail_refinement', reasoning: `${problems} These are local details, so a small edit of this image can fix them.` };
  }
  if ((explicit && imageSteps >= 2) || lastStep) {
    return { action: 'best_of_n', reasoning: `${problems} The prompt is already explicit and samples keep missing, so I will draw several and keep the best.` };
  }
  if (count('prompt_revision') < MAX_REVISIONS) {
    return { action: 'prompt_revision', reasoning: `${problems} Stressing these points in the prompt should help.` };
  }
  return { action: 'best_of_n', reasoning: `${problems} Rewording has not helped, so I will rely on sampling several.` };
}

/** When the chosen action is not offered, the nearest one that is. */
const SUBSTITUTES: Readonly<Record<ActionName, readonly ActionName[]>> = {
  naive_generation: ['naive_generation', 'prompt_enhancement', 'best_of_n'],
  prompt_enhancement: ['prompt_enhancement', 'naive_generation', 'best_of_n'],
  prompt_revision: ['prompt_revision', 'best_of_n', 'naive_generation'],
  image_detail_refinement: ['image_detail_refinement', 'prompt_revision', 'best_of_n', 'naive_generation'],
  best_of_n: ['best_of_n', 'prompt_revision', 'naive_generation'],
  stop: ['stop', 'naive_generation'],
};

function controller(view: View, sight: Sight | undefined, options: ChatOptions): string {
  const state = controllerState(view.text);
  const { action, reasoning } = decide(view, sight, state);
  const name = SUBSTITUTES[action].map((a) => offeredName(state, a)).find((n) => n !== undefined) ?? state.offered[0] ?? 'generate_basic';
  const rng = rngFor('instruction-noise', options.seed, hashString(view.text));
  if (chance(rng, options.instructionNoise)) {
    const mistake = pick(rng, ['no box', 'two actions', 'unknown action'] as const);
    if (mistake === 'no box') return `Reasoning: ${reasoning}\nAnswer: ${name}`;
    const other = state.offered.filter((n) => n !== name);
    if (mistake === 'two actions' && other.length > 0) {
      return `Reasoning: ${reasoning}\nAnswer: \\boxed{${name}} or perhaps \\boxed{${pick(rng, other)}}`;
    }
    return `Reasoning: ${reasoning}\nAnswer: \\boxed{${pick(rng, UNKNOWN_ACTIONS)}}`;
  }
  return `Reasoning: ${reasoning}\nAnswer: \\boxed{${name}}`;
}

// ---------------------------------------------------------------------------------------------
// Prompt enhancement.

function enhancement(view: View): string {
  if (view.mode === 'editing') {
    const parsed = parseEdit(view.current);
    if (parsed.ops.length === 0) {
      return `<think>\nI cannot break "${view.current}" into edits I know how to make, so I will keep it as it is.\n</think>\n\\boxed{${view.current}}`;
    }
    const knowledge = parsed.knowledge.map((e) => `"${e.phrase}" means ${String(e.value)}.`);
    const steps = parsed.ops.map((op, k) => `${k + 1}. ${describeEdit([op])}`);
    const plan = [`The instruction asks for ${parsed.ops.length} edit${parsed.ops.length === 1 ? '' : 's'}.`, ...knowledge, ...steps, 'Everything else stays as it is.'];
    return `<think>\n${plan.join('\n')}\n</think>\n\\boxed{${describeEdit(parsed.ops)}}`;
  }
  const current = parsePrompt(view.current);
  const parsed = current.scene.objects.length > 0 ? current : parsePrompt(view.original);
  const { scene } = parsed;
  if (scene.objects.length === 0) {
    return `<think>\nI find no objects I can draw in "${view.current}", so I will keep the prompt as it is.\n</think>\n\\boxed{${view.current}}`;
  }
  const plan: string[] = [`The request asks for ${scene.objects.length} kind${scene.objects.length === 1 ? '' : 's'} of object.`];
  for (const use of parsed.knowledge) {
    plan.push(`"${use.entry.phrase}" means ${use.entry.kind === 'count' ? numberWord(use.entry.value) : String(use.entry.value)}.`);
  }
  scene.objects.forEach((o, i) => {
    plan.push(`Object ${i + 1}: ${objectPhrase(o)}${o.color === undefined ? ', any colour' : ''}.`);
  });
  for (const r of scene.relations) {
    const subject = scene.objects[r.subject];
    const object = scene.objects[r.object];
    plan.push(`Position: the ${nounFor(subject.cls, subject.count)} ${relationText(r.relation)} the ${nounFor(object.cls, object.count)}.`);
  }
  if (scene.relations.length === 0 && scene.objects.length > 1) plan.push('No positions are asked for; any arrangement will do.');
  // A careful writer says colours and positions twice: once in the list, once on their own.
  const stress: Constraint[] = [
    ...scene.objects.flatMap((o, i): Constraint[] => (o.color === undefined ? [] : [{ kind: 'color', object: i }])),
    ...scene.relations.map((_r, j): Constraint => ({ kind: 'relation', relation: j })),
  ];
  return `<think>\n${plan.join('\n')}\n</think>\n\\boxed{${describeScene(scene, stress)}}`;
}

// ---------------------------------------------------------------------------------------------
// Prompt revision.

/** The constraint to stress for a failure: a missing object is stressed as an object. */
function constraintToStress(failure: Failure): Constraint | undefined {
  if (!failure.constraint) return undefined;
  if (failure.kind === 'missing' && failure.constraint.kind !== 'relation') return { kind: 'object', object: failure.constraint.object };
  if (failure.kind === 'color' && failure.text.startsWith('colour: no ')) return undefined;
  return failure.constraint;
}

function allConstraints(scene: Scene): Constraint[] {
  const constraints: Constraint[] = [];
  scene.objects.forEach((o, i) => {
    constraints.push({ kind: 'object', object: i }, { kind: 'count', object: i });
    if (o.color !== undefined) constraints.push({ kind: 'color', object: i });
  });
  scene.relations.forEach((_r, j) => constraints.push({ kind: 'relation', relation: j }));
  return constraints;
}

function revision(view: View, sight: Sight | undefined): string {
  if (!sight) {
    return `Analysis: There is no image to compare with the request, so I keep the prompt.\nRevised prompt: \\boxed{${view.current}}`;
  }
  const judgement = judge(view, sight);
  if (judgement.failures.length === 0) {
    return `Analysis: I see ${summary(sight.instances)}, which matches the request.\nRevised prompt: \\boxed{${view.current}}`;
  }
  const analysis = `Analysis: I see ${summary(sight.instances)}. ${judgement.failures.join('; ')}.`;
  if (view.mode === 'editing' && judgement.edits) {
    const { ops, failures } = judgement.edits;
    const stress = [...new Set(failures.map((f) => f.op))];
    return `${analysis}\nRevised prompt: \\boxed{${ops.length > 0 ? describeEdit(ops, stress) : view.current}}`;
  }
  const intended = intendedScene(view).scene;
  const failed = (judgement.generation?.details ?? []).flatMap((d) => constraintToStress(d) ?? []);
  // Stress what failed now; what an earlier revision stressed stays stressed (once more if it failed again).
  const restate: Constraint[] = [];
  for (const c of allConstraints(intended)) {
    const said = view.current.includes(restatement(intended, c, false));
    const failedNow = failed.some((f) => JSON.stringify(f) === JSON.stringify(c));
    if (said || failedNow) restate.push(c);
    if (said && failedNow) restate.push(c);
  }
  return `${analysis}\nRevised prompt: \\boxed{${describeScene(intended, restate)}}`;
}

// ---------------------------------------------------------------------------------------------
// Image detail refinement.

function targetFor(scene: Scene, index: number, color = scene.objects[index].color): Target {
  const object = scene.objects[index];
  const shared = scene.objects.some((o, j) => j !== index && o.cls === object.cls);
  const plural = object.count > 1;
  return shared && color !== undefined ? { cls: object.cls, color, plural } : { cls: object.cls, plural };
}

/** Edits that fix the noticed generation failures, most important first. */
function fixesFor(intended: Scene, details: readonly Failure[], instances: readonly Instance[]): EditOp[] {
  const ops: EditOp[] = [];
  const present = (i: number): boolean => instances.some((inst) => inst.cls === intended.objects[i].cls);
  const order: Failure['kind'][] = ['missing', 'color', 'count', 'relation'];
  for (const kind of order) {
    for (const d of details) {
      if (d.kind !== kind || !d.constraint) continue;
      const c = d.constraint;
      if (c.kind === 'relation') {
        const r = intended.relations[c.relation];
        if (present(r.subject) && present(r.object)) {
          ops.push({ kind: 'move', target: targetFor(intended, r.subject), relation: r.relation, anchor: targetFor(intended, r.object) });
        }
        continue;
      }
      const i = c.object;
      const object = intended.objects[i];
      if (kind === 'missing') {
        const r = intended.relations.find((rel) => (rel.subject === i && present(rel.object)) || (rel.object === i && present(rel.subject)));
        if (r && r.subject === i) ops.push({ kind: 'add', object, relation: r.relation, anchor: targetFor(intended, r.object) });
        else if (r) ops.push({ kind: 'add', object, relation: INVERSE_RELATION[r.relation], anchor: targetFor(intended, r.subject) });
        else ops.push({ kind: 'add', object });
      } else if (kind === 'color' && object.color !== undefined && present(i)) {
        const wrong = instances.find((inst) => inst.cls === object.cls && inst.color !== object.color)?.color;
        ops.push({ kind: 'recolor', target: targetFor(intended, i, wrong), color: object.color });
      } else if (kind === 'count') {
        ops.push({ kind: 'count', target: targetFor(intended, i), count: object.count });
      }
    }
  }
  return ops;
}

function refinement(view: View, sight: Sight | undefined): string {
  if (!sight) {
    return `Analysis: There is no image to edit yet.\nInstruction: \\boxed{${view.mode === 'editing' ? view.current : 'keep the image as it is'}}`;
  }
  const judgement = judge(view, sight);
  if (judgement.failures.length === 0) {
    return `Analysis: I see ${summary(sight.instances)}; nothing disagrees with the request.\nInstruction: \\boxed{keep the image as it is}`;
  }
  const analysis = `Analysis: I see ${summary(sight.instances)}. ${judgement.failures.join('; ')}.`;
  let ops: EditOp[];
  if (view.mode === 'editing' && judgement.edits) {
    const { ops: asked, failures } = judgement.edits;
    ops = failures.map((f): EditOp => {
      const op = asked[f.op];
      // An addition that landed in the wrong place is fixed by moving it, not by adding again.
      if (f.kind === 'position' && op.kind === 'add' && op.relation && op.anchor) {
        const { cls, color, count } = op.object;
        return { kind: 'move', target: color === undefined ? { cls, plural: count > 1 } : { cls, color, plural: count > 1 }, relation: op.relation, anchor: op.anchor };
      }
      return op;
    });
  } else {
    ops = fixesFor(intendedScene(view).scene, judgement.generation?.details ?? [], sight.instances);
  }
  const unique = ops.filter((op, k) => ops.findIndex((o) => JSON.stringify(o) === JSON.stringify(op)) === k).slice(0, MAX_REFINE_EDITS);
  if (unique.length === 0) return `${analysis}\nInstruction: \\boxed{keep the image as it is}`;
  return `${analysis}\nInstruction: \\boxed{${describeEdit(unique)}}`;
}

// ---------------------------------------------------------------------------------------------
// Scoring.

function scoring(view: View, sights: readonly Sight[], options: ChatOptions): string {
  const result = sights.at(-1);
  if (!result) return 'Reasoning: No image was attached, so there is nothing to grade.\nScore: \\boxed{0}';
  let satisfied: number;
  let total: number;
  let failures: string[];
  if (view.mode === 'editing' && sights.length >= 2) {
    const expected = expectedEditScene(sights[0].instances, parseEdit(view.original).ops);
    const check = noticed(checkImage(expected, result.instances, { strict: true }), result);
    ({ satisfied, total, failures } = check);
  } else if (view.mode === 'editing') {
    const ops = parseEdit(view.original).ops;
    const failed = noticedEdits(editFailures(result.instances, ops), result);
    total = ops.length;
    satisfied = ops.length - new Set(failed.map((f) => f.op)).size;
    failures = failed.map((f) => f.text);
  } else {
    const check = noticed(checkImage(intendedScene(view).scene, result.instances), result);
    ({ satisfied, total, failures } = check);
  }
  const seen = `I see ${summary(result.instances)}.`;
  if (total === 0) {
    return `Reasoning: ${seen} The request names nothing I can check, so I give a middling score.\nScore: \\boxed{${UNCHECKABLE_SCORE}}`;
  }
  const rng = rngFor('score', options.seed, hashString(view.text), result.hash);
  let score = Math.round((10 * satisfied) / total);
  if (chance(rng, SCORE_JITTER)) score += chance(rng, 0.5) ? 1 : -1;
  score = Math.max(0, Math.min(10, score));
  const verdict = failures.length === 0 ? 'Everything requested is there.' : `Problems: ${failures.join('; ')}.`;
  return `Reasoning: ${seen} ${satisfied} of ${total} requirements hold. ${verdict}\nScore: \\boxed{${score}}`;
}
