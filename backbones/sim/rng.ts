// Seeded randomness for the sim. Everything the sim draws by chance comes from here, so the same
// prompt and seed always give the same image and the same answer.

/** A 32-bit FNV-1a hash of a string: stable across runs and platforms, cheap, good enough to seed. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Hashes raw bytes the same way, for attached images. */
export function hashBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a tiny PRNG with a 32-bit state, uniform in [0, 1). Fast and fully reproducible. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A generator for one purpose, derived from several parts (a seed, a prompt, a label). Separate
 * purposes get independent streams, so adding a draw in one place does not shift every other draw.
 */
export function rngFor(...parts: ReadonlyArray<string | number>): () => number {
  return mulberry32(hashString(parts.map(String).join('\u0001')));
}

export function chance(rng: () => number, probability: number): boolean {
  return rng() < probability;
}

export function pick<T>(rng: () => number, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick needs at least one item');
  return items[Math.floor(rng() * items.length)];
}

/** An integer in [min, max], both ends included. */
export function intBetween(rng: () => number, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}
