import type { Rng } from '../../util/random';
import { Canvas, grey, WHITE, type Color } from './canvas';
import { textSize } from './font';

const PALETTE: Color[] = [
  [0.12, 0.47, 0.71],
  [1, 0.5, 0.05],
  [0.17, 0.63, 0.17],
  [0.84, 0.15, 0.16],
  [0.58, 0.4, 0.74],
  [0.2, 0.2, 0.2],
];
const X_TITLES = ['TIME (H)', 'DOSE (UM)', 'DAYS', 'CONC. (NM)', 'WEEKS', 'TEMP (C)'];

/** "Nice" tick values covering [lo, hi] (1, 2 or 5 times a power of ten). */
export function niceTicks(lo: number, hi: number, target: number): number[] {
  const span = Math.max(1e-9, hi - lo);
  const raw = span / Math.max(1, target);
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-6; v += step) ticks.push(Number(v.toPrecision(6)));
  return ticks;
}

function formatTick(v: number): string {
  return Math.abs(v) >= 1000 ? `${Math.round(v / 1000)}K` : String(Number(v.toPrecision(3)));
}

/**
 * A data chart as papers print them: white background, axes with ticks and numbers, and either
 * line series with markers and error bars or grouped bars with error bars and significance stars.
 */
export function renderChart(rng: Rng, width: number, height: number): Canvas {
  const c = new Canvas(width, height).fill(WHITE);
  const scale = Math.max(1, Math.round(Math.min(width, height) / 200));
  const ink = grey(0.05);
  // Too small for readable numbers (e.g. a thumbnail panel): axes and data only.
  const labels = width >= 90 && height >= 80;
  const write = (s: string, x: number, y: number, k: number, col: Color) => {
    if (labels) c.text(s, x, y, k, col);
  };
  const left = labels ? textSize('0000', scale).width + 8 * scale : Math.round(width * 0.08) + 2;
  const bottom = labels ? textSize('0', scale).height * 2 + 12 * scale : Math.round(height * 0.08) + 2;
  const top = Math.round(height * 0.06) + 2;
  const right = Math.round(width * 0.04) + 2;
  const x0 = left;
  const x1 = width - right;
  const y0 = height - bottom;
  const y1 = top;
  const yMax = rng.pick([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]) * rng.uniform(0.8, 1.5);
  const yTicks = niceTicks(0, yMax, rng.int(3, 6));
  const top_ = yTicks[yTicks.length - 1] || 1;
  const py = (v: number) => y0 - (v / top_) * (y0 - y1);
  const thick = Math.max(1, scale);
  if (rng.bool(0.3)) for (const t of yTicks) c.line(x0, py(t), x1, py(t), grey(0.88), 1);
  c.line(x0, y0, x1, y0, ink, thick);
  c.line(x0, y0, x0, y1, ink, thick);
  if (rng.bool(0.3)) c.strokeRect(x0, y1, x1 + 1, y0 + 1, ink, thick);
  for (const t of yTicks) {
    const y = py(t);
    c.line(x0 - 3 * scale, y, x0, y, ink, thick);
    const label = formatTick(t);
    const sz = textSize(label, scale);
    write(label, x0 - 5 * scale - sz.width, y - sz.height / 2, scale, ink);
  }
  const series = rng.int(1, 4);
  const colors = rng.shuffle(PALETTE.slice()).slice(0, series);
  if (rng.bool(0.5)) {
    const points = rng.int(4, 12);
    const px = (i: number) => x0 + ((i + 0.5) / points) * (x1 - x0);
    const step = rng.pick([1, 2, 5, 10]);
    let freeFrom = -Infinity;
    for (let i = 0; i < points; i++) {
      c.line(px(i), y0, px(i), y0 + 3 * scale, ink, thick);
      const label = String(i * step);
      const lx = px(i) - textSize(label, scale).width / 2;
      // Skip a label that would touch the previous one, as plotting programs do.
      if (lx < freeFrom) continue;
      write(label, lx, y0 + 5 * scale, scale, ink);
      freeFrom = lx + textSize(label, scale).width + 3 * scale;
    }
    for (const color of colors) {
      let v = rng.uniform(0.05, 0.5) * top_;
      const slope = rng.normal(0, 0.08) * top_;
      const ys: number[] = [];
      for (let i = 0; i < points; i++) {
        ys.push(Math.min(top_, Math.max(0, v)));
        v += slope + rng.normal(0, 0.05) * top_;
      }
      for (let i = 1; i < points; i++) c.line(px(i - 1), py(ys[i - 1]), px(i), py(ys[i]), color, thick * 1.5);
      const marker = rng.int(0, 2);
      for (let i = 0; i < points; i++) {
        const err = rng.uniform(0.01, 0.06) * top_;
        if (rng.bool(0.7)) c.line(px(i), py(ys[i] - err), px(i), py(ys[i] + err), color, thick);
        const m = 2.5 * scale + 1;
        if (marker === 0) c.disc(px(i), py(ys[i]), m, color);
        else if (marker === 1) c.rect(px(i) - m, py(ys[i]) - m, px(i) + m, py(ys[i]) + m, color);
        else {
          c.disc(px(i), py(ys[i]), m, color);
          c.disc(px(i), py(ys[i]), m * 0.5, WHITE);
        }
      }
    }
  } else {
    const groups = rng.int(2, 6);
    const groupW = (x1 - x0) / groups;
    const barW = (groupW * 0.75) / series;
    for (let g = 0; g < groups; g++) {
      const label = String.fromCharCode(65 + g);
      const gx = x0 + g * groupW + groupW * 0.125;
      write(label, gx + (barW * series) / 2 - textSize(label, scale).width / 2, y0 + 5 * scale, scale, ink);
      for (let s = 0; s < series; s++) {
        const v = rng.uniform(0.15, 0.85) * top_;
        const bx = gx + s * barW;
        c.rect(bx + 1, py(v), bx + barW - 1, y0, colors[s]);
        if (rng.bool(0.5)) c.strokeRect(bx + 1, py(v), bx + barW - 1, y0, ink, 1);
        const err = rng.uniform(0.02, 0.1) * top_;
        const mx = bx + barW / 2;
        c.line(mx, py(v), mx, py(v + err), ink, thick);
        c.line(mx - barW / 5, py(v + err), mx + barW / 5, py(v + err), ink, thick);
        if (rng.bool(0.2) && py(v + err) - 10 * scale > y1) write('*', mx - 2.5 * scale, py(v + err) - 9 * scale, scale, ink);
      }
    }
  }
  const title = rng.pick(X_TITLES);
  const tw = textSize(title, scale).width;
  if (tw < x1 - x0) write(title, (x0 + x1) / 2 - tw / 2, y0 + 7 * scale + textSize('0', scale).height, scale, ink);
  c.noise(rng, 0.004);
  return c;
}
