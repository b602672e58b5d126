// The unified multimodal model behind one interface. Every role in the paper (controller,
// rewriter, editor, evaluator, generator) is played by one Backbone.
import type { BackboneCapabilities } from '../workflows/types';

export interface ChatImage {
  /** PNG bytes. */
  png: Buffer;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  text: string;
  images?: ChatImage[];
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** Seed for sampling, where the backbone honours one. */
  seed?: number;
  temperature?: number;
  signal?: AbortSignal;
}

export interface GenerateRequest {
  prompt: string;
  seed: number;
  width: number;
  height: number;
  signal?: AbortSignal;
}

export interface EditRequest {
  image: Buffer;
  instruction: string;
  seed: number;
  signal?: AbortSignal;
}

export interface Backbone {
  readonly capabilities: BackboneCapabilities;
  chat(request: ChatRequest): Promise<string>;
  /** Returns PNG bytes. */
  generate(request: GenerateRequest): Promise<Buffer>;
  /** Returns PNG bytes. Throws UnsupportedOperation when capabilities.canEdit is false. */
  edit(request: EditRequest): Promise<Buffer>;
}

/**
 * Failure types. The decision "retry or not" is made here, once: transient errors are retried
 * by Temporal with backoff, permanent ones become non-retryable activity failures.
 */
export type BackboneErrorCode =
  | 'BackboneUnavailable' // connection refused/reset, 5xx, timeouts
  | 'BackboneOutOfMemory' // "CUDA out of memory": retry later, maybe elsewhere
  | 'BackboneRateLimited' // 429
  | 'BackboneBadRequest' // 400/404/422: the request itself is wrong
  | 'BackboneUnauthorized' // 401/403: fix the key
  | 'BackboneContentRefused' // the model refused the content
  | 'UnsupportedOperation' // e.g. edit on a backbone that cannot edit
  | 'InvalidImage'; // an image the backbone cannot read or edit

const PERMANENT: ReadonlySet<BackboneErrorCode> = new Set([
  'BackboneBadRequest',
  'BackboneUnauthorized',
  'BackboneContentRefused',
  'UnsupportedOperation',
  'InvalidImage',
]);

export class BackboneError extends Error {
  readonly code: BackboneErrorCode;
  readonly permanent: boolean;
  /** Server-suggested wait before retrying, when it gave one. */
  readonly retryAfterMs?: number;

  constructor(code: BackboneErrorCode, message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = code;
    this.code = code;
    this.permanent = PERMANENT.has(code);
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isPermanentCode(code: string): boolean {
  return PERMANENT.has(code as BackboneErrorCode);
}

/** Every permanent failure type, for the activities' retry policies. */
export const PERMANENT_ERROR_CODES: readonly BackboneErrorCode[] = [...PERMANENT];
