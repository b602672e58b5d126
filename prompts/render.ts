// Typed rendering of the prompt templates in prompts/templates/. Templates use {{name}} slots;
// rendering fails loudly on a missing or unknown slot so a template edit cannot silently break.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACTION_PROMPT_NAME, type ActionName, type HistoryEntry } from '../workflows/types';

export const TEMPLATE_NAMES = ['controller', 'enhancement', 'revision', 'refinement', 'scoring'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

const TEMPLATE_DIR = join(__dirname, 'templates');
const cache = new Map<TemplateName, string>();

export function templateText(name: TemplateName): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(TEMPLATE_DIR, `${name}.txt`), 'utf8');
    cache.set(name, text);
  }
  return text;
}

export function render(name: TemplateName, vars: Readonly<Record<string, string | number>>): string {
  const text = templateText(name);
  const used = new Set<string>();
  const out = text.replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`Template ${name} needs a value for {{${key}}}.`);
    used.add(key);
    return String(value);
  });
  const unused = Object.keys(vars).filter((key) => !used.has(key));
  if (unused.length > 0) throw new Error(`Template ${name} has no slot for ${unused.join(', ')}.`);
  return out;
}

/**
 * Which template a text was rendered from, by its opening line. The sim backbone uses this the way
 * a real model "recognises" its instructions.
 */
export function detectTemplate(text: string): TemplateName | null {
  const head = text.trimStart();
  for (const name of TEMPLATE_NAMES) {
    const opening = templateText(name).split('\n', 1)[0];
    if (head.startsWith(opening)) return name;
  }
  return null;
}

export type Mode = 'generation' | 'editing';

export const TASK_DESCRIPTION: Readonly<Record<Mode, string>> = {
  generation: 'text-to-image generation',
  editing: 'image editing (the request is an instruction to apply to the source image)',
};

const ACTION_DESCRIPTION: Readonly<Record<ActionName, Record<Mode, string>>> = {
  naive_generation: {
    generation: 'generate one image directly from the current prompt.',
    editing: 'apply the current instruction to the current image once.',
  },
  prompt_enhancement: {
    generation: 'reason step by step about the request, write an explicit detailed prompt, then generate from it.',
    editing: 'reason step by step about the instruction, write an explicit detailed instruction, then edit with it.',
  },
  prompt_revision: {
    generation: 'compare the current image with the request, refine the prompt to fix what is wrong, then generate again.',
    editing: 'compare the current image with the request, refine the instruction to fix what is wrong, then edit again.',
  },
  image_detail_refinement: {
    generation: 'write a small corrective edit for the current image and apply it, keeping everything that is right.',
    editing: 'write a small corrective edit for the current image and apply it, keeping everything that is right.',
  },
  best_of_n: {
    generation: 'draw several images from the current prompt, grade each, and keep the best one.',
    editing: 'apply the current instruction several times, grade each result, and keep the best one.',
  },
  stop: {
    generation: 'the current image already satisfies the request; finish.',
    editing: 'the current image already satisfies the request; finish.',
  },
};

export interface ControllerView {
  mode: Mode;
  originalPrompt: string;
  currentPrompt: string;
  iteration: number;
  tMax: number;
  hasImage: boolean;
  history: readonly HistoryEntry[];
  /** The actions offered; those the backbone cannot perform are left out. */
  offered: readonly ActionName[];
}

export function renderController(view: ControllerView): string {
  const history = view.history;
  return render('controller', {
    task: TASK_DESCRIPTION[view.mode],
    original_prompt: view.originalPrompt,
    current_prompt: view.currentPrompt,
    iteration: view.iteration,
    t_max: view.tMax,
    image_status: view.hasImage ? 'attached' : 'none yet',
    actions_so_far: history.length === 0 ? 'none' : history.map((h) => ACTION_PROMPT_NAME[h.action]).join(', '),
    prompts_so_far: history.length === 0 ? '(none)' : history.map((h) => `${h.step}. ${h.prompt}`).join('\n'),
    scores_so_far:
      history.length === 0 ? 'none' : history.map((h) => (h.score === null ? 'unread' : String(h.score))).join(', '),
    action_list: view.offered.map((a) => `- ${ACTION_PROMPT_NAME[a]}: ${ACTION_DESCRIPTION[a][view.mode]}`).join('\n'),
    name_enhance: ACTION_PROMPT_NAME.prompt_enhancement,
    name_naive: ACTION_PROMPT_NAME.naive_generation,
    name_revise: ACTION_PROMPT_NAME.prompt_revision,
    name_refine: ACTION_PROMPT_NAME.image_detail_refinement,
    name_best_of_n: ACTION_PROMPT_NAME.best_of_n,
    name_stop: ACTION_PROMPT_NAME.stop,
  });
}

export interface PromptView {
  mode: Mode;
  originalPrompt: string;
  currentPrompt: string;
}

export function renderEnhancement(view: PromptView): string {
  return render('enhancement', {
    task: TASK_DESCRIPTION[view.mode],
    original_prompt: view.originalPrompt,
    current_prompt: view.currentPrompt,
  });
}

export function renderRevision(view: PromptView): string {
  return render('revision', {
    task: TASK_DESCRIPTION[view.mode],
    original_prompt: view.originalPrompt,
    current_prompt: view.currentPrompt,
  });
}

export function renderRefinement(view: PromptView): string {
  return render('refinement', {
    task: TASK_DESCRIPTION[view.mode],
    original_prompt: view.originalPrompt,
    current_prompt: view.currentPrompt,
  });
}

/**
 * Self-evaluation always judges against the original request, never the agent's own rewrite,
 * so a drifting prompt cannot grade itself well. Editing attaches the source image first.
 */
export function renderScoring(view: { mode: Mode; originalPrompt: string }): string {
  return render('scoring', {
    task: TASK_DESCRIPTION[view.mode],
    original_prompt: view.originalPrompt,
    image_note:
      view.mode === 'editing'
        ? 'The first attached image is the source; the second is the edited result to grade.'
        : 'The attached image is the result to grade.',
    consistency_note: view.mode === 'editing' ? ', and what the instruction did not mention is unchanged from the source' : '',
  });
}

/** Reads a labelled field ("Original request: ...") back out of a rendered template. */
export function readField(text: string, label: string): string | null {
  const re = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:[ \\t]*(.*)$`, 'm');
  const match = re.exec(text);
  return match ? match[1].trim() : null;
}
