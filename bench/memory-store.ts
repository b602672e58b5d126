// An in-memory BlobStore for the policy and sweep runs: thousands of short in-process runs whose
// images are only read back by the ground-truth check, so nothing needs to reach a disk. Cleared
// between runs by the caller.
import { createHash } from 'node:crypto';
import { BlobNotFound } from '../storage/errors';
import type { BlobStore } from '../storage/blobstore';
import { readPngSize } from '../storage/png';
import type { ImageRef } from '../workflows/types';

export class MemoryStore implements BlobStore {
  readonly uri = 'memory://bench';
  private readonly objects = new Map<string, Buffer>();

  clear(): void {
    this.objects.clear();
  }

  async putImage(png: Buffer): Promise<ImageRef> {
    const { width, height } = readPngSize(png);
    const sha256 = createHash('sha256').update(png).digest('hex');
    const uri = await this.put(`images/${sha256}.png`, png, 'image/png');
    return { uri, sha256, width, height, mediaType: 'image/png', bytes: png.length };
  }

  async getImage(refOrUri: ImageRef | string): Promise<Buffer> {
    return this.getUri(typeof refOrUri === 'string' ? refOrUri : refOrUri.uri);
  }

  put(key: string, body: Buffer | string, _contentType: string): Promise<string> {
    this.objects.set(key, typeof body === 'string' ? Buffer.from(body) : body);
    return Promise.resolve(this.uriFor(key));
  }

  get(key: string): Promise<Buffer> {
    const body = this.objects.get(key);
    return body ? Promise.resolve(body) : Promise.reject(new BlobNotFound(this.uriFor(key)));
  }

  getUri(uri: string): Promise<Buffer> {
    return this.get(uri.startsWith(`${this.uri}/`) ? uri.slice(this.uri.length + 1) : uri);
  }

  exists(key: string): Promise<boolean> {
    return Promise.resolve(this.objects.has(key));
  }

  list(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort());
  }

  uriFor(key: string): string {
    return `${this.uri}/${key}`;
  }
}
