// Small PNG charts for the benchmark summary (line and grouped-bar charts), drawn with
// @napi-rs/canvas so no browser or system library is needed.
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';

const WIDTH = 900;
const HEIGHT = 520;
const MARGIN = { left: 78, right: 24, top: 48, bottom: 84 };
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const FONT = '13px sans-serif';

export interface Point {
  x: number;
  y: number;
  /** Written beside the point. */
  label?: string;
}

export interface Series {
  name: string;
  points: Point[];
  dashed?: boolean;
  /** Points only, no line between them. */
  scatter?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xLog?: boolean;
  /** Where to put x ticks; default: round numbers (linear), or each point's x (log). */
  xTicks?: number[];
  yMin?: number;
  yMax?: number;
  /** Horizontal reference lines. */
  references?: { y: number; label: string }[];
}

export interface BarChart {
  title: string;
  yLabel: string;
  categories: string[];
  groups: { name: string; values: number[]; errors?: number[] }[];
  yMin?: number;
  yMax?: number;
  references?: { y: number; label: string }[];
}

/** Round numbers for axis ticks between lo and hi. */
function ticks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

function format(v: number): string {
  return Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(4)).toString();
}

interface Frame {
  ctx: SKRSContext2D;
  x(v: number): number;
  y(v: number): number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function frame(title: string, yLabel: string, yLo: number, yHi: number, x: (v: number) => number): Frame & { png(): Buffer } {
  const canvas = createCanvas(WIDTH, HEIGHT);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, WIDTH, HEIGHT);
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  const y = (v: number): number => bottom - ((v - yLo) / (yHi - yLo || 1)) * (bottom - top);
  ctx.fillStyle = '#111111';
  ctx.font = 'bold 16px sans-serif';
  ctx.textAlign = 'center';
  ctx.fillText(title, WIDTH / 2, 26);
  ctx.font = FONT;
  ctx.strokeStyle = '#e3e3e3';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  for (const t of ticks(yLo, yHi)) {
    ctx.beginPath();
    ctx.moveTo(left, y(t));
    ctx.lineTo(right, y(t));
    ctx.stroke();
    ctx.fillText(format(t), left - 6, y(t) + 4);
  }
  ctx.save();
  ctx.translate(18, (top + bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.fillText(yLabel, 0, 0);
  ctx.restore();
  ctx.strokeStyle = '#555555';
  ctx.beginPath();
  ctx.moveTo(left, top);
  ctx.lineTo(left, bottom);
  ctx.lineTo(right, bottom);
  ctx.stroke();
  return { ctx, x, y, left, right, top, bottom, png: () => canvas.toBuffer('image/png') };
}

function references(f: Frame, refs: readonly { y: number; label: string }[]): void {
  f.ctx.save();
  f.ctx.setLineDash([6, 4]);
  f.ctx.strokeStyle = '#888888';
  f.ctx.fillStyle = '#555555';
  refs.forEach((r, i) => {
    f.ctx.beginPath();
    f.ctx.moveTo(f.left, f.y(r.y));
    f.ctx.lineTo(f.right, f.y(r.y));
    f.ctx.stroke();
    // Alternate sides, so labels of close lines do not overlap.
    f.ctx.textAlign = i % 2 === 0 ? 'left' : 'right';
    f.ctx.fillText(r.label, i % 2 === 0 ? f.left + 6 : f.right - 6, f.y(r.y) + (i % 2 === 0 ? 14 : -5));
  });
  f.ctx.restore();
}

function legend(f: Frame, names: readonly string[], dashed: readonly boolean[] = []): void {
  const { ctx } = f;
  ctx.font = FONT;
  ctx.textAlign = 'left';
  let x = f.left;
  let row = 0;
  names.forEach((name, i) => {
    const width = ctx.measureText(name).width + 40;
    if (x + width > f.right) {
      x = f.left;
      row++;
    }
    const y = HEIGHT - 24 + row * 17;
    ctx.strokeStyle = PALETTE[i % PALETTE.length];
    ctx.fillStyle = PALETTE[i % PALETTE.length];
    ctx.lineWidth = 3;
    ctx.setLineDash(dashed[i] ? [6, 4] : []);
    ctx.beginPath();
    ctx.moveTo(x, y - 4);
    ctx.lineTo(x + 22, y - 4);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#111111';
    ctx.fillText(name, x + 28, y);
    x += width;
  });
}

export function lineChart(chart: LineChart): Buffer {
  const points = chart.series.flatMap((s) => s.points);
  const xs = points.map((p) => p.x);
  const ys = [...points.map((p) => p.y), ...(chart.references ?? []).map((r) => r.y)];
  const tx = (v: number): number => (chart.xLog ? Math.log2(v) : v);
  const [xLo, xHi] = [Math.min(...xs.map(tx)), Math.max(...xs.map(tx))];
  const pad = (xHi - xLo || 1) * 0.05;
  const yLo = chart.yMin ?? Math.min(0, ...ys);
  const yHi = chart.yMax ?? Math.max(...ys) * 1.08;
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const x = (v: number): number => left + ((tx(v) - (xLo - pad)) / (xHi - xLo + 2 * pad || 1)) * (right - left);
  const f = frame(chart.title, chart.yLabel, yLo, yHi, x);
  const { ctx } = f;
  ctx.fillStyle = '#111111';
  ctx.textAlign = 'center';
  const xTicks = chart.xTicks ?? (chart.xLog ? [...new Set(xs)].sort((a, b) => a - b) : ticks(xLo - pad, xHi + pad));
  for (const t of xTicks) ctx.fillText(format(t), x(t), f.bottom + 18);
  ctx.fillText(chart.xLabel, (f.left + f.right) / 2, f.bottom + 38);
  references(f, chart.references ?? []);
  chart.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 2.5;
    ctx.setLineDash(s.dashed ? [6, 4] : []);
    if (!s.scatter) {
      ctx.beginPath();
      s.points.forEach((p, k) => (k === 0 ? ctx.moveTo(x(p.x), f.y(p.y)) : ctx.lineTo(x(p.x), f.y(p.y))));
      ctx.stroke();
    }
    ctx.setLineDash([]);
    for (const p of s.points) {
      ctx.beginPath();
      ctx.arc(x(p.x), f.y(p.y), 4, 0, 2 * Math.PI);
      ctx.fill();
      if (p.label) {
        ctx.fillStyle = '#333333';
        ctx.textAlign = 'left';
        ctx.font = '11px sans-serif';
        ctx.fillText(p.label, x(p.x) + 6, f.y(p.y) - 6);
        ctx.font = FONT;
        ctx.fillStyle = color;
      }
    }
  });
  legend(
    f,
    chart.series.map((s) => s.name),
    chart.series.map((s) => s.dashed === true),
  );
  return f.png();
}

export function barChart(chart: BarChart): Buffer {
  const values = chart.groups.flatMap((g) => g.values.map((v, i) => v + (g.errors?.[i] ?? 0)));
  const yLo = chart.yMin ?? Math.min(0, ...values);
  const yHi = chart.yMax ?? Math.max(...values, ...(chart.references ?? []).map((r) => r.y)) * 1.1;
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const slot = (right - left) / chart.categories.length;
  const f = frame(chart.title, chart.yLabel, yLo, yHi, (v) => left + v * slot);
  const { ctx } = f;
  const barWidth = (slot * 0.8) / chart.groups.length;
  chart.categories.forEach((category, c) => {
    ctx.fillStyle = '#111111';
    ctx.textAlign = 'center';
    ctx.font = chart.categories.length > 8 ? '11px sans-serif' : FONT;
    const words = category.split(' ');
    const half = Math.ceil(words.length / 2);
    const lines = category.length > 18 ? [words.slice(0, half).join(' '), words.slice(half).join(' ')] : [category];
    lines.forEach((line, k) => ctx.fillText(line, f.x(c + 0.5), f.bottom + 16 + k * 13));
    chart.groups.forEach((g, i) => {
      const value = g.values[c];
      if (!Number.isFinite(value)) return;
      const x0 = f.x(c) + slot * 0.1 + i * barWidth;
      ctx.fillStyle = PALETTE[i % PALETTE.length];
      ctx.fillRect(x0, f.y(value), barWidth - 2, f.y(yLo) - f.y(value));
      const err = g.errors?.[c];
      if (err !== undefined && err > 0) {
        ctx.strokeStyle = '#222222';
        ctx.lineWidth = 1.5;
        const cx = x0 + (barWidth - 2) / 2;
        ctx.beginPath();
        ctx.moveTo(cx, f.y(value - err));
        ctx.lineTo(cx, f.y(value + err));
        ctx.moveTo(cx - 4, f.y(value - err));
        ctx.lineTo(cx + 4, f.y(value - err));
        ctx.moveTo(cx - 4, f.y(value + err));
        ctx.lineTo(cx + 4, f.y(value + err));
        ctx.stroke();
      }
    });
  });
  ctx.font = FONT;
  references(f, chart.references ?? []);
  legend(
    f,
    chart.groups.map((g) => g.name),
  );
  return f.png();
}
