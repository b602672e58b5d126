// Control-plane activities: they run on the control worker (queue `imagent`, CPU only).
import type { BlobStore } from '../storage/blobstore';
import { resultKey, type ItemResult } from '../workflows/batch-types';
import type { ImageRef, Observation } from '../workflows/types';
import { toActivityFailure } from './failures';

export interface ControlDeps {
  store: BlobStore;
}

export function createControlActivities(deps: ControlDeps) {
  return {
    /**
     * Records one step's observation. Run as a local activity, its result is written into the
     * workflow's history as a marker, so the history itself is the observation log that
     * `imagent inspect` reads back, for running and failed workflows too.
     */
    async observe(observation: Observation): Promise<Observation> {
      return Promise.resolve(observation);
    },

    /** Writes a batch item's result record; the key is the item's, so a rewrite replaces it. */
    async writeItemResult(record: ItemResult & { itemId: string }): Promise<void> {
      try {
        await deps.store.put(resultKey(record.batchId, record.itemId), JSON.stringify(record), 'application/json');
      } catch (err) {
        throw toActivityFailure(err);
      }
    },
  };
}

export async function importImageInto(store: BlobStore, source: string): Promise<ImageRef> {
  if (/^https?:\/\//i.test(source)) {
    const response = await fetch(source);
    if (!response.ok) {
      const err = new Error(`Fetching ${source} answered HTTP ${response.status}; check the URL.`);
      throw Object.assign(err, { code: 'ImageUnreadable', permanent: response.status >= 400 && response.status < 500 });
    }
    return store.putImage(Buffer.from(await response.arrayBuffer()));
  }
  return store.putImage(await store.getUri(source));
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
