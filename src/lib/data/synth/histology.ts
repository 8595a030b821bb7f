import type { Rng } from '../../util/random';
import { Canvas, fractalNoise, type Color } from './canvas';
import { drawCell, randomWobble } from './fluorescence';

/**
 * H&E-stained tissue section: pink eosin stroma with white lumen/gaps, purple hematoxylin nuclei
 * (denser in some areas), on a bright slide background.
 */
export function renderHistology(rng: Rng, width: number, height: number): Canvas {
  const c = new Canvas(width, height);
  const tissue = fractalNoise(rng, width, height, Math.max(6, Math.min(width, height) / rng.uniform(2, 5)), 4);
  const fibre = fractalNoise(rng, width, height, Math.max(2, Math.min(width, height) / 60), 3);
  const eosin: Color = [rng.uniform(0.85, 0.95), rng.uniform(0.45, 0.62), rng.uniform(0.65, 0.8)];
  const slide: Color = [0.96, 0.94, 0.96];
  const threshold = rng.uniform(0.38, 0.5);
  for (let p = 0; p < width * height; p++) {
    const t = tissue[p];
    const cover = Math.min(1, Math.max(0, (t - threshold) * 12));
    const shade = 0.8 + 0.35 * fibre[p];
    for (let k = 0; k < 3; k++) c.data[p * 3 + k] = slide[k] * (1 - cover) + eosin[k] * shade * cover;
  }
  const hema: Color = [rng.uniform(0.25, 0.4), rng.uniform(0.12, 0.22), rng.uniform(0.45, 0.6)];
  const radius = Math.min(width, height) * rng.uniform(0.008, 0.025) + 1.5;
  const count = Math.min(3000, Math.round((width * height) / (radius * radius * rng.uniform(15, 60))));
  for (let i = 0; i < count; i++) {
    const cx = rng.uniform(0, width);
    const cy = rng.uniform(0, height);
    const t = tissue[Math.min(height - 1, Math.floor(cy)) * width + Math.min(width - 1, Math.floor(cx))];
    if (t < threshold + 0.02 || !rng.bool(Math.min(1, (t - threshold) * 6))) continue;
    const r = radius * rng.uniform(0.7, 1.4);
    drawCell(c, cx, cy, r, r * rng.uniform(0.5, 1), rng.uniform(0, Math.PI), randomWobble(rng, 0.15), hema, rng.uniform(0.6, 0.95), fibre, 'over');
  }
  c.blur(rng.uniform(0.3, 1));
  c.noise(rng, rng.uniform(0.005, 0.02), false);
  return c;
}
