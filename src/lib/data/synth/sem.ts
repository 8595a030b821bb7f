import type { Rng } from '../../util/random';
import { Canvas, fillNormal, fractalNoise, grey } from './canvas';
import { textSize } from './font';

/**
 * SEM-like grey micrograph: a fractal surface, particles lit brighter at their rims (the edge
 * effect of secondary electrons), scan-line noise, and often a black data bar with a scale bar
 * and acquisition text at the bottom.
 */
export function renderSem(rng: Rng, width: number, height: number): Canvas {
  const c = new Canvas(width, height);
  const bar = rng.bool(0.6) && height >= 128 && width >= 128;
  const scale = Math.max(1, Math.round(Math.min(width, height) / 220));
  const barH = bar ? textSize('X', scale).height + 6 * scale : 0;
  const imgH = height - barH;
  const surface = fractalNoise(rng, width, height, Math.max(4, Math.min(width, height) / rng.uniform(3, 12)), 5, rng.uniform(0.45, 0.7));
  const base = rng.uniform(0.25, 0.5);
  const contrast = rng.uniform(0.3, 0.7);
  for (let p = 0; p < width * height; p++) {
    const v = base + contrast * (surface[p] - 0.5);
    c.data[p * 3] = v;
    c.data[p * 3 + 1] = v;
    c.data[p * 3 + 2] = v;
  }
  const radius = Math.min(width, height) * rng.uniform(0.015, 0.06);
  const particles = Math.min(600, Math.round((width * imgH) / (radius * radius * rng.uniform(6, 40))));
  for (let i = 0; i < particles; i++) {
    const cx = rng.uniform(0, width);
    const cy = rng.uniform(0, imgH);
    const r = radius * Math.exp(rng.normal(0, 0.35));
    const level = rng.uniform(0.45, 0.75);
    const x0 = Math.max(0, Math.floor(cx - r - 1));
    const x1 = Math.min(width - 1, Math.ceil(cx + r + 1));
    const y0 = Math.max(0, Math.floor(cy - r - 1));
    const y1 = Math.min(imgH - 1, Math.ceil(cy + r + 1));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const ex = x + 0.5 - cx;
        const ey = y + 0.5 - cy;
        const d2 = (ex * ex + ey * ey) / (r * r);
        if (d2 >= 1) continue;
        const rim = d2 * d2;
        const light = (0.12 * (ex - ey)) / r;
        const a = Math.min(1, (1 - Math.sqrt(d2)) * 4);
        const i = (y * width + x) * 3;
        const v = c.data[i] * (1 - a) + (level + 0.35 * rim + light) * a;
        c.data[i] = v;
        c.data[i + 1] = v;
        c.data[i + 2] = v;
      }
    }
  }
  c.blur(rng.uniform(0, 1.2), true);
  const grain = fillNormal(rng, new Float32Array(width * height), 0.035);
  for (let y = 0; y < height; y++) {
    const line = rng.normal(0, 0.01);
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const n = line + grain[y * width + x];
      c.data[i] += n;
      c.data[i + 1] += n;
      c.data[i + 2] += n;
    }
  }
  if (bar) {
    c.rect(0, imgH, width, height, grey(0));
    const ty = imgH + 3 * scale;
    const mag = rng.pick([500, 1000, 2000, 5000, 10000, 20000, 50000]);
    const kv = rng.pick([2, 5, 10, 15, 20]);
    const text = `HV ${kv}KV  MAG ${mag}X  WD ${rng.uniform(4, 12).toFixed(1)}MM`;
    if (textSize(text, scale).width < width * 0.65) c.text(text, 4 * scale, ty, scale, grey(1));
    const label = rng.pick(['1 µm', '2 µm', '5 µm', '10 µm', '500 nm', '200 nm']);
    const lw = textSize(label, scale).width;
    const barLen = Math.round(width * 0.12);
    const bx = width - 4 * scale - Math.max(lw, barLen);
    c.text(label, bx, ty, scale, grey(1));
    c.rect(bx, ty - 2 * scale, bx + barLen, ty - scale, grey(1));
  }
  return c;
}
