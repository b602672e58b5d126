// Types and schemas shared by the workflow bundle, the activities, the CLI and the tests.
// Pure data only: this file is imported by deterministic workflow code, so no Node APIs here.
import { z } from 'zod';

/** The paper's defaults (Algorithm 1): five steps, four Best-of-N candidates. */
export const DEFAULT_T_MAX = 5;
export const DEFAULT_N = 4;
export const DEFAULT_IMAGE_SIZE = 512;
export const DEFAULT_BACKBONE = 'sim';
export const DEFAULT_HEARTBEAT_SECONDS = 30;

/** Task queues: control work (workflows, storage) on CPU; model calls on a GPU pool. */
export const CONTROL_TASK_QUEUE = 'imagent';
export const DEFAULT_GPU_TASK_QUEUE = 'imagent-gpu';
export function gpuTaskQueueForPool(pool: string): string {
  return `${DEFAULT_GPU_TASK_QUEUE}-${pool}`;
}

/**
 * The action space. Canonical names are ours; the paper uses two vocabularies for the same
 * actions (its controller prompt and its trajectory examples) and the parser accepts both,
 * case-insensitively.
 */
export const ACTIONS = [
  'naive_generation',
  'prompt_enhancement',
  'prompt_revision',
  'image_detail_refinement',
  'best_of_n',
  'stop',
] as const;
export type ActionName = (typeof ACTIONS)[number];

export const ACTION_ALIASES: Readonly<Record<ActionName, readonly string[]>> = {
  naive_generation: ['generate_basic', 'naive_generation', 'naive_editing'],
  prompt_enhancement: ['generate_with_think', 'prompt_enhancement'],
  prompt_revision: ['generate_with_self_assess', 'prompt_refinement', 'prompt_revision'],
  image_detail_refinement: ['generate_with_self_edit', 'image_detail_refinement'],
  best_of_n: ['best_of_n_selection', 'best_of_n_sampling', 'best_of_n'],
  stop: ['stop'],
};

/** The name the controller template offers for each action (the paper's controller vocabulary). */
export const ACTION_PROMPT_NAME: Readonly<Record<ActionName, string>> = {
  naive_generation: 'generate_basic',
  prompt_enhancement: 'generate_with_think',
  prompt_revision: 'generate_with_self_assess',
  image_detail_refinement: 'generate_with_self_edit',
  best_of_n: 'best_of_n_selection',
  stop: 'STOP',
};

/** Actions that work on the current image and so are meaningless before one exists. */
export const ACTIONS_NEEDING_IMAGE: readonly ActionName[] = ['prompt_revision', 'image_detail_refinement', 'stop'];

/** A reference to an image in the BlobStore. Images themselves never enter Temporal payloads. */
export const imageRefSchema = z.object({
  uri: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex characters'),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  mediaType: z.literal('image/png'),
  bytes: z.number().int().positive(),
});
export type ImageRef = z.infer<typeof imageRefSchema>;

const poolName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a pool name is lowercase letters, digits and dashes');

export const agentOptionsSchema = z
  .object({
    tMax: z.number().int().min(1, 'tMax must be at least 1').max(32, 'tMax above 32 is almost certainly a mistake').default(DEFAULT_T_MAX),
    n: z.number().int().min(1, 'n must be at least 1').max(32, 'n above 32 is almost certainly a mistake').default(DEFAULT_N),
    /** GPU pool whose task queue runs the model calls; absent means the default GPU queue. */
    pool: poolName.optional(),
    /** Name of the backbone the GPU workers should use (they may serve several). */
    backbone: z.string().min(1).default(DEFAULT_BACKBONE),
    size: z.number().int().min(64).max(2048).default(DEFAULT_IMAGE_SIZE),
    /**
     * Base of every seed in the run. Absent, the workflow id is the base, so each run draws its own
     * images; giving the seed of an earlier run reproduces its draws.
     */
    seed: z.string().min(1).max(200).optional(),
    /** How long a model call may go without a heartbeat before it is retried on another worker. */
    heartbeatSeconds: z.number().int().min(1).max(600).default(DEFAULT_HEARTBEAT_SECONDS),
  })
  .strict();
export type AgentOptions = z.infer<typeof agentOptionsSchema>;

/** Item ids become parts of workflow ids and object keys, so they are kept to a safe alphabet. */
export const itemIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'id must be 1-128 letters, digits, dots, dashes or underscores, starting with a letter or digit');

/** Link from an agent run back to the batch that started it. */
export const batchLinkSchema = z
  .object({
    batchWorkflowId: z.string().min(1),
    batchId: z.string().min(1),
    itemId: itemIdSchema,
    line: z.number().int().positive(),
  })
  .strict();
export type BatchLink = z.infer<typeof batchLinkSchema>;

export const agentInputSchema = z
  .object({
    prompt: z.string().trim().min(1, 'prompt must not be empty').max(4000, 'prompt is longer than 4000 characters'),
    image: imageRefSchema.optional(),
    options: agentOptionsSchema.default(agentOptionsSchema.parse({})),
    /** Set when a batch started this run: the run writes its result record and reports back. */
    batch: batchLinkSchema.optional(),
  })
  .strict();
export type AgentInput = z.input<typeof agentInputSchema>;
export type ParsedAgentInput = z.infer<typeof agentInputSchema>;

export function gpuTaskQueue(options: Pick<AgentOptions, 'pool'>): string {
  return options.pool ? gpuTaskQueueForPool(options.pool) : DEFAULT_GPU_TASK_QUEUE;
}

/** What the backbone can do, as reported by the GPU worker that serves it. */
export interface BackboneCapabilities {
  name: string;
  canEdit: boolean;
  canThink: boolean;
  /** True for the simulator: every report that uses it says so. */
  simulated: boolean;
}

/** One earlier step as the controller sees it. */
export interface HistoryEntry {
  step: number;
  action: ActionName;
  prompt: string;
  score: number | null;
}

/** How the controller's answer was read. Definitions of PSR / AUR / AVR follow from these. */
export interface ParseReport {
  /** A \boxed{} answer naming something was found (PSR). */
  found: boolean;
  /** Exactly one distinct action was named (AUR). */
  unique: boolean;
  /** The action is in the vocabulary (the workflow adds the in-context check for AVR). */
  valid: boolean;
}

export interface Decision {
  raw: string;
  reasoning: string;
  /** The action read from the answer, or null when none could be read. */
  action: ActionName | null;
  /** Every distinct name that appeared in \boxed{} answers, as written. */
  named: string[];
  parse: ParseReport;
}

export interface Candidate {
  image: ImageRef;
  seed: number;
  score: number | null;
  reasoning: string;
}

/** One step of the trajectory: what was decided, what ran, what came out. */
export interface Observation {
  step: number;
  decision: {
    raw: string;
    reasoning: string;
    named: string[];
    parse: ParseReport;
    /** The action is allowed in this state (image present, backbone can edit, ...). */
    allowed: boolean;
    /** Why the workflow ran something other than what was asked, when it did. */
    fallback?: string;
  };
  action: ActionName;
  promptBefore: string;
  promptAfter: string;
  imageBefore?: ImageRef;
  imageAfter?: ImageRef;
  /** The <think> plan (prompt enhancement) or edit instruction (detail refinement). */
  plan?: string;
  candidates?: Candidate[];
  chosen?: number;
  /** Self-evaluation of the step's resulting image, 0-10, null if unreadable. */
  score?: number | null;
  scoreReasoning?: string;
  /** A permanent failure of the action: recorded, then the loop goes on. */
  error?: { type: string; message: string };
  startedAt: string;
  durationMs: number;
  /** Model time on the critical path of this step, as reported by the activities. */
  modelMs: number;
  calls: BackboneCalls;
}

export interface BackboneCalls {
  chat: number;
  generate: number;
  edit: number;
}

export interface RunMetrics {
  steps: number;
  stoppedBy: 'controller' | 't_max';
  calls: BackboneCalls;
  controllerCalls: number;
  /** Fractions in [0, 1] over this run's controller calls. */
  psr: number;
  aur: number;
  avr: number;
  fallbacks: number;
  modelMs: number;
  wallMs: number;
}

export interface AgentResult {
  workflowId: string;
  prompt: string;
  mode: 'generation' | 'editing';
  backbone: BackboneCapabilities;
  finalImage: ImageRef;
  finalPrompt: string;
  finalScore: number | null;
  trajectory: Observation[];
  metrics: RunMetrics;
}

/** Formats a zod error as one sentence per problem, naming the field. */
export function describeZodError(error: z.ZodError, where = 'input'): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : where;
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}
