// One translation from our error types to Temporal failures. Whether an error is permanent was
// decided where it was raised (backbone and storage layers); here it only changes representation.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';

interface Classified {
  code: string;
  permanent: boolean;
  retryAfterMs?: number;
}

/** BackboneError and StorageError both carry a code and a permanence flag. */
function classify(err: Error): Classified | null {
  const fields = err as Error & Partial<Classified>;
  if (typeof fields.code === 'string' && typeof fields.permanent === 'boolean') {
    return { code: fields.code, permanent: fields.permanent, retryAfterMs: fields.retryAfterMs };
  }
  return null;
}

export function toActivityFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  if (!(err instanceof Error)) return ApplicationFailure.retryable(String(err), 'UnknownError');
  const classified = classify(err);
  if (!classified) return err; // unknown errors are retried: Temporal's default is the safe one
  return ApplicationFailure.create({
    message: err.message,
    type: classified.code,
    nonRetryable: classified.permanent,
    nextRetryDelay: classified.retryAfterMs,
    cause: err,
  });
}
