// Byte-range reads of large objects (batch manifests), so a manifest of any size is read a page at
// a time rather than whole.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { fileUriToPath, parseS3Uri, s3Client, type Env } from './blobstore';
import { BlobNotFound, StoreMisconfigured } from './errors';

export interface Range {
  bytes: Buffer;
  /** Total size of the object. */
  size: number;
}

/** Reads up to `length` bytes from `start` of an s3:// or file:// URI (or an absolute path). */
export async function readRange(uri: string, start: number, length: number, env: Env = process.env): Promise<Range> {
  if (uri.startsWith('s3://')) return readS3Range(uri, start, length, env);
  const file = uri.startsWith('file:') ? fileUriToPath(uri) : path.resolve(uri);
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') throw new BlobNotFound(uri, { cause: error });
    if (code === 'EACCES' || code === 'EPERM') throw new StoreMisconfigured(`Cannot read ${file} (${code}): give this process read access to it.`, uri);
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const want = Math.max(0, Math.min(length, size - start));
    const bytes = Buffer.alloc(want);
    const { bytesRead } = want > 0 ? await handle.read(bytes, 0, want, start) : { bytesRead: 0 };
    return { bytes: bytes.subarray(0, bytesRead), size };
  } finally {
    await handle.close();
  }
}

async function readS3Range(uri: string, start: number, length: number, env: Env): Promise<Range> {
  const parsed = parseS3Uri(uri);
  if (!parsed || parsed.key === '') throw new StoreMisconfigured(`"${uri}" does not name an object: write s3://bucket/key.`, uri);
  const { client } = s3Client(env);
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: parsed.bucket, Key: parsed.key, Range: `bytes=${start}-${start + length - 1}` }));
    const bytes = Buffer.from(await out.Body!.transformToByteArray());
    const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
    return { bytes, size: total ? Number(total) : bytes.length };
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') throw new BlobNotFound(uri, { cause: error });
    // A range past the end of a non-empty object: nothing left to read.
    if ((error as { name?: string }).name === 'InvalidRange') return { bytes: Buffer.alloc(0), size: start };
    throw error;
  } finally {
    client.destroy();
  }
}
