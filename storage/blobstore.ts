// Object storage for images, manifests and results: a folder on one machine (file://) or S3 and
// S3-compatible stores (s3://). Images are content-addressed, so every write is idempotent.
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { ImageRef } from '../workflows/types';
import { BlobCorrupted, BlobNotFound, InvalidBlobKey, StoreMisconfigured } from './errors';
import { readPngSize } from './png';

export interface BlobStore {
  /** Where the store is: `file:///abs/dir` or `s3://bucket/prefix`. */
  readonly uri: string;
  /** Stores a PNG under `images/<sha256>.png`; writing the same image again writes nothing. */
  putImage(png: Buffer): Promise<ImageRef>;
  /** Reads an image; given an ImageRef, also checks that the bytes match its sha256. */
  getImage(refOrUri: ImageRef | string): Promise<Buffer>;
  /** Writes (or replaces) an object and returns its URI. */
  put(key: string, body: Buffer | string, contentType: string): Promise<string>;
  get(key: string): Promise<Buffer>;
  /** Reads any URI of this store, and file:// URIs (or absolute paths) from any store. */
  getUri(uri: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  /** Keys (relative to the store) that start with prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  uriFor(key: string): string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface BlobStoreOptions {
  /**
   * Where the S3 endpoint and region are read from (default process.env). Credentials always come
   * from the AWS SDK's default chain: environment, profile, container or instance role.
   */
  env?: Env;
}

const PNG = 'image/png';
/** Suffix of a file being written; such files are never listed and never read as objects. */
const TEMP_SUFFIX = '.imagent-tmp';

function checkKey(key: string, allowPartial = false): void {
  const segments = key.split('/');
  if (allowPartial && key === '') return;
  const last = allowPartial ? segments.length - 1 : segments.length;
  const bad =
    key.includes('\\') ||
    key.includes('\0') ||
    key.endsWith(TEMP_SUFFIX) ||
    segments.some((segment, i) => (i < last && segment === '') || segment === '.' || segment === '..');
  if (bad) throw new InvalidBlobKey(key);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

const FILE_ACCESS_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST']);

/** Reads a local file as an object of a store; shared by both stores so file:// always works. */
async function readFileUri(uri: string): Promise<Buffer> {
  const file = uri.startsWith('file:') ? fileUriToPath(uri) : uri;
  try {
    return await fs.readFile(file);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') throw new BlobNotFound(uri, { cause: error });
    if (code === 'EACCES' || code === 'EPERM') {
      throw new StoreMisconfigured(`Cannot read ${file} (${code}): give this process read access to it.`, uri, { cause: error });
    }
    throw error;
  }
}

export function fileUriToPath(uri: string): string {
  try {
    return fileURLToPath(uri);
  } catch (error) {
    throw new StoreMisconfigured(`"${uri}" is not a valid file URI: write file:///absolute/path (three slashes).`, uri, { cause: error });
  }
}

/** Shared image logic: content addressing, PNG validation and integrity checks. */
abstract class ContentAddressedStore implements BlobStore {
  abstract readonly uri: string;
  abstract put(key: string, body: Buffer | string, contentType: string): Promise<string>;
  abstract get(key: string): Promise<Buffer>;
  abstract getUri(uri: string): Promise<Buffer>;
  abstract exists(key: string): Promise<boolean>;
  abstract list(prefix: string): Promise<string[]>;
  abstract uriFor(key: string): string;

  async putImage(png: Buffer): Promise<ImageRef> {
    const { width, height } = readPngSize(png);
    const sha256 = createHash('sha256').update(png).digest('hex');
    const key = `images/${sha256}.png`;
    if (!(await this.exists(key))) await this.put(key, png, PNG);
    return { uri: this.uriFor(key), sha256, width, height, mediaType: PNG, bytes: png.length };
  }

  async getImage(refOrUri: ImageRef | string): Promise<Buffer> {
    if (typeof refOrUri === 'string') return this.getUri(refOrUri);
    const png = await this.getUri(refOrUri.uri);
    const actual = createHash('sha256').update(png).digest('hex');
    if (actual !== refOrUri.sha256) throw new BlobCorrupted(refOrUri.uri, refOrUri.sha256, actual);
    return png;
  }
}

class FileBlobStore extends ContentAddressedStore {
  readonly uri: string;

  constructor(private readonly root: string) {
    super();
    this.uri = pathToFileURL(root).href.replace(/\/$/, '');
  }

  uriFor(key: string): string {
    return pathToFileURL(this.pathFor(key)).href;
  }

  async put(key: string, body: Buffer | string, _contentType: string): Promise<string> {
    const file = this.pathFor(key);
    const temp = `${file}.${randomUUID()}${TEMP_SUFFIX}`;
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(temp, body);
      await fs.rename(temp, file);
    } catch (error) {
      await fs.rm(temp, { force: true });
      const code = errorCode(error);
      if (code !== undefined && FILE_ACCESS_ERRORS.has(code)) {
        throw new StoreMisconfigured(
          `Cannot write ${file} (${code}): make ${this.root} a writable folder, or set IMAGENT_STORE to another location.`,
          this.uriFor(key),
          { cause: error },
        );
      }
      throw error;
    }
    return this.uriFor(key);
  }

  async get(key: string): Promise<Buffer> {
    return await readFileUri(this.uriFor(key));
  }

  async getUri(uri: string): Promise<Buffer> {
    if (uri.startsWith('file:') || path.isAbsolute(uri)) return await readFileUri(uri);
    throw new StoreMisconfigured(
      `This store (${this.uri}) cannot read "${uri}": it reads file:// URIs and absolute paths. Point IMAGENT_STORE at the store that holds it.`,
      uri,
    );
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await fs.stat(this.pathFor(key))).isFile();
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkKey(prefix, true);
    const keys: string[] = [];
    // Walk only the folders that can hold keys with this prefix.
    const walk = async (dirKey: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(path.join(this.root, dirKey), { withFileTypes: true });
      } catch (error) {
        if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return;
        throw error;
      }
      for (const entry of entries) {
        const key = dirKey + entry.name;
        if (entry.isDirectory()) {
          const sub = `${key}/`;
          if (sub.startsWith(prefix) || prefix.startsWith(sub)) await walk(sub);
        } else if (entry.isFile() && key.startsWith(prefix) && !key.endsWith(TEMP_SUFFIX)) {
          keys.push(key);
        }
      }
    };
    await walk(prefix.slice(0, prefix.lastIndexOf('/') + 1));
    return keys.sort();
  }

  private pathFor(key: string): string {
    checkKey(key);
    return path.join(this.root, ...key.split('/'));
  }
}

interface S3ErrorShape {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

class S3BlobStore extends ContentAddressedStore {
  readonly uri: string;
  /** Set once the bucket is known to exist, so that a 404 from HeadObject means "no such key". */
  private bucketChecked: Promise<void> | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly region: string,
  ) {
    super();
    this.uri = prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`;
  }

  uriFor(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }

  async put(key: string, body: Buffer | string, contentType: string): Promise<string> {
    const uri = this.uriFor(key);
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: body, ContentType: contentType }),
      );
    } catch (error) {
      throw this.translate(error, this.bucket, uri);
    }
    return uri;
  }

  async get(key: string): Promise<Buffer> {
    return await this.read(this.bucket, this.objectKey(key));
  }

  async getUri(uri: string): Promise<Buffer> {
    if (uri.startsWith('file:') || path.isAbsolute(uri)) return await readFileUri(uri);
    const parsed = parseS3Uri(uri);
    if (!parsed || !parsed.key) {
      throw new StoreMisconfigured(`This store (${this.uri}) cannot read "${uri}": it reads s3://bucket/key and file:// URIs.`, uri);
    }
    return await this.read(parsed.bucket, parsed.key);
  }

  async exists(key: string): Promise<boolean> {
    const uri = this.uriFor(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (error) {
      // A HEAD response has no body, so a missing bucket looks like a missing key: ask once.
      if ((error as S3ErrorShape).$metadata?.httpStatusCode === 404) {
        await this.checkBucket();
        return false;
      }
      throw this.translate(error, this.bucket, uri);
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkKey(prefix, true);
    const keys: string[] = [];
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.objectKey(prefix, true), ContinuationToken: token }),
        );
      } catch (error) {
        throw this.translate(error, this.bucket, this.uri);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key) keys.push(object.Key.slice(strip));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  private objectKey(key: string, partial = false): string {
    checkKey(key, partial);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private async read(bucket: string, key: string): Promise<Buffer> {
    const uri = `s3://${bucket}/${key}`;
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!response.Body) throw new BlobNotFound(uri);
      const bytes = await response.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      throw this.translate(error, bucket, uri);
    }
  }

  private checkBucket(): Promise<void> {
    this.bucketChecked ??= this.client.send(new HeadBucketCommand({ Bucket: this.bucket })).then(
      () => undefined,
      (error: unknown) => {
        this.bucketChecked = undefined;
        const status = (error as S3ErrorShape).$metadata?.httpStatusCode;
        throw this.translate(error, this.bucket, this.uri, status === 404 ? 'NoSuchBucket' : undefined);
      },
    );
    return this.bucketChecked;
  }

  /** Permanent failures become typed errors with a fix; anything else is rethrown for retrying. */
  private translate(error: unknown, bucket: string, uri: string, nameOverride?: string): unknown {
    if (error instanceof BlobNotFound || error instanceof StoreMisconfigured) return error;
    const { name: sdkName, $metadata } = (error ?? {}) as S3ErrorShape;
    const name = nameOverride ?? sdkName;
    const status = $metadata?.httpStatusCode;
    const cause = { cause: error };
    if (name === 'NoSuchKey') return new BlobNotFound(uri, cause);
    if (name === 'NoSuchBucket') {
      return new StoreMisconfigured(
        `The bucket "${bucket}" does not exist (${uri}): create it, or set IMAGENT_STORE to an existing bucket.`,
        uri,
        cause,
      );
    }
    if (name === 'CredentialsProviderError') {
      return new StoreMisconfigured(
        `No AWS credentials were found for ${uri}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE.`,
        uri,
        cause,
      );
    }
    if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
      return new StoreMisconfigured(
        `The bucket "${bucket}" is not in region ${this.region} (${uri}): set AWS_REGION to the bucket's region.`,
        uri,
        cause,
      );
    }
    if (
      status === 403 ||
      ['AccessDenied', 'AllAccessDisabled', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken'].includes(name ?? '')
    ) {
      return new StoreMisconfigured(
        `Access to ${uri} was denied (${name ?? status}): check the AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and that they may read, write and list bucket "${bucket}".`,
        uri,
        cause,
      );
    }
    return error;
  }
}

export function parseS3Uri(uri: string): { bucket: string; key: string } | null {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return match ? { bucket: match[1], key: match[2] } : null;
}

/** The S3 client for a store: endpoint and region from env, credentials from the default chain. */
export function s3Client(env: Env): { client: S3Client; region: string } {
  const endpoint = env.IMAGENT_S3_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const client = new S3Client({
    region,
    // S3-compatible servers (moto, MinIO) serve buckets as paths, not as subdomains.
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    // Newer SDKs add CRC checksums that many S3-compatible servers reject.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { client, region };
}

/** Opens `s3://bucket/prefix`, `file:///abs/dir` or a folder path (relative to the working directory). */
export function openBlobStore(uri: string, options: BlobStoreOptions = {}): BlobStore {
  if (uri.startsWith('s3://')) {
    const parsed = parseS3Uri(uri);
    const prefix = parsed?.key.replace(/^\/+|\/+$/g, '') ?? '';
    if (!parsed || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(parsed.bucket)) {
      throw new StoreMisconfigured(`"${uri}" does not name a valid bucket: write s3://bucket or s3://bucket/prefix.`, uri);
    }
    if (prefix) checkKey(prefix);
    const { client, region } = s3Client(options.env ?? process.env);
    return new S3BlobStore(client, parsed.bucket, prefix, region);
  }
  if (uri.startsWith('file:')) return new FileBlobStore(fileUriToPath(uri));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw new StoreMisconfigured(`Unsupported store "${uri}": use s3://bucket/prefix, file:///absolute/folder or a folder path.`, uri);
  }
  if (uri.trim() === '') throw new StoreMisconfigured('The store location is empty: set IMAGENT_STORE to s3://bucket/prefix or a folder.', uri);
  return new FileBlobStore(path.resolve(uri));
}

/** The store named by IMAGENT_STORE, else defaultUri. */
export function blobStoreFromEnv(env: Env = process.env, defaultUri?: string): BlobStore {
  const uri = env.IMAGENT_STORE || defaultUri;
  if (!uri) {
    throw new StoreMisconfigured('No store is configured: set IMAGENT_STORE to s3://bucket/prefix or a folder.', '');
  }
  return openBlobStore(uri, { env });
}
