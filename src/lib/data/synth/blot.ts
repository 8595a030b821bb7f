import type { Rng } from '../../util/random';
import { Canvas, fractalNoise, grey, type Color } from './canvas';
import { textSize } from './font';
import type { Box } from './manifest';

const PROTEINS = ['ACTB', 'GAPDH', 'TUBULIN', 'P-ERK', 'ERK', 'AKT', 'P-AKT', 'LC3B', 'P62', 'CASP3', 'BAX', 'BCL2', 'HIF1A', 'MTOR', 'P53', 'PARP'];
const MARKERS_KDA = [250, 180, 130, 100, 70, 55, 40, 35, 25, 15, 10];

/**
 * One band: flat-topped across the lane, Gaussian across the strip, bent into a "smile" and
 * optionally trailing a smear downwards, painted towards `ink` with peak opacity `strength`.
 */
export function drawBand(
  c: Canvas,
  cx: number,
  cy: number,
  halfW: number,
  halfH: number,
  strength: number,
  smile: number,
  smear: number,
  ink: Color,
  mode: 'over' | 'add' = 'over',
): void {
  const x0 = Math.max(0, Math.floor(cx - halfW * 1.3));
  const x1 = Math.min(c.width - 1, Math.ceil(cx + halfW * 1.3));
  const y0 = Math.max(0, Math.floor(cy - halfH * 3 - Math.abs(smile) * halfH));
  const y1 = Math.min(c.height - 1, Math.ceil(cy + halfH * 3 + smear * 4 + Math.abs(smile) * halfH));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const u = (x + 0.5 - cx) / halfW;
      const u4 = u * u * u * u;
      const across = 1 / (1 + u4 * u4);
      const yc = cy + smile * u * u * halfH;
      const v = (y + 0.5 - yc) / halfH;
      let along = Math.exp(-2 * v * v);
      if (smear > 0 && v > 0) along = Math.max(along, 0.35 * Math.exp(-((v * halfH) / smear)));
      const a = strength * across * along;
      if (a < 0.004) continue;
      if (mode === 'add') c.add(x, y, ink, a);
      else c.blend(x, y, ink, a);
    }
  }
}

/** Uneven film/membrane background: base level, linear gradient and cloudy low-frequency noise. */
export function membraneBackground(rng: Rng, c: Canvas, base: number, amount: number): void {
  const cloud = fractalNoise(rng, c.width, c.height, Math.max(8, Math.min(c.width, c.height) / 3), 3);
  const gx = rng.uniform(-1, 1) * amount;
  const gy = rng.uniform(-1, 1) * amount;
  for (let y = 0; y < c.height; y++) {
    for (let x = 0; x < c.width; x++) {
      const p = y * c.width + x;
      const v = base + gx * (x / c.width - 0.5) + gy * (y / c.height - 0.5) + amount * (cloud[p] - 0.5);
      c.data[p * 3] = v;
      c.data[p * 3 + 1] = v;
      c.data[p * 3 + 2] = v;
    }
  }
}

/**
 * Western blot figure: 1-3 stacked strips (one protein each) over the same lanes, dark bands on a
 * light membrane, optional protein names on the left and kDa markers on the right.
 */
export function renderWesternBlot(rng: Rng, width: number, height: number): Canvas {
  return renderWesternBlotLanes(rng, width, height).canvas;
}

/** A western blot figure and the box of every lane of every strip (for lane-reuse forgeries). */
export function renderWesternBlotLanes(rng: Rng, width: number, height: number): { canvas: Canvas; lanes: Box[] } {
  const c = new Canvas(width, height).fill(grey(rng.uniform(0.96, 1)));
  const labels = rng.bool(0.6) && width >= 160;
  const scale = Math.max(1, Math.round(Math.min(width, height) / 180));
  const leftPad = labels ? textSize('TUBULIN', scale).width + 6 * scale : Math.round(width * 0.03);
  const rightPad = labels ? textSize('250', scale).width + 8 * scale : Math.round(width * 0.03);
  const lanes = rng.int(3, 12);
  const strips = rng.int(1, 3);
  const gap = Math.round(height * rng.uniform(0.02, 0.06));
  const stripH = Math.floor((height - gap * (strips + 1)) / strips);
  const stripW = width - leftPad - rightPad;
  const laneW = stripW / lanes;
  const ink = grey(rng.uniform(0.02, 0.12));
  const laneLevels = Array.from({ length: lanes }, () => rng.uniform(0.5, 1));
  const laneBoxes: Box[] = [];
  for (let s = 0; s < strips; s++) {
    const top = gap + s * (stripH + gap);
    laneBoxes.push(...laneColumns(leftPad, laneW, lanes, top, stripH));
    const strip = new Canvas(Math.max(1, Math.round(stripW)), Math.max(1, stripH));
    membraneBackground(rng, strip, rng.uniform(0.78, 0.95), rng.uniform(0.03, 0.1));
    const rows = rng.int(1, 3);
    const bandH = Math.max(1.2, stripH * rng.uniform(0.05, 0.12) / rows);
    const smile = rng.uniform(-0.6, 0.8);
    for (let r = 0; r < rows; r++) {
      const cy = stripH * ((r + 0.5) / rows) + rng.normal(0, stripH * 0.03);
      const trend = rng.uniform(-0.5, 0.5);
      for (let l = 0; l < lanes; l++) {
        if (rng.bool(0.08)) continue;
        const cx = (l + 0.5) * laneW + rng.normal(0, laneW * 0.02);
        const level = Math.min(1, Math.max(0.05, laneLevels[l] * (1 + trend * (l / lanes - 0.5)) + rng.normal(0, 0.12)));
        const smear = rng.bool(0.25) ? bandH * rng.uniform(1, 5) : 0;
        drawBand(strip, cx, cy + rng.normal(0, bandH * 0.1), laneW * rng.uniform(0.33, 0.44), bandH * rng.uniform(0.8, 1.3), level * 0.95, smile, smear, ink);
      }
    }
    strip.blur(rng.uniform(0, 1.4), true);
    strip.noise(rng, rng.uniform(0.005, 0.025));
    c.draw(strip, leftPad, top);
    if (labels) {
      const name = rng.pick(PROTEINS);
      c.text(name, 2 * scale, top + stripH / 2 - 3.5 * scale, scale, grey(0.05));
      const kda = rng.pick(MARKERS_KDA);
      c.text(String(kda), leftPad + stripW + 4 * scale, top + stripH / 2 - 3.5 * scale, scale, grey(0.05));
    }
  }
  return { canvas: c, lanes: laneBoxes };
}

/** Integer boxes of `count` lanes of width `laneW` from `left`, each `h` high from `top`. */
export function laneColumns(left: number, laneW: number, count: number, top: number, h: number): Box[] {
  return Array.from({ length: count }, (_, l) => {
    const x = Math.round(left + l * laneW);
    return { x, y: Math.round(top), w: Math.round(left + (l + 1) * laneW) - x, h: Math.round(h) };
  });
}
