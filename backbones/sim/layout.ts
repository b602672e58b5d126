// Places a Scene's objects on a square canvas so that every relation it asks for holds when judged
// the way vision judges it (relationHolds, on group centroids). Groups get cells of a coarse grid
// found by a small backtracking search; a group's instances share its cell.
import { SIGNATURE_SIZE } from './render';
import { COLORS, type Instance, type Relation, type Scene, type SceneRelation } from './scene';
import { relationHolds, type Box } from './vision';

/** The smallest box that still carries a readable class badge (see render.ts). */
export const MIN_BOX = 16;
/** Background between neighbouring boxes, so same-coloured objects never merge into one. Even, so each side gets half. */
const GAP = 6;
/** Boxes are kept roughly object-like rather than thin strips. */
const MAX_ASPECT = 1.4;
/** Backtracking steps per attempt; scenes are small, so this only stops pathological relation sets. */
const SEARCH_BUDGET = 20000;

interface Grid {
  cols: number;
  rows: number;
  cellW: number;
  cellH: number;
}

interface Placement {
  grid: Grid;
  /** Cell index (row-major) per group. */
  cells: number[];
}

/** The relations of `scene` in terms of positions in `groups`, the objects that will be drawn. */
interface Problem {
  groups: number[];
  counts: number[];
  relations: { subject: number; relation: Relation; object: number }[];
}

/**
 * Instances for `scene` on a size x size canvas. Objects without a colour get one from `rng`; the
 * same scene, rng sequence and size always give the same layout. Relations that contradict each
 * other are honoured as far as possible, earliest first. Boxes shrink as the scene grows; a group
 * that cannot fit at MIN_BOX loses instances (as a real model drops objects in crowded scenes).
 */
export function layoutScene(scene: Scene, rng: () => number, size: number): Instance[] {
  const colors = scene.objects.map((o) => o.color ?? COLORS[Math.floor(rng() * COLORS.length)]);
  const groups = scene.objects.flatMap((o, i) => (Math.floor(o.count) > 0 ? [i] : []));
  if (groups.length === 0) return [];
  const position = new Map(groups.map((objectIndex, g) => [objectIndex, g]));
  const relations = scene.relations.flatMap((r: SceneRelation) => {
    const subject = position.get(r.subject);
    const object = position.get(r.object);
    return subject === undefined || object === undefined || subject === object ? [] : [{ subject, relation: r.relation, object }];
  });
  const problem: Problem = { groups, counts: groups.map((i) => Math.floor(scene.objects[i].count)), relations };

  const margin = Math.max(SIGNATURE_SIZE + 4, Math.round(size * 0.04));
  const toInstances = (placed: Box[][]): Instance[] =>
    placed.flatMap((boxes, g) => boxes.map((b) => ({ ...b, cls: scene.objects[groups[g]].cls, color: colors[groups[g]] })));

  const all = solve(problem, rng, size, margin);
  if (all) return toInstances(all);

  // Contradictory (or unplaceable) relations: keep each one that still fits with those kept before it.
  let best = solve({ ...problem, relations: [] }, rng, size, margin) as Box[][];
  const kept: Problem['relations'] = [];
  for (const relation of relations) {
    const placed = solve({ ...problem, relations: [...kept, relation] }, rng, size, margin);
    if (placed) {
      kept.push(relation);
      best = placed;
    }
  }
  return toInstances(best);
}

/** Boxes per group, or undefined when no grid satisfies every relation. */
function solve(problem: Problem, rng: () => number, size: number, margin: number): Box[][] | undefined {
  const budget = { left: SEARCH_BUDGET };
  for (const grid of candidateGrids(problem.groups.length, rng, size - 2 * margin)) {
    for (const cells of assignments(problem, grid, rng, budget)) {
      const placed = place({ grid, cells }, problem.counts, rng, margin, size);
      const holds = problem.relations.every((r) => relationHolds(placed[r.subject], placed[r.object], r.relation));
      if (holds) return placed;
    }
    if (budget.left <= 0) return undefined;
  }
  return undefined;
}

/** Grids with room for every group, roomiest cells first, so small scenes get big objects. */
function candidateGrids(groupCount: number, rng: () => number, area: number): Grid[] {
  const maxDim = Math.max(2, groupCount);
  const grids: (Grid & { tiebreak: number })[] = [];
  for (let rows = 1; rows <= maxDim; rows++) {
    for (let cols = 1; cols <= maxDim; cols++) {
      if (cols * rows < groupCount || cols * rows > 3 * groupCount) continue;
      grids.push({ cols, rows, cellW: area / cols, cellH: area / rows, tiebreak: rng() });
    }
  }
  const side = (g: Grid): number => Math.min(g.cellW, g.cellH);
  return grids.sort((a, b) => side(b) - side(a) || a.cols * a.rows - b.cols * b.rows || a.tiebreak - b.tiebreak);
}

/**
 * Whether a relation holds between two cell centres with room to spare: the winning axis must win
 * by a fifth of a cell, so shrinking and jittering boxes inside their cells cannot flip it.
 */
function cellsAgree(grid: Grid, subjectCell: number, objectCell: number, relation: Relation): boolean {
  const dx = ((objectCell % grid.cols) - (subjectCell % grid.cols)) * grid.cellW;
  const dy = (Math.floor(objectCell / grid.cols) - Math.floor(subjectCell / grid.cols)) * grid.cellH;
  const spare = 0.2 * Math.min(grid.cellW, grid.cellH);
  switch (relation) {
    case 'left of':
      return dx - Math.abs(dy) >= spare;
    case 'right of':
      return -dx - Math.abs(dy) >= spare;
    case 'above':
      return dy - Math.abs(dx) >= spare;
    case 'below':
      return -dy - Math.abs(dx) >= spare;
    case 'next to':
      return Math.abs(dx) - Math.abs(dy) >= spare;
  }
}

/**
 * Cell assignments that satisfy every relation at cell level, explored in an rng-shuffled cell
 * order so equal scenes with different seeds look different. Groups in relations are placed by
 * backtracking (most-constrained first); the rest take the remaining cells.
 */
function* assignments(problem: Problem, grid: Grid, rng: () => number, budget: { left: number }): Generator<number[]> {
  const groupCount = problem.groups.length;
  const cellCount = grid.cols * grid.rows;
  const order = shuffle(Array.from({ length: cellCount }, (_, i) => i), rng);
  const degree = new Array<number>(groupCount).fill(0);
  for (const r of problem.relations) {
    degree[r.subject]++;
    degree[r.object]++;
  }
  const byDegree = Array.from({ length: groupCount }, (_, g) => g).sort((a, b) => degree[b] - degree[a] || a - b);
  const constrained = byDegree.filter((g) => degree[g] > 0);
  const free = byDegree.filter((g) => degree[g] === 0);
  const cells = new Array<number>(groupCount).fill(-1);
  const used = new Array<boolean>(cellCount).fill(false);

  const consistent = (g: number): boolean =>
    problem.relations.every((r) => {
      if (r.subject !== g && r.object !== g) return true;
      if (cells[r.subject] < 0 || cells[r.object] < 0) return true;
      return cellsAgree(grid, cells[r.subject], cells[r.object], r.relation);
    });

  function* search(k: number): Generator<number[]> {
    if (budget.left-- <= 0) return;
    if (k === constrained.length) {
      const rest = order.filter((c) => !used[c]);
      const complete = [...cells];
      free.forEach((g, i) => (complete[g] = rest[i]));
      yield complete;
      return;
    }
    const g = constrained[k];
    for (const cell of order) {
      if (used[cell]) continue;
      cells[g] = cell;
      used[cell] = true;
      if (consistent(g)) yield* search(k + 1);
      used[cell] = false;
      cells[g] = -1;
      if (budget.left <= 0) return;
    }
  }
  yield* search(0);
}

function shuffle<T>(items: T[], rng: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** The sub-grid that gives a group's instances the biggest boxes in its cell, dropping instances that cannot fit. */
function arrange(count: number, cellW: number, cellH: number): { n: number; cols: number; rows: number } {
  for (let n = count; n >= 1; n--) {
    let best = { n, cols: 1, rows: n, side: -1 };
    for (let cols = 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const side = Math.min(Math.floor(cellW / cols) - GAP, Math.floor(cellH / rows) - GAP);
      if (side > best.side) best = { n, cols, rows, side };
    }
    if (best.side >= MIN_BOX) return best;
  }
  return { n: 0, cols: 1, rows: 1 };
}

/** Boxes for every group in its cell, each group centred on its cell's centre. */
function place(placement: Placement, counts: number[], rng: () => number, margin: number, size: number): Box[][] {
  const { grid } = placement;
  return placement.cells.map((cell, g) => {
    const left = margin + Math.round((cell % grid.cols) * grid.cellW);
    const right = margin + Math.round(((cell % grid.cols) + 1) * grid.cellW);
    const top = margin + Math.round(Math.floor(cell / grid.cols) * grid.cellH);
    const bottom = margin + Math.round((Math.floor(cell / grid.cols) + 1) * grid.cellH);
    const { n, cols, rows } = arrange(counts[g], right - left, bottom - top);
    const slotW = Math.floor((right - left) / cols);
    const slotH = Math.floor((bottom - top) / rows);
    const innerW = slotW - GAP;
    const innerH = slotH - GAP;
    // Even a lone object leaves air around it, as in a photo.
    const cap = Math.round(0.5 * size);
    const maxW = Math.min(innerW, Math.floor(innerH * MAX_ASPECT), cap);
    const maxH = Math.min(innerH, Math.floor(innerW * MAX_ASPECT), cap);

    const boxes: Box[] = [];
    for (let i = 0; i < n; i++) {
      const row = Math.floor(i / cols);
      const inRow = Math.min(cols, n - row * cols);
      // A short last row is centred, so the group stays balanced around its cell centre.
      const rowStart = left + Math.floor(((cols - inRow) * slotW) / 2);
      const slotX = rowStart + (i % cols) * slotW;
      const slotY = top + row * slotH;
      const w = Math.max(MIN_BOX, Math.round(maxW * (0.75 + 0.25 * rng())));
      const h = Math.max(MIN_BOX, Math.round(maxH * (0.75 + 0.25 * rng())));
      const x = slotX + GAP / 2 + Math.floor(rng() * (innerW - w + 1));
      const y = slotY + GAP / 2 + Math.floor(rng() * (innerH - h + 1));
      boxes.push({ x, y, w, h });
    }
    return recentre(boxes, (left + right) / 2, (top + bottom) / 2, left + GAP / 2, right - GAP / 2, top + GAP / 2, bottom - GAP / 2);
  });
}

/** Shifts a group so its centroid sits on (cx, cy) as far as the cell's bounds allow. */
function recentre(boxes: Box[], cx: number, cy: number, minX: number, maxX: number, minY: number, maxY: number): Box[] {
  if (boxes.length === 0) return boxes;
  const mean = (f: (b: Box) => number): number => boxes.reduce((s, b) => s + f(b), 0) / boxes.length;
  const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v));
  const dx = clamp(
    Math.round(cx - mean((b) => b.x + b.w / 2)),
    minX - Math.min(...boxes.map((b) => b.x)),
    maxX - Math.max(...boxes.map((b) => b.x + b.w)),
  );
  const dy = clamp(
    Math.round(cy - mean((b) => b.y + b.h / 2)),
    minY - Math.min(...boxes.map((b) => b.y)),
    maxY - Math.max(...boxes.map((b) => b.y + b.h)),
  );
  return boxes.map((b) => ({ ...b, x: b.x + dx, y: b.y + dy }));
}
