// Batch activities on the control worker: checking and paging through a manifest, importing the
// images it names, and writing result records, the results manifest and the summary.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import type { BlobStore } from '../storage/blobstore';
import { readRange } from '../storage/ranges';
import {
  invalidLineKey,
  MANIFEST_PAGE_LINES,
  manifestLineSchema,
  resultKey,
  type BatchCounts,
  type BatchItem,
  type BatchSummary,
  type InvalidLine,
  type ItemResult,
  type ManifestPage,
} from '../workflows/batch-types';
import { describeZodError, imageRefSchema, type ImageRef } from '../workflows/types';
import { importImageInto } from './control';
import { toActivityFailure } from './failures';

const CHUNK_BYTES = 256 * 1024;
const JSON_TYPE = 'application/json';

export interface BatchDeps {
  store: BlobStore;
}

interface ManifestCheck {
  lines: number;
  bytes: number;
  /** Line number of a repeated id -> line number of its first occurrence. */
  duplicates: Record<string, number>;
}

function checkKey(batchId: string): string {
  return `batches/${batchId}/manifest-check.json`;
}

/** Walks a manifest a chunk at a time, yielding each line with its number and end offset. */
async function* manifestLines(uri: string, offset: number, firstLine: number) {
  let position = offset;
  let line = firstLine;
  let carry = Buffer.alloc(0);
  for (;;) {
    const { bytes, size } = await readRange(uri, position, CHUNK_BYTES);
    position += bytes.length;
    let buffer = carry.length > 0 ? Buffer.concat([carry, bytes]) : bytes;
    let start = 0;
    for (let nl = buffer.indexOf(10, start); nl !== -1; nl = buffer.indexOf(10, start)) {
      yield { text: buffer.subarray(start, nl).toString('utf8'), line, end: position - (buffer.length - nl - 1) };
      line += 1;
      start = nl + 1;
    }
    buffer = buffer.subarray(start);
    if (position >= size || bytes.length === 0) {
      if (buffer.length > 0) yield { text: buffer.toString('utf8'), line, end: position };
      return;
    }
    carry = Buffer.from(buffer);
  }
}

function idOf(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

export function createBatchActivities(deps: BatchDeps) {
  const { store } = deps;
  const checks = new Map<string, ManifestCheck>();

  async function loadCheck(batchId: string): Promise<ManifestCheck> {
    let check = checks.get(batchId);
    if (!check) {
      check = JSON.parse((await store.get(checkKey(batchId))).toString('utf8')) as ManifestCheck;
      checks.set(batchId, check);
    }
    return check;
  }

  /** A manifest's image: a URI in a store, a path (relative to a file manifest), or an http(s) URL. */
  async function resolveImage(manifest: string, image: string): Promise<ImageRef> {
    if (/^https?:\/\//i.test(image)) {
      // Fetched once: the reference is remembered under the URL's hash.
      const memo = `imports/${createHash('sha256').update(image).digest('hex')}.json`;
      if (await store.exists(memo)) return imageRefSchema.parse(JSON.parse((await store.get(memo)).toString('utf8')));
      const ref = await importImageInto(store, image);
      await store.put(memo, JSON.stringify(ref), JSON_TYPE);
      return ref;
    }
    if (/^(s3|file):\/\//.test(image) || path.isAbsolute(image)) return importImageInto(store, image);
    if (manifest.startsWith('s3://')) {
      throw new Error('a relative path in an s3:// manifest has nothing to be relative to; give an s3:// URI or an http(s) URL');
    }
    const dir = path.dirname(manifest.startsWith('file:') ? fileURLToPath(manifest) : manifest);
    return importImageInto(store, path.join(dir, image));
  }

  async function writeInvalid(batchId: string, invalid: InvalidLine): Promise<void> {
    const record: ItemResult = {
      batchId,
      itemId: invalid.id ?? null,
      line: invalid.line,
      status: 'invalid',
      workflowId: null,
      prompt: null,
      finalImage: null,
      steps: 0,
      actions: [],
      score: null,
      metrics: null,
      error: invalid.reason,
    };
    await store.put(invalidLineKey(batchId, invalid.line), JSON.stringify(record), JSON_TYPE);
  }

  return {
    /** Counts the manifest's items and finds repeated ids, before any item runs. */
    async checkManifest(input: { batchId: string; manifest: string }): Promise<{ lines: number; duplicates: number }> {
      try {
        const firstLineOf = new Map<string, number>();
        const check: ManifestCheck = { lines: 0, bytes: 0, duplicates: {} };
        for await (const { text, line, end } of manifestLines(input.manifest, 0, 1)) {
          check.bytes = end;
          if (text.trim() === '') continue;
          check.lines += 1;
          if (check.lines % 5000 === 0) Context.current().heartbeat(line);
          const id = idOf(text);
          if (id === undefined) continue;
          const first = firstLineOf.get(id);
          if (first === undefined) firstLineOf.set(id, line);
          else check.duplicates[String(line)] = first;
        }
        await store.put(checkKey(input.batchId), JSON.stringify(check), JSON_TYPE);
        checks.set(input.batchId, check);
        return { lines: check.lines, duplicates: Object.keys(check.duplicates).length };
      } catch (err) {
        throw toActivityFailure(err);
      }
    },

    /**
     * The next page of items from a byte offset. Lines that cannot run become invalid items with a
     * reason naming the line (their records are written here); items that already succeeded in an
     * earlier submission of this batch are reported, not returned.
     */
    async readManifestPage(input: { batchId: string; manifest: string; offset: number; line: number }): Promise<ManifestPage> {
      try {
        const check = await loadCheck(input.batchId);
        const page: ManifestPage = { items: [], invalid: [], alreadyDone: [], nextOffset: input.offset, nextLine: input.line, eof: true };
        let taken = 0;
        for await (const { text, line, end } of manifestLines(input.manifest, input.offset, input.line)) {
          page.nextOffset = end;
          page.nextLine = line + 1;
          if (text.trim() === '') continue;
          const item = await readLine(text, line);
          if ('reason' in item) page.invalid.push(item);
          else if (await succeededBefore(input.batchId, item.id)) page.alreadyDone.push({ id: item.id, line });
          else page.items.push(item);
          taken += 1;
          if (taken >= MANIFEST_PAGE_LINES) break;
        }
        page.eof = page.nextOffset >= check.bytes;
        for (const invalid of page.invalid) await writeInvalid(input.batchId, invalid);
        return page;

        async function readLine(text: string, line: number): Promise<BatchItem | InvalidLine> {
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch (err) {
            return { line, reason: `line ${line}: not valid JSON (${(err as Error).message}); write one JSON object per line` };
          }
          const parsed = manifestLineSchema.safeParse(value);
          const id = idOf(text);
          if (!parsed.success) return { line, id, reason: `line ${line}: ${describeZodError(parsed.error, 'line')}` };
          const first = check.duplicates[String(line)];
          if (first !== undefined) return { line, id, reason: `line ${line}: id "${parsed.data.id}" is already used on line ${first}; ids must be unique` };
          let image: ImageRef | undefined;
          if (parsed.data.image) {
            try {
              image = await resolveImage(input.manifest, parsed.data.image);
            } catch (err) {
              return { line, id, reason: `line ${line}: image "${parsed.data.image}" could not be read: ${(err as Error).message}` };
            }
          }
          return { id: parsed.data.id, line, prompt: parsed.data.prompt, ...(image ? { image } : {}), ...(parsed.data.options ? { options: parsed.data.options } : {}) };
        }
      } catch (err) {
        throw toActivityFailure(err);
      }
    },

    /** Writes the results manifest (JSONL, in manifest order) and the summary; returns the summary. */
    async finalizeBatch(input: {
      batchId: string;
      manifest: string;
      total: number;
      counts: BatchCounts;
      status: 'completed' | 'cancelled';
      startedAtMs: number;
      runs: number;
      largestHistory: number;
    }): Promise<BatchSummary> {
      try {
        const keys = (await store.list(`results/${input.batchId}/`)).filter((k) => k.endsWith('.json'));
        const records: ItemResult[] = [];
        for (let i = 0; i < keys.length; i += 32) {
          Context.current().heartbeat(i);
          const slice = await Promise.all(keys.slice(i, i + 32).map(async (k) => JSON.parse((await store.get(k)).toString('utf8')) as ItemResult));
          records.push(...slice);
        }
        records.sort((a, b) => a.line - b.line);
        const resultsUri = await store.put(`batches/${input.batchId}/results.jsonl`, records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : ''), 'application/x-ndjson');
        const finishedAtMs = Date.now();
        const wallSeconds = (finishedAtMs - input.startedAtMs) / 1000;
        const finished = records.length;
        const summary: BatchSummary = {
          batchId: input.batchId,
          manifest: input.manifest,
          total: input.total,
          counts: input.counts,
          status: input.status,
          startedAt: new Date(input.startedAtMs).toISOString(),
          finishedAt: new Date(finishedAtMs).toISOString(),
          wallSeconds,
          itemsPerSecond: wallSeconds > 0 ? finished / wallSeconds : 0,
          runs: input.runs,
          largestHistory: input.largestHistory,
          resultsUri,
          summaryUri: store.uriFor(`batches/${input.batchId}/summary.json`),
        };
        await store.put(`batches/${input.batchId}/summary.json`, JSON.stringify(summary, null, 2), JSON_TYPE);
        return summary;
      } catch (err) {
        throw toActivityFailure(err);
      }
    },
  };

  async function succeededBefore(batchId: string, itemId: string): Promise<boolean> {
    const key = resultKey(batchId, itemId);
    if (!(await store.exists(key))) return false;
    const record = JSON.parse((await store.get(key)).toString('utf8')) as ItemResult;
    return record.status === 'succeeded';
  }
}

export type BatchActivities = ReturnType<typeof createBatchActivities>;
