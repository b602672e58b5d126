// Draws placed instances to PNG bytes. Everything vision needs is drawn in pixels: a signature in
// the top-left corner that says "the sim drew this", and in each object a badge that encodes its
// class. Nothing is hidden in metadata, so an image changed by anything else reads as it looks.
import { PNG } from 'pngjs';
import { GLYPH_HEIGHT, GLYPH_SPACING, GLYPH_WIDTH, glyph, textWidth } from './font';
import { BACKGROUND_RGB, COCO_CLASSES, COLOR_RGB, MARKER_OFF_RGB, MARKER_ON_RGB, type Rgb } from './palette';
import type { Instance } from './scene';

/**
 * The class badge: BADGE_COLS x BADGE_ROWS square cells, each in MARKER_ON or MARKER_OFF ink, read
 * row by row: a 1 guard, the class index in 7 bits (most significant first), a 3-bit check value
 * ((index mod 7) + 1, never 000), and a 0 guard. Both inks are hues no object is drawn in, so the
 * badge stands out against every object colour, black and white included.
 */
export const BADGE_COLS = 4;
export const BADGE_ROWS = 3;
const CLASS_BITS = 7;
const CHECK_BITS = 3;

/** Pixels of object colour kept clear around a badge; vision reads the object colour there. */
export const BADGE_RING = 2;

/**
 * The sim signature: a 4x4 grid of 2x2-pixel cells in the marker inks at the image's top-left
 * corner, in this fixed pattern (row-major, 1 = MARKER_ON). Layout keeps objects away from it.
 */
export const SIGNATURE_CELL = 2;
export const SIGNATURE_GRID = 4;
export const SIGNATURE_BITS: readonly number[] = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1];
export const SIGNATURE_SIZE = SIGNATURE_CELL * SIGNATURE_GRID;

/** Boxes at least this big get rounded or elliptical outlines; smaller ones stay rectangles so the badge fits. */
const CURVED_MIN_SIZE = 40;

export function markerBits(classIndex: number): number[] {
  const bits = [1];
  for (let b = CLASS_BITS - 1; b >= 0; b--) bits.push((classIndex >> b) & 1);
  const check = (classIndex % 7) + 1;
  for (let b = CHECK_BITS - 1; b >= 0; b--) bits.push((check >> b) & 1);
  bits.push(0);
  return bits;
}

/** The class index a badge encodes, or undefined when its guards or check value are wrong. */
export function classFromMarkerBits(bits: readonly number[]): number | undefined {
  if (bits.length !== BADGE_COLS * BADGE_ROWS || bits[0] !== 1 || bits[bits.length - 1] !== 0) return undefined;
  let index = 0;
  for (let i = 1; i <= CLASS_BITS; i++) index = (index << 1) | bits[i];
  let check = 0;
  for (let i = CLASS_BITS + 1; i <= CLASS_BITS + CHECK_BITS; i++) check = (check << 1) | bits[i];
  if (index >= COCO_CLASSES.length || check !== (index % 7) + 1) return undefined;
  return index;
}

type Shape = 'rect' | 'rounded' | 'ellipse';

/** Shapes vary by class so a picture is easier to scan; small boxes are always rectangles. */
function shapeOf(classIndex: number, w: number, h: number): Shape {
  if (Math.min(w, h) < CURVED_MIN_SIZE) return 'rect';
  return (['rect', 'rounded', 'ellipse'] as const)[classIndex % 3];
}

/** A 3-bytes-per-pixel canvas; RGB keeps the PNG smaller and faster to write than RGBA. */
class Canvas {
  readonly data: Buffer;

  constructor(readonly size: number) {
    this.data = Buffer.alloc(size * size * 3);
  }

  /** Fills columns x0..x1 (inclusive) of row y, clipped to the canvas. */
  span(y: number, x0: number, x1: number, rgb: Rgb): void {
    if (y < 0 || y >= this.size) return;
    const from = Math.max(0, x0);
    const to = Math.min(this.size - 1, x1);
    const [r, g, b] = rgb;
    for (let i = (y * this.size + from) * 3, end = (y * this.size + to) * 3; i <= end; i += 3) {
      this.data[i] = r;
      this.data[i + 1] = g;
      this.data[i + 2] = b;
    }
  }

  rect(x: number, y: number, w: number, h: number, rgb: Rgb): void {
    for (let row = y; row < y + h; row++) this.span(row, x, x + w - 1, rgb);
  }
}

/** Leftmost and rightmost filled column offsets of row `ry` of a shape in a w x h box. */
function shapeSpan(shape: Shape, w: number, h: number, ry: number): [number, number] {
  if (shape === 'ellipse') {
    // Pixel centres inside the ellipse; the middle row and column always reach the box edges,
    // so the drawn extent is exactly the box vision must recover.
    const ny = (ry + 0.5 - h / 2) / (h / 2);
    const half = (w / 2) * Math.sqrt(Math.max(0, 1 - ny * ny));
    return [Math.ceil(w / 2 - half - 0.5), Math.floor(w / 2 + half - 0.5)];
  }
  if (shape === 'rounded') {
    const r = Math.floor(Math.min(w, h) / 5);
    const fromEdge = Math.min(ry, h - 1 - ry);
    if (fromEdge >= r) return [0, w - 1];
    const dy = r - fromEdge - 0.5;
    const inset = Math.round(r - Math.sqrt(r * r - dy * dy));
    return [inset, w - 1 - inset];
  }
  return [0, w - 1];
}

/** The rectangle inside a shape that is safe for the badge and label (all object colour around it). */
function contentArea(shape: Shape, inst: Instance): { x: number; y: number; w: number; h: number } {
  let insetX = 2;
  let insetY = 2;
  if (shape === 'rounded') {
    insetX = insetY = Math.ceil(Math.floor(Math.min(inst.w, inst.h) / 5) * 0.3) + 2;
  } else if (shape === 'ellipse') {
    // The largest rectangle inscribed in an ellipse spans 1/sqrt(2) of each axis.
    insetX = Math.ceil(inst.w * 0.15) + 2;
    insetY = Math.ceil(inst.h * 0.15) + 2;
  }
  return { x: inst.x + insetX, y: inst.y + insetY, w: inst.w - 2 * insetX, h: inst.h - 2 * insetY };
}

/** Black text on light colours, white on dark, so the label stays readable on every object. */
function labelInk(rgb: Rgb): Rgb {
  const luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
  return luma > 140 ? COLOR_RGB.black : COLOR_RGB.white;
}

/** Word-wraps a label into lines of at most maxChars, cutting words that are longer still. */
function wrap(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= maxChars) lines[last] += ` ${word}`;
    else lines.push(word.slice(0, maxChars));
  }
  return lines;
}

function drawText(canvas: Canvas, text: string, x: number, y: number, scale: number, rgb: Rgb): void {
  for (let c = 0; c < text.length; c++) {
    const bitmap = glyph(text[c]);
    const gx = x + c * (GLYPH_WIDTH + GLYPH_SPACING) * scale;
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if (bitmap[row * GLYPH_WIDTH + col] === 1) canvas.rect(gx + col * scale, y + row * scale, scale, scale, rgb);
      }
    }
  }
}

function drawInstance(canvas: Canvas, inst: Instance): void {
  const classIndex = COCO_CLASSES.indexOf(inst.cls);
  if (classIndex < 0) throw new RangeError(`Cannot draw "${inst.cls}": the sim only knows the 80 COCO classes.`);
  const rgb = COLOR_RGB[inst.color];
  const shape = shapeOf(classIndex, inst.w, inst.h);
  for (let ry = 0; ry < inst.h; ry++) {
    const [from, to] = shapeSpan(shape, inst.w, inst.h, ry);
    canvas.span(inst.y + ry, inst.x + from, inst.x + to, rgb);
  }

  const area = contentArea(shape, inst);
  const cell = Math.max(2, Math.min(4, Math.floor(Math.min(area.w / BADGE_COLS, area.h / BADGE_ROWS) / 4)));
  const badgeW = cell * BADGE_COLS;
  const badgeH = cell * BADGE_ROWS;
  if (badgeW + 2 * BADGE_RING > area.w || badgeH + 2 * BADGE_RING > area.h) {
    throw new RangeError(`A ${inst.w}x${inst.h} box is too small to carry a class marker.`);
  }

  // The label goes under the badge, as large as fits; it is for people, so it may be cut short.
  const gap = BADGE_RING + 2;
  const roomForLabel = area.h - 2 * BADGE_RING - badgeH - gap;
  let label: { lines: string[]; scale: number } = { lines: [], scale: 1 };
  for (const scale of [2, 1]) {
    const maxChars = Math.floor((area.w + GLYPH_SPACING * scale) / ((GLYPH_WIDTH + GLYPH_SPACING) * scale));
    const lineHeight = (GLYPH_HEIGHT + 2) * scale;
    const maxLines = Math.floor((roomForLabel + 2 * scale) / lineHeight);
    if (maxChars < 1 || maxLines < 1) continue;
    const lines = wrap(inst.cls, maxChars);
    const whole = lines.length <= maxLines && lines.join(' ') === inst.cls;
    if (whole || scale === 1) {
      label = { lines: lines.slice(0, maxLines), scale };
      break;
    }
  }
  const lineHeight = (GLYPH_HEIGHT + 2) * label.scale;
  const labelH = label.lines.length > 0 ? gap + label.lines.length * lineHeight - 2 * label.scale : 0;

  const top = area.y + BADGE_RING + Math.floor((area.h - 2 * BADGE_RING - badgeH - labelH) / 2);
  const left = area.x + Math.floor((area.w - badgeW) / 2);
  const bits = markerBits(classIndex);
  for (let i = 0; i < bits.length; i++) {
    const cx = left + (i % BADGE_COLS) * cell;
    const cy = top + Math.floor(i / BADGE_COLS) * cell;
    canvas.rect(cx, cy, cell, cell, bits[i] === 1 ? MARKER_ON_RGB : MARKER_OFF_RGB);
  }

  const ink = labelInk(rgb);
  label.lines.forEach((line, n) => {
    const lineX = area.x + Math.floor((area.w - textWidth(line) * label.scale) / 2);
    drawText(canvas, line, lineX, top + badgeH + gap + n * lineHeight, label.scale, ink);
  });
}

/** PNG bytes of the instances on a size x size canvas; the same instances always give the same bytes. */
export function renderInstances(instances: Instance[], size: number): Buffer {
  if (!Number.isInteger(size) || size < SIGNATURE_SIZE * 2) {
    throw new RangeError(`Cannot render a ${size}x${size} image: the size must be a whole number of at least ${SIGNATURE_SIZE * 2} pixels.`);
  }
  const canvas = new Canvas(size);
  canvas.rect(0, 0, size, size, BACKGROUND_RGB);
  for (const inst of instances) drawInstance(canvas, inst);
  SIGNATURE_BITS.forEach((bit, i) => {
    const x = (i % SIGNATURE_GRID) * SIGNATURE_CELL;
    const y = Math.floor(i / SIGNATURE_GRID) * SIGNATURE_CELL;
    canvas.rect(x, y, SIGNATURE_CELL, SIGNATURE_CELL, bit === 1 ? MARKER_ON_RGB : MARKER_OFF_RGB);
  });

  // An empty PNG takes our buffer as is, instead of allocating an RGBA one we would throw away.
  const png = new PNG();
  png.width = size;
  png.height = size;
  png.data = canvas.data;
  // Filter 0 and Z_RLE: flat colour compresses well without the cost of trying every filter per row.
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, filterType: 0, deflateStrategy: 3, deflateLevel: 6 });
}
