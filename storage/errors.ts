// Storage failures that retrying cannot fix. Transient errors (connection reset, S3 5xx, timeouts)
// are not wrapped: they propagate as they are and Temporal retries them.

export type StorageErrorCode = 'BlobNotFound' | 'StoreMisconfigured' | 'InvalidImage' | 'InvalidBlobKey' | 'BlobCorrupted';

/** Every storage failure is permanent; `name` is the code, so it is the Temporal failure type. */
export abstract class StorageError extends Error {
  abstract readonly code: StorageErrorCode;
  readonly permanent = true;
}

/** The object does not exist. */
export class BlobNotFound extends StorageError {
  readonly code = 'BlobNotFound';
  constructor(
    readonly uri: string,
    options?: { cause?: unknown },
  ) {
    super(`No object at ${uri}.`, options);
    this.name = this.code;
  }
}

/** The store cannot be used as configured (no such bucket, access denied, unwritable folder). */
export class StoreMisconfigured extends StorageError {
  readonly code = 'StoreMisconfigured';
  constructor(
    message: string,
    readonly uri: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = this.code;
  }
}

/** Bytes handed to the store as an image are not a PNG it can read. */
export class InvalidImage extends StorageError {
  readonly code = 'InvalidImage';
  constructor(message: string) {
    super(message);
    this.name = this.code;
  }
}

/** A key that would leave the store's root or is not a plain relative path. */
export class InvalidBlobKey extends StorageError {
  readonly code = 'InvalidBlobKey';
  constructor(readonly key: string) {
    super(`"${key}" is not a valid object key: use a relative path of non-empty segments without "." or "..".`);
    this.name = this.code;
  }
}

/** An image's bytes do not match the sha256 of its reference. */
export class BlobCorrupted extends StorageError {
  readonly code = 'BlobCorrupted';
  constructor(
    readonly uri: string,
    expectedSha256: string,
    actualSha256: string,
  ) {
    super(`The object at ${uri} has sha256 ${actualSha256}, but its reference says ${expectedSha256}; it was changed or truncated after it was written.`);
    this.name = this.code;
  }
}

/** Every storage failure type, for the activities' retry policies (nonRetryableErrorTypes). */
export const PERMANENT_STORAGE_ERROR_TYPES: readonly StorageErrorCode[] = [
  'BlobNotFound',
  'StoreMisconfigured',
  'InvalidImage',
  'InvalidBlobKey',
  'BlobCorrupted',
];
