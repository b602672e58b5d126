// Reads sim images back from their pixels alone: classify each pixel to the nearest sim colour,
// find the class badges, read each object's colour from the ring around its badge, and flood that
// colour to recover the object's box. There is no side channel, so edits made by anything else
// are read as they look.
import { PNG } from 'pngjs';
import { BackboneError } from '../backbone';
import { BACKGROUND_RGB, COCO_CLASSES, COLOR_RGB, MARKER_OFF_RGB, MARKER_ON_RGB, type Rgb } from './palette';
import { BADGE_COLS, BADGE_ROWS, SIGNATURE_BITS, SIGNATURE_CELL, SIGNATURE_GRID, SIGNATURE_SIZE, classFromMarkerBits } from './render';
import { COLORS, type Instance, type Relation, type Scene, type SceneObject, type SceneRelation } from './scene';

// Reference colours by index: 0-9 are COLORS, then background and the two marker inks.
const BACKGROUND = COLORS.length;
const MARKER_ON = BACKGROUND + 1;
const MARKER_OFF = BACKGROUND + 2;
const OTHER = 255;
const REFERENCES: readonly Rgb[] = [...COLORS.map((c) => COLOR_RGB[c]), BACKGROUND_RGB, MARKER_ON_RGB, MARKER_OFF_RGB];

/**
 * How far (per channel, on average) a pixel may stray from a sim colour and still count as it.
 * Sim colours are at least 80 apart in some channel, so this tolerates retouching and mild
 * recompression without letting arbitrary photo colours pass as sim colours.
 */
const MAX_DISTANCE_SQ = 3 * 50 * 50;

/** The share of the ring around a badge that must be one colour for the badge to count as an object's. */
const RING_AGREEMENT = 0.75;

const NOT_SIM_MESSAGE =
  'This image was not drawn by the sim backbone, and the sim can only read or edit images it drew itself; generate the image with the sim backbone first, or use a real model backbone for other images.';

function notSimImage(cause?: unknown): BackboneError {
  return new BackboneError('InvalidImage', NOT_SIM_MESSAGE, { cause });
}

function nearestReference(r: number, g: number, b: number): number {
  let best = OTHER;
  let bestDistance = MAX_DISTANCE_SQ;
  for (let i = 0; i < REFERENCES.length; i++) {
    const [rr, rg, rb] = REFERENCES[i];
    const d = (r - rr) * (r - rr) + (g - rg) * (g - rg) + (b - rb) * (b - rb);
    if (d <= bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

/** One reference index per pixel. Sim images are flat colour, so reusing the last answer for a repeated pixel skips nearly all the work. */
function classifyPixels(rgba: Buffer, pixels: number): Uint8Array {
  const classes = new Uint8Array(pixels);
  let lastKey = -1;
  let lastClass = OTHER;
  for (let p = 0, i = 0; p < pixels; p++, i += 4) {
    const key = (rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2];
    if (key !== lastKey) {
      lastKey = key;
      lastClass = nearestReference(rgba[i], rgba[i + 1], rgba[i + 2]);
    }
    classes[p] = lastClass;
  }
  return classes;
}

function hasSignature(classes: Uint8Array, width: number, height: number): boolean {
  if (width < SIGNATURE_SIZE || height < SIGNATURE_SIZE) return false;
  for (let y = 0; y < SIGNATURE_SIZE; y++) {
    for (let x = 0; x < SIGNATURE_SIZE; x++) {
      const bit = SIGNATURE_BITS[Math.floor(y / SIGNATURE_CELL) * SIGNATURE_GRID + Math.floor(x / SIGNATURE_CELL)];
      if (classes[y * width + x] !== (bit === 1 ? MARKER_ON : MARKER_OFF)) return false;
    }
  }
  return true;
}

interface Region {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  pixels: number;
}

/**
 * Grows a 4-connected region of pixels for which `accept` holds from the seeds, marking each with
 * `stamp` in `owner`. `stack` is scratch space of one entry per pixel, shared between calls.
 */
function flood(
  seeds: number[],
  accept: (p: number) => boolean,
  owner: Int32Array,
  stamp: number,
  stack: Int32Array,
  width: number,
  height: number,
): Region {
  const region: Region = { minX: width, minY: height, maxX: -1, maxY: -1, pixels: 0 };
  let top = 0;
  const push = (q: number): void => {
    if (owner[q] === 0 && accept(q)) {
      owner[q] = stamp;
      stack[top++] = q;
    }
  };
  for (const seed of seeds) push(seed);
  while (top > 0) {
    const p = stack[--top];
    const x = p % width;
    const y = (p - x) / width;
    region.pixels++;
    if (x < region.minX) region.minX = x;
    if (x > region.maxX) region.maxX = x;
    if (y < region.minY) region.minY = y;
    if (y > region.maxY) region.maxY = y;
    if (x > 0) push(p - 1);
    if (x < width - 1) push(p + 1);
    if (y > 0) push(p - width);
    if (y < height - 1) push(p + width);
  }
  return region;
}

/** The class a badge region encodes, or undefined when it is not a whole, valid badge. */
function decodeBadge(region: Region, classes: Uint8Array, width: number): number | undefined {
  const w = region.maxX - region.minX + 1;
  const h = region.maxY - region.minY + 1;
  const cell = w / BADGE_COLS;
  if (!Number.isInteger(cell) || cell < 2 || h !== cell * BADGE_ROWS || region.pixels !== w * h) return undefined;
  const bits: number[] = [];
  for (let row = 0; row < BADGE_ROWS; row++) {
    for (let col = 0; col < BADGE_COLS; col++) {
      // Every pixel of a cell must agree: a half-painted cell is damage, not a bit.
      const ink = classes[(region.minY + row * cell) * width + region.minX + col * cell];
      for (let y = 0; y < cell; y++) {
        for (let x = 0; x < cell; x++) {
          if (classes[(region.minY + row * cell + y) * width + region.minX + col * cell + x] !== ink) return undefined;
        }
      }
      bits.push(ink === MARKER_ON ? 1 : 0);
    }
  }
  return classFromMarkerBits(bits);
}

/** Pixels one step outside the badge, clockwise; they are object colour in a sim drawing. */
function ringAround(region: Region, width: number, height: number): number[] {
  const ring: number[] = [];
  const x0 = region.minX - 1;
  const y0 = region.minY - 1;
  const x1 = region.maxX + 1;
  const y1 = region.maxY + 1;
  const add = (x: number, y: number): void => {
    if (x >= 0 && y >= 0 && x < width && y < height) ring.push(y * width + x);
  };
  for (let x = x0; x <= x1; x++) add(x, y0);
  for (let y = y0 + 1; y <= y1; y++) add(x1, y);
  for (let x = x1 - 1; x >= x0; x--) add(x, y1);
  for (let y = y1 - 1; y > y0; y--) add(x0, y);
  return ring;
}

/**
 * The instances a sim-drawn PNG shows, in the order their badges appear scanning top to bottom.
 * Throws InvalidImage for anything the sim did not draw (no signature, or not a PNG at all).
 */
export function readImage(png: Buffer): Instance[] {
  let decoded: PNG;
  try {
    decoded = PNG.sync.read(png);
  } catch (cause) {
    throw notSimImage(cause);
  }
  const { width, height, data } = decoded;
  const pixels = width * height;
  const classes = classifyPixels(data, pixels);
  if (!hasSignature(classes, width, height)) throw notSimImage();

  // owner: 0 = unvisited; -1 = badge ink already seen; k > 0 = pixel of the k-th object found.
  const owner = new Int32Array(pixels);
  const stack = new Int32Array(pixels);
  for (let y = 0; y < SIGNATURE_SIZE; y++) owner.fill(-1, y * width, y * width + SIGNATURE_SIZE);
  const isInk = (p: number): boolean => classes[p] === MARKER_ON || classes[p] === MARKER_OFF;

  const instances: Instance[] = [];
  for (let p = 0; p < pixels; p++) {
    if ((classes[p] !== MARKER_ON && classes[p] !== MARKER_OFF) || owner[p] !== 0) continue;
    const badge = flood([p], isInk, owner, -1, stack, width, height);
    const classIndex = decodeBadge(badge, classes, width);
    if (classIndex === undefined) continue;

    const ring = ringAround(badge, width, height);
    const votes = new Array<number>(COLORS.length).fill(0);
    for (const q of ring) if (classes[q] < COLORS.length) votes[classes[q]]++;
    const color = votes.indexOf(Math.max(...votes));
    if (votes[color] < ring.length * RING_AGREEMENT) continue;

    const stamp = instances.length + 1;
    const body = flood(ring, (q) => classes[q] === color, owner, stamp, stack, width, height);
    // A badge whose surroundings already belong to an earlier object adds nothing new.
    if (body.pixels === 0) continue;
    instances.push({
      cls: COCO_CLASSES[classIndex],
      color: COLORS[color],
      x: body.minX,
      y: body.minY,
      w: body.maxX - body.minX + 1,
      h: body.maxY - body.minY + 1,
    });
  }
  return instances;
}

/** Where a drawn object is; relations only need this much of an Instance. */
export type Box = Pick<Instance, 'x' | 'y' | 'w' | 'h'>;

function centroid(instances: readonly Box[]): { x: number; y: number } {
  let x = 0;
  let y = 0;
  for (const inst of instances) {
    x += inst.x + inst.w / 2;
    y += inst.y + inst.h / 2;
  }
  return { x: x / instances.length, y: y / instances.length };
}

/**
 * Whether group `subject` stands in `relation` to group `object`, judged by the centroids of their
 * box centres. The larger offset decides the axis (a tie counts as horizontal): "left of" means the
 * subject's centroid is further left than it is higher or lower. "next to" means side by side,
 * i.e. "left of" or "right of". Empty groups stand in no relation.
 */
export function relationHolds(subject: readonly Box[], object: readonly Box[], relation: Relation): boolean {
  if (subject.length === 0 || object.length === 0) return false;
  const a = centroid(subject);
  const b = centroid(object);
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const horizontal = Math.abs(dx) >= Math.abs(dy);
  switch (relation) {
    case 'left of':
      return horizontal && dx > 0;
    case 'right of':
      return horizontal && dx < 0;
    case 'above':
      return !horizontal && dy > 0;
    case 'below':
      return !horizontal && dy < 0;
    case 'next to':
      return horizontal && dx !== 0;
  }
}

/** The relations sceneFromInstances lists; "next to" is implied by left of / right of. */
const DIRECTIONS: readonly Relation[] = ['left of', 'right of', 'above', 'below'];

/**
 * The scene an image shows: instances grouped by (class, colour) in order of first appearance,
 * and for every ordered pair of groups the one direction (left of / right of / above / below)
 * that holds between their centroids.
 */
export function sceneFromInstances(instances: readonly Instance[]): Scene {
  const groups: Instance[][] = [];
  const objects: SceneObject[] = [];
  const index = new Map<string, number>();
  for (const inst of instances) {
    const key = `${inst.cls}|${inst.color}`;
    let g = index.get(key);
    if (g === undefined) {
      g = groups.length;
      index.set(key, g);
      groups.push([]);
      objects.push({ cls: inst.cls, color: inst.color, count: 0 });
    }
    groups[g].push(inst);
    objects[g].count++;
  }
  const relations: SceneRelation[] = [];
  for (let s = 0; s < groups.length; s++) {
    for (let o = 0; o < groups.length; o++) {
      if (s === o) continue;
      const relation = DIRECTIONS.find((r) => relationHolds(groups[s], groups[o], r));
      if (relation !== undefined) relations.push({ subject: s, relation, object: o });
    }
  }
  return { objects, relations };
}
